//! [`Client`] over rdkafka: a consumer-group member (range assignment so one member owns the
//! same partition number of every co-partitioned input, manual commits, `read_committed` under
//! exactly-once) and the monitor's producer (transactional under exactly-once).
//!
//! - `changelog`: reading a changelog partition back for a restore.
//!
//! The group membership itself (settings, librdkafka's callbacks, commits) is
//! [`super::group`]'s, shared with `notify`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::{KafkaConfig, ProcessingGuarantee};
use crate::kafka::group::{self, GroupContext};
use crate::kafka::topics::check_topics;
use crate::kafka::tracked_producer::{self as producer, TrackedProducer};
use crate::runtime::client::{ChangelogSink, Client, Lag, Polled, Position, Sink};
use crate::runtime::task::INPUTS;
use crate::runtime::RuntimeError;
use crate::stream::{ClientError, Rebalance, Record};
use postloan_engine::cut::Cut;

mod changelog;

pub use changelog::read_changelog;

/// The worker's Kafka connection.
pub struct RdClient {
    consumer: BaseConsumer<GroupContext>,
    producer: TrackedProducer,
    k: KafkaConfig,
    inputs: [String; INPUTS],
    eos: bool,
    /// Next offset the application will see per (input, partition): tracked here from what
    /// `poll` returned and where `seek` went, because asking librdkafka for positions is a
    /// round trip through its main thread.
    positions: HashMap<(usize, i32), i64>,
    /// Input partitions sought, paused or resumed: their application position was reset, so
    /// statistics made before that may show a position the partition no longer has. Such a
    /// partition's `app` is trusted again only from statistics served after the consumer's
    /// queue was next seen empty (nothing enqueued before the reset is left by then).
    reset: HashMap<(usize, i32), Reset>,
    /// What is kept of each message (a huge one only as far as its rejection shows).
    cut: Cut,
    /// The open transaction was aborted and the producer is still to be renewed.
    renew: bool,
}

/// Where an input partition stands since its fetch state was last reset.
#[derive(Debug, Clone, Copy)]
enum Reset {
    /// Reset; the consumer's queue has not been seen empty since.
    Pending,
    /// Statistics with a sequence number above this one were made after the reset.
    After(u64),
}

/// How long a single broker call may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl RdClient {
    /// Connects, checks the topics, initialises transactions (exactly-once: this fences any
    /// earlier incarnation with the same transactional id and aborts its open transaction) and
    /// joins the group.
    pub fn connect(k: &KafkaConfig, cut: Cut) -> Result<Self, RuntimeError> {
        let eos = k.processing_guarantee == ProcessingGuarantee::ExactlyOnce;
        let kafka = |e: KafkaError| RuntimeError::kafka(e);
        let consumer: BaseConsumer<GroupContext> =
            group::member_config(k, &k.group_id, isolation(eos))
                .set("session.timeout.ms", k.session_timeout_ms.to_string())
                // Statistics carry each partition's high watermark: the merge's "caught up"
                // signal.
                .set("statistics.interval.ms", "100")
                .create_with_context(GroupContext::with_inputs(
                    k.topics.inputs().map(str::to_owned).to_vec(),
                    eos,
                ))
                .map_err(kafka)?;
        check_topics(&consumer, k)?;
        let producer = if eos {
            let id = transactional_id(k);
            let p = producer::create_transactional(k, &id).map_err(kafka)?;
            p.init_transactions(Duration::from_millis(k.transaction_timeout_ms.max(30_000)))
                .map_err(kafka)?;
            tracing::info!(transactional_id = %id, "Transactions initialised");
            p
        } else {
            producer::create(k).map_err(kafka)?
        };
        let inputs = k.topics.inputs().map(str::to_owned);
        let names: Vec<&str> = inputs.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(kafka)?;
        Ok(RdClient {
            consumer,
            producer,
            k: k.clone(),
            inputs,
            eos,
            positions: HashMap::new(),
            reset: HashMap::new(),
            cut,
            renew: false,
        })
    }

    /// Replaces the transactional producer after an abort by a new one with the same
    /// transactional id (its `init_transactions` bumps the epoch and fences the old one).
    /// After a broker outage an aborted producer could block a later
    /// `send_offsets_to_transaction` for minutes beyond its timeout on the embedded broker
    /// (RELIABILITY.md); a fresh producer starts from a clean transactional state.
    fn renew_producer(&mut self) -> Result<(), ClientError> {
        let id = transactional_id(&self.k);
        let fresh = producer::create_transactional(&self.k, &id).map_err(classify)?;
        fresh
            .init_transactions(Duration::from_millis(
                self.k.transaction_timeout_ms.max(30_000),
            ))
            .map_err(classify)?;
        self.producer = fresh;
        tracing::info!(transactional_id = %id, "Transactional producer renewed after an abort");
        Ok(())
    }

    /// Leaves the consumer group, so partitions move at once instead of after the session
    /// timeout.
    pub fn leave(&self) {
        self.consumer.unsubscribe();
    }

    /// A producer error, with librdkafka's reason when the producer has failed for good (its
    /// error code alone says only "Fatal").
    fn producer_error(&self, e: KafkaError) -> ClientError {
        match self.fatal_reason() {
            Some(reason) => ClientError::fatal(reason),
            None => classify(e),
        }
    }

    /// Why the producer failed for good, if it did.
    fn fatal_reason(&self) -> Option<String> {
        self.producer
            .client()
            .fatal_error()
            .map(|(code, reason)| format!("the producer failed for good ({code:?}): {reason}"))
    }

    fn txn_timeout(&self) -> Duration {
        Duration::from_millis(self.k.transaction_timeout_ms)
    }

    fn topic(&self, sink: Sink) -> &str {
        let t = &self.k.topics;
        match sink {
            Sink::Alerts => &t.alerts,
            Sink::Escalations => &t.escalations,
            Sink::Rejected => &t.rejected,
        }
    }

    fn committed(&self, input: usize, partition: i32) -> Result<Offset, ClientError> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.inputs[input], partition);
        let c = self
            .consumer
            .committed_offsets(tpl, CALL_TIMEOUT)
            .map_err(classify)?;
        Ok(
            match c
                .find_partition(&self.inputs[input], partition)
                .map(|e| e.offset())
            {
                Some(Offset::Offset(o)) => Offset::Offset(o),
                _ => Offset::Beginning,
            },
        )
    }

    /// The consumer's queue was seen empty: statistics served from now on were made after every
    /// pending reset.
    fn settle_resets(&mut self) {
        if !self.reset.values().any(|r| matches!(r, Reset::Pending)) {
            return;
        }
        let seq = self.consumer.context().ends.lock().map_or(0, |e| e.seq);
        for r in self.reset.values_mut() {
            if matches!(r, Reset::Pending) {
                *r = Reset::After(seq);
            }
        }
    }

    fn positions(&self, positions: &[Position]) -> Result<TopicPartitionList, ClientError> {
        let mut tpl = TopicPartitionList::new();
        for (input, p, next) in positions {
            tpl.add_partition_offset(&self.inputs[*input], *p, Offset::Offset(*next))
                .map_err(classify)?;
        }
        Ok(tpl)
    }
}

