//! Kafka helpers for integration tests (embedded broker only, loopback).

use std::process::Command;
use std::time::{Duration, Instant};

use postloan_monitor::config::KafkaConfig;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Every message of `topic` from the beginning, as (partition, offset, key, payload), read as
/// downstream consumers of an exactly-once monitor read: `read_committed`.
pub fn read_topic(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Vec<(i32, i64, String, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-read-{topic}"))
        .set("enable.partition.eof", "true")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .expect("test consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut at_end = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while at_end < partitions && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push((
                m.partition(),
                m.offset(),
                String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
            )),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => at_end += 1,
            Some(Err(e)) => panic!("consume {topic}: {e}"),
            None => {}
        }
    }
    assert_eq!(at_end, partitions, "did not reach the end of {topic}");
    out
}

/// How many partitions `topic` has.
pub fn partition_count(bootstrap: &str, topic: &str) -> i32 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("test consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len());
    i32::try_from(partitions).expect("partition count")
}

/// Every message of `topic` from the beginning, whatever its partition count (see
/// [`read_topic`]).
pub fn read_all(bootstrap: &str, topic: &str) -> Vec<(i32, i64, String, String)> {
    read_topic(bootstrap, topic, partition_count(bootstrap, topic))
}

/// `postloan-monitor run` against `kafka`'s brokers, group and topics (through the environment,
/// as an operator would configure it), at least once.
pub fn monitor_command(kafka: &KafkaConfig) -> Command {
    let t = &kafka.topics;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postloan-monitor"));
    cmd.arg("run")
        .env(
            "POSTLOAN__KAFKA__BOOTSTRAP_SERVERS",
            &kafka.bootstrap_servers,
        )
        .env("POSTLOAN__KAFKA__GROUP_ID", &kafka.group_id)
        // Several monitors run at once in the tests: each takes a free port.
        .env("POSTLOAN__HTTP__LISTEN", "127.0.0.1:0")
        .env("POSTLOAN__KAFKA__PROCESSING_GUARANTEE", "at_least_once")
        .env(
            "POSTLOAN__KAFKA__SESSION_TIMEOUT_MS",
            kafka.session_timeout_ms.to_string(),
        )
        .env(
            "POSTLOAN__KAFKA__MAX_TASK_IDLE_MS",
            kafka.max_task_idle_ms.to_string(),
        );
    for (name, value) in [
        ("LIFECYCLE", &t.lifecycle),
        ("REPAYMENTS", &t.repayments),
        ("INCOME", &t.income),
        ("VALUATIONS", &t.valuations),
        ("ACKS", &t.acks),
        ("ALERTS", &t.alerts),
        ("ESCALATIONS", &t.escalations),
        ("REJECTED", &t.rejected),
        ("CHANGELOG", &t.changelog),
    ] {
        cmd.env(format!("POSTLOAN__KAFKA__TOPICS__{name}"), value);
    }
    cmd
}
