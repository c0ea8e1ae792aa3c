//! Publishing a JSONL event file to the input topics: each line goes to the topic of its
//! `type`, keyed by its `borrower_id`, so a borrower's events share one partition number on
//! every (co-partitioned) input topic.
//!
//! No line is dropped: a line whose type or borrower cannot be read still goes to the lifecycle
//! topic (keyed by whatever borrower_id it shows, else the empty key), where the monitor rejects
//! it with its Kafka source, as it would any producer's bad message.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

use super::{client_config, KafkaAdapterError};
use crate::config::KafkaConfig;
use crate::engine::decode;
use crate::engine::event::EventType;

/// Counts of one `produce` run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProduceSummary {
    /// Messages sent, by topic.
    pub by_topic: BTreeMap<String, u64>,
    /// Lines sent to the lifecycle topic because their type or borrower could not be read.
    pub unroutable: u64,
    /// Blank lines skipped.
    pub blank: u64,
}

#[derive(Default)]
struct Deliveries {
    failed: std::sync::atomic::AtomicU64,
    first: std::sync::Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Ok(mut first) = self.first.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// A long-lived producer that sends event lines to their topics.
pub struct Publisher<'a> {
    k: &'a KafkaConfig,
    producer: BaseProducer<Deliveries>,
    /// Counts so far.
    pub summary: ProduceSummary,
}

impl<'a> Publisher<'a> {
    /// Connects (lazily, as librdkafka does).
    pub fn new(k: &'a KafkaConfig) -> Result<Self, KafkaAdapterError> {
        let mut cfg = client_config(k);
        cfg.set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set(
                "compression.type",
                k.properties
                    .get("compression.type")
                    .map_or("lz4", String::as_str),
            );
        let producer = cfg
            .create_with_context(Deliveries::default())
            .map_err(KafkaAdapterError::Client)?;
        Ok(Publisher {
            k,
            producer,
            summary: ProduceSummary::default(),
        })
    }

    /// Queues one line (without its newline) for its topic; blank lines are skipped.
    pub fn send_line(&mut self, line: &[u8]) -> Result<(), KafkaAdapterError> {
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        if body.iter().all(u8::is_ascii_whitespace) {
            self.summary.blank += 1;
            return Ok(());
        }
        let (topic, key, routed) = route(self.k, body);
        let mut record = BaseRecord::to(topic).payload(body).key(key.as_bytes());
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    // Back-pressure: serve delivery reports until the local queue has room.
                    self.producer.poll(Duration::from_millis(100));
                    record = r;
                }
                Err((e, _)) => return Err(KafkaAdapterError::Client(e)),
            }
        }
        self.producer.poll(Duration::ZERO);
        *self.summary.by_topic.entry(topic.to_owned()).or_default() += 1;
        if !routed {
            self.summary.unroutable += 1;
        }
        Ok(())
    }

    /// Waits up to `timeout` for every queued message to be acknowledged.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaAdapterError> {
        let flushed = self.producer.flush(timeout);
        let ctx = self.producer.context();
        let failed = ctx.failed.load(std::sync::atomic::Ordering::Relaxed);
        if failed > 0 || flushed.is_err() {
            let first = ctx
                .first
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .or_else(|| flushed.err().map(|e| e.to_string()))
                .unwrap_or_default();
            return Err(KafkaAdapterError::Delivery {
                failed: failed.max(1),
                first,
            });
        }
        Ok(())
    }
}

/// Sends every line of `input`; waits up to `flush_timeout` for delivery.
pub fn produce(
    k: &KafkaConfig,
    input: &mut dyn BufRead,
    name: &str,
    flush_timeout: Duration,
) -> Result<ProduceSummary, KafkaAdapterError> {
    let mut publisher = Publisher::new(k)?;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|source| KafkaAdapterError::Read {
                name: name.to_owned(),
                source,
            })?;
        if n == 0 {
            break;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        publisher.send_line(body)?;
    }
    publisher.flush(flush_timeout)?;
    Ok(publisher.summary)
}

/// The topic and key of one line, and whether it could be routed by its own fields.
fn route<'a>(k: &'a KafkaConfig, line: &[u8]) -> (&'a str, String, bool) {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: Option<String>,
        borrower_id: Option<String>,
    }
    let head: Option<Head> = serde_json::from_slice(line).ok();
    let kind = head
        .as_ref()
        .and_then(|h| h.kind.as_deref())
        .and_then(EventType::parse);
    let borrower = head
        .and_then(|h| h.borrower_id)
        .or_else(|| decode::borrower_id_hint(line));
    match (kind, borrower) {
        (Some(t), Some(b)) => (k.topics.for_event(t), b, true),
        (_, b) => (&k.topics.lifecycle, b.unwrap_or_default(), false),
    }
}
