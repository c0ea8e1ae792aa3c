//! `postloan-monitor report`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;

use crate::report::{html, report};

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSONL events, one object per line, in the order to apply them; `-` reads stdin.
    #[arg(long)]
    pub input: String,
    /// Configuration file (default: the built-in defaults, as in config/monitor.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// After the last event, advance the clock to this RFC 3339 instant: month-ends up to it
    /// are reported too (e.g. the local midnight that closes the book's last month).
    #[arg(long)]
    pub until: Option<DateTime<FixedOffset>>,
    /// The HTML report to write (one self-contained file).
    #[arg(long)]
    pub output: PathBuf,
    /// Also write each table as `<section>.csv` into this directory (created if missing).
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Replays the book, writes the report (and CSVs); the replay summary goes to stderr.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let settings = Arc::new(config.engine_settings());
    let tz = settings.tz;
    let (mut input, size) = super::replay::open_input(&args.input)?;
    let bar = super::replay::progress_bar(size, "report");
    let until = args.until.map(|t| t.with_timezone(&Utc));
    let (figures, page, text) = report(settings, &mut input, &args.input, until, &mut |bytes| {
        bar.set_position(bytes)
    })?;
    bar.finish_and_clear();
    std::fs::write(&args.output, text)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprint!("{}", super::summary::render(&figures.summary, tz));
    eprintln!(
        "report: {} month-ends → {}",
        figures.months.len(),
        args.output.display()
    );
    if let Some(dir) = &args.csv {
        let written = html::write_csvs(dir, &page)?;
        eprintln!("csv: {} files → {}", written.len(), dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
