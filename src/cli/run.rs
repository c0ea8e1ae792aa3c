//! `postloan-monitor run`: the monitor as a service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::kafka::service;
use crate::metrics::Metrics;
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
    let metrics = Arc::new(Metrics::new(config.http.max_label_values)?);
    metrics.watch_inputs(&config.kafka.topics.inputs());
    let result = runtime.block_on(async {
        let addr = config.http.addr().context("http.listen was validated")?;
        let listener = crate::http::bind(addr).await?;
        tracing::info!(%addr, "Serving /metrics, /healthz and /readyz");
        crate::shutdown::cancel_on_signals(cancel.clone());
        let http = tokio::spawn(crate::http::serve(
            listener,
            Arc::clone(&metrics) as Arc<dyn crate::metrics::Scrape>,
            cancel.clone(),
        ));
        let token = cancel.clone();
        let observer = Arc::new((Arc::clone(&stats), Arc::clone(&metrics)));
        let worker =
            tokio::task::spawn_blocking(move || service::run(&config, token, observer)).await;
        // The worker has stopped, for whatever reason: so does the endpoint.
        cancel.cancel();
        if let Ok(Err(e)) = http.await {
            tracing::warn!(error = %e, "The HTTP endpoint failed");
        }
        anyhow::Ok(worker)
    });
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(super::EXIT_FATAL));
        }
    };
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
            // The error and its chain of causes, on one line.
            eprintln!("error: {:#}", anyhow::Error::from(e));
            Ok(ExitCode::from(super::EXIT_FATAL))
        }
        Err(join) => Err(anyhow::anyhow!("worker thread failed: {join}")),
    }
}
