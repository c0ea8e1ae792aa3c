//! The command line: argument parsing and the commands. `main.rs` calls [`main`].

mod backtest;
mod broker;
mod check_config;
mod demo;
mod generate;
mod notify;
mod produce;
mod replay;
mod report;
mod run;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

pub use crate::service::{EXIT_CONFIG, EXIT_FATAL, EXIT_GATE};

/// Streaming post-loan risk monitor for auto-loan books.
#[derive(Debug, Parser)]
#[command(name = "postloan-monitor", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job on the embedded broker: generate a synthetic book, feed it to the input
    /// topics, run the monitor on it, summarise and check the output against replay.
    Demo(demo::DemoArgs),
    /// Run the monitor as a service: consume the input topics in a consumer group and publish
    /// alerts, escalations and rejections (at_least_once or exactly_once, from
    /// `[kafka] processing_guarantee`).
    Run(run::RunArgs),
    /// Run the engine over a JSONL event file with the event clock and write every message the
    /// live monitor would publish.
    Replay(replay::ReplayArgs),
    /// Replay a JSONL book and write the monthly risk report: one self-contained HTML page of
    /// the month-end classification, NPL ratio by balance, flow rates, vintages, rankings and
    /// alerts (and, with --csv, the same tables as CSV files).
    Report(report::ReportArgs),
    /// Backtest a rule change: run a baseline and a candidate configuration over the same
    /// JSONL book, match their alert episodes, score both against the loans' outcomes
    /// (precision, recall, lead time), compare workload; exit 3 when a --fail-if holds.
    Backtest(backtest::BacktestArgs),
    /// Deliver escalation notices to Alertmanager: read risk.escalations and risk.alerts
    /// (read_committed) in a consumer group and keep Alertmanager's view equal to the open
    /// escalations, ending each when its alert is resolved, acknowledged or suppressed.
    Notify(notify::NotifyArgs),
    /// Write a deterministic synthetic auto-loan book as JSONL, sorted by occurred_at.
    Generate(generate::GenerateArgs),
    /// Validate a configuration file and print OK or every problem.
    CheckConfig(check_config::CheckConfigArgs),
    /// Run an embedded Kafka-protocol broker (librdkafka's mock cluster) with the contract's
    /// topics; prints `bootstrap=HOST:PORT`, serves until SIGINT/SIGTERM.
    Broker(broker::BrokerArgs),
    /// Publish a JSONL event file to the input topics, by type, keyed by borrower_id.
    Produce(produce::ProduceArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo draws a progress line; keep routine logs out of its way.
    init_tracing(if matches!(cli.command, Command::Demo(_)) {
        "warn"
    } else {
        "info"
    });
    let result = match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Report(a) => report::run(a),
        Command::Backtest(a) => backtest::run(a),
        Command::Run(a) => run::run(a),
        Command::Notify(a) => notify::run(a),
        Command::Generate(a) => generate::run(a),
        Command::CheckConfig(a) => check_config::run(a),
        Command::Broker(a) => broker::run(a),
        Command::Produce(a) => produce::run(a),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`… | head`): stop quietly, as Unix tools do.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_tracing(default_level: &str) {
    // librdkafka's own lines (target `librdkafka`: connection failures, authentication and TLS
    // errors) come through tracing too; below warnings they are chatter.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{default_level},librdkafka=warn"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Loads `--config` (or the built-in defaults) with `POSTLOAN__…` environment overrides,
/// printing every problem on failure.
fn load_config(path: Option<&PathBuf>) -> Result<Config, ExitCode> {
    Config::load(path.map(PathBuf::as_path), std::env::vars()).map_err(|e| {
        let name = path.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string());
        eprintln!("error: {name}: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}
