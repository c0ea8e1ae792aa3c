//! Engine throughput and memory on a generated book.
//!
//! `cargo bench --bench engine` — one core, JSON decode included: every event goes through
//! `Engine::apply` from its raw bytes, exactly as replay feeds it. Book size from the environment:
//! `BENCH_BORROWERS` (default 100000) and `BENCH_MONTHS` (default 24).
//!
//! Memory: resident set growth (Linux /proc/self/statm) while the engine takes in the whole
//! book, divided by the borrowers it tracks — state, hashes, timers, allocator overhead, all in.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use postloan_engine::{ClockMode, Engine, Input, Settings};
use postloan_generate::{generate, GenerateOptions};

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

struct Book {
    text: Vec<u8>,
    lines: Vec<(usize, usize)>,
    borrowers: u32,
}

fn book(borrowers: u32, months: u32) -> Book {
    let opts = GenerateOptions {
        borrowers,
        months,
        seed: 42,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
        bad_ratio: 0.0,
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let mut text = Vec::new();
    generate(&opts, &mut text).expect("generate into memory");
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            lines.push((start, i));
            start = i + 1;
        }
    }
    Book {
        text,
        lines,
        borrowers,
    }
}

fn run(book: &Book, settings: &Arc<Settings>, upto: usize) -> (Engine, u64) {
    let mut engine = Engine::new(Arc::clone(settings), ClockMode::Event);
    let mut out = Vec::new();
    let mut messages = 0u64;
    for (s, e) in &book.lines[..upto] {
        engine.apply(
            Input {
                payload: &book.text[*s..*e],
                source: "bench",
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut out,
        );
        messages += out.len() as u64;
        out.clear();
    }
    (engine, messages)
}

fn memory_report(book: &Book, settings: &Arc<Settings>) {
    for (label, share) in [("first 10% of the book", 10), ("whole book", 100)] {
        let upto = book.lines.len() * share / 100;
        let before = rss_bytes().unwrap_or(0);
        let (engine, _) = run(book, settings, upto);
        let after = rss_bytes().unwrap_or(0);
        let tracked = engine.borrower_count().max(1) as u64;
        eprintln!(
            "memory after {label} ({upto} events): {} borrowers, {} open loans, RSS +{:.1} MiB = {} bytes/borrower",
            tracked,
            engine.open_loan_count(),
            after.saturating_sub(before) as f64 / (1 << 20) as f64,
            after.saturating_sub(before) / tracked
        );
        drop(engine);
    }
}

fn bench(c: &mut Criterion) {
    let borrowers = env_u32("BENCH_BORROWERS", 100_000);
    let months = env_u32("BENCH_MONTHS", 24);
    let started = Instant::now();
    let book = book(borrowers, months);
    eprintln!(
        "book: {} borrowers × {} months = {} events, {:.0} MiB, generated in {:.1} s",
        book.borrowers,
        months,
        book.lines.len(),
        book.text.len() as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
    let settings = Arc::new(Settings::default());
    memory_report(&book, &settings);

    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(book.lines.len() as u64));
    group.bench_function(
        format!("apply_{borrowers}_borrowers_{months}_months"),
        |b| b.iter(|| run(&book, &settings, book.lines.len()).1),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
