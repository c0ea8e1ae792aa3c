//! The worker's control flow against the in-memory cluster (`runtime::fake`), which honours
//! transactions: exactly-once must publish every message of an uninterrupted run once and only
//! once through aborts, retries, crashes, rebalances; at-least-once may repeat messages but
//! never lose one; a fenced producer stops the worker.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::{Clock, Now, Observer, Work, Worker, WorkerStats};
use crate::config::{ClockSource, Config, ProcessingGuarantee};
use crate::runtime::client::{ClientError, Lag};
use crate::runtime::fake::{Cluster, FakeClient, Shared};
use crate::runtime::task::{Task, INPUTS};
use crate::runtime::RuntimeError;
use postloan_engine::output::Output;
use postloan_engine::portfolio::{Note, Portfolio};
use postloan_engine::{ClockMode, Engine};
use postloan_generate::{generate, GenerateOptions};

const PARTITIONS: i32 = 3;

fn config(guarantee: ProcessingGuarantee) -> Config {
    let mut c = Config::default();
    c.clock.mode = ClockSource::Event;
    c.kafka.processing_guarantee = guarantee;
    c.kafka.commit_interval_ms = 50;
    // The whole book is in the cluster before the worker starts: a caught-up partition is at
    // its true end, so there is nothing to idle for (and a record known to be unread is
    // waited for whatever this says).
    c.kafka.max_task_idle_ms = 0;
    c
}

fn eos() -> Config {
    config(ProcessingGuarantee::ExactlyOnce)
}

fn partition_of(key: &[u8]) -> i32 {
    let h = key
        .iter()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b)));
    (h % PARTITIONS as u32) as i32
}

/// A generated book, a few lines malformed, loaded into the cluster's input topics (keyed by
/// borrower; malformed lines to the first topic).
fn cluster_with_book(config: &Config, seed: u64) -> Shared {
    cluster_with_borrowers(config, seed, 60)
}

fn cluster_with_borrowers(config: &Config, seed: u64, borrowers: u32) -> Shared {
    let opts = GenerateOptions {
        borrowers,
        months: 12,
        seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
        bad_ratio: 0.01,
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let mut book = Vec::new();
    generate(&opts, &mut book).unwrap();
    cluster_with_lines(config, seed, &String::from_utf8(book).unwrap())
}

/// JSONL lines loaded into the cluster's input topics (keyed by borrower; lines that are not
/// events to the first topic).
fn cluster_with_lines(config: &Config, seed: u64, book: &str) -> Shared {
    let cluster = Cluster::new(PARTITIONS, seed);
    let topics = &config.kafka.topics;
    let names = topics.inputs();
    for line in book.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let input = v["type"]
            .as_str()
            .and_then(postloan_engine::event::EventType::parse)
            .and_then(|t| names.iter().position(|n| *n == topics.for_event(t)))
            .unwrap_or(0);
        let key = v["borrower_id"].as_str().unwrap_or("").as_bytes().to_vec();
        cluster
            .borrow_mut()
            .produce(input, partition_of(&key), &key, line.as_bytes());
    }
    cluster
}

/// What an uninterrupted single task per partition publishes, as (key, message) in order.
fn reference(config: &Config, cluster: &Shared) -> Vec<(String, String)> {
    reference_book(config, cluster).0
}

/// The reference run's messages, its portfolio (partitions summed), its notes and the number
/// of inputs it applied.
fn reference_book(
    config: &Config,
    cluster: &Shared,
) -> (Vec<(String, String)>, Portfolio, Vec<Note>, u64) {
    let mut applied = 0;
    let mut book = Portfolio::default();
    let mut notes = Vec::new();
    let settings = Arc::new(config.engine_settings());
    let inputs = config.kafka.topics.inputs().map(Arc::from);
    let mut all = Vec::new();
    for p in 0..PARTITIONS {
        let engine = Engine::new(Arc::clone(&settings), ClockMode::Event);
        let mut task = Task::new(p, inputs.clone(), engine, 0);
        for input in 0..INPUTS {
            for r in cluster.borrow().input(input, p) {
                task.push(input, r.clone());
            }
        }
        let (mut out, mut outcomes) = (Vec::new(), Vec::new());
        task.process(0, &mut |_| Lag::CaughtUp, &mut out, &mut outcomes);
        task.take_notes(&mut notes);
        book.merge(task.engine().portfolio());
        applied += outcomes
            .iter()
            .filter(|p| matches!(p.outcome, postloan_engine::Outcome::Applied(_)))
            .count() as u64;
        all.extend(out.iter().map(|o: &Output| {
            let mut json = Vec::new();
            o.write_json(&mut json);
            (
                o.key().unwrap_or_default().to_owned(),
                String::from_utf8(json).unwrap_or_default(),
            )
        }));
    }
    (all, book, notes, applied)
}

