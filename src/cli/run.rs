//! `postloan-monitor run`: the monitor as a service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::kafka::service;
use crate::metrics::Metrics;
use crate::runtime::worker::WorkerStats;
use crate::service::Service;

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
    let service = Service::start()?;
    let stats = Arc::new(WorkerStats::default());
    let metrics = Arc::new(Metrics::new(config.http.max_label_values)?);
    metrics.watch_inputs(&config.kafka.topics.inputs());
    let addr = config.http.addr().context("http.listen was validated");
    let observer = Arc::new((Arc::clone(&stats), Arc::clone(&metrics)));
    service.serve(
        "worker",
        addr,
        metrics,
        move |cancel, _| service::run(&config, cancel, observer),
        || {
            tracing::info!(
                inputs = stats.inputs(),
                published = stats.published.load(std::sync::atomic::Ordering::Relaxed),
                "Stopped after committing"
            );
        },
    )
}
