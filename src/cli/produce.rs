//! `postloan-monitor produce`: publish a JSONL event file to the input topics.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

/// Arguments of `produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// JSONL events; `-` reads stdin. Each line goes to the topic of its `type`, keyed by its
    /// `borrower_id`.
    #[arg(long)]
    pub input: String,
    /// Configuration file (topics and connection; `POSTLOAN__…` variables override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// How long to wait for the last messages to be acknowledged.
    #[arg(long, default_value_t = 60)]
    pub flush_timeout_secs: u64,
}

/// Sends the file; prints counts by topic on stderr.
pub fn run(args: ProduceArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut input: Box<dyn BufRead> = if args.input == "-" {
        Box::new(BufReader::with_capacity(1 << 20, std::io::stdin().lock()))
    } else {
        let f =
            File::open(&args.input).with_context(|| format!("cannot open input {}", args.input))?;
        Box::new(BufReader::with_capacity(1 << 20, f))
    };
    let summary = crate::kafka::input_feed::produce(
        &config.kafka,
        &mut input,
        &args.input,
        Duration::from_secs(args.flush_timeout_secs),
    )?;
    for (topic, n) in &summary.by_topic {
        eprintln!("{topic:<32} {n:>10}");
    }
    if summary.unroutable > 0 {
        eprintln!(
            "{} line(s) had no readable type or borrower_id; sent to {} for the monitor to reject",
            summary.unroutable, config.kafka.topics.lifecycle
        );
    }
    Ok(ExitCode::SUCCESS)
}
