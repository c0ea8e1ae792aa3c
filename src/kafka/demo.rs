//! The embedded broker's side of `demo`: how many partitions a book needs, feeding the book
//! into the input topics (all at once, or paced like a live stream), and reading the first
//! messages of an output topic back. The command itself (`cli/demo/`) only orchestrates.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::input_feed::{destination, Publisher};
use crate::config::KafkaConfig;

/// What one embedded partition may hold: well under the mock broker's 5 MiB / 100,000
/// messages, since borrowers do not spread evenly over partitions.
const PARTITION_BYTES: u64 = 3 * 1024 * 1024;
const PARTITION_MESSAGES: u64 = 60_000;

/// Partitions per topic: as many as the user asked (refused when the embedded broker could
/// not keep the book), or enough for the book's largest input topic, at least 8.
pub fn partitions_for(k: &KafkaConfig, book: &[u8], asked: Option<i32>) -> anyhow::Result<i32> {
    let mut by_topic: std::collections::HashMap<&str, (u64, u64)> = Default::default();
    for line in book.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let t = by_topic.entry(destination(k, line).0).or_default();
        t.0 += 1;
        t.1 += line.len() as u64;
    }
    let needed = by_topic
        .values()
        .map(|(n, bytes)| {
            n.div_ceil(PARTITION_MESSAGES)
                .max(bytes.div_ceil(PARTITION_BYTES))
        })
        .max()
        .unwrap_or(1);
    let needed = i32::try_from(needed).unwrap_or(i32::MAX);
    match asked {
        Some(p) if p < needed => anyhow::bail!(
            "--partitions {p} is too few for this book: the embedded broker keeps at most ~5 MiB \
             per partition and drops the oldest data beyond; use at least {needed}"
        ),
        Some(p) => Ok(p),
        None => Ok(needed.max(8)),
    }
}

/// Writes the book into the input topics.
#[derive(Clone, Default)]
pub struct Feed {
    /// Events handed to the producer so far.
    pub produced: Arc<AtomicU64>,
    /// Feeding stopped on an error (logged).
    pub failed: Arc<AtomicBool>,
}

impl Feed {
    /// Sends the book, each line to partition `partition_for(key)` of `partitions`, `chunk`
    /// events per 100 ms of wall time (`usize::MAX`: as fast as the broker takes them), then
    /// waits for delivery.
    pub fn run(
        &self,
        kafka: &KafkaConfig,
        book: &[u8],
        partitions: i32,
        chunk: usize,
        cancel: &CancellationToken,
    ) {
        let mut publisher = match Publisher::new(kafka) {
            Ok(p) => p.with_partitions(partitions),
            Err(e) => {
                tracing::error!(error = %e, "Cannot create the demo's producer");
                self.failed.store(true, Ordering::Relaxed);
                return;
            }
        };
        let mut lines = book
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .peekable();
        while lines.peek().is_some() && !cancel.is_cancelled() {
            let tick = Instant::now();
            for l in lines.by_ref().take(chunk) {
                if let Err(e) = publisher.send_line(l) {
                    tracing::error!(error = %e, "Feeding the demo book failed");
                    self.failed.store(true, Ordering::Relaxed);
                    return;
                }
                self.produced.fetch_add(1, Ordering::Relaxed);
            }
            if chunk != usize::MAX {
                if let Some(rest) = Duration::from_millis(100).checked_sub(tick.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
        }
        if let Err(e) = publisher.flush(Duration::from_secs(60)) {
            tracing::error!(error = %e, "Feeding the demo book failed");
            self.failed.store(true, Ordering::Relaxed);
        }
    }
}

/// The first `n` messages of partition 0 of `topic`.
pub fn first_lines(k: &KafkaConfig, topic: &str, n: usize) -> Vec<String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message;
    let Ok(consumer) = super::client_config(k)
        .set("group.id", "postloan-demo-reader")
        .set("enable.auto.commit", "false")
        .create::<BaseConsumer>()
    else {
        return Vec::new();
    };
    let mut tpl = rdkafka::TopicPartitionList::new();
    if tpl
        .add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .is_err()
        || consumer.assign(&tpl).is_err()
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < n && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }
    out
}
