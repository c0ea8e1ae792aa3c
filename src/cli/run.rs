//! `postloan-monitor run`: the monitor as a service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::kafka::service;
use crate::runtime::worker::WorkerStats;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (`POSTLOAN__…` environment variables override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Runs until SIGINT/SIGTERM (exit 0 after committing) or a fatal error (exit 1).
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let cancel = CancellationToken::new();
    let stats = Arc::new(WorkerStats::default());
    let result = runtime.block_on(async {
        crate::shutdown::cancel_on_signals(cancel.clone());
        let token = cancel.clone();
        let stats = Arc::clone(&stats);
        tokio::task::spawn_blocking(move || service::run(&config, token, stats)).await
    });
    match result {
        Ok(Ok(())) => {
            tracing::info!(
                inputs = stats.inputs(),
                published = stats.published.load(std::sync::atomic::Ordering::Relaxed),
                "Stopped after committing"
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(super::EXIT_FATAL))
        }
        Err(join) => Err(anyhow::anyhow!("worker thread failed: {join}")),
    }
}
