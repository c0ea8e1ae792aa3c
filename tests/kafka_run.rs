//! The monitor on the embedded broker: what it publishes equals what `replay` produces for the
//! same events in the same (merge) order.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::e2e;
use postloan_monitor::config::{ClockSource, Config};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::produce::produce;
use postloan_monitor::runtime::worker::{self, WorkerStats};
use tokio_util::sync::CancellationToken;

#[test]
fn event_clock_run_equals_replay_per_borrower() {
    let topics = e2e::topics("e2e");
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let lines = e2e::book(60, 8, 11);
    let kafka = e2e::kafka(broker.bootstrap_servers(), "e2e-monitor", &topics);
    let input = e2e::interleaved(&lines, &topics, 5).join("\n");
    produce(
        &kafka,
        &mut input.as_bytes(),
        "book",
        Duration::from_secs(30),
    )
    .unwrap();

    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = ClockSource::Event;
    let cancel = CancellationToken::new();
    let stats = Arc::new(WorkerStats::default());
    let handle = {
        let (cancel, stats, config) = (cancel.clone(), Arc::clone(&stats), config.clone());
        std::thread::spawn(move || worker::run(&config, cancel, stats))
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while stats.inputs() < lines.len() as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    cancel.cancel();
    handle.join().unwrap().unwrap();
    assert_eq!(
        stats.inputs(),
        lines.len() as u64,
        "the worker did not consume every input"
    );

    let cutoff = e2e::cutoff(&kafka.bootstrap_servers, &topics);
    let want = e2e::expected(&config, &lines, &topics, cutoff);
    let (got, duplicates) = e2e::published(&kafka.bootstrap_servers, &topics, cutoff);
    assert_eq!(
        duplicates, 0,
        "an uninterrupted run publishes each message once"
    );
    let compared = e2e::assert_same(&got, &want);
    assert!(
        compared > 20,
        "the book should produce plenty of messages, got {compared}"
    );
    eprintln!("compared {compared} messages up to {cutoff}");
    drop(broker);
}
