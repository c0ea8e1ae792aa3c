//! The monitor on the embedded broker: what it publishes equals what `replay` produces for the
//! same events in the same (merge) order, under either processing guarantee, on a generated
//! contract-v2 book (deferrals, restructures, suppressions, acknowledgements). (The embedded
//! broker runs the transactional calls but does not honour them, so exactly-once is checked
//! here for its happy path; its abort and fencing control flow is tested against the
//! in-memory cluster in `src/runtime/worker/tests/`.)

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::e2e;
use postloan_monitor::config::{ClockSource, Config, ProcessingGuarantee};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::input_feed::produce;
use postloan_monitor::runtime::worker::WorkerStats;

#[test]
fn at_least_once_run_equals_replay_per_borrower() {
    run_equals_replay("e2e-alos", ProcessingGuarantee::AtLeastOnce);
}

#[test]
fn exactly_once_run_equals_replay_per_borrower() {
    let stats = run_equals_replay("e2e-eos", ProcessingGuarantee::ExactlyOnce);
    assert_eq!(stats.aborts.load(Ordering::Relaxed), 0);
}

fn run_equals_replay(name: &str, guarantee: ProcessingGuarantee) -> Arc<WorkerStats> {
    let topics = e2e::topics(name);
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    // 300 borrowers over 14 months: enough for every v2 event and status (checked below).
    let lines = e2e::book(300, 14, 11);
    for needle in [
        "\"kind\":\"deferral\"",
        "\"kind\":\"restructure\"",
        "\"type\":\"suppression\"",
        "\"type\":\"alert_ack\"",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "the book has no {needle}"
        );
    }
    let kafka = e2e::kafka_for(broker.bootstrap_servers(), name, &topics, guarantee);
    let input = e2e::interleaved(&lines, &topics, 5).join("\n");
    produce(
        &kafka,
        &mut input.as_bytes(),
        "book",
        Duration::from_secs(30),
    )
    .unwrap();

    let monitor = e2e::start_monitor(&kafka);
    let deadline = Instant::now() + Duration::from_secs(90);
    while monitor.stats.inputs() < lines.len() as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = monitor.stop();
    assert_eq!(
        stats.inputs(),
        lines.len() as u64,
        "the worker did not consume every input"
    );
    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = ClockSource::Event;

    let cutoff = e2e::cutoff(&kafka.bootstrap_servers, &topics);
    let want = e2e::expected(&config, &lines, &topics, cutoff);
    let (got, duplicates) = e2e::published(&kafka.bootstrap_servers, &topics, cutoff);
    assert_eq!(
        duplicates, 0,
        "an uninterrupted run publishes each message once"
    );
    let compared = e2e::assert_same(&got, &want);
    for status in ["acknowledged", "suppressed", "reinstated"] {
        let needle = format!("\"status\":\"{status}\"");
        assert!(
            want.values().flatten().any(|m| m.contains(&needle)),
            "no {status} message compared"
        );
    }
    assert!(
        compared > 20,
        "the book should produce plenty of messages, got {compared}"
    );
    eprintln!("{name}: compared {compared} messages up to {cutoff}");
    assert!(stats.commits.load(Ordering::Relaxed) > 0);
    drop(broker);
    stats
}
