//! Restoring a task's state from its changelog partition.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::task::{decode_meta, split_cycle, TaskMeta, TASK_KEY};
use super::RuntimeError;
use crate::config::KafkaConfig;
use crate::engine::{ClockMode, Engine, Settings};
use crate::kafka::client_config;

/// What a restore read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    /// Changelog records read.
    pub records: u64,
    /// Borrowers now held.
    pub borrowers: usize,
    /// Borrower records dropped because no task record vouched for them (a cycle cut short).
    pub discarded: u64,
}

/// Reads changelog partition `partition` from the beginning to its end into a fresh engine.
/// Returns the engine (clock not yet set: see [`Engine::finish_restore`]), the task record
/// (stream time and input positions of that state) and counts.
pub fn restore(
    k: &KafkaConfig,
    settings: &Arc<Settings>,
    mode: ClockMode,
    partition: i32,
    timeout: Duration,
) -> Result<(Engine, TaskMeta, Restored), RuntimeError> {
    let topic = &k.topics.changelog;
    let consumer: BaseConsumer = client_config(k)
        .set("group.id", format!("{}-restore", k.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .map_err(RuntimeError::Kafka)?;
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, timeout)
        .map_err(RuntimeError::Kafka)?;
    let mut engine = Engine::new(Arc::clone(settings), mode);
    let mut meta = TaskMeta::default();
    // Borrower records of cycles not yet vouched for by a task record.
    let mut pending: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut stats = Restored::default();
    if high > low {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Beginning)
            .map_err(RuntimeError::Kafka)?;
        consumer.assign(&tpl).map_err(RuntimeError::Kafka)?;
        let deadline = Instant::now() + timeout;
        let mut next = low;
        while next < high {
            if Instant::now() > deadline {
                return Err(RuntimeError::Restore(format!(
                    "changelog {topic}/{partition}: stopped at offset {next} of {high} after {} s",
                    timeout.as_secs()
                )));
            }
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    next = m.offset() + 1;
                    stats.records += 1;
                    let key = m.key().unwrap_or_default();
                    let value = m.payload().unwrap_or_default();
                    let at = m.offset();
                    let bad = |what: String| {
                        RuntimeError::Restore(format!(
                            "changelog {topic}/{partition} offset {at}: {what}"
                        ))
                    };
                    if key == TASK_KEY.as_bytes() {
                        meta = decode_meta(value)
                            .ok_or_else(|| bad("unreadable task record".to_owned()))?;
                        // Apply the cycle this record vouches for; anything else pending belongs
                        // to a cycle a crash cut short, and is dropped.
                        for (cycle, bytes) in pending.drain(..) {
                            if cycle == meta.cycle {
                                engine
                                    .restore_borrower(&bytes)
                                    .map_err(|e| bad(e.to_string()))?;
                            } else {
                                stats.discarded += 1;
                            }
                        }
                    } else {
                        let (cycle, snapshot) =
                            split_cycle(value).ok_or_else(|| bad("truncated record".to_owned()))?;
                        pending.push((cycle, snapshot.to_vec()));
                    }
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(RuntimeError::Kafka(e)),
                None => {}
            }
        }
    }
    stats.discarded += pending.len() as u64;
    stats.borrowers = engine.borrower_count();
    Ok((engine, meta, stats))
}
