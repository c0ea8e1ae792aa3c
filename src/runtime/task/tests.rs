//! Merge order and idling of a task.

use std::sync::Arc;

use super::*;
use crate::config::Config;
use postloan_engine::ClockMode;

/// A task whose engine's clock stands at 2026-01-01 (as one restored from its changelog would):
/// no record of these tests is a suspected clock jump, which `worker/tests/clock_jump.rs` covers.
fn task(max_idle_ms: u64) -> Task {
    let settings = Arc::new(Config::default().engine_settings());
    let topics = ["lc", "rp", "in", "va", "ak"].map(Arc::from);
    let mut engine = Engine::new(settings, ClockMode::Event);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    engine.advance_to(start.with_timezone(&Utc), &mut Vec::new());
    Task::new(3, topics, engine, max_idle_ms)
}

fn income(id: &str, at: &str) -> Record {
    Record {
        received_ms: 0,
        offset: 0,
        key: Some(b"B1".to_vec()),
        payload: format!(
            r#"{{"event_id":"{id}","type":"income","borrower_id":"B1","occurred_at":"{at}","monthly_income":"1","currency":"CNY","source":"payroll"}}"#
        )
        .into_bytes(),
        full_size: None,
    }
}

fn at(offset: i64, mut r: Record) -> Record {
    r.offset = offset;
    r
}

/// Applies what is ready at `now_ms` when the inputs' lags are `lags`; returns how many.
fn run(t: &mut Task, now_ms: u64, lags: [Lag; INPUTS]) -> usize {
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    t.process(now_ms, &mut |i| lags[i], &mut out, &mut outcomes)
}

use Lag::{Behind, CaughtUp, Unknown};

#[test]
fn records_are_applied_lowest_occurred_at_first_across_inputs() {
    let mut t = task(0);
    t.push(1, at(10, income("late", "2026-01-03T00:00:00Z")));
    t.push(2, at(7, income("early", "2026-01-01T00:00:00Z")));
    t.push(2, at(8, income("mid", "2026-01-02T00:00:00Z")));
    // Input 1 and 2 have data, the rest are caught up: everything is ready.
    assert_eq!(run(&mut t, 0, [CaughtUp; INPUTS]), 3);
    assert_eq!(
        t.engine().clock().map(|c| c.to_rfc3339()),
        Some("2026-01-03T00:00:00+00:00".to_owned())
    );
    let offsets: Vec<(usize, i64)> = t.offsets().collect();
    assert_eq!(offsets, [(1, 11), (2, 9)]);
}

#[test]
fn ties_go_to_topic_order_then_offset() {
    let mut t = task(0);
    let same = "2026-01-01T00:00:00Z";
    t.push(3, at(1, income("v", same)));
    t.push(1, at(4, income("r", same)));
    t.push(1, at(5, income("r1", "2026-01-01T00:00:01Z")));
    // Input 1's head (offset 4) and input 3's head tie in time: input 1 goes first.
    run(&mut t, 0, [CaughtUp; INPUTS]);
    assert_eq!(t.offsets().collect::<Vec<_>>(), [(1, 6), (3, 2)]);
    // The changelog carries the borrower and the stream time.
    let mut changelog = Vec::new();
    t.take_changelog(77, &mut changelog);
    let keys: Vec<&str> = changelog.iter().map(|(k, _)| &**k).collect();
    assert_eq!(keys, ["B1", TASK_KEY]);
    let (cycle, snapshot) = split_cycle(&changelog[0].1).unwrap();
    assert_eq!(cycle, 77);
    assert!(postloan_engine::snapshot::decode(snapshot).is_ok());
    let meta = decode_meta(&changelog[1].1).unwrap();
    assert_eq!(meta.cycle, 77);
    assert_eq!(meta.clock, t.engine().clock());
    assert_eq!(meta.next_offsets, [None, Some(6), None, Some(2), None]);
    // Nothing changed since: nothing to write.
    changelog.clear();
    t.take_changelog(78, &mut changelog);
    assert!(changelog.is_empty());
}