fn isolation(eos: bool) -> &'static str {
    if eos {
        "read_committed"
    } else {
        "read_uncommitted"
    }
}

/// `{group_id}-{instance_id}`; the instance id defaults to the host name, stable across
/// restarts of a pod in a StatefulSet or of a VM.
pub fn transactional_id(k: &KafkaConfig) -> String {
    let instance = if k.instance_id.is_empty() {
        std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "monitor".to_owned())
    } else {
        k.instance_id.clone()
    };
    format!("{}-{instance}", k.group_id)
}

/// Sorts an rdkafka error by what the worker should do about it.
fn classify(e: KafkaError) -> ClientError {
    if let KafkaError::Transaction(r) = &e {
        return if r.is_fatal() {
            ClientError::Fatal(Arc::new(e))
        } else if r.txn_requires_abort() {
            ClientError::Abortable(Arc::new(e))
        } else if r.is_retriable() {
            ClientError::Retriable(Arc::new(e))
        } else {
            ClientError::Abortable(Arc::new(e))
        };
    }
    match e.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::Fatal
            | RDKafkaErrorCode::SaslAuthenticationFailed
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::TransactionalIdAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::InvalidProducerEpoch
            | RDKafkaErrorCode::UnknownTopicOrPartition,
        ) => ClientError::Fatal(Arc::new(e)),
        _ => ClientError::Retriable(Arc::new(e)),
    }
}

impl Client for RdClient {
    fn poll(&mut self, wait: Duration) -> Result<Option<Polled>, ClientError> {
        match self.consumer.poll(wait) {
            None => {
                self.settle_resets();
                Ok(None)
            }
            Some(Err(KafkaError::PartitionEOF(_))) => Ok(None),
            Some(Err(e)) => Err(classify(e)),
            Some(Ok(m)) => {
                let Some(input) = self.inputs.iter().position(|t| t == m.topic()) else {
                    return Ok(None);
                };
                self.positions
                    .insert((input, m.partition()), m.offset() + 1);
                let (payload, full_size) = self.cut.payload(m.payload().unwrap_or_default());
                Ok(Some(Polled {
                    input,
                    partition: m.partition(),
                    record: Record {
                        received_ms: 0,
                        offset: m.offset(),
                        key: m.key().map(|k| self.cut.key(k)),
                        payload,
                        full_size,
                    },
                }))
            }
        }
    }

    fn take_rebalances(&mut self) -> Vec<Rebalance> {
        group::take_rebalances(&self.consumer)
    }

