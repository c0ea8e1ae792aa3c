//! Reading a changelog partition back, for a restore: a consumer of its own, outside the group.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::{isolation, CALL_TIMEOUT};
use crate::config::KafkaConfig;
use crate::kafka::client_config;
use crate::runtime::client::ChangelogSink;
use crate::runtime::restore::RestoreError;
use crate::runtime::RuntimeError;

/// The restore consumer's context: its errors reported at their level (its partition ends
/// are expected).
struct RestoreContext;

impl ClientContext for RestoreContext {
    fn error(&self, error: KafkaError, reason: &str) {
        crate::kafka::report_client_error(&error, reason);
    }
}

impl ConsumerContext for RestoreContext {}

/// Reads a changelog partition to its end with a consumer of its own (no group membership);
/// `eos`: committed transactions only.
pub fn read_changelog(
    k: &KafkaConfig,
    eos: bool,
    partition: i32,
    each: &mut ChangelogSink<'_>,
) -> Result<(), RuntimeError> {
    let topic = &k.topics.changelog;
    let kafka = |e: KafkaError| RuntimeError::kafka(e);
    let consumer: BaseConsumer<RestoreContext> = client_config(k)
        .set("group.id", format!("{}-restore", k.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", isolation(eos))
        .create_with_context(RestoreContext)
        .map_err(kafka)?;
    let timeout = Duration::from_secs(120);
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, CALL_TIMEOUT)
        .map_err(kafka)?;
    if high <= low {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning)
        .map_err(kafka)?;
    consumer.assign(&tpl).map_err(kafka)?;
    let deadline = std::time::Instant::now() + timeout;
    let mut next = low;
    // Under read_committed the last offsets may be transaction markers, never delivered: the
    // end-of-partition event (at the last stable offset) is what ends the read.
    while next < high {
        if std::time::Instant::now() > deadline {
            return Err(RuntimeError::Restore(RestoreError::Stalled {
                topic: topic.to_owned(),
                partition,
                next,
                high,
                secs: timeout.as_secs(),
            }));
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                next = m.offset() + 1;
                each(
                    m.offset(),
                    m.key().unwrap_or_default(),
                    m.payload().unwrap_or_default(),
                )
                .map_err(RuntimeError::Restore)?;
            }
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(Err(e)) => return Err(kafka(e)),
            None => {}
        }
    }
    Ok(())
}
