//! `postloan-monitor notify`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::metrics::{NotifyMetrics, Scrape};
use crate::notify::service;

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let cancel = CancellationToken::new();
    let metrics = Arc::new(NotifyMetrics::new()?);
    let result = runtime.block_on(async {
        let addr = config
            .notify
            .addr()
            .context("notify.listen was validated")?;
        let listener = crate::http::bind(addr).await?;
        tracing::info!(%addr, "Serving /metrics, /healthz and /readyz");
        crate::shutdown::cancel_on_signals(cancel.clone());
        let http = tokio::spawn(crate::http::serve(
            listener,
            Arc::clone(&metrics) as Arc<dyn Scrape>,
            cancel.clone(),
        ));
        let token = cancel.clone();
        let observer = Arc::clone(&metrics);
        let handle = tokio::runtime::Handle::current();
        let worker =
            tokio::task::spawn_blocking(move || service::run(&config, token, observer, handle))
                .await;
        cancel.cancel();
        if let Ok(Err(e)) = http.await {
            tracing::warn!(error = %e, "The HTTP endpoint failed");
        }
        anyhow::Ok(worker)
    });
    match result {
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(super::EXIT_FATAL))
        }
        Ok(Ok(Ok(()))) => {
            tracing::info!("Stopped");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Ok(Err(e))) => {
            eprintln!("error: {:#}", anyhow::Error::from(e));
            Ok(ExitCode::from(super::EXIT_FATAL))
        }
        Ok(Err(join)) => Err(anyhow::anyhow!("notify thread failed: {join}")),
    }
}
