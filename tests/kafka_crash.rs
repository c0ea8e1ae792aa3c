//! Crash safety (at-least-once): the real binary, SIGKILLed at random points while it works and
//! restarted. Deduplicated by `message_id`, the output topics must equal the uninterrupted
//! result (replay): nothing lost, nothing invented.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::e2e;
use postloan_monitor::config::{ClockSource, Config, KafkaConfig, Topics};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::produce::produce;
use rand::{Rng, SeedableRng};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Starts `postloan-monitor run` against the test's topics; returns the child and a channel of
/// its stderr lines.
fn start_monitor(kafka: &KafkaConfig) -> (Child, mpsc::Receiver<String>) {
    let t = &kafka.topics;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postloan-monitor"));
    cmd.arg("run")
        .env("RUST_LOG", "info")
        .env(
            "POSTLOAN__KAFKA__BOOTSTRAP_SERVERS",
            &kafka.bootstrap_servers,
        )
        .env("POSTLOAN__KAFKA__GROUP_ID", &kafka.group_id)
        .env("POSTLOAN__KAFKA__PROCESSING_GUARANTEE", "at_least_once")
        .env(
            "POSTLOAN__KAFKA__SESSION_TIMEOUT_MS",
            kafka.session_timeout_ms.to_string(),
        )
        // Long cycles: a kill then usually lands after messages were published but before
        // their offsets and state were committed — the case recovery must get right.
        .env("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS", "1500")
        // Equality with replay needs the merge never to run ahead of a lagging input.
        .env("POSTLOAN__KAFKA__MAX_TASK_IDLE_MS", "10000")
        .env("POSTLOAN__CLOCK__MODE", "event");
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
    let mut child = cmd
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

/// True when the group's committed offsets reach the end of every input partition.
fn all_committed(kafka: &KafkaConfig) -> bool {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.bootstrap_servers)
        .set("group.id", &kafka.group_id)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for t in kafka.topics.inputs() {
        for p in 0..e2e::PARTITIONS {
            tpl.add_partition(t, p);
        }
    }
    let Ok(committed) = consumer.committed_offsets(tpl, Duration::from_secs(5)) else {
        return false;
    };
    committed.elements().iter().all(|e| {
        let (_, high) = consumer
            .fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(5))
            .unwrap_or((0, i64::MAX));
        match e.offset() {
            Offset::Offset(o) => o >= high,
            _ => high == 0,
        }
    })
}

fn stop(mut child: Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn crash_run(seed: u64, kills: usize, topics: &Topics) -> (usize, Vec<usize>) {
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, topics).unwrap();
    let kafka = e2e::kafka(broker.bootstrap_servers(), &format!("crash-{seed}"), topics);
    let lines = e2e::book(300, 12, seed);
    let input = e2e::interleaved(&lines, topics, seed);

    // The whole book is in Kafka before the monitor starts: equality with replay holds for a
    // complete input (a producer still writing may legitimately make a task apply an event
    // after later ones, on arrival). The kills land while the backlog is being worked off.
    let text = input.join(
        "
",
    );
    produce(
        &kafka,
        &mut text.as_bytes(),
        "book",
        Duration::from_secs(60),
    )
    .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut dup_after = Vec::new();
    for _ in 0..kills {
        let (child, rx) = start_monitor(&kafka);
        wait_until_working(&rx);
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..1500)));
        stop(child, "-KILL");
        let cut = e2e::cutoff(&kafka.bootstrap_servers, topics);
        dup_after.push(e2e::published(&kafka.bootstrap_servers, topics, cut).1);
    }
    // A last run that is allowed to finish, then stops gracefully.
    let (child, rx) = start_monitor(&kafka);
    wait_until_working(&rx);
    let deadline = Instant::now() + Duration::from_secs(90);
    while !all_committed(&kafka) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
    }
    stop(child, "-TERM");

    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = ClockSource::Event;
    let cutoff = e2e::cutoff(&kafka.bootstrap_servers, topics);
    let want = e2e::expected(&config, &lines, topics, cutoff);
    let (got, duplicates) = e2e::published(&kafka.bootstrap_servers, topics, cutoff);
    let compared = e2e::assert_same(&got, &want);
    // The run after kill k republishes what kill k cut short: duplicates added between the
    // count after kill k and the next count are kill k's.
    dup_after.push(duplicates);
    let per_kill: Vec<usize> = dup_after.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!("seed {seed}: {kills} kills, {compared} messages compared, {duplicates} duplicates in all, per kill {per_kill:?}");
    drop(broker);
    (compared, per_kill)
}

