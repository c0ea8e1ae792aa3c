//! The process around every long-running command's loop (`run`, `notify`, and what `demo`
//! starts: the monitor on the embedded broker, then `--notify`'s delivery): one tokio runtime (HTTP, signals, `notify`'s requests), the one cancellation
//! signal fired by SIGINT or SIGTERM ([`crate::shutdown`]), `/metrics`, `/healthz` and
//! `/readyz` ([`crate::http`]), the blocking loop on its own thread, and the exit status.
//! Commands only say what their loop is and what their endpoint shows.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};
use tokio_util::sync::CancellationToken;

use crate::metrics::Scrape;

/// Exit code for an invalid configuration or invalid arguments.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code of `backtest` when a `--fail-if` condition holds.
pub const EXIT_GATE: u8 = 3;
/// Exit code for any other fatal error.
pub const EXIT_FATAL: u8 = 1;

/// A started service: its runtime and its cancellation signal.
pub struct Service {
    runtime: Runtime,
    cancel: CancellationToken,
}

/// A loop that ran to its end: `Ok` when cancelled, or the fatal error that stopped it.
pub type Outcome<E> = Result<(), E>;

impl Service {
    /// Builds the runtime: one worker thread is enough for the endpoint, the signals and
    /// `notify`'s HTTP requests (the loop has a thread of its own).
    pub fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        Ok(Service {
            runtime,
            cancel: CancellationToken::new(),
        })
    }

    /// The cancellation signal every part selects on.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The runtime, for work the loop hands it (HTTP requests).
    pub fn handle(&self) -> Handle {
        self.runtime.handle().clone()
    }

    /// Runs a command's foreground work on the runtime (the demo's progress line).
    pub fn block_on<F: std::future::Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }

    /// Serves `metrics` on `addr` in the background until the cancellation signal fires, for a
    /// command that runs without the endpoint when it cannot bind; the address bound.
    pub fn spawn_endpoint(
        &self,
        addr: SocketAddr,
        metrics: Arc<dyn Scrape>,
    ) -> Result<SocketAddr, crate::http::HttpError> {
        let listener = self.runtime.block_on(crate::http::bind(addr))?;
        let bound = listener.local_addr().unwrap_or(addr);
        self.runtime
            .spawn(crate::http::serve(listener, metrics, self.cancel.clone()));
        Ok(bound)
    }

    /// Fires the cancellation signal on the first SIGINT or SIGTERM.
    pub fn cancel_on_signals(&self) {
        let _entered = self.runtime.enter();
        crate::shutdown::cancel_on_signals(self.cancel.clone());
    }

    /// Serves `metrics` on `addr` (an invalid address or a failed bind stops the service before
    /// the loop starts), fires the cancellation signal on SIGINT/SIGTERM, and runs `worker` on a
    /// blocking thread with that signal and the runtime's handle until it returns; then stops
    /// the endpoint. The exit status: 0 when the loop stopped cleanly (after `stopped`), 1 on a
    /// fatal error (its chain of causes printed on one line). `name` names the loop in a panic.
    pub fn serve<E>(
        self,
        name: &str,
        addr: anyhow::Result<SocketAddr>,
        metrics: Arc<dyn Scrape>,
        worker: impl FnOnce(CancellationToken, Handle) -> Outcome<E> + Send + 'static,
        stopped: impl FnOnce(),
    ) -> anyhow::Result<ExitCode>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let Service { runtime, cancel } = self;
        let result = runtime.block_on(async {
            let addr = addr?;
            let listener = crate::http::bind(addr).await?;
            tracing::info!(%addr, "Serving /metrics, /healthz and /readyz");
            crate::shutdown::cancel_on_signals(cancel.clone());
            let http = tokio::spawn(crate::http::serve(listener, metrics, cancel.clone()));
            let token = cancel.clone();
            let handle = Handle::current();
            let worker = tokio::task::spawn_blocking(move || worker(token, handle)).await;
            // The loop has stopped, for whatever reason: so does the endpoint.
            cancel.cancel();
            if let Ok(Err(e)) = http.await {
                tracing::warn!(error = %e, "The HTTP endpoint failed");
            }
            anyhow::Ok(worker)
        });
        match result {
            Err(e) => {
                eprintln!("error: {e:#}");
                Ok(ExitCode::from(EXIT_FATAL))
            }
            Ok(Ok(Ok(()))) => {
                stopped();
                Ok(ExitCode::SUCCESS)
            }
            Ok(Ok(Err(e))) => Ok(exit_fatal(e)),
            Ok(Err(join)) => Err(anyhow::anyhow!("{name} thread failed: {join}")),
        }
    }
}

/// Prints a fatal error and its chain of causes on one line; the fatal exit status.
pub fn exit_fatal(e: impl std::error::Error + Send + Sync + 'static) -> ExitCode {
    eprintln!("error: {:#}", anyhow::Error::from(e));
    ExitCode::from(EXIT_FATAL)
}
