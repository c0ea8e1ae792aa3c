//! Helpers of tests/notify_alertmanager.rs: what the monitor's messages leave open, `notify`
//! on a thread, the checks every scenario ends with and the figures they print.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postloan_engine::output::AlertStatus;
use postloan_engine::wire;
use postloan_monitor::config::{Config, KafkaConfig, ProcessingGuarantee, Topics};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::input_feed::produce;
use postloan_monitor::notify::book::{Book, Escalation};
use postloan_monitor::notify::worker::{NotifyError, NotifyObserver, Topic};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, TopicPartitionList};

use super::alertmanager::{Alertmanager, Delivery, Receiver};
use super::e2e;
use super::kafka::read_all;

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plm-notify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The notices the monitor's messages on `topics` give: escalation id → (labels that route
/// it, open at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub level: u8,
    pub branch: Option<String>,
    pub alert_id: String,
    pub open: bool,
}

pub fn expected(bootstrap: &str, topics: &Topics) -> BTreeMap<String, Expected> {
    // The book's result does not depend on the order the two topics are read in
    // (src/notify/book/tests.rs), so escalations first, then alerts.
    let mut book = Book::default();
    for (_, _, _, payload) in read_all(bootstrap, &topics.escalations) {
        book.escalation(Escalation::from_json(payload.as_bytes()).expect("escalation"));
    }
    for (_, _, _, payload) in read_all(bootstrap, &topics.alerts) {
        book.alert(wire::alert(payload.as_bytes()).expect("alert"));
    }
    book.notices()
        .map(|n| {
            let e = &n.escalation;
            (
                e.escalation_id.clone(),
                Expected {
                    level: e.level,
                    branch: e.branch_id.clone(),
                    alert_id: e.alert_id.clone(),
                    open: n.ended.is_none(),
                },
            )
        })
        .collect()
}

/// The receiver the shipped tree names (config/alertmanager/README.md).
pub fn receiver_for(level: &str, branch: Option<&str>) -> &'static str {
    match (level, branch) {
        ("2", _) => "risk-head",
        (_, Some("SH01")) => "team-lead-SH01",
        (_, Some("BR01")) => "team-lead-BR01",
        _ => "team-lead-default",
    }
}

/// A notice Alertmanager inhibits: level 1 while level 2 of the same alert is open.
pub fn inhibited(id: &str, want: &BTreeMap<String, Expected>) -> bool {
    let e = &want[id];
    e.level == 1
        && want
            .values()
            .any(|o| o.level == 2 && o.open && o.alert_id == e.alert_id)
}

/// What notify reports, for the test to know when it is done and what failed.
#[derive(Default)]
pub struct Seen {
    pub pending: AtomicUsize,
    pub failures: Mutex<BTreeMap<String, u64>>,
}

impl NotifyObserver for Seen {
    fn notice_sent(&self, _: u8) {}
    fn notice_ended(&self, _: AlertStatus) {}
    fn delivery_failed(&self, reason: &str) {
        if let Ok(mut f) = self.failures.lock() {
            *f.entry(reason.to_owned()).or_default() += 1;
        }
    }
    fn delivered(&self, _: DateTime<Utc>) {}
    fn queue(&self, pending: usize, _: usize) {
        self.pending.store(pending, Ordering::SeqCst);
    }
    fn bad_record(&self, _: Topic) {
        panic!("the monitor wrote a record notify cannot read");
    }
    fn ready(&self, _: bool) {}
}

pub fn notify_config(kafka: &KafkaConfig, name: &str, am: &str) -> Config {
    let mut c = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    c.notify.alertmanager_urls = vec![am.to_owned()];
    c.notify.group_id = format!("{name}-notify");
    c.notify.state_topic = format!("{name}.notify-state");
    c.notify.resend_interval_ms = 2_000;
    c.notify.firing_lease_ms = 120_000;
    c.notify.retry_initial_backoff_ms = 200;
    c.notify.retry_max_backoff_ms = 2_000;
    c.notify.listen = "127.0.0.1:0".to_owned();
    c
}