/// Messages per key in publication order (keyless rejections sorted: they come from several
/// partitions).
fn per_key(msgs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, m) in msgs {
        by.entry(k).or_default().push(m);
    }
    if let Some(v) = by.get_mut("") {
        v.sort();
    }
    by
}

fn published(cluster: &Shared) -> Vec<(String, String)> {
    cluster
        .borrow()
        .outputs
        .iter()
        .map(|(_, k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

fn message_id(m: &str) -> String {
    let v: Value = serde_json::from_str(m).unwrap_or(Value::Null);
    v["message_id"].as_str().unwrap_or_default().to_owned()
}

/// Keeps the first of each `message_id`; returns the rest's count.
fn dedup(msgs: Vec<(String, String)>) -> (Vec<(String, String)>, usize) {
    let mut seen = std::collections::HashSet::new();
    let before = msgs.len();
    let kept: Vec<_> = msgs
        .into_iter()
        .filter(|(_, m)| seen.insert(message_id(m)))
        .collect();
    let dups = before - kept.len();
    (kept, dups)
}

/// A clock moved by hand, shared by the test and its workers.
#[derive(Clone)]
struct TestClock(Rc<Cell<Now>>);

impl TestClock {
    fn new() -> Self {
        TestClock(Rc::new(Cell::new(Now {
            mono_ms: 0,
            utc: DateTime::<Utc>::UNIX_EPOCH,
        })))
    }

    /// Moves the monotonic clock 10 ms on.
    fn tick(&self) {
        let mut n = self.0.get();
        n.mono_ms += 10;
        self.0.set(n);
    }

    fn set_utc(&self, s: &str) {
        let mut n = self.0.get();
        n.utc = DateTime::parse_from_rfc3339(s).map_or(n.utc, |t| t.to_utc());
        n.mono_ms += 1000;
        self.0.set(n);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Now {
        self.0.get()
    }
}

fn worker(
    config: &Config,
    cluster: &Shared,
    member: usize,
    clock: &TestClock,
) -> Worker<FakeClient> {
    worker_with_stats(config, cluster, member, clock).0
}

/// A worker and the counters it reports to.
fn worker_with_stats(
    config: &Config,
    cluster: &Shared,
    member: usize,
    clock: &TestClock,
) -> (Worker<FakeClient>, Arc<WorkerStats>) {
    let eos = config.kafka.processing_guarantee == ProcessingGuarantee::ExactlyOnce;
    let client = FakeClient::connect(cluster, member, eos);
    let stats = Arc::new(WorkerStats::default());
    let w = Worker::new(
        config,
        client,
        Box::new(clock.clone()),
        stats.clone(),
        member as u64 * 1_000_000,
    );
    (w, stats)
}

/// Steps every worker until the inputs are consumed and applied, then shuts them down.
fn drive(
    workers: &mut [&mut Worker<FakeClient>],
    cluster: &Shared,
    clock: &TestClock,
) -> Result<(), RuntimeError> {
    for _ in 0..10_000 {
        clock.tick();
        for w in workers.iter_mut() {
            w.step()?;
        }
        if cluster.borrow().consumed() && workers.iter().all(|w| w.buffered() == 0) {
            for w in workers.iter_mut() {
                w.shutdown()?;
            }
            return Ok(());
        }
    }
    panic!("the workers did not finish the book");
}

/// Equal per key, or a panic naming the first key that differs (the full maps are too long
/// to read).
fn assert_same(got: Vec<(String, String)>, expected: Vec<(String, String)>, what: &str) {
    assert!(
        expected.len() > 100,
        "the book publishes little: {}",
        expected.len()
    );
    let (got, expected) = (per_key(got), per_key(expected));
    let keys: std::collections::BTreeSet<&String> = got.keys().chain(expected.keys()).collect();
    for k in keys {
        let (g, e) = (got.get(k), expected.get(k));
        assert!(
            g == e,
            "{what}: key {k:?} differs: published {} messages, expected {}; first published {:?}, first expected {:?}",
            g.map_or(0, Vec::len),
            e.map_or(0, Vec::len),
            g.and_then(|v| v.first()),
            e.and_then(|v| v.first()),
        );
    }
}

fn assert_exact(config: &Config, cluster: &Shared, what: &str) {
    let got = published(cluster);
    let (_, dups) = dedup(got.clone());
    assert_eq!(dups, 0, "{what}: exactly-once published a message twice");
    assert_same(got, reference(config, cluster), what);
}

#[test]
fn exactly_once_uninterrupted_publishes_the_reference() {
    let config = eos();
    let cluster = cluster_with_book(&config, 1);
    let clock = TestClock::new();
    let mut w = worker(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    drive(&mut [&mut w], &cluster, &clock).unwrap();
    assert_exact(&config, &cluster, "run");
    let c = cluster.borrow();
    let commits = c.calls("commit_transaction");
    assert!(commits > 3, "one transaction for the whole book: {commits}");
    // The offsets committed with the transactions are the group's: lag monitoring sees 0.
    for input in 0..INPUTS {
        for p in 0..PARTITIONS {
            let end = c.input(input, p).len() as i64;
            assert_eq!(c.committed(input, p).unwrap_or(0), end, "{input}/{p}");
        }
    }
}

/// Every transactional step, failing abortably at several points of the run: the transaction
/// is aborted, the tasks rewound, the work redone, and nothing is published twice.
#[test]
fn exactly_once_abort_rewinds_and_publishes_each_message_once() {
    let cases: [(&str, &[u64]); 5] = [
        ("commit_transaction", &[1, 2, 5, 9]),
        ("send_offsets_to_transaction", &[2, 4]),
        ("send", &[1, 40, 120]),
        ("send_changelog", &[3, 50]),
        ("begin_transaction", &[]),
    ];
    for (call, nths) in cases {
        let config = eos();
        let cluster = cluster_with_book(&config, 2);
        for n in nths {
            cluster.borrow_mut().fail(
                call,
                *n,
                ClientError::abortable(format!("injected at {call} #{n}")),
            );
        }
        let clock = TestClock::new();
        let (mut w, stats) = worker_with_stats(&config, &cluster, 0, &clock);
        cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
        drive(&mut [&mut w], &cluster, &clock).unwrap();
        assert_exact(&config, &cluster, call);
        let aborts = stats.aborts.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            cluster.borrow().triggered,
            nths.len() as u64,
            "{call}: every injected fault fired (sends: {})",
            cluster.borrow().calls("send")
        );
        assert_eq!(aborts, nths.len() as u64, "{call}: one abort per fault");
        assert_eq!(
            cluster.borrow().calls("abort_transaction"),
            aborts,
            "{call}"
        );
    }
}

#[test]
fn exactly_once_retries_a_retriable_commit_without_aborting() {
    let config = eos();
    let cluster = cluster_with_book(&config, 3);
    for n in [2, 3, 7] {
        cluster
            .borrow_mut()
            .fail("commit_transaction", n, ClientError::retriable("timed out"));
    }
    let clock = TestClock::new();
    let mut w = worker(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    drive(&mut [&mut w], &cluster, &clock).unwrap();
    assert_exact(&config, &cluster, "run");
    assert_eq!(cluster.borrow().calls("abort_transaction"), 0);
}

/// Runs a worker for `crash_after` steps and drops it without shutdown (a crash), then a new
/// one under the same member id (same transactional id) finishes the book.
fn crash_then_finish(config: &Config, cluster: &Shared, crash_after: usize) {
    let clock = TestClock::new();
    {
        let mut w = worker(config, cluster, 0, &clock);
        cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
        for _ in 0..crash_after {
            clock.tick();
            w.step().unwrap();
        }
    }
    let mut w = worker(config, cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    drive(&mut [&mut w], cluster, &clock).unwrap();
}

/// A crash at an arbitrary step (the worker vanishes mid-transaction), then a restart under the
/// same transactional id: the open transaction is aborted and nothing is lost or repeated.
#[test]
fn exactly_once_crash_at_any_step_then_restart_is_exact() {
    for (seed, crash_after) in [(4, 1), (5, 3), (6, 7), (7, 12), (8, 20)] {
        let config = eos();
        let cluster = cluster_with_book(&config, seed);
        crash_then_finish(&config, &cluster, crash_after);
        assert_exact(&config, &cluster, "run");
    }
}

/// Partitions move between members mid-stream; a commit refused during the revocation
/// aborts, and the new owner redoes that work from the committed state.
#[test]
fn exactly_once_rebalance_moves_partitions_exactly() {
    for refuse_at_revocation in [false, true] {
        let config = eos();
        let cluster = cluster_with_book(&config, 9);
        let clock = TestClock::new();
        let mut a = worker(&config, &cluster, 0, &clock);
        let mut b = worker(&config, &cluster, 1, &clock);
        cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
        for _ in 0..4 {
            clock.tick();
            a.step().unwrap();
        }
        if refuse_at_revocation {
            let next = cluster.borrow().calls("commit_transaction") + 1;
            cluster.borrow_mut().fail(
                "commit_transaction",
                next,
                ClientError::abortable("generation moved on"),
            );
        }
        cluster
            .borrow_mut()
            .rebalance(&[(0, vec![0]), (1, vec![1, 2])]);
        drive(&mut [&mut a, &mut b], &cluster, &clock).unwrap();
        assert_eq!(a.owned(), vec![0]);
        assert_eq!(b.owned(), vec![1, 2]);
        assert_exact(&config, &cluster, "run");
    }
}

#[test]
fn a_fenced_producer_stops_the_worker() {
    let config = eos();
    let cluster = cluster_with_book(&config, 10);
    let clock = TestClock::new();
    let mut old = worker(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    clock.tick();
    old.step().unwrap();
    // A second instance starts under the same transactional id.
    let _new = FakeClient::connect(&cluster, 0, true);
    let err = (0..100)
        .find_map(|_| {
            clock.tick();
            old.step().err()
        })
        .expect("the fenced worker kept running");
    let text = format!("{:#}", anyhow::Error::from(err));
    assert!(text.contains("fenced"), "{text}");
}

/// At-least-once after crashes: every message of the uninterrupted run is there, and the
/// repeats carry the same `message_id`, so downstream can drop them.
#[test]
fn at_least_once_crash_republishes_with_the_same_message_ids() {
    let mut total_dups = 0;
    for (seed, crash_after) in [(11, 2), (12, 3), (13, 7)] {
        let config = config(ProcessingGuarantee::AtLeastOnce);
        let cluster = cluster_with_book(&config, seed);
        crash_then_finish(&config, &cluster, crash_after);
        let (kept, dups) = dedup(published(&cluster));
        total_dups += dups;
        assert_same(kept, reference(&config, &cluster), "at-least-once");
    }
    // Crashes between a publish and its commit must have repeated something; otherwise this
    // test would not be exercising the at-least-once path at all.
    assert!(total_dups > 0);
}

/// Exactly-once on the wall clock (a tick a second), and a cluster holding one `loan_opened`
/// (borrower b-1, loan l-1, first installment due 2026-02-01).
fn one_loan_on_the_wall_clock() -> (Config, Shared) {
    let mut config = eos();
    config.clock.mode = ClockSource::Wall;
    config.clock.tick_interval_ms = 1000;
    let cluster = Cluster::new(1, 0);
    let mut opened =
        postloan_engine::testkit::loan("b-1", "l-1", "2026-01-01T00:00:00Z", "2026-02-01");
    opened["event_id"] = "e-1".into();
    cluster
        .borrow_mut()
        .produce(0, 0, b"b-1", opened.to_string().as_bytes());
    (config, cluster)
}

/// Wall-clock mode: with no traffic at all, moving time alone fires the DPD alert, and the
/// message is committed like any other.
#[test]
fn wall_clock_fires_deadlines_without_traffic() {
    let (config, cluster) = one_loan_on_the_wall_clock();
    let clock = TestClock::new();
    let (mut w, stats) = worker_with_stats(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0])]);
    for t in ["2026-01-02T00:00:00Z", "2026-01-02T00:00:01Z"] {
        clock.set_utc(t);
        w.step().unwrap();
    }
    assert!(published(&cluster).is_empty(), "nothing is due yet");
    // Ten days past the first due date, later by the wall clock only.
    for t in ["2026-02-11T12:00:00Z", "2026-02-11T12:00:01Z"] {
        clock.set_utc(t);
        w.step().unwrap();
    }
    let alerts: Vec<Value> = published(&cluster)
        .iter()
        .map(|(_, m)| serde_json::from_str(m).unwrap_or(Value::Null))
        .collect();
    assert!(
        alerts.iter().any(|a| a["signal"] == "dpd"),
        "no DPD alert: {alerts:?}"
    );
    assert_eq!(stats.applied.load(std::sync::atomic::Ordering::Relaxed), 1);
}

/// Wall-clock mode, restarted after an outage: what fell due while nobody owned the partition
/// is published at the instants it fell due, before anything else, as an uninterrupted run
/// would have — not at the borrower's next DPD band weeks later.
#[test]
fn a_restart_after_an_outage_catches_up_at_the_instants_things_fell_due() {
    let (config, cluster) = one_loan_on_the_wall_clock();
    let clock = TestClock::new();
    {
        let mut w = worker(&config, &cluster, 0, &clock);
        cluster.borrow_mut().rebalance(&[(0, vec![0])]);
        // DPD 1 on Feb 2 (Shanghai): low; committed, then the worker is gone.
        for t in [
            "2026-02-02T12:00:00Z",
            "2026-02-02T12:00:01Z",
            "2026-02-02T12:00:30Z",
        ] {
            clock.set_utc(t);
            w.step().unwrap();
        }
        w.shutdown().unwrap();
    }
    let before = published(&cluster).len();
    assert!(before > 0, "the first run fired nothing");
    // Back six weeks later: DPD 42.
    let mut w = worker(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0])]);
    for t in [
        "2026-03-15T12:00:00Z",
        "2026-03-15T12:00:01Z",
        "2026-03-15T12:00:30Z",
    ] {
        clock.set_utc(t);
        w.step().unwrap();
    }
    w.shutdown().unwrap();
    let after: Vec<String> = published(&cluster)[before..]
        .iter()
        .map(|(_, m)| {
            let v: Value = serde_json::from_str(m).unwrap_or(Value::Null);
            format!(
                "{} {} {}",
                v["message_id"].as_str().unwrap_or(""),
                v["severity"].as_str().unwrap_or(""),
                v["event_time"].as_str().unwrap_or("")
            )
        })
        .filter(|l| l.starts_with("b-1/l-1/dpd/"))
        .collect();
    // Due Feb 1: DPD 7 on Feb 8 (medium), 30 on Mar 3 (high), level 1 24 h and level 2 72 h
    // after it.
    assert_eq!(
        after,
        [
            "b-1/l-1/dpd/1#2 medium 2026-02-08T00:00:00+08:00",
            "b-1/l-1/dpd/1#3 high 2026-03-03T00:00:00+08:00",
            "b-1/l-1/dpd/1/L1 high 2026-03-04T00:00:00+08:00",
            "b-1/l-1/dpd/1/L2 high 2026-03-06T00:00:00+08:00",
        ]
    );
}

mod backpressure;
mod clock_jump;
mod reports;
