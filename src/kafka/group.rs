//! The consumer-group member every streaming command is: `run`'s worker
//! (`client`) and `notify`'s feed (`crate::notify::feed`). Both read co-partitioned
//! topics with the range assignor (one member owns the same partition number of each), commit
//! offsets by hand, and learn of rebalances from librdkafka's callbacks during `poll`, queued
//! here as the vocabulary's [`Rebalance`]s. `run` also reads each input partition's end from the
//! statistics ([`GroupContext::inputs`]); `notify` names no inputs and asks for no statistics.

use std::collections::HashMap;
use std::sync::Mutex;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, ClientContext, TopicPartitionList};

use super::client_config;
use crate::config::KafkaConfig;
use crate::stream::Rebalance;

/// The settings of a group member: `group_id`, manual commits, from the earliest offset when
/// the group has none, the range assignor, and `isolation_level` (`read_committed` or
/// `read_uncommitted`). Callers add what is theirs.
pub fn member_config(k: &KafkaConfig, group_id: &str, isolation_level: &str) -> ClientConfig {
    let mut c = client_config(k);
    c.set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", isolation_level)
        // Range gives one member the same partition number of every co-partitioned topic.
        .set("partition.assignment.strategy", "range");
    c
}

/// Rebalances since the last call, oldest first.
pub fn take_rebalances(consumer: &BaseConsumer<GroupContext>) -> Vec<Rebalance> {
    consumer
        .context()
        .rebalances
        .lock()
        .map(|mut e| std::mem::take(&mut *e))
        .unwrap_or_default()
}

/// Commits `offsets` (the next offsets to read) to the group, waiting for the broker.
pub fn commit(
    consumer: &BaseConsumer<GroupContext>,
    offsets: &TopicPartitionList,
) -> Result<(), KafkaError> {
    consumer.commit(offsets, CommitMode::Sync)
}

/// Rebalances and high watermarks, gathered by librdkafka's callbacks during `poll`.
#[derive(Default)]
pub struct GroupContext {
    pub(super) rebalances: Mutex<Vec<Rebalance>>,
    /// Where each input partition ends, from librdkafka's statistics (fetch responses, at most
    /// 100 ms old): known without asking the broker. Keyed by (input index, partition), so the
    /// per-step lookups allocate nothing.
    pub(super) ends: Mutex<Ends>,
    /// Input topic names, in input index order, whose ends the statistics are read for (none
    /// for a member that does not ask for statistics).
    pub(super) inputs: Vec<String>,
    /// Read the last stable offset rather than the high watermark (`read_committed`).
    pub(super) committed_only: bool,
}

impl GroupContext {
    /// A context that reads the ends of `inputs` (in input index order) from the statistics.
    pub fn with_inputs(inputs: Vec<String>, committed_only: bool) -> Self {
        GroupContext {
            inputs,
            committed_only,
            ..GroupContext::default()
        }
    }
}

/// The latest statistics of the input partitions.
#[derive(Default)]
pub(super) struct Ends {
    /// Statistics callbacks served so far.
    pub(super) seq: u64,
    pub(super) by_partition: HashMap<(usize, i32), End>,
}

/// A partition's extent as librdkafka last saw it.
///
/// How stale it can be, and why that is safe: the figures are the latest fetch response's,
/// published in a statistics event every 100 ms. A high watermark only grows, so a stale one
/// is a lower bound: "records past the last one polled" (`Behind`) is never wrong, only "caught
/// up" can be (a record written since), and that is the case the merge's idle wait and the
/// late-event rule exist for. `app` is librdkafka's own application position: it moves past
/// records that are never delivered (transaction markers, aborted records) as they are skipped
/// while polling, which our position (the last record polled, plus one) cannot see. So an
/// `app` at or past the end means every record below the end was polled or skipped.
#[derive(Debug, Clone, Copy)]
pub(super) struct End {
    /// Low watermark.
    pub(super) low: i64,
    /// High watermark, or the last stable offset under `read_committed` (a consumer's position
    /// cannot pass it).
    pub(super) high: i64,
    /// librdkafka's application position when the statistics were made: every offset below it
    /// had been handed to the application or skipped (negative: none since the last reset).
    pub(super) app: i64,
    /// [`Ends::seq`] of the statistics it came from.
    pub(super) seq: u64,
}

fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    let mut p: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    p.sort_unstable();
    p.dedup();
    p
}

impl ClientContext for GroupContext {
    fn error(&self, error: KafkaError, reason: &str) {
        super::report_client_error(&error, reason);
    }

    fn stats(&self, statistics: rdkafka::Statistics) {
        let Ok(mut ends) = self.ends.lock() else {
            return;
        };
        ends.seq += 1;
        let seq = ends.seq;
        for (topic, t) in statistics.topics {
            let Some(input) = self.inputs.iter().position(|i| *i == topic) else {
                continue;
            };
            for (partition, p) in t.partitions {
                let high = if self.committed_only && p.ls_offset >= 0 {
                    p.ls_offset
                } else {
                    p.hi_offset
                };
                if partition >= 0 && high >= 0 {
                    let low = p.lo_offset.max(0);
                    let end = End {
                        low,
                        high,
                        app: p.app_offset,
                        seq,
                    };
                    ends.by_partition.insert((input, partition), end);
                }
            }
        }
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &rdkafka::consumer::Rebalance<'_>) {
        if let rdkafka::consumer::Rebalance::Revoke(tpl) = rebalance {
            if let Ok(mut e) = self.rebalances.lock() {
                e.push(Rebalance::Revoked(partitions(tpl)));
            }
        }
    }
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &rdkafka::consumer::Rebalance<'_>) {
        match rebalance {
            rdkafka::consumer::Rebalance::Assign(tpl) => {
                if let Ok(mut e) = self.rebalances.lock() {
                    e.push(Rebalance::Assigned(partitions(tpl)));
                }
            }
            rdkafka::consumer::Rebalance::Error(e) => tracing::warn!(error = %e, "Rebalance error"),
            rdkafka::consumer::Rebalance::Revoke(_) => {}
        }
    }
}
