//! Crash safety and rebalances (at-least-once), with the real binary: SIGKILLed at random
//! points while it works, restarted, or replaced by a surviving group member. Deduplicated by
//! `message_id`, the output topics must equal replay: nothing lost, nothing invented.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::e2e;
use postloan_monitor::config::KafkaConfig;
use postloan_monitor::kafka::broker::EmbeddedBroker;
use rand::{Rng, SeedableRng};

/// Starts the monitor; returns the child and a channel of its stderr lines.
fn start_monitor(kafka: &KafkaConfig) -> (Child, mpsc::Receiver<String>) {
    let mut child = common::kafka::monitor_command(kafka)
        .env("RUST_LOG", "info")
        .env("POSTLOAN__CLOCK__MODE", "event")
        // Long cycles: a kill then usually lands after messages were published but before
        // their offsets and state were committed — the case recovery must get right.
        .env("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS", "1500")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits until the child reports a restored task (it is then consuming).
fn wait_until_working(rx: &mpsc::Receiver<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if line.contains("Restored task") {
                return;
            }
        }
    }
    panic!("the monitor never started working");
}

fn wait_all_committed(kafka: &KafkaConfig) {
    e2e::wait_all_committed(kafka, Duration::from_secs(90));
}

fn signal(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
}

fn stop(mut child: Child, sig: &str) {
    signal(&child, sig);
    let _ = child.wait();
}

/// A book on its own topics of a fresh broker.
fn setup(name: &str, seed: u64) -> (EmbeddedBroker, KafkaConfig, Vec<String>) {
    let topics = e2e::topics(name);
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let kafka = e2e::kafka(broker.bootstrap_servers(), name, &topics);
    let lines = e2e::book(300, 12, seed);
    e2e::produce_book(&kafka, &lines, &topics, seed);
    (broker, kafka, lines)
}

#[test]
fn sigkill_at_random_points_loses_nothing_and_invents_nothing() {
    let mut total_duplicates = 0;
    for seed in [1, 2] {
        let (broker, kafka, lines) = setup(&format!("crash{seed}"), seed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut dup_after = Vec::new();
        for _ in 0..2 {
            let (child, rx) = start_monitor(&kafka);
            wait_until_working(&rx);
            std::thread::sleep(Duration::from_millis(rng.gen_range(100..1500)));
            stop(child, "-KILL");
            let cut = e2e::cutoff(&kafka.bootstrap_servers, &kafka.topics);
            dup_after.push(e2e::published(&kafka.bootstrap_servers, &kafka.topics, cut).1);
        }
        // A last run that is allowed to finish, then stops gracefully.
        let (child, rx) = start_monitor(&kafka);
        wait_until_working(&rx);
        wait_all_committed(&kafka);
        stop(child, "-TERM");
        let (compared, duplicates) = e2e::assert_equals_replay(&kafka, &lines, &kafka.topics);
        // The run after kill k republishes what kill k cut short: duplicates added between the
        // count after kill k and the next count are kill k's.
        dup_after.push(duplicates);
        let per_kill: Vec<usize> = dup_after.windows(2).map(|w| w[1] - w[0]).collect();
        eprintln!("seed {seed}: 2 kills, {compared} messages compared, {duplicates} duplicates in all, per kill {per_kill:?}");
        assert!(
            compared > 50,
            "seed {seed}: too few messages to mean anything ({compared})"
        );
        total_duplicates += duplicates;
        drop(broker);
    }
    // The kills must have hit published-but-uncommitted work at least once, or this test
    // proved nothing about recovery.
    assert!(total_duplicates > 0, "no kill interrupted uncommitted work");
}

#[test]
fn a_surviving_instance_takes_over_from_a_dead_one() {
    let (broker, kafka, lines) = setup("rebalance", 9);
    let (first, first_log) = start_monitor(&kafka);
    wait_until_working(&first_log);
    let (second, second_log) = start_monitor(&kafka);
    // The second member joins: the group rebalances and both own partitions.
    wait_until_working(&second_log);
    std::thread::sleep(Duration::from_millis(700));
    stop(first, "-KILL");
    // After the session timeout the survivor is given the dead member's partitions and
    // restores them from the changelog.
    wait_all_committed(&kafka);
    // The dead member may have committed all its work before the kill: the takeover then
    // comes only when its session times out (6 s), after everything is committed.
    let mut took_over = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while took_over == 0 && std::time::Instant::now() < deadline {
        if let Ok(line) = second_log.recv_timeout(Duration::from_millis(200)) {
            took_over += usize::from(line.contains("Restored task"));
        }
    }
    took_over += second_log
        .try_iter()
        .filter(|l| l.contains("Restored task"))
        .count();
    stop(second, "-TERM");
    assert!(
        took_over > 0,
        "the survivor never restored the dead member's partitions"
    );
    let (compared, duplicates) = e2e::assert_equals_replay(&kafka, &lines, &kafka.topics);
    eprintln!("rebalance: {compared} messages compared, {duplicates} duplicates, {took_over} task(s) taken over");
    drop(broker);
}

#[test]
fn sigterm_commits_and_exits_0_within_10_seconds() {
    let (broker, kafka, _) = setup("sigterm", 4);
    let (mut child, rx) = start_monitor(&kafka);
    wait_until_working(&rx);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-TERM");
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let log: Vec<String> = rx.try_iter().collect();
    assert!(
        log.iter().any(|l| l.contains("Stopped after committing")),
        "{log:?}"
    );
    eprintln!("stopped {} ms after SIGTERM", asked.elapsed().as_millis());
    drop(broker);
}