/// KIP-695, one row per case: what the other (empty) inputs are known to hold, how long the
/// task has been waiting, and whether the buffered record is applied.
#[test]
fn the_merge_waits_for_known_unread_input_and_idles_only_on_caught_up_input() {
    let cases: [(&str, [Lag; INPUTS], u64, bool); 8] = [
        (
            "all caught up, idle 0 ms: wait",
            [CaughtUp; INPUTS],
            0,
            false,
        ),
        (
            "all caught up, idle 999 ms: wait",
            [CaughtUp; INPUTS],
            999,
            false,
        ),
        (
            "all caught up, idle 1000 ms: apply",
            [CaughtUp; INPUTS],
            1000,
            true,
        ),
        (
            "one behind, an hour: wait",
            [CaughtUp, CaughtUp, Behind, CaughtUp, CaughtUp],
            3_600_000,
            false,
        ),
        (
            "one unknown, an hour: wait",
            [CaughtUp, CaughtUp, CaughtUp, Unknown, CaughtUp],
            3_600_000,
            false,
        ),
        (
            "the input holding the record is behind, the rest caught up: apply",
            [CaughtUp, Behind, CaughtUp, CaughtUp, CaughtUp],
            1000,
            true,
        ),
        (
            "all behind but the holder, an hour: wait",
            [Behind; INPUTS],
            3_600_000,
            false,
        ),
        (
            "all unknown, an hour: wait",
            [Unknown; INPUTS],
            3_600_000,
            false,
        ),
    ];
    for (name, lags, waited_ms, applies) in cases {
        let mut t = task(1000);
        t.push(1, at(0, income("a", "2026-01-05T00:00:00Z")));
        // The first look starts the idle deadlines; the second comes `waited_ms` later.
        assert_eq!(run(&mut t, 5_000, lags), 0, "{name}: first look");
        assert_eq!(run(&mut t, 5_000 + waited_ms, lags) == 1, applies, "{name}");
    }
}

#[test]
fn an_earlier_event_arriving_while_the_task_waits_goes_first() {
    let mut t = task(1000);
    t.push(1, at(0, income("a", "2026-01-05T00:00:00Z")));
    let lags = [CaughtUp, CaughtUp, Behind, CaughtUp, CaughtUp];
    assert_eq!(run(&mut t, 0, lags), 0);
    assert_eq!(run(&mut t, 60_000, lags), 0);
    // The record input 2 was known to hold arrives: older than "a", it goes first, and then
    // input 2 is drained but still behind: "a" waits.
    t.push(2, at(0, income("b", "2026-01-01T00:00:00Z")));
    assert_eq!(run(&mut t, 60_001, lags), 1);
    assert_eq!(t.offsets().collect::<Vec<_>>(), [(2, 1)]);
    // Input 2 caught up: its idle wait starts now, not when the task started waiting.
    let caught_up = [CaughtUp; INPUTS];
    assert_eq!(run(&mut t, 60_002, caught_up), 0);
    assert_eq!(run(&mut t, 61_001, caught_up), 0);
    assert_eq!(run(&mut t, 61_002, caught_up), 1);
    assert_eq!(t.offsets().collect::<Vec<_>>(), [(1, 1), (2, 1)]);
}

#[test]
fn an_idle_deadline_stands_while_the_input_stays_caught_up_and_ends_with_data_or_lag() {
    let mut t = task(1000);
    t.push(1, at(0, income("a", "2026-01-05T00:00:00Z")));
    assert_eq!(run(&mut t, 0, [CaughtUp; INPUTS]), 0);
    assert_eq!(run(&mut t, 1000, [CaughtUp; INPUTS]), 1);
    // The deadline passed and the inputs stay empty and caught up: the next record of input 1
    // does not wait again.
    t.push(1, at(1, income("b", "2026-01-06T00:00:00Z")));
    assert_eq!(run(&mut t, 1001, [CaughtUp; INPUTS]), 1);
    // Input 3 falls behind, then is caught up again: its deadline starts over.
    t.push(1, at(2, income("c", "2026-01-07T00:00:00Z")));
    let behind = [CaughtUp, CaughtUp, CaughtUp, Behind, CaughtUp];
    assert_eq!(run(&mut t, 1002, behind), 0);
    assert_eq!(run(&mut t, 1003, [CaughtUp; INPUTS]), 0);
    assert_eq!(run(&mut t, 2002, [CaughtUp; INPUTS]), 0);
    assert_eq!(run(&mut t, 2003, [CaughtUp; INPUTS]), 1);
    // A record on input 0 ends input 0's deadline: once drained it is waited for again.
    t.push(0, at(0, income("d", "2026-01-08T00:00:00Z")));
    t.push(1, at(3, income("e", "2026-01-09T00:00:00Z")));
    assert_eq!(run(&mut t, 2004, [CaughtUp; INPUTS]), 1);
    assert_eq!(run(&mut t, 3003, [CaughtUp; INPUTS]), 0);
    assert_eq!(run(&mut t, 3004, [CaughtUp; INPUTS]), 1);
}

