//! The instruction-count gate's probe: one part of the engine's work on a fixed generated book,
//! inside one function that callgrind counts alone.
//!
//! `.ci/icount` runs it under `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect=<the part's function>`, so generating the book and setting up are not
//! counted, and compares each count with `benches/icount.baseline`. Run by hand it prints what
//! it measured, which is how a change to a part is checked to be the same work:
//!
//! ```text
//! cargo run --profile icount -p postloan-engine --example icount -- engine
//! ```
//!
//! Parts: `decode` (every line to a typed event), `engine` (every line through
//! `Engine::apply`, decode included, as replay feeds it), `render` (every message the engine
//! published, to its JSON bytes), `snapshot` (every borrower to changelog bytes and back into a
//! new engine, as a restore does).

use std::hint::black_box;
use std::sync::Arc;

use chrono::NaiveDate;
use postloan_engine::output::Output;
use postloan_engine::{decode, ClockMode, Engine, Input, Settings};
use postloan_generate::{generate, GenerateOptions};

/// The fixed book: small enough that callgrind counts it in seconds, large enough that every
/// signal, timer and lifecycle path runs many times.
const BORROWERS: u32 = 600;
const MONTHS: u32 = 12;
const SEED: u64 = 7;

fn book() -> Vec<u8> {
    let opts = GenerateOptions {
        borrowers: BORROWERS,
        months: MONTHS,
        seed: SEED,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
        // A few bad lines, so rejections are counted too.
        bad_ratio: 0.002,
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let mut text = Vec::new();
    generate(&opts, &mut text).expect("generate into memory");
    text
}

fn input(line: &[u8]) -> Input<'_> {
    Input {
        payload: line,
        source: "icount",
        key: None,
        full_size: None,
        occurred_at: None,
    }
}

#[inline(never)]
fn measure_decode(lines: &[&[u8]]) -> usize {
    let mut ok = 0;
    for line in lines {
        ok += usize::from(black_box(decode::decode(line)).is_ok());
    }
    ok
}

#[inline(never)]
fn measure_engine(engine: &mut Engine, lines: &[&[u8]], out: &mut Vec<Output>) -> usize {
    let mut published = 0;
    for line in lines {
        engine.apply(input(line), out);
        published += out.len();
        out.clear();
    }
    published
}

#[inline(never)]
fn measure_render(messages: &[Output], buf: &mut Vec<u8>) -> usize {
    let mut bytes = 0;
    for m in messages {
        buf.clear();
        m.write_json(buf);
        bytes += buf.len();
    }
    bytes
}

#[inline(never)]
fn measure_snapshot(from: &Engine, ids: &[Arc<str>], into: &mut Engine) -> usize {
    let mut bytes = 0;
    for id in ids {
        if let Some(snap) = from.snapshot(id) {
            bytes += snap.len();
            into.restore_borrower(&snap).expect("own snapshot restores");
        }
    }
    into.finish_restore(from.clock());
    bytes
}

fn main() {
    let part = std::env::args().nth(1).unwrap_or_default();
    let text = book();
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let settings = Arc::new(Settings::default());
    let mut engine = Engine::new(Arc::clone(&settings), ClockMode::Event);
    let mut out = Vec::new();
    match part.as_str() {
        "decode" => println!(
            "decode: {} of {} lines",
            measure_decode(&lines),
            lines.len()
        ),
        "engine" => println!(
            "engine: {} lines, {} messages",
            lines.len(),
            measure_engine(&mut engine, &lines, &mut out)
        ),
        "render" => {
            let mut all = Vec::new();
            for line in &lines {
                engine.apply(input(line), &mut all);
            }
            let bytes = measure_render(&all, &mut Vec::with_capacity(4096));
            println!("render: {} messages, {bytes} bytes", all.len());
        }
        "snapshot" => {
            measure_engine(&mut engine, &lines, &mut out);
            let ids: Vec<Arc<str>> = engine.borrowers().map(|b| Arc::clone(&b.id)).collect();
            let mut restored = Engine::new(settings, ClockMode::Event);
            let bytes = measure_snapshot(&engine, &ids, &mut restored);
            println!("snapshot: {} borrowers, {bytes} bytes", ids.len());
        }
        _ => {
            eprintln!("usage: icount decode|engine|render|snapshot");
            std::process::exit(2);
        }
    }
}
