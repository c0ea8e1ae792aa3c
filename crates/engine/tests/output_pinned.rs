//! The engine's output bytes, pinned: the performance work changes how the engine computes,
//! never what it publishes. Each book below is generated, fed line by line to `Engine::apply`
//! (then the clock is moved a quarter past its end, so the timers fire), every message rendered
//! to its JSON, and the whole stream hashed.
//!
//! Pinned from the engine as it stood before the performance work (commit c5924d2).
//! A change that is meant to change the output (a new field, a fixed bug) updates the pins in
//! the same commit and says why; the failure prints the new values.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use postloan_engine::{ClockMode, Engine, Input, Settings};
use postloan_generate::{generate, GenerateOptions};
use xxhash_rust::xxh3::Xxh3;

struct Pin {
    borrowers: u32,
    months: u32,
    seed: u64,
    bad_ratio: f64,
    messages: u64,
    bytes: u64,
    hash: u64,
}

/// Books of different shapes: short and long histories, clean and dirty lines.
const PINS: &[Pin] = &[
    Pin {
        borrowers: 400,
        months: 12,
        seed: 1,
        bad_ratio: 0.0,
        messages: 3323,
        bytes: 2106220,
        hash: 0xfecc_d1c7_5138_3b0e,
    },
    Pin {
        borrowers: 150,
        months: 36,
        seed: 2,
        bad_ratio: 0.0,
        messages: 1555,
        bytes: 982157,
        hash: 0xf20f_03f1_9e21_d5a8,
    },
    Pin {
        borrowers: 300,
        months: 12,
        seed: 3,
        bad_ratio: 0.03,
        messages: 2762,
        bytes: 1705297,
        hash: 0x0f9f_957e_a1a4_e276,
    },
];

fn replay(pin: &Pin) -> (u64, u64, u64) {
    let opts = GenerateOptions {
        borrowers: pin.borrowers,
        months: pin.months,
        seed: pin.seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
        bad_ratio: pin.bad_ratio,
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let mut text = Vec::new();
    generate(&opts, &mut text).expect("generate");
    let mut engine = Engine::new(Arc::new(Settings::default()), ClockMode::Event);
    let mut out = Vec::new();
    let mut json = Vec::new();
    let mut hash = Xxh3::new();
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut take = |out: &mut Vec<_>| {
        for m in out.drain(..) {
            json.clear();
            postloan_engine::output::Output::write_json(&m, &mut json);
            json.push(b'\n');
            hash.update(&json);
            messages += 1;
            bytes += json.len() as u64;
        }
    };
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        engine.apply(
            Input {
                payload: line,
                source: "pinned",
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut out,
        );
        take(&mut out);
    }
    let end = engine.clock().expect("the book moved the clock") + Duration::days(92);
    engine.advance_to(end, &mut out);
    take(&mut out);
    (messages, bytes, hash.digest())
}

#[test]
fn the_engine_publishes_the_pinned_bytes() {
    let mut wrong = Vec::new();
    for pin in PINS {
        let got = replay(pin);
        if got != (pin.messages, pin.bytes, pin.hash) {
            wrong.push(format!(
                "book {}x{} seed {} bad {}: messages: {}, bytes: {}, hash: {:#018x},",
                pin.borrowers, pin.months, pin.seed, pin.bad_ratio, got.0, got.1, got.2
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the output changed; if on purpose, pin the new values and say why:\n{}",
        wrong.join("\n")
    );
}
