//! A corpus of hostile inputs, each followed by a valid event: every hostile line gives exactly
//! one `rejected` record whose message names what is wrong, no other message, no state (no
//! borrower is created), and the valid event after it is applied as usual.

mod common;

use common::hostile::valid;
use serde_json::Value;

fn check(name: &str, line: &[u8], kind: &str, fragment: &str) {
    // Bytes, not text: invalid UTF-8 must reach the engine as it came.
    let mut input = line.to_vec();
    input.push(b'\n');
    input.extend(valid().to_string().bytes());
    input.push(b'\n');
    let (out, summary) = common::replay_bytes(&input);
    let messages: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(messages.len(), 1, "{name}: {messages:?}");
    let m = &messages[0];
    assert_eq!(m["kind"], "rejected", "{name}");
    assert_eq!(m["error_kind"], kind, "{name}: {}", m["error"]);
    let error = m["error"].as_str().unwrap();
    assert!(
        error.contains(fragment),
        "{name}: {error:?} lacks {fragment:?}"
    );
    // The rejection carries the payload, but never more than max_rejected_payload_bytes of it.
    let shown = m["payload"].as_str().map_or(0, str::len);
    assert!(
        shown <= 65_536,
        "{name}: {shown} payload bytes in the rejection"
    );
    assert_eq!(
        m["payload_truncated"] == true,
        line.len() > 65_536,
        "{name}: payload_truncated"
    );
    if line.len() > 65_536 {
        assert_eq!(m["payload_size_bytes"], line.len(), "{name}");
    }
    let applied: u64 = summary.applied.values().sum();
    assert_eq!(applied, 1, "{name}: the valid event after it is applied");
    assert_eq!(
        summary.borrowers, 1,
        "{name}: no state for the hostile line"
    );
}

#[test]
fn each_hostile_line_is_rejected_precisely_and_changes_nothing() {
    for (name, line, kind, fragment) in common::hostile::corpus() {
        check(name, &line, kind, fragment);
    }
}

/// Time mutations (issue 25): a year mistyped ahead, refuted by the valid event after it; a
/// year outside the contract's range. Both `implausible_time`, and nothing else changes. (Not
/// in the shared corpus: on Kafka the follower that refutes a typo must be in its own input
/// partition, which `tests/dirty_input.rs` and the worker tests cover.)
#[test]
fn mistyped_years_are_rejected_precisely_and_change_nothing() {
    use common::hostile::with;
    for (name, line, fragment) in [
        (
            "70 years ahead",
            with("occurred_at", "\"2096-01-01T00:00:00Z\""),
            "opens the input, and the event after it, at 2026-01-01T08:00:00+08:00, is back more than 31 days earlier: taken for a typo",
        ),
        (
            "year 3026",
            with("occurred_at", "\"3026-01-01T00:00:00Z\""),
            "is after 2999-12-31, the latest time the contract accepts",
        ),
        (
            "year 1026",
            with("occurred_at", "\"1026-01-01T00:00:00Z\""),
            "is before 1900-01-01, the earliest time the contract accepts",
        ),
    ] {
        check(name, &line, "implausible_time", fragment);
    }
}

/// A flood of income events for 50,000 unknown borrower ids (and 20,000 fresh event ids for one
/// borrower) holds no more state than the caps allow: the flood's memory is bounded by
/// configuration, not by its length (RSS for a million: README, "Reliability").
#[test]
fn floods_of_unknown_borrowers_and_event_ids_hold_only_what_the_caps_allow() {
    let config = "[limits]\nmax_borrowers_without_loans = 1000\nmax_event_ids_per_borrower = 500";
    let line = |i: u32, borrower: &str| {
        format!(
            r#"{{"event_id":"f-{i}","type":"income","borrower_id":"{borrower}","occurred_at":"2026-01-01T00:00:00Z","monthly_income":"100","currency":"CNY","source":"payroll"}}"#
        )
    };
    let mut input = String::new();
    for i in 0..50_000 {
        input.push_str(&line(i, &format!("U{i}")));
        input.push('\n');
    }
    let (_, summary) = common::replay_text(&input, None, Some(config));
    assert_eq!(summary.borrowers, 1000);

    // The oldest event ids are forgotten: the first event is applied again, the last is not.
    let mut input = String::new();
    for i in 0..20_000 {
        input.push_str(&line(i, "B1"));
        input.push('\n');
    }
    input.push_str(&line(19_999, "B1"));
    input.push('\n');
    input.push_str(&line(0, "B1"));
    input.push('\n');
    let (_, summary) = common::replay_text(&input, None, Some(config));
    assert_eq!(summary.duplicates.values().sum::<u64>(), 1);
    assert_eq!(summary.applied.values().sum::<u64>(), 20_001);
}
