//! `postloan-monitor replay`

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::replay::replay;

/// Arguments of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// JSONL events, one object per line, in the order to apply them; `-` reads stdin.
    #[arg(long)]
    pub input: String,
    /// Configuration file (default: the built-in defaults, as in config/monitor.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// After the last event, advance the clock to this RFC 3339 instant, firing what is due.
    #[arg(long)]
    pub until: Option<DateTime<FixedOffset>>,
    /// Where to write the messages (default: stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Runs the replay; the summary goes to stderr.
pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let settings = Arc::new(config.engine_settings());
    let tz = settings.tz;
    let (mut input, size) = open_input(&args.input)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let bar = progress_bar(size, "replay");
    let until = args.until.map(|t| t.with_timezone(&Utc));
    let summary = replay(
        settings,
        &mut input,
        &args.input,
        until,
        &mut out,
        &mut |bytes| bar.set_position(bytes),
    )?;
    bar.finish_and_clear();
    eprint!("{}", super::summary::render(&summary, tz));
    Ok(ExitCode::SUCCESS)
}

/// The events to read: a file (and its size, for the progress bar) or, for `-`, stdin.
pub(super) fn open_input(name: &str) -> anyhow::Result<(Box<dyn BufRead>, Option<u64>)> {
    if name == "-" {
        return Ok((
            Box::new(BufReader::with_capacity(1 << 20, std::io::stdin().lock())),
            None,
        ));
    }
    let f = File::open(name).with_context(|| format!("cannot open input {name}"))?;
    let size = f.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 20, f)), size))
}

/// A progress bar over the input's bytes on a terminal (hidden otherwise), named `what`.
pub(super) fn progress_bar(size: Option<u64>, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match size {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                &format!(
                    "{{spinner}} {what} [{{bar:40}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} eta {{eta}}"
                ),
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template(&format!("{{spinner}} {what} {{bytes}} {{bytes_per_sec}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
}
