//! The worked example in docs/contract.md stays true: replaying docs/examples/book.jsonl must
//! give exactly docs/examples/book.out.jsonl. If the engine's output changes on purpose,
//! regenerate the file and update the prose next to it:
//! `cargo run -- replay --input docs/examples/book.jsonl --until 2026-04-01T00:00:00+08:00 --output docs/examples/book.out.jsonl`

use std::sync::Arc;

use chrono::{DateTime, Utc};
use postloan_monitor::config::Config;
use postloan_monitor::replay::replay;

#[test]
fn the_documented_example_matches_the_engine() {
    let root = env!("CARGO_MANIFEST_DIR");
    let book = std::fs::read(format!("{root}/docs/examples/book.jsonl")).unwrap();
    let expected = std::fs::read_to_string(format!("{root}/docs/examples/book.out.jsonl")).unwrap();
    let settings = Arc::new(Config::default().engine_settings());
    let until = DateTime::parse_from_rfc3339("2026-04-01T00:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc);
    let mut out = Vec::new();
    let summary = replay(
        settings,
        &mut book.as_slice(),
        "docs/examples/book.jsonl",
        Some(until),
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    let got = String::from_utf8(out).unwrap();
    assert_eq!(got, expected, "docs/examples/book.out.jsonl is out of date");
    assert_eq!(summary.duplicates.values().sum::<u64>(), 1);
    // Every message quoted in the docs must be one the engine produced.
    let doc = std::fs::read_to_string(format!("{root}/docs/contract.md")).unwrap();
    for id in ["B1/L1/dpd/1#1", "rejected/docs/examples/book.jsonl/7"] {
        assert!(doc.contains(id), "docs/contract.md no longer shows {id}");
        assert!(
            got.contains(&format!("\"message_id\":\"{id}\"")),
            "engine no longer produces {id}"
        );
    }
}
