//! The worked examples in docs/contract.md stay true: replaying docs/examples/book.jsonl must
//! give exactly docs/examples/book.out.jsonl, and docs/examples/v2.jsonl (contract v2:
//! deferral, restructure, suppressions) exactly docs/examples/v2.out.jsonl, and
//! docs/examples/gap.jsonl (issue 25: a typo and a feed restart) exactly gap.out.jsonl. If the engine's
//! output changes on purpose, regenerate the files and update the prose next to them:
//! `cargo run -- replay --input docs/examples/book.jsonl --until 2026-04-01T00:00:00+08:00 --output docs/examples/book.out.jsonl`
//! `cargo run -- replay --input docs/examples/v2.jsonl --until 2026-06-08T00:00:00+08:00 --output docs/examples/v2.out.jsonl`
//! `cargo run -- replay --input docs/examples/gap.jsonl --until 2025-04-12T00:00:00+08:00 --output docs/examples/gap.out.jsonl`

use std::sync::Arc;

use chrono::{DateTime, Utc};
use postloan_monitor::config::Config;
use postloan_monitor::replay::replay;

/// Replays `docs/examples/{name}.jsonl` to `until`; asserts the output is exactly
/// `{name}.out.jsonl` and that every message id docs/contract.md quotes from it is produced.
fn example(name: &str, until: &str, quoted: &[&str]) -> postloan_monitor::replay::Summary {
    let root = env!("CARGO_MANIFEST_DIR");
    let book = std::fs::read(format!("{root}/docs/examples/{name}.jsonl")).unwrap();
    let expected =
        std::fs::read_to_string(format!("{root}/docs/examples/{name}.out.jsonl")).unwrap();
    let settings = Arc::new(Config::default().engine_settings());
    let until = DateTime::parse_from_rfc3339(until)
        .unwrap()
        .with_timezone(&Utc);
    let mut out = Vec::new();
    let summary = replay(
        settings,
        &mut book.as_slice(),
        &format!("docs/examples/{name}.jsonl"),
        Some(until),
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    let got = String::from_utf8(out).unwrap();
    assert_eq!(
        got, expected,
        "docs/examples/{name}.out.jsonl is out of date"
    );
    let doc = std::fs::read_to_string(format!("{root}/docs/contract.md")).unwrap();
    for id in quoted {
        assert!(doc.contains(id), "docs/contract.md no longer shows {id}");
        assert!(
            got.contains(&format!("\"message_id\":\"{id}\"")),
            "engine no longer produces {id}"
        );
    }
    summary
}

#[test]
fn the_documented_example_matches_the_engine() {
    let summary = example(
        "book",
        "2026-04-01T00:00:00+08:00",
        &["B1/L1/dpd/1#1", "rejected/docs/examples/book.jsonl/7"],
    );
    assert_eq!(summary.duplicates.values().sum::<u64>(), 1);
}

/// The clock-jump example of docs/contract.md ("Implausible times"): the typo is rejected with
/// the quoted message, the restart after the gap applied.
#[test]
fn the_documented_clock_jump_example_matches_the_engine() {
    let summary = example(
        "gap",
        "2025-04-12T00:00:00+08:00",
        &["G1/LG1/dpd/1#1", "G1/LG1/dpd/1#3", "G1/LG1/dpd/1/L2"],
    );
    assert_eq!(summary.rejected.values().sum::<u64>(), 1);
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::fs::read_to_string(format!("{root}/docs/examples/gap.out.jsonl")).unwrap();
    let doc = std::fs::read_to_string(format!("{root}/docs/contract.md")).unwrap();
    let rejection: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(rejection["error_kind"], "implausible_time");
    let error = rejection["error"].as_str().unwrap();
    assert!(
        doc.contains(error),
        "docs/contract.md no longer quotes: {error}"
    );
}

/// The v2 worked examples: each section of docs/contract.md quotes its borrower's messages.
#[test]
fn the_documented_v2_examples_match_the_engine() {
    let summary = example(
        "v2",
        "2026-06-08T00:00:00+08:00",
        &[
            "H1/LH1/dpd/1#3",
            "H1/LH1/dpd/2#1",
            "R1/LR1/dpd/1#5",
            "R1/LR1/dpd/2#1",
            "S1/LS1/dpd/1#3",
            "S1/LS1/dpd/1#4",
            "S1/LS1/dpd/1/L1",
            "S2/LS2/dpd/1#1",
            "S3/LS3/dpd/1#4",
            "S3/LS3/dpd/1/L1",
        ],
    );
    assert_eq!(summary.rejected.values().sum::<u64>(), 0);
}