/// `notify` on a thread of the test process.
pub struct Notify {
    cancel: tokio_util::sync::CancellationToken,
    thread: std::thread::JoinHandle<Result<(), NotifyError>>,
    pub seen: Arc<Seen>,
    _runtime: tokio::runtime::Runtime,
}

impl Notify {
    pub fn start(config: Config) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime.handle().clone();
        let cancel = tokio_util::sync::CancellationToken::new();
        let seen = Arc::new(Seen::default());
        let thread = {
            let (cancel, seen) = (cancel.clone(), Arc::clone(&seen));
            std::thread::spawn(move || {
                postloan_monitor::notify::service::run(&config, cancel, seen, handle)
            })
        };
        Notify {
            cancel,
            thread,
            seen,
            _runtime: runtime,
        }
    }

    pub fn stop(self) -> Arc<Seen> {
        self.cancel.cancel();
        self.thread
            .join()
            .expect("notify thread")
            .expect("notify stops cleanly");
        self.seen
    }
}

/// Whether `group` has committed every record of `topics`.
pub fn committed_to_end(bootstrap: &str, group: &str, topics: &[&str]) -> bool {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for t in topics {
        for p in 0..e2e::PARTITIONS {
            tpl.add_partition(t, p);
        }
    }
    let Ok(committed) = consumer.committed_offsets(tpl, Duration::from_secs(10)) else {
        return false;
    };
    committed.elements().iter().all(|e| {
        let (_, high) = consumer
            .fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(10))
            .unwrap_or((0, i64::MAX));
        match e.offset() {
            rdkafka::Offset::Offset(o) => o >= high,
            _ => high == 0,
        }
    })
}

pub fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// (escalation id, status) → how many deliveries carried it, per receiver.
pub fn carried(deliveries: &[Delivery]) -> BTreeMap<(String, String, String), usize> {
    let mut out = BTreeMap::new();
    for d in deliveries {
        for (labels, status) in &d.alerts {
            let id = labels.get("escalation_id").cloned().unwrap_or_default();
            *out.entry((d.receiver.clone(), id, status.clone()))
                .or_default() += 1;
        }
    }
    out
}

