//! `produce` against the embedded broker: routing by type, keys, co-partitioning, no line lost.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use postloan_monitor::config::{KafkaConfig, Topics};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::input_feed::produce;

const PARTITIONS: i32 = 3;

fn read_all(bootstrap: &str, topic: &str) -> Vec<(i32, String, String)> {
    common::kafka::read_topic(bootstrap, topic, PARTITIONS)
        .into_iter()
        .map(|(p, _, k, v)| (p, k, v))
        .collect()
}

#[test]
fn every_line_lands_on_its_topic_keyed_and_co_partitioned() {
    let topics = Topics::default();
    let broker = EmbeddedBroker::start(1, PARTITIONS, &topics).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let kafka = KafkaConfig {
        bootstrap_servers: bootstrap.clone(),
        ..KafkaConfig::default()
    };
    let book = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/book.jsonl"
    ))
    .unwrap();
    let mut more = String::new();
    for b in ["B2", "B3", "B4", "B5", "B6"] {
        more.push_str(&format!(
            "{{\"event_id\":\"x-{b}\",\"type\":\"income\",\"borrower_id\":\"{b}\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"monthly_income\":\"1\",\"currency\":\"CNY\",\"source\":\"payroll\"}}\n\
             {{\"event_id\":\"y-{b}\",\"type\":\"loan_closed\",\"borrower_id\":\"{b}\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"loan_id\":\"L\",\"reason\":\"paid_off\"}}\n"
        ));
    }
    let input =
        format!("{book}\n{more}not json at all\n{{\"type\":\"mystery\",\"borrower_id\":\"B2\"}}\n");
    let summary = produce(
        &kafka,
        &mut input.as_bytes(),
        "test",
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(summary.blank, 1);
    assert_eq!(summary.unroutable, 2);
    let sent: u64 = summary.by_topic.values().sum();
    assert_eq!(sent, 14 + 10 + 2);

    let mut partition_of: HashMap<String, i32> = HashMap::new();
    let mut counts = BTreeMap::new();
    for topic in topics.inputs() {
        for (partition, key, payload) in read_all(&bootstrap, topic) {
            *counts.entry(topic.to_owned()).or_insert(0u64) += 1;
            let v: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            if let Some(t) = v["type"]
                .as_str()
                .and_then(postloan_engine::event::EventType::parse)
            {
                assert_eq!(topics.for_event(t), topic, "{payload}");
                assert_eq!(v["borrower_id"].as_str(), Some(key.as_str()));
            }
            // One borrower, one partition number, on every input topic.
            let p = *partition_of.entry(key.clone()).or_insert(partition);
            assert_eq!(
                p, partition,
                "borrower {key:?} is on partitions {p} and {partition}"
            );
        }
    }
    assert_eq!(counts, summary.by_topic);
    // The unroutable lines went to the lifecycle topic: the monitor will reject them there.
    let lifecycle = read_all(&bootstrap, &topics.lifecycle);
    assert!(lifecycle
        .iter()
        .any(|(_, k, p)| p == "not json at all" && k.is_empty()));
    assert!(lifecycle
        .iter()
        .any(|(_, k, p)| p.contains("mystery") && k == "B2"));
    drop(broker);
}

#[test]
fn an_unreachable_broker_fails_with_a_delivery_error() {
    let kafka = KafkaConfig {
        // Nothing listens on port 1 of loopback.
        bootstrap_servers: "127.0.0.1:1".to_owned(),
        ..KafkaConfig::default()
    };
    let line = "{\"type\":\"income\",\"borrower_id\":\"B1\"}\n";
    let err = produce(&kafka, &mut line.as_bytes(), "test", Duration::from_secs(2)).unwrap_err();
    assert!(err.to_string().contains("not delivered"), "{err}");
}
