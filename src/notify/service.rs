//! `notify`'s loop as a service: the worker over Kafka and Alertmanager on the real clocks,
//! until the cancellation signal fires or a fatal error occurs. The process around it (runtime,
//! signals, metrics and health) is the application's `service`, as for `run`.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::alertmanager::Alertmanagers;
use super::feed::KafkaFeed;
use super::worker::{NotifyError, NotifyObserver, NotifySettings, Worker};
use crate::config::Config;
use crate::kafka::service::SystemClock;

/// Runs a group member until `cancel` fires (then leaves the group) or a fatal error;
/// HTTP requests run on `handle`. Call from a blocking thread.
pub fn run(
    config: &Config,
    cancel: CancellationToken,
    observer: Arc<dyn NotifyObserver>,
    handle: tokio::runtime::Handle,
) -> Result<(), NotifyError> {
    let alertmanagers = Alertmanagers::new(&config.notify, handle)?;
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
        Box::new(SystemClock::start()),
        observer,
        NotifySettings::new(&config.notify),
        cancel,
    );
    let result = worker.run();
    let (feed, _) = worker.into_parts();
    feed.leave();
    result
}
