//! The worker's [`Feed`] over rdkafka: a group consumer of `risk.alerts` and
//! `risk.escalations` (`read_committed`, manual commits, the range assignor so that one
//! member owns the same partition number of both), and the compacted state topic, written with
//! the monitor's producer setup and read back on assignment.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::BaseRecord;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::worker::{Feed, NotifyError, Rebalance, Record, StateEntry, Topic};
use crate::config::Config;
use crate::kafka::tracked_producer::{self, TrackedProducer};
use crate::kafka::{client_config, report_client_error};

/// Rebalances gathered by librdkafka's callbacks during `poll`.
#[derive(Default)]
pub struct NotifyContext {
    rebalances: Mutex<Vec<Rebalance>>,
}

fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    let mut p: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    p.sort_unstable();
    p.dedup();
    p
}

impl ClientContext for NotifyContext {
    fn error(&self, error: KafkaError, reason: &str) {
        report_client_error(&error, reason);
    }
}

impl ConsumerContext for NotifyContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, r: &rdkafka::consumer::Rebalance<'_>) {
        if let rdkafka::consumer::Rebalance::Revoke(tpl) = r {
            if let Ok(mut e) = self.rebalances.lock() {
                e.push(Rebalance::Revoked(partitions(tpl)));
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, r: &rdkafka::consumer::Rebalance<'_>) {
        match r {
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

/// The Kafka side of `notify`.
pub struct KafkaFeed {
    consumer: BaseConsumer<NotifyContext>,
    producer: TrackedProducer,
    config: Config,
}

fn kafka(e: KafkaError) -> NotifyError {
    NotifyError::Kafka(e.to_string())
}

impl KafkaFeed {
    /// Connects, checks the topics (creating the state topic when `[kafka] create_topics`
    /// allows) and subscribes.
    pub fn connect(config: &Config) -> Result<Self, NotifyError> {
        let k = &config.kafka;
        let consumer: BaseConsumer<NotifyContext> = client_config(k)
            .set("group.id", &config.notify.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .set("partition.assignment.strategy", "range")
            .create_with_context(NotifyContext::default())
            .map_err(kafka)?;
        check_topics(&consumer, config)?;
        consumer
            .subscribe(&[&k.topics.alerts, &k.topics.escalations])
            .map_err(kafka)?;
        let producer = tracked_producer::create(k).map_err(kafka)?;
        Ok(KafkaFeed {
            consumer,
            producer,
            config: config.clone(),
        })
    }

    fn topic(&self, name: &str) -> Option<Topic> {
        let t = &self.config.kafka.topics;
        if name == t.alerts {
            Some(Topic::Alerts)
        } else if name == t.escalations {
            Some(Topic::Escalations)
        } else {
            None
        }
    }

    fn name(&self, topic: Topic) -> &str {
        match topic {
            Topic::Alerts => &self.config.kafka.topics.alerts,
            Topic::Escalations => &self.config.kafka.topics.escalations,
        }
    }

    /// Leaves the group (after the last commit).
    pub fn leave(&self) {
        self.consumer.unsubscribe();
        let _ = self.consumer.poll(Duration::from_millis(100));
    }
}

/// Refuses to run when the two topics are missing or not co-partitioned; the state topic is
/// created (compacted, as many partitions) when missing and allowed, else refused.
fn check_topics(
    consumer: &BaseConsumer<NotifyContext>,
    config: &Config,
) -> Result<(), NotifyError> {
    let k = &config.kafka;
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(30))
        .map_err(kafka)?;
    let count = |name: &str| crate::kafka::topics::partition_count(&metadata, name);
    let missing = |name: &str| NotifyError::Setup(format!("topic {name} does not exist"));
    let alerts = count(&k.topics.alerts).ok_or_else(|| missing(&k.topics.alerts))?;
    let escalations = count(&k.topics.escalations).ok_or_else(|| missing(&k.topics.escalations))?;
    if alerts != escalations {
        return Err(NotifyError::Setup(format!(
            "{} has {alerts} partitions and {} {escalations}: notify needs them equal (both are keyed by borrower)",
            k.topics.alerts, k.topics.escalations
        )));
    }
    let state = &config.notify.state_topic;
    match count(state) {
        Some(n) if n == alerts => Ok(()),
        Some(n) => Err(NotifyError::Setup(format!(
            "state topic {state} has {n} partitions, {} has {alerts}: they must be equal",
            k.topics.escalations
        ))),
        None if k.create_topics => {
            crate::kafka::topics::create_topics(k, &[state], alerts, &[state])
                .map_err(|e| NotifyError::Setup(e.to_string()))
        }
        None => Err(missing(state)),
    }
}

impl Feed for KafkaFeed {
    fn poll(&mut self, wait: Duration) -> Result<Option<Record>, NotifyError> {
        match self.consumer.poll(wait) {
            None => Ok(None),
            Some(Ok(m)) => {
                let Some(topic) = self.topic(m.topic()) else {
                    return Ok(None);
                };
                Ok(Some(Record {
                    topic,
                    partition: m.partition(),
                    offset: m.offset(),
                    payload: m.payload().map(<[u8]>::to_vec),
                }))
            }
            Some(Err(KafkaError::PartitionEOF(_))) => Ok(None),
            Some(Err(e))
                if e.rdkafka_error_code()
                    .is_some_and(|c| c == RDKafkaErrorCode::Fatal) =>
            {
                Err(kafka(e))
            }
            Some(Err(e)) => {
                // librdkafka retries the rest itself (connections, leaders); say it and go on.
                tracing::warn!(error = %e, "Kafka consumer error; retrying");
                Ok(None)
            }
        }
    }

    fn rebalances(&mut self) -> Vec<Rebalance> {
        self.consumer
            .context()
            .rebalances
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    fn pause(&mut self) -> Result<(), NotifyError> {
        let assigned = self.consumer.assignment().map_err(kafka)?;
        self.consumer.pause(&assigned).map_err(kafka)
    }

    fn resume(&mut self) -> Result<(), NotifyError> {
        let assigned = self.consumer.assignment().map_err(kafka)?;
        self.consumer.resume(&assigned).map_err(kafka)
    }

    fn restore(&mut self, partition: i32) -> Result<Vec<StateEntry>, NotifyError> {
        let topic = self.config.notify.state_topic.clone();
        let reader: BaseConsumer = client_config(&self.config.kafka)
            .set(
                "group.id",
                format!("{}-restore", self.config.notify.group_id),
            )
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .create()
            .map_err(kafka)?;
        let (low, high) = reader
            .fetch_watermarks(&topic, partition, Duration::from_secs(30))
            .map_err(kafka)?;
        let mut out = Vec::new();
        if high <= low {
            return Ok(out);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, partition, Offset::Beginning)
            .map_err(kafka)?;
        reader.assign(&tpl).map_err(kafka)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            if std::time::Instant::now() > deadline {
                return Err(NotifyError::Kafka(format!(
                    "restoring {topic}/{partition} did not reach offset {high} in 300 s"
                )));
            }
            match reader.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
                    if let Some(key) = key {
                        out.push((key, m.payload().map(<[u8]>::to_vec)));
                    }
                    if m.offset() + 1 >= high {
                        return Ok(out);
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "Kafka error while restoring notices; retrying")
                }
                None => {}
            }
        }
    }

    fn save(&mut self, partition: i32, key: &str, value: Option<&[u8]>) -> Result<(), NotifyError> {
        let topic = self.config.notify.state_topic.clone();
        let mut record = BaseRecord::<str, [u8]>::to(&topic)
            .partition(partition)
            .key(key);
        if let Some(v) = value {
            record = record.payload(v);
        }
        tracked_producer::send(&self.producer, record).map_err(kafka)
    }

    fn flush(&mut self) -> Result<(), NotifyError> {
        tracked_producer::flush(&self.producer, Duration::from_secs(60))
            .map_err(|e| NotifyError::Kafka(e.to_string()))
    }

    fn commit(&mut self, offsets: &[(Topic, i32, i64)]) -> Result<(), NotifyError> {
        let mut tpl = TopicPartitionList::new();
        for (t, p, o) in offsets {
            let name = self.name(*t).to_owned();
            tpl.add_partition_offset(&name, *p, Offset::Offset(*o))
                .map_err(kafka)?;
        }
        match self.consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => Ok(()),
            // The partitions moved to another member meanwhile: it reads those records
            // again, which repeats deliveries and loses nothing.
            Err(KafkaError::ConsumerCommit(
                RDKafkaErrorCode::RebalanceInProgress
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::UnknownMemberId,
            )) => {
                tracing::warn!(
                    "Commit refused by a rebalance; the next owner repeats those records"
                );
                Ok(())
            }
            Err(e) => Err(kafka(e)),
        }
    }
}
