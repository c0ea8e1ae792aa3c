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

use rdkafka::producer::BaseRecord;

use super::tracked_producer::{self as producer, TrackedProducer};
use super::KafkaAdapterError;
use crate::config::KafkaConfig;
use postloan_engine::decode;
use postloan_engine::event::EventType;

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

/// A long-lived producer that sends event lines to their topics.
pub struct Publisher<'a> {
    k: &'a KafkaConfig,
    producer: TrackedProducer,
    /// Partitions per topic when the publisher picks each line's partition itself
    /// ([`partition_for`]); `None`: librdkafka's partitioner does.
    partitions: Option<i32>,
    /// Counts so far.
    pub summary: ProduceSummary,
}

impl<'a> Publisher<'a> {
    /// Connects (lazily, as librdkafka does).
    pub fn new(k: &'a KafkaConfig) -> Result<Self, KafkaAdapterError> {
        let producer = producer::create(k).map_err(KafkaAdapterError::Client)?;
        Ok(Publisher {
            k,
            producer,
            partitions: None,
            summary: ProduceSummary::default(),
        })
    }

    /// Sends each line to partition [`partition_for`] of its key, out of `partitions`, so that
    /// the caller knows where every line went (the demo replays each partition's lines).
    pub fn with_partitions(mut self, partitions: i32) -> Self {
        self.partitions = Some(partitions);
        self
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
        if let Some(n) = self.partitions {
            record = record.partition(partition_for(key.as_bytes(), n));
        }
        producer::send(&self.producer, record).map_err(KafkaAdapterError::Client)?;
        *self.summary.by_topic.entry(topic.to_owned()).or_default() += 1;
        if !routed {
            self.summary.unroutable += 1;
        }
        Ok(())
    }

    /// Waits up to `timeout` for every queued message to be acknowledged.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaAdapterError> {
        producer::flush(&self.producer, timeout)
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

/// The input topic a line goes to (the lifecycle topic when its type cannot be read) and its
/// key (the borrower, or what can be made out of one; empty when nothing can).
pub fn destination<'a>(k: &'a KafkaConfig, line: &[u8]) -> (&'a str, String) {
    let (topic, key, _) = route(k, line);
    (topic, key)
}

/// The partition a key goes to, out of `partitions`, when a [`Publisher`] picks partitions
/// itself: a stable hash (xxh3), the same for every topic, so the topics stay co-partitioned.
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    let n = u64::try_from(partitions.max(1)).unwrap_or(1);
    // The remainder is below `partitions`, an i32.
    i32::try_from(xxhash_rust::xxh3::xxh3_64(key) % n).unwrap_or(0)
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
