//! `postloan-monitor demo`: the main job on an embedded default.
//!
//! Until the Kafka runtime exists this runs the engine in-process: it generates a synthetic
//! book, replays it with the event clock, writes every message to a file and prints a summary
//! and the first alerts.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{Months, NaiveDate, Utc};
use clap::Args;

use crate::config::Config;
use crate::engine::Settings;
use crate::generate::{generate, GenerateOptions};
use crate::replay::replay;

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Borrowers in the generated book.
    #[arg(long, default_value_t = 10_000)]
    pub borrowers: u32,
    /// Months of history.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Random seed of the book.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write every published message.
    #[arg(long, default_value = "target/demo/messages.jsonl")]
    pub output: PathBuf,
    /// Alerts to show at the end.
    #[arg(long, default_value_t = 5)]
    pub show: usize,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let config = Config::default();
    let settings = Arc::new(Settings::from_config(&config));
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).context("start date")?;
    let opts = GenerateOptions {
        borrowers: args.borrowers,
        months: args.months,
        seed: args.seed,
        start,
        bad_ratio: 0.002,
        time_zone: settings.tz,
    };
    eprintln!(
        "Generating a book of {} borrowers over {} months (seed {})…",
        args.borrowers, args.months, args.seed
    );
    let mut book = Vec::new();
    let generated = generate(&opts, &mut book)?;
    eprintln!(
        "Replaying {} events ({} deliberately malformed) through the engine…",
        generated.lines, generated.bad_lines
    );
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    // The clock runs on to the end of the book so that what falls due then still fires.
    let end = start
        .checked_add_months(Months::new(args.months))
        .map(|d| crate::engine::time::start_of_day(d, settings.tz))
        .unwrap_or_else(Utc::now);
    let summary = replay(
        Arc::clone(&settings),
        &mut book.as_slice(),
        "demo-book.jsonl",
        Some(end),
        &mut out,
        &mut |_| {},
    )?;
    out.flush().context("cannot write messages")?;
    eprint!("{}", super::summary::render(&summary, settings.tz));
    println!(
        "\nAll {} messages: {}",
        summary.messages,
        args.output.display()
    );
    println!("First alerts:");
    let reader = BufReader::new(File::open(&args.output)?);
    for line in reader
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.starts_with("{\"kind\":\"alert\""))
        .take(args.show)
    {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}
