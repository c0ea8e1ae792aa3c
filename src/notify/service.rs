//! `notify` as a service: the worker over Kafka and Alertmanager on the real clocks, until
//! the cancellation signal fires or a fatal error occurs.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::alertmanager::Alertmanagers;
use super::feed::KafkaFeed;
use super::worker::{Clock, NotifyError, NotifyObserver, Settings, Worker};
use crate::config::Config;

/// Runs a group member until `cancel` fires (then leaves the group) or a fatal error;
/// HTTP requests run on `handle`. Call from a blocking thread.
pub fn run(
    config: &Config,
    cancel: CancellationToken,
    observer: Arc<dyn NotifyObserver>,
    handle: tokio::runtime::Handle,
) -> Result<(), NotifyError> {
    let alertmanagers = Alertmanagers::new(&config.notify, handle)
        .map_err(|e| NotifyError::Setup(e.to_string()))?;
    let feed = KafkaFeed::connect(config)?;
    tracing::info!(
        alertmanagers = ?config.notify.alertmanager_urls,
        group = %config.notify.group_id,
        state_topic = %config.notify.state_topic,
        "Delivering escalation notices"
    );
    let mut worker = Worker::new(
        feed,
        alertmanagers,
        Box::new(SystemClock(Instant::now())),
        observer,
        Settings::new(&config.notify),
        cancel,
    );
    let result = worker.run();
    let (feed, _) = worker.into_parts();
    feed.leave();
    result
}

/// Monotonic milliseconds since the start, and the wall clock.
struct SystemClock(Instant);

impl Clock for SystemClock {
    fn mono_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