    /// From the latest statistics (no broker round trip): caught up when the position has
    /// reached the partition's end, or when librdkafka's application position has (the offsets
    /// in between were transaction markers or aborted records, skipped while polling); behind
    /// otherwise; unknown before the first statistics of the partition.
    fn lag(&mut self, input: usize, partition: i32) -> Lag {
        let Some(end) = self
            .consumer
            .context()
            .ends
            .lock()
            .ok()
            .and_then(|e| e.by_partition.get(&(input, partition)).copied())
        else {
            return Lag::Unknown;
        };
        // A position not known yet (nothing read since a seek to the beginning) is the low
        // watermark.
        let position = self
            .positions
            .get(&(input, partition))
            .copied()
            .unwrap_or(end.low);
        let app_is_current = match self.reset.get(&(input, partition)) {
            None => true,
            Some(Reset::Pending) => false,
            Some(Reset::After(seq)) => end.seq > *seq,
        };
        if position >= end.high || (app_is_current && end.app >= end.high) {
            Lag::CaughtUp
        } else {
            Lag::Behind
        }
    }

    fn pause(&mut self, input: usize, partition: i32, paused: bool) -> Result<(), ClientError> {
        self.reset.insert((input, partition), Reset::Pending);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.inputs[input], partition);
        if paused {
            self.consumer.pause(&tpl).map_err(classify)
        } else {
            self.consumer.resume(&tpl).map_err(classify)
        }
    }

    fn seek(
        &mut self,
        input: usize,
        partition: i32,
        offset: Option<i64>,
    ) -> Result<(), ClientError> {
        let to = match offset {
            Some(o) => Offset::Offset(o),
            None => self.committed(input, partition)?,
        };
        self.reset.insert((input, partition), Reset::Pending);
        self.consumer
            .seek(&self.inputs[input], partition, to, Duration::from_secs(10))
            .map_err(classify)?;
        match to {
            Offset::Offset(o) => self.positions.insert((input, partition), o),
            _ => self.positions.remove(&(input, partition)),
        };
        Ok(())
    }

    fn read_changelog(
        &mut self,
        partition: i32,
        each: &mut ChangelogSink<'_>,
    ) -> Result<(), RuntimeError> {
        read_changelog(&self.k, self.eos, partition, each)
    }

    fn send(&mut self, sink: Sink, key: &[u8], payload: &[u8]) -> Result<(), ClientError> {
        let topic = self.topic(sink).to_owned();
        producer::send(
            &self.producer,
            BaseRecord::to(&topic).key(key).payload(payload),
        )
        .map_err(|e| self.producer_error(e))
    }

    fn send_changelog(
        &mut self,
        partition: i32,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), ClientError> {
        producer::send(
            &self.producer,
            BaseRecord::to(&self.k.topics.changelog)
                .partition(partition)
                .key(key)
                .payload(value),
        )
        .map_err(|e| self.producer_error(e))
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        // librdkafka has retried each message until `message.timeout.ms` by now: what failed
        // stays failed for this process.
        producer::flush(&self.producer, Duration::from_secs(60)).map_err(|e| {
            // A producer that failed for good purges what it holds: its reason, not the first
            // purged message, says what happened.
            match self.fatal_reason() {
                Some(reason) => ClientError::fatal(reason),
                None => ClientError::Fatal(Arc::new(e)),
            }
        })
    }

    fn commit_offsets(&mut self, positions: &[Position]) -> Result<(), ClientError> {
        let tpl = self.positions(positions)?;
        group::commit(&self.consumer, &tpl).map_err(classify)
    }

    fn begin_transaction(&mut self) -> Result<(), ClientError> {
        self.producer.begin_transaction().map_err(classify)
    }

    fn send_offsets_to_transaction(&mut self, positions: &[Position]) -> Result<(), ClientError> {
        if positions.is_empty() {
            return Ok(());
        }
        let tpl = self.positions(positions)?;
        let group = self
            .consumer
            .group_metadata()
            .ok_or_else(|| ClientError::abortable("no consumer group metadata yet"))?;
        self.producer
            .send_offsets_to_transaction(&tpl, &group, self.txn_timeout())
            .map_err(classify)
    }

    fn commit_transaction(&mut self) -> Result<(), ClientError> {
        self.producer
            .commit_transaction(self.txn_timeout())
            .map_err(classify)
    }

    fn abort_transaction(&mut self) -> Result<(), ClientError> {
        // A retry after the abort itself went through only renews the producer.
        if !self.renew {
            producer::discard(&self.producer, self.txn_timeout());
            self.producer
                .abort_transaction(self.txn_timeout())
                .map_err(classify)?;
            self.renew = true;
        }
        self.renew_producer()?;
        self.renew = false;
        Ok(())
    }

    fn lag_behind(&mut self, positions: &[Position]) -> Vec<Position> {
        let Ok(ends) = self.consumer.context().ends.lock() else {
            return Vec::new();
        };
        positions
            .iter()
            .filter_map(|(input, p, next)| {
                let end = ends.by_partition.get(&(*input, *p))?;
                Some((*input, *p, (end.high - next).max(0)))
            })
            .collect()
    }
}
