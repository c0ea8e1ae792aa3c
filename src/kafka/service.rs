//! `run`'s loop: the generic worker over the rdkafka client, on the real clocks, until the
//! cancellation signal fires or a fatal error occurs; and the real clocks themselves
//! ([`SystemClock`]), which `notify`'s loop runs on as well.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::client::RdClient;
use crate::config::Config;
use crate::runtime::worker::{Observer, Worker};
use crate::runtime::RuntimeError;
use crate::stream::{Clock, Now};

/// Runs a group member until `cancel` fires (then commits and leaves the group) or a fatal
/// error occurs.
pub fn run(
    config: &Config,
    cancel: CancellationToken,
    observer: Arc<dyn Observer>,
) -> Result<(), RuntimeError> {
    let client = RdClient::connect(
        &config.kafka,
        postloan_engine::cut::Cut::from_limits(&config.limits),
    )?;
    let clock = Box::new(SystemClock::start());
    let mut worker = Worker::new(config, client, clock, observer, process_nonce());
    let mut result = Ok(());
    while !cancel.is_cancelled() {
        result = worker.step();
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = worker.shutdown();
    }
    worker.client_mut().leave();
    result
}

/// The real clocks: monotonic milliseconds since the start, and the system's wall clock.
pub struct SystemClock(Instant);

impl SystemClock {
    /// Clocks whose monotonic milliseconds count from now.
    pub fn start() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Now {
        Now {
            mono_ms: u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX),
            utc: Utc::now(),
        }
    }
}

/// A number unique to this process start, so that commit-cycle ids never repeat across
/// restarts.
fn process_nonce() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 40)
}
