//! The hostile-input corpus through `run` on the embedded broker: every hostile message gives
//! exactly one record on the rejected topic, of the expected kind, naming the problem; nothing
//! hostile is applied; the valid event after them is. Kafka adds two cases a file cannot
//! have: a key other than the payload's borrower_id, and a message larger than
//! `max_event_bytes` (which the monitor keeps only in part).

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::e2e;
use common::hostile::{corpus, valid, with};
use postloan_monitor::config::ProcessingGuarantee;
use postloan_monitor::kafka::broker::EmbeddedBroker;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde_json::Value;

/// (Kafka key, message, error_kind, fragment of the error).
type KafkaCase = (Vec<u8>, Vec<u8>, &'static str, &'static str);

#[test]
fn every_hostile_message_on_kafka_is_rejected_once_and_changes_nothing() {
    let name = "hostile";
    let topics = e2e::topics(name);
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let kafka = e2e::kafka_for(
        broker.bootstrap_servers(),
        name,
        &topics,
        ProcessingGuarantee::ExactlyOnce,
    );

    // (key, line, kind, fragment); the 10 MB line is left out: the embedded broker keeps at
    // most 5 MiB per partition. A 2 MB one stands in for it.
    let mut cases: Vec<KafkaCase> = corpus()
        .into_iter()
        .filter(|(_, line, _, _)| line.len() < 1_000_000)
        .map(|(_, line, kind, fragment)| (b"H1".to_vec(), line, kind, fragment))
        .collect();
    let mut mismatch = valid();
    mismatch["event_id"] = "k-1".into();
    mismatch["borrower_id"] = "B7".into();
    cases.push((
        b"B8".to_vec(),
        mismatch.to_string().into_bytes(),
        "key_mismatch",
        "Kafka key \"B8\" is not the field `borrower_id` \"B7\"",
    ));
    cases.push((
        b"H1".to_vec(),
        with("event_id", &format!("\"{}\"", "x".repeat(2_000_000))),
        "too_large",
        "longer than limits.max_event_bytes (1048576)",
    ));

    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .set("message.max.bytes", "5000000")
        .create()
        .unwrap();
    for (key, line, _, _) in &cases {
        producer
            .send(BaseRecord::to(&topics.income).key(key).payload(line))
            .unwrap();
        producer.poll(Duration::ZERO);
    }
    let ok = valid().to_string();
    producer
        .send(BaseRecord::to(&topics.income).key("B1").payload(&ok))
        .unwrap();
    producer.flush(Duration::from_secs(30)).unwrap();

    let monitor = e2e::start_monitor(&kafka);
    let stats = Arc::clone(&monitor.stats);
    let total = cases.len() as u64 + 1;
    e2e::wait_for("every message processed", Duration::from_secs(60), || {
        stats.inputs() >= total
    });
    let stats = monitor.stop();
    assert_eq!(
        stats.applied.load(Ordering::Relaxed),
        1,
        "only the valid event"
    );
    assert_eq!(stats.rejected.load(Ordering::Relaxed), cases.len() as u64);

    let rejected = common::kafka::read_topic(&kafka.bootstrap_servers, &topics.rejected, 3);
    assert_eq!(
        rejected.len(),
        cases.len(),
        "one rejection per hostile message"
    );
    // Match each rejection to its case by the payload it carries (cut payloads by prefix).
    let mut left: HashMap<usize, &KafkaCase> = cases.iter().enumerate().collect();
    for (_, _, key, json) in &rejected {
        let m: Value = serde_json::from_str(json).unwrap();
        let payload = match m["payload"].as_str() {
            Some(p) => p.as_bytes().to_vec(),
            None => base64::engine::general_purpose::STANDARD
                .decode(m["payload_base64"].as_str().unwrap())
                .unwrap(),
        };
        let size = m["payload_size_bytes"].as_u64().map(|n| n as usize);
        let i = *left
            .iter()
            .find(|(_, (k, line, _, _))| {
                k == key.as_bytes()
                    && line.starts_with(&payload)
                    && size.unwrap_or(payload.len()) == line.len()
            })
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("a rejection matches no case: {m}"));
        let (_, line, kind, fragment) = left.remove(&i).unwrap();
        assert_eq!(m["error_kind"], *kind, "{}", m["error"]);
        assert!(
            m["error"].as_str().unwrap().contains(fragment),
            "{}: lacks {fragment:?}",
            m["error"]
        );
        assert!(m["source"].as_str().unwrap().starts_with(&topics.income));
        assert_eq!(m["payload_truncated"] == true, line.len() > 65_536);
    }
    assert!(left.is_empty());
    for t in [&topics.alerts, &topics.escalations] {
        let msgs = common::kafka::read_topic(&kafka.bootstrap_servers, t, 3);
        assert!(msgs.is_empty(), "{t}: {msgs:?}");
    }
}
