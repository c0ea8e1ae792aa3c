//! The worker's [`Feed`] over rdkafka: a group member of `risk.alerts` and
//! `risk.escalations` (`crate::kafka::group`, as `run`'s worker is: manual commits, the range
//! assignor so that one member owns the same partition number of both; here
//! `read_committed`), and the compacted state topic, written with the monitor's producer setup
//! and read back on assignment. Topic checks are `crate::kafka::topics`'.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::BaseRecord;
use rdkafka::{Offset, TopicPartitionList};

use super::worker::{Feed, NotifyError, Rebalance, Record, StateEntry, Topic};
use crate::config::Config;
use crate::kafka::client_config;
use crate::kafka::group::{self, GroupContext};
use crate::kafka::topics::check_notify_topics;
use crate::kafka::tracked_producer::{self, TrackedProducer};
use crate::stream::ClientError;

/// The Kafka side of `notify`.
pub struct KafkaFeed {
    consumer: BaseConsumer<GroupContext>,
    producer: TrackedProducer,
    config: Config,
}

/// A Kafka failure `notify` cannot retry, its cause kept.
fn kafka(e: KafkaError) -> NotifyError {
    NotifyError::Kafka(ClientError::fatal_from(e))
}

impl KafkaFeed {
    /// Connects, checks the topics (creating the state topic when `[kafka] create_topics`
    /// allows) and subscribes.
    pub fn connect(config: &Config) -> Result<Self, NotifyError> {
        let k = &config.kafka;
        let consumer: BaseConsumer<GroupContext> =
            group::member_config(k, &config.notify.group_id, "read_committed")
                .set("enable.auto.offset.store", "false")
                .create_with_context(GroupContext::default())
                .map_err(kafka)?;
        check_notify_topics(&consumer, config)?;
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

impl Feed for KafkaFeed {
    fn poll(&mut self, wait: Duration) -> Result<Option<Record>, NotifyError> {
        match self.consumer.poll(wait) {
            None => Ok(None),
            Some(Ok(m)) => {
                let Some(topic) = self.topic(m.topic()) else {
                    return Ok(None);
                };
                Ok(Some(Record {
                    input: topic,
                    partition: m.partition(),
                    record: crate::stream::Record {
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                        full_size: None,
                        received_ms: 0,
                    },
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
        group::take_rebalances(&self.consumer)
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
        let timeout = Duration::from_secs(300);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if std::time::Instant::now() > deadline {
                return Err(NotifyError::RestoreStalled {
                    topic,
                    partition,
                    high,
                    secs: timeout.as_secs(),
                });
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
            .map_err(|e| NotifyError::Kafka(ClientError::fatal_from(e)))
    }

    fn commit(&mut self, offsets: &[(Topic, i32, i64)]) -> Result<(), NotifyError> {
        let mut tpl = TopicPartitionList::new();
        for (t, p, o) in offsets {
            let name = self.name(*t).to_owned();
            tpl.add_partition_offset(&name, *p, Offset::Offset(*o))
                .map_err(kafka)?;
        }
        match group::commit(&self.consumer, &tpl) {
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
