//! `demo --notify URL`: `notify` over the demo's embedded broker, delivering every escalation
//! of the book to a real Alertmanager, until its group has committed both topics and nothing
//! is waiting for delivery.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::TopicPartitionList;

use crate::config::Config;
use crate::kafka::client_config;
use crate::notify::worker::{NotifyError, NotifyObserver, Topic};
use crate::service::Service;
use postloan_engine::output::AlertStatus;

/// What the demo's `notify` did.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Notices delivered firing.
    pub sent: AtomicU64,
    /// Notices delivered as ended.
    pub ended: AtomicU64,
    /// Failed attempts (retried, or refused).
    pub failures: AtomicU64,
    pending: AtomicUsize,
    open: AtomicUsize,
}

impl Delivered {
    /// Notices open at the end.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

impl NotifyObserver for Delivered {
    fn notice_sent(&self, _: u8) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }
    fn notice_ended(&self, _: AlertStatus) {
        self.ended.fetch_add(1, Ordering::Relaxed);
    }
    fn delivery_failed(&self, _: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
    fn delivered(&self, _: DateTime<Utc>) {}
    fn queue(&self, pending: usize, open: usize) {
        self.pending.store(pending, Ordering::Relaxed);
        self.open.store(open, Ordering::Relaxed);
    }
    fn bad_record(&self, _: Topic) {}
    fn ready(&self, _: bool) {}
}

/// Whether `config`'s notify group has committed every record of both topics.
fn caught_up(config: &Config, partitions: i32) -> bool {
    let k = &config.kafka;
    let Ok(consumer) = client_config(k)
        .set("group.id", &config.notify.group_id)
        .create::<BaseConsumer>()
    else {
        return false;
    };
    let mut tpl = TopicPartitionList::new();
    for t in [&k.topics.alerts, &k.topics.escalations] {
        for p in 0..partitions {
            tpl.add_partition(t, p);
        }
    }
    let Ok(committed) = consumer.committed_offsets(tpl, Duration::from_secs(10)) else {
        return false;
    };
    committed.elements().iter().all(|e| {
        let high = consumer
            .fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(10))
            .map_or(i64::MAX, |(_, h)| h);
        match e.offset() {
            rdkafka::Offset::Offset(o) => o >= high,
            _ => high == 0,
        }
    })
}

/// Why the demo's `notify` did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The service's runtime could not start.
    #[error("cannot start a runtime")]
    Runtime(#[source] std::io::Error),
    /// The loop stopped on a fatal error.
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// The loop's thread panicked.
    #[error("the notify thread panicked")]
    Panicked,
}

/// Runs `notify` until it has delivered everything on the broker (or `within` passes, or
/// SIGINT/SIGTERM).
pub fn deliver_all(
    config: &Config,
    partitions: i32,
    within: Duration,
) -> Result<Arc<Delivered>, DemoError> {
    let service = Service::start().map_err(DemoError::Runtime)?;
    let delivered = Arc::new(Delivered::default());
    let stop = service.cancel_token();
    service.cancel_on_signals();
    let worker = {
        let (config, stop, observer) = (config.clone(), stop.clone(), Arc::clone(&delivered));
        let handle = service.handle();
        std::thread::spawn(move || crate::notify::service::run(&config, stop, observer, handle))
    };
    let deadline = Instant::now() + within;
    while !worker.is_finished() && !stop.is_cancelled() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        if delivered.pending.load(Ordering::Relaxed) == 0 && caught_up(config, partitions) {
            break;
        }
    }
    stop.cancel();
    worker.join().map_err(|_| DemoError::Panicked)??;
    Ok(delivered)
}
