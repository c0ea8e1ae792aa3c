//! `postloan-monitor notify`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::metrics::NotifyMetrics;
use crate::notify::service;
use crate::service::Service;

/// Arguments of `notify`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Configuration file (`[notify]`, and `[kafka]` for the connection and topic names;
    /// `POSTLOAN__…` environment variables override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Runs until SIGINT/SIGTERM (exit 0) or a fatal error (exit 1).
pub fn run(args: NotifyArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let service = Service::start()?;
    let metrics = Arc::new(NotifyMetrics::new()?);
    let addr = config.notify.addr().context("notify.listen was validated");
    let observer = Arc::clone(&metrics);
    service.serve(
        "notify",
        addr,
        metrics,
        move |cancel, handle| service::run(&config, cancel, observer, handle),
        || tracing::info!("Stopped"),
    )
}