#[test]
fn lag_is_asked_once_per_input_and_call_and_only_for_empty_inputs() {
    let mut t = task(0);
    for (i, d) in ["01", "02", "03"].iter().enumerate() {
        t.push(
            1,
            at(i as i64, income(d, &format!("2026-01-{d}T00:00:00Z"))),
        );
    }
    let mut asked = [0; INPUTS];
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    let applied = t.process(
        0,
        &mut |i| {
            asked[i] += 1;
            CaughtUp
        },
        &mut out,
        &mut outcomes,
    );
    assert_eq!(applied, 3);
    // The others once each, though three records were applied; input 1 never: when it ran dry
    // nothing was left to apply.
    assert_eq!(asked, [1, 0, 1, 1, 1]);
}

#[test]
fn an_event_older_than_one_applied_before_is_late_by_the_difference() {
    let mut t = task(0);
    t.push(1, at(0, income("a", "2026-01-05T00:00:00Z")));
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    t.process(0, &mut |_| CaughtUp, &mut out, &mut outcomes);
    // After the idle wait, input 2 delivers an event three days older: late.
    t.push(2, at(0, income("b", "2026-01-02T00:00:00Z")));
    // A duplicate of it and a malformed record are not late: they do not count for the clock.
    t.push(2, at(1, income("b", "2026-01-02T00:00:00Z")));
    t.push(
        2,
        at(
            2,
            Record {
                payload: br#"{"occurred_at":"2026-01-01T00:00:00Z"}"#.to_vec(),
                ..income("c", "2026-01-01T00:00:00Z")
            },
        ),
    );
    t.push(2, at(3, income("d", "2026-01-06T00:00:00Z")));
    t.process(1, &mut |_| CaughtUp, &mut out, &mut outcomes);
    let late: Vec<(usize, i64, Option<i64>)> = outcomes
        .iter()
        .map(|p| (p.input, p.offset, p.late_by.map(|d| d.num_hours())))
        .collect();
    assert_eq!(
        late,
        [
            (1, 0, None),
            (2, 0, Some(72)),
            (2, 1, None),
            (2, 2, None),
            (2, 3, None)
        ]
    );
    assert!(matches!(outcomes[2].outcome, Outcome::Duplicate(_)));
    assert!(matches!(outcomes[3].outcome, Outcome::Rejected(_)));
}

#[test]
fn rejections_name_topic_partition_offset_and_keep_the_key() {
    let mut t = task(0);
    t.push(
        4,
        Record {
            received_ms: 0,
            offset: 42,
            key: Some(b"B9".to_vec()),
            payload: b"not json".to_vec(),
            full_size: None,
        },
    );
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    t.process(0, &mut |_| CaughtUp, &mut out, &mut outcomes);
    let json: serde_json::Value = serde_json::from_str(&out[0].to_json()).unwrap();
    assert_eq!(json["source"], "ak/3/42");
    assert_eq!(json["message_id"], "rejected/ak/3/42");
    assert_eq!(json["key"], "B9");
}

#[test]
fn the_task_record_round_trips() {
    let meta = TaskMeta {
        cycle: 3,
        clock: Some(
            DateTime::parse_from_rfc3339("2026-03-01T12:34:56.789+08:00")
                .unwrap()
                .with_timezone(&Utc),
        ),
        next_offsets: [Some(1), None, Some(7), None, Some(0)],
        marks: Some([
            None,
            None,
            Some(
                DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            None,
            None,
        ]),
    };
    assert_eq!(decode_meta(&encode_meta(&meta)), Some(meta));
    assert_eq!(decode_meta(b"garbage"), None);
    assert_eq!(split_cycle(&[1, 2, 3]), None);
}

#[test]
fn a_record_applied_or_buffered_already_is_not_wanted_again() {
    let mut t = task(0);
    assert!(t.wants(2, 0));
    t.push(2, at(0, income("e0", "2026-01-01T00:00:00Z")));
    t.push(2, at(1, income("e1", "2026-01-02T00:00:00Z")));
    assert!(!t.wants(2, 0) && !t.wants(2, 1) && t.wants(2, 2));
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    t.process(0, &mut |_| CaughtUp, &mut out, &mut outcomes);
    assert_eq!(outcomes.len(), 2);
    assert!(!t.wants(2, 1) && t.wants(2, 2));
}
