//! `postloan-monitor generate`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;

use postloan_generate::{generate, GenerateOptions};

/// The book's size and seed, shared by `generate` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct BookArgs {
    /// Number of borrowers.
    #[arg(long, default_value_t = 10_000)]
    pub borrowers: u32,
    /// Months of history.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Arguments of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Size and seed of the book.
    #[command(flatten)]
    pub book: BookArgs,
    /// First day of the book (YYYY-MM-DD).
    #[arg(long, default_value = "2025-01-01")]
    pub start: NaiveDate,
    /// Share of lines (0–1) written malformed, to exercise rejections.
    #[arg(long, default_value_t = 0.0)]
    pub bad_ratio: f64,
    /// Business time zone the timestamps are written in.
    #[arg(long, default_value = "Asia/Shanghai")]
    pub time_zone: chrono_tz::Tz,
    /// Output file (default: stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Writes the book; prints a one-line summary to stderr.
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let opts = GenerateOptions {
        borrowers: args.book.borrowers,
        months: args.book.months,
        seed: args.book.seed,
        start: args.start,
        bad_ratio: args.bad_ratio,
        time_zone: args.time_zone,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let summary = generate(&opts, &mut out)?;
    out.flush().context("cannot write output")?;
    let by_type: Vec<String> = summary
        .events_by_type
        .iter()
        .map(|(t, n)| format!("{t}={n}"))
        .collect();
    eprintln!(
        "Generated {} lines for {} borrowers, {} loans ({}; malformed {}).",
        summary.lines,
        summary.borrowers,
        summary.loans,
        by_type.join(" "),
        summary.bad_lines
    );
    Ok(ExitCode::SUCCESS)
}