/// The checks every scenario ends with: Alertmanager holds exactly the open notices (level 1
/// inhibited where level 2 of its alert is open), every delivery went where the tree says,
/// every open notice Alertmanager does not inhibit reached its receiver, and no open notice
/// was ever delivered resolved. Returns the deliveries.
pub fn assert_delivered(
    am: &Alertmanager,
    receiver: &Receiver,
    want: &BTreeMap<String, Expected>,
) -> Vec<Delivery> {
    let open: BTreeSet<String> = want
        .iter()
        .filter(|(_, e)| e.open)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(!open.is_empty(), "the book leaves no escalation open");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held: BTreeSet<String> = am.escalations().into_keys().collect();
        if held == open {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Alertmanager holds {} notices, {} are open; held but not open: {:?}; open but not held: {:?}",
            held.len(),
            open.len(),
            held.difference(&open).take(5).collect::<Vec<_>>(),
            open.difference(&held).take(5).collect::<Vec<_>>(),
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for (id, (state, is_inhibited)) in am.escalations() {
        assert_eq!(is_inhibited, inhibited(&id, want), "{id}: {state}");
    }
    let reaches: BTreeSet<(String, String)> = open
        .iter()
        .filter(|id| !inhibited(id, want))
        .map(|id| {
            let e = &want[id];
            (
                receiver_for(&e.level.to_string(), e.branch.as_deref()).to_owned(),
                id.clone(),
            )
        })
        .collect();
    wait_for(
        "every open notice at its receiver",
        Duration::from_secs(60),
        || {
            let got: BTreeSet<(String, String)> = carried(&receiver.deliveries())
                .into_keys()
                .filter(|(_, _, status)| status == "firing")
                .map(|(r, id, _)| (r, id))
                .collect();
            reaches.is_subset(&got)
        },
    );
    let deliveries = receiver.deliveries();
    for d in &deliveries {
        for (labels, status) in &d.alerts {
            let id = &labels["escalation_id"];
            let level = labels.get("level").map_or("", String::as_str);
            let branch = labels.get("branch_id").map(String::as_str);
            assert_eq!(
                d.receiver,
                receiver_for(level, branch),
                "{id} went to {}",
                d.receiver
            );
            assert!(
                !(status == "resolved" && want[id].open),
                "{id} is open but was delivered resolved"
            );
        }
    }
    deliveries
}

/// One `FIGURES` line (RELIABILITY.md quotes them): notices the monitor's messages give, open
/// at the end, those that had to reach a receiver and did, and the alert entries webhooks
/// carried more than once (Alertmanager re-lists a group's alerts in each notification of
/// the group, and a restarted Alertmanager notifies again).
pub fn figures(scenario: &str, want: &BTreeMap<String, Expected>, deliveries: &[Delivery]) {
    let open: Vec<&String> = want
        .iter()
        .filter(|(_, e)| e.open)
        .map(|(id, _)| id)
        .collect();
    let due: Vec<&&String> = open.iter().filter(|id| !inhibited(id, want)).collect();
    let carried = carried(deliveries);
    let reached = due
        .iter()
        .filter(|id| carried.keys().any(|(_, i, s)| i == ***id && s == "firing"))
        .count();
    let repeats: usize = carried.values().map(|n| n - 1).sum();
    eprintln!(
        "FIGURES {scenario}: {} notices, {} open at the end, {reached} of {} due at a receiver reached it; {} webhook deliveries, {} alert entries, {repeats} repeated",
        want.len(),
        open.len(),
        due.len(),
        deliveries.len(),
        carried.values().sum::<usize>(),
    );
}

pub fn book_on_broker(
    name: &str,
    borrowers: u32,
    seed: u64,
) -> (EmbeddedBroker, Topics, KafkaConfig, usize) {
    let topics = e2e::topics(name);
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).expect("broker");
    broker
        .create_topic(&format!("{name}.notify-state"), e2e::PARTITIONS)
        .expect("state topic");
    // 20 months from 2025-01: the book ends before the wall clock, as a real one does (notices
    // of a book running into the future would stay open in Alertmanager until their time).
    let lines = e2e::book(borrowers, 20, seed);
    let kafka = e2e::kafka_for(
        broker.bootstrap_servers(),
        name,
        &topics,
        ProcessingGuarantee::AtLeastOnce,
    );
    let input = e2e::interleaved(&lines, &topics, seed).join("\n");
    produce(
        &kafka,
        &mut input.as_bytes(),
        "book",
        Duration::from_secs(60),
    )
    .expect("produce");
    (broker, topics, kafka, lines.len())
}

pub fn run_monitor(kafka: &KafkaConfig, inputs: usize) {
    let monitor = e2e::start_monitor(kafka);
    wait_for(
        "the monitor to read the book",
        Duration::from_secs(300),
        || monitor.stats.inputs() >= inputs as u64,
    );
    monitor.stop();
}

pub fn settle(kafka: &KafkaConfig, topics: &Topics, group: &str, seen: &Seen) {
    wait_for(
        "notify to commit everything and deliver it",
        Duration::from_secs(120),
        || {
            committed_to_end(
                &kafka.bootstrap_servers,
                group,
                &[&topics.alerts, &topics.escalations],
            ) && seen.pending.load(Ordering::SeqCst) == 0
        },
    );
}

/// Each escalation's record timestamp (when the monitor produced it; the monitor's
/// producer stamps records with their creation time), by escalation id.
pub fn produced_at(bootstrap: &str, topic: &str) -> BTreeMap<String, std::time::SystemTime> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("{topic}-timestamps"))
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..e2e::PARTITIONS {
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = BTreeMap::new();
    let mut ended = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while ended < e2e::PARTITIONS && Instant::now() < deadline {
        use rdkafka::message::Message as _;
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let (Ok(e), Some(ms)) = (
                    wire::escalation(m.payload().unwrap_or_default()),
                    m.timestamp().to_millis(),
                ) else {
                    continue;
                };
                let at =
                    std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
                out.insert(e.escalation_id, at);
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => ended += 1,
            _ => {}
        }
    }
    out
}

/// The `p`-th percentile (nearest rank) of `v`, sorted.
pub fn percentile(v: &[Duration], p: usize) -> Duration {
    v.get((v.len() * p).div_ceil(100).max(1) - 1)
        .copied()
        .unwrap_or_default()
}
