//! The producer every part of the monitor publishes with: idempotent, lz4 unless configured
//! otherwise, bounded by librdkafka's local queue (back-pressure, never unbounded buffering),
//! and tracking failed deliveries so that a flush tells whether everything arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig,
};
use rdkafka::ClientContext;

use super::{client_config, KafkaAdapterError};
use crate::config::KafkaConfig;

/// Counts failed deliveries and keeps the first error.
#[derive(Default)]
pub struct Deliveries {
    failed: AtomicU64,
    first: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        // Gapless is set on purpose (see `create`); librdkafka warns at every start that the
        // property is experimental, which is not news to an operator.
        if fac == "CONFWARN" && message.contains("enable.gapless.guarantee") {
            tracing::debug!(target: "librdkafka", "librdkafka: {fac} {message}");
            return;
        }
        rdkafka::client::DefaultClientContext.log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        super::report_client_error(&error, reason);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, m)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first.lock() {
                // The topic tells an operator where to look (an output topic, the changelog).
                first.get_or_insert_with(|| format!("to topic {:?}: {e}", m.topic()));
            }
        }
    }
}

/// A producer that tracks its deliveries.
pub type TrackedProducer = BaseProducer<Deliveries>;

/// Creates the monitor's producer.
pub fn create(k: &KafkaConfig) -> Result<TrackedProducer, KafkaError> {
    // A batch that fails for good (e.g. MESSAGE_TOO_LARGE) must not be overtaken by the next
    // ones: that would put a borrower's later messages before earlier ones that a restart
    // republishes. Gapless makes such a failure fatal for the producer instead, so nothing
    // after it is delivered and the restart republishes in order. (Transactions need no such
    // setting: an aborted transaction leaves no gap.)
    config(k)
        .set("enable.gapless.guarantee", "true")
        .create_with_context(Deliveries::default())
}

/// Creates a transactional producer (exactly-once); call `init_transactions` before use.
pub fn create_transactional(
    k: &KafkaConfig,
    transactional_id: &str,
) -> Result<TrackedProducer, KafkaError> {
    config(k)
        .set("transactional.id", transactional_id)
        .set(
            "transaction.timeout.ms",
            k.transaction_timeout_ms.to_string(),
        )
        .create_with_context(Deliveries::default())
}

fn config(k: &KafkaConfig) -> rdkafka::ClientConfig {
    let mut c = client_config(k);
    c.set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set(
            "compression.type",
            k.properties
                .get("compression.type")
                .map_or("lz4", String::as_str),
        );
    c
}

/// Queues a record, waiting while the local queue is full (serving delivery reports meanwhile).
pub fn send<K, P>(
    producer: &TrackedProducer,
    mut record: BaseRecord<'_, K, P>,
) -> Result<(), KafkaError>
where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => {
                producer.poll(Duration::ZERO);
                return Ok(());
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                producer.poll(Duration::from_millis(5));
                record = r;
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// `BaseProducer::flush` serves delivery reports in 100 ms slices, so every flush with anything
/// in flight costs at least 100 ms; this waits in 1 ms slices instead.
fn wait_for_deliveries(producer: &TrackedProducer, timeout: Duration) -> Result<(), KafkaError> {
    let deadline = std::time::Instant::now() + timeout;
    // A zero-timeout flush asks librdkafka to send what is lingering now.
    let _ = producer.flush(Duration::ZERO);
    while producer.in_flight_count() > 0 {
        if std::time::Instant::now() >= deadline {
            return Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut));
        }
        producer.poll(Duration::from_millis(1));
    }
    Ok(())
}

/// Drops every message not yet delivered (before aborting a transaction: librdkafka's abort
/// waits for their delivery reports, which a `BaseProducer` only serves when polled), serves
/// the reports, and forgets the failures they count — those messages belong to the aborted
/// work, which is redone.
pub fn discard(producer: &TrackedProducer, timeout: Duration) {
    producer.purge(PurgeConfig::default().queue().inflight());
    let _ = wait_for_deliveries(producer, timeout);
    let ctx = producer.context();
    ctx.failed.store(0, Ordering::Relaxed);
    if let Ok(mut first) = ctx.first.lock() {
        *first = None;
    }
}

/// Waits up to `timeout` for every queued message; fails if any delivery failed since the last
/// flush (the count then restarts) or the wait timed out.
pub fn flush(producer: &TrackedProducer, timeout: Duration) -> Result<(), KafkaAdapterError> {
    let flushed = wait_for_deliveries(producer, timeout);
    let ctx = producer.context();
    let failed = ctx.failed.swap(0, Ordering::Relaxed);
    if failed == 0 && flushed.is_ok() {
        return Ok(());
    }
    let first = ctx
        .first
        .lock()
        .ok()
        .and_then(|mut f| f.take())
        .or_else(|| flushed.err().map(|e| format!("flush timed out: {e}")))
        .unwrap_or_default();
    Err(KafkaAdapterError::Delivery {
        failed: failed.max(1),
        first,
    })
}
