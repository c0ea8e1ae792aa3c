//! Broker faults while the monitor processes: errors injected into the embedded broker's
//! Produce, Fetch and (transactional) offset-commit responses, dropped connections, and one of
//! three brokers down for two seconds. The monitor rides through: every input is applied and
//! the output topics, deduplicated by `message_id`, equal `replay` of the same events.
//!
//! Under exactly-once a fault can abort a transaction; the embedded broker does not honour
//! aborts, so the aborted copies stay visible here and are counted as duplicates (a real broker
//! hides them from `read_committed` readers; the in-memory cluster in
//! `src/runtime/worker/tests.rs` shows that control flow exactly). For the same reason a
//! transaction failed for good — a non-retriable produce error — cannot be checked here: after
//! the abort the monitor restores from a changelog that still shows the aborted records.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::e2e;
use postloan_monitor::config::ProcessingGuarantee;
use postloan_monitor::kafka::broker::EmbeddedBroker;
use rdkafka::types::RDKafkaApiKey;
use rdkafka::types::RDKafkaRespErr::{
    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE as COORDINATOR_NOT_AVAILABLE,
    RD_KAFKA_RESP_ERR_NOT_COORDINATOR as NOT_COORDINATOR,
    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION as NOT_LEADER,
    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT as TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT as TRANSPORT,
};

fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn rides_through_faults(name: &str, guarantee: ProcessingGuarantee) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_test_writer()
        .try_init();
    let topics = e2e::topics(name);
    let broker = EmbeddedBroker::start(3, e2e::PARTITIONS, &topics).unwrap();
    let lines = e2e::book(120, 10, 21);
    let mut kafka = e2e::kafka_for(broker.bootstrap_servers(), name, &topics, guarantee);
    if guarantee == ProcessingGuarantee::AtLeastOnce {
        // The embedded broker checks producer sequence numbers only for transactional
        // producers: with several requests in flight, a failed and retried Produce lands after
        // the next one, which a real broker refuses (OUT_OF_ORDER_SEQUENCE_NUMBER) for an
        // idempotent producer. One request in flight gives here the order a real broker keeps.
        kafka
            .properties
            .insert("max.in.flight.requests.per.connection".into(), "1".into());
    }
    // The whole book first: equality with replay needs complete inputs (a partition that is
    // unreachable for a while must not look caught up).
    e2e::produce_book(&kafka, &lines, &topics, 1);

    // Queued now, these fail the monitor's first requests of each kind.
    let cluster = broker.cluster();
    cluster.request_errors(RDKafkaApiKey::Produce, &[NOT_LEADER, TIMED_OUT, TRANSPORT]);
    cluster.request_errors(RDKafkaApiKey::Fetch, &[NOT_LEADER, TRANSPORT]);
    match guarantee {
        ProcessingGuarantee::AtLeastOnce => cluster.request_errors(
            RDKafkaApiKey::OffsetCommit,
            &[COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR],
        ),
        ProcessingGuarantee::ExactlyOnce => {
            cluster.request_errors(RDKafkaApiKey::TxnOffsetCommit, &[COORDINATOR_NOT_AVAILABLE]);
            cluster.request_errors(RDKafkaApiKey::EndTxn, &[NOT_COORDINATOR]);
            cluster.request_errors(
                RDKafkaApiKey::AddPartitionsToTxn,
                &[COORDINATOR_NOT_AVAILABLE],
            );
        }
    }

    let monitor = e2e::start_monitor(&kafka);
    let stats = Arc::clone(&monitor.stats);
    wait_for("the first commits", Duration::from_secs(60), || {
        stats.inputs() > 0
    });

    // One broker of three down (its partition leaders and perhaps a coordinator with it) for
    // two seconds while the monitor works through the book.
    cluster.broker_down(2).unwrap();
    let at_down = stats.inputs();
    std::thread::sleep(Duration::from_secs(2));
    cluster.broker_up(2).unwrap();

    wait_for("every input applied", Duration::from_secs(120), || {
        stats.inputs() >= lines.len() as u64
    });
    monitor.stop();
    assert_eq!(stats.inputs(), lines.len() as u64);

    let (compared, duplicates) = e2e::assert_equals_replay(&kafka, &lines, &topics);
    assert!(compared > 200, "compared only {compared} messages");
    eprintln!(
        "{name}: {compared} messages equal to replay, {duplicates} duplicates dropped, {} aborts, {} of {} inputs applied when the broker went down",
        stats.aborts.load(Ordering::Relaxed),
        at_down,
        lines.len()
    );
}

#[test]
fn at_least_once_rides_through_broker_faults() {
    rides_through_faults("faults-alos", ProcessingGuarantee::AtLeastOnce);
}

#[test]
fn exactly_once_rides_through_broker_faults() {
    rides_through_faults("faults-eos", ProcessingGuarantee::ExactlyOnce);
}
