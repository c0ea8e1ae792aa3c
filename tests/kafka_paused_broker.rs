//! A broker that stops answering: the embedded broker runs as its own process
//! (`postloan-monitor broker`) and is frozen with SIGSTOP for 3 s, three times — at 15%, 45% and
//! 75% of a 111,000-event book produced beforehand — while the monitor (at-least-once, default
//! settings) consumes it. Fetches stall mid-book with input partitions half read; a task must wait for
//! them rather than apply its other inputs first. The output, deduplicated by `message_id`,
//! must equal replay's borrower by borrower.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::e2e;
use postloan_engine::types::Signal;
use postloan_monitor::config::{KafkaConfig, ProcessingGuarantee, Topics};

/// The broker process; thawed and stopped when dropped, whatever the test did.
struct BrokerProcess(Child);

impl BrokerProcess {
    fn start() -> (BrokerProcess, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
            .args(["broker", "--partitions", "8"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let bootstrap = line.trim().strip_prefix("bootstrap=").unwrap().to_owned();
        (BrokerProcess(child), bootstrap)
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig}");
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.signal("-CONT");
        self.signal("-TERM");
        let _ = self.0.wait();
    }
}

#[test]
fn a_broker_paused_three_times_mid_book_changes_nothing() {
    let (broker, bootstrap) = BrokerProcess::start();
    let topics = Topics::default();
    let mut kafka: KafkaConfig = e2e::kafka_for(
        bootstrap,
        "paused-broker",
        &topics,
        ProcessingGuarantee::AtLeastOnce,
    );
    // The monitor's defaults for the merge's idle wait, the session and fetching, as an
    // operator runs it.
    let defaults = KafkaConfig::default();
    kafka.max_task_idle_ms = defaults.max_task_idle_ms;
    kafka.session_timeout_ms = defaults.session_timeout_ms;
    kafka.properties = defaults.properties;
    // A book far larger than what the consumer fetches ahead, as a production backlog is:
    // without this the consumer would prefetch this whole test book (64 MiB by default) before
    // the first pause, and a frozen broker would stall nothing.
    kafka.max_buffered_bytes_per_partition = 64 * 1024;
    kafka
        .properties
        .insert("queued.max.messages.kbytes".into(), "256".into());
    let lines = e2e::book(3000, 24, 13);
    e2e::produce_book(&kafka, &lines, &topics, 7);

    let monitor = e2e::start_monitor(&kafka);
    let stats = std::sync::Arc::clone(&monitor.stats);
    e2e::wait_for("the first alerts", Duration::from_secs(120), || {
        Signal::ALL.iter().any(|s| stats.alerts(*s) > 0)
    });
    let mut applied_at_pause = Vec::new();
    for share in [15, 45, 75] {
        let at = lines.len() as u64 * share / 100;
        e2e::wait_for("the next pause", Duration::from_secs(300), || {
            stats.inputs() >= at
        });
        applied_at_pause.push(stats.inputs());
        broker.signal("-STOP");
        std::thread::sleep(Duration::from_secs(3));
        broker.signal("-CONT");
    }
    let started = Instant::now();
    e2e::wait_for("every input applied", Duration::from_secs(300), || {
        stats.inputs() >= lines.len() as u64
    });
    let stats = monitor.stop();
    let (compared, duplicates) = e2e::assert_equals_replay(&kafka, &lines, &topics);
    assert!(compared > 3_000, "compared only {compared} messages");
    assert!(
        applied_at_pause.iter().all(|n| *n < lines.len() as u64),
        "every pause came mid-book: {applied_at_pause:?} of {}",
        lines.len()
    );
    eprintln!(
        "FIGURES paused-broker: {} inputs, paused 3 × 3 s with {applied_at_pause:?} applied, {compared} messages equal to replay, {duplicates} duplicates, {} late, finished {:.1} s after the last pause",
        lines.len(),
        stats.late.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}
