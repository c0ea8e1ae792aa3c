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