#[test]
fn sigkill_at_random_points_loses_nothing_and_invents_nothing() {
    let mut total_duplicates = 0;
    for seed in [1, 2] {
        let (compared, per_kill) = crash_run(seed, 2, &e2e::topics(&format!("crash{seed}")));
        assert!(
            compared > 50,
            "seed {seed}: too few messages to mean anything ({compared})"
        );
        total_duplicates += per_kill.iter().sum::<usize>();
    }
    // The kills must have hit published-but-uncommitted work at least once, or this test
    // proved nothing about recovery.
    assert!(total_duplicates > 0, "no kill interrupted uncommitted work");
}

#[test]
fn a_surviving_instance_takes_over_from_a_dead_one() {
    let topics = e2e::topics("rebalance");
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let kafka = e2e::kafka(broker.bootstrap_servers(), "rebalance", &topics);
    let lines = e2e::book(300, 12, 9);
    let input = e2e::interleaved(&lines, &topics, 9);
    // The whole book is in Kafka before the monitor starts: equality with replay holds for a
    // complete input (a producer still writing may legitimately make a task apply an event
    // after later ones, on arrival). The kills land while the backlog is being worked off.
    let text = input.join(
        "
",
    );
    produce(
        &kafka,
        &mut text.as_bytes(),
        "book",
        Duration::from_secs(60),
    )
    .unwrap();
    let (first, first_log) = start_monitor(&kafka);
    wait_until_working(&first_log);
    let (second, second_log) = start_monitor(&kafka);
    // The second member joins: the group rebalances and both own partitions.
    wait_until_working(&second_log);
    std::thread::sleep(Duration::from_millis(700));
    stop(first, "-KILL");
    // After the session timeout the survivor is given the dead member's partitions and
    // restores them from the changelog.
    let deadline = Instant::now() + Duration::from_secs(90);
    while !all_committed(&kafka) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
    }
    let took_over = second_log
        .try_iter()
        .filter(|l| l.contains("Restored task"))
        .count();
    stop(second, "-TERM");
    assert!(
        took_over > 0,
        "the survivor never restored the dead member's partitions"
    );

    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = ClockSource::Event;
    let cutoff = e2e::cutoff(&kafka.bootstrap_servers, &topics);
    let want = e2e::expected(&config, &lines, &topics, cutoff);
    let (got, duplicates) = e2e::published(&kafka.bootstrap_servers, &topics, cutoff);
    let compared = e2e::assert_same(&got, &want);
    eprintln!("rebalance: {compared} messages compared, {duplicates} duplicates, {took_over} task(s) taken over");
    drop(broker);
}

#[test]
fn sigterm_commits_and_exits_0_within_10_seconds() {
    let topics = e2e::topics("sigterm");
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let kafka = e2e::kafka(broker.bootstrap_servers(), "sigterm", &topics);
    let lines = e2e::book(100, 6, 4);
    let text = e2e::interleaved(&lines, &topics, 4).join("\n");
    produce(
        &kafka,
        &mut text.as_bytes(),
        "book",
        Duration::from_secs(60),
    )
    .unwrap();
    let (mut child, rx) = start_monitor(&kafka);
    wait_until_working(&rx);
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
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
