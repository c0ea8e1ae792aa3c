//! Merge order and idling of a task.

use std::sync::Arc;

use super::*;
use crate::config::Config;
use crate::engine::{ClockMode, Settings};

fn task(max_idle_ms: u64) -> Task {
    let settings = Arc::new(Settings::from_config(&Config::default()));
    let topics = ["lc", "rp", "in", "va", "ak"].map(Arc::from);
    Task::new(
        3,
        topics,
        Engine::new(settings, ClockMode::Event),
        max_idle_ms,
    )
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

#[test]
fn records_are_applied_lowest_occurred_at_first_across_inputs() {
    let mut t = task(0);
    t.push(1, at(10, income("late", "2026-01-03T00:00:00Z")));
    t.push(2, at(7, income("early", "2026-01-01T00:00:00Z")));
    t.push(2, at(8, income("mid", "2026-01-02T00:00:00Z")));
    for i in [0, 3, 4] {
        t.mark_caught_up(i);
    }
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    // Input 1 and 2 have data, the rest are caught up: everything is ready.
    assert_eq!(t.process(0, &mut out, &mut outcomes), 3);
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
    for i in [0, 2, 4] {
        t.mark_caught_up(i);
    }
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    // Input 1's head (offset 4) and input 3's head tie in time: input 1 goes first.
    t.process(0, &mut out, &mut outcomes);
    assert_eq!(t.offsets().collect::<Vec<_>>(), [(1, 6), (3, 2)]);
    // The changelog carries the borrower and the stream time.
    let mut changelog = Vec::new();
    t.take_changelog(77, &mut changelog);
    let keys: Vec<&str> = changelog.iter().map(|(k, _)| &**k).collect();
    assert_eq!(keys, ["B1", TASK_KEY]);
    let (cycle, snapshot) = split_cycle(&changelog[0].1).unwrap();
    assert_eq!(cycle, 77);
    assert!(crate::engine::snapshot::decode(snapshot).is_ok());
    let meta = decode_meta(&changelog[1].1).unwrap();
    assert_eq!(meta.cycle, 77);
    assert_eq!(meta.clock, t.engine().clock());
    assert_eq!(meta.next_offsets, [None, Some(6), None, Some(2), None]);
    // Nothing changed since: nothing to write.
    changelog.clear();
    t.take_changelog(78, &mut changelog);
    assert!(changelog.is_empty());
}

#[test]
fn a_task_waits_for_inputs_that_may_still_hold_earlier_events() {
    let mut t = task(1000);
    t.push(1, at(0, income("a", "2026-01-05T00:00:00Z")));
    t.mark_caught_up(0);
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    // Inputs 2–4 are neither buffered nor caught up: wait.
    assert_eq!(t.process(100, &mut out, &mut outcomes), 0);
    assert_eq!(t.process(1099, &mut out, &mut outcomes), 0);
    // An earlier event arrives on input 2 while waiting: it goes first.
    t.push(2, at(0, income("b", "2026-01-01T00:00:00Z")));
    t.mark_caught_up(3);
    t.mark_caught_up(4);
    assert_eq!(t.process(1100, &mut out, &mut outcomes), 1);
    // Input 2 is drained but not known to be caught up: it may hold more before "a".
    assert_eq!(t.process(1200, &mut out, &mut outcomes), 0);
    t.mark_caught_up(2);
    assert_eq!(t.process(1300, &mut out, &mut outcomes), 1);
    assert_eq!(t.offsets().collect::<Vec<_>>(), [(1, 1), (2, 1)]);
}

#[test]
fn after_max_idle_a_task_processes_what_it_has() {
    let mut t = task(1000);
    t.push(1, at(0, income("a", "2026-01-05T00:00:00Z")));
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    assert_eq!(t.process(5_000, &mut out, &mut outcomes), 0);
    assert_eq!(t.process(6_000, &mut out, &mut outcomes), 1);
    assert_eq!(t.buffered(), 0);
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
    for i in 0..4 {
        t.mark_caught_up(i);
    }
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    t.process(0, &mut out, &mut outcomes);
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
    for i in 0..INPUTS {
        t.mark_caught_up(i);
    }
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    t.process(0, &mut out, &mut outcomes);
    assert_eq!(outcomes.len(), 2);
    assert!(!t.wants(2, 1) && t.wants(2, 2));
}
