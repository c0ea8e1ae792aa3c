//! End-to-end helpers: books on the embedded broker and the comparison with replay.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use postloan_engine::event::EventType;
use postloan_generate::{generate, GenerateOptions};
use postloan_monitor::config::{Config, KafkaConfig, ProcessingGuarantee, Topics};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

pub const PARTITIONS: i32 = 3;

/// Topics of one test, so tests never share data.
pub fn topics(test: &str) -> Topics {
    Topics::prefixed(test)
}

/// A Kafka configuration for tests on the embedded broker.
pub fn kafka(bootstrap: String, group: &str, topics: &Topics) -> KafkaConfig {
    KafkaConfig {
        bootstrap_servers: bootstrap,
        group_id: group.to_owned(),
        processing_guarantee: ProcessingGuarantee::AtLeastOnce,
        session_timeout_ms: 6000,
        // max_task_idle_ms stays at its default: a task never runs ahead of an input that is
        // known to hold unread records, however slow it is to fetch them.
        // Small enough that every end-to-end test pauses and resumes input partitions.
        max_buffered_bytes_per_partition: 4 * 1024,
        topics: topics.clone(),
        // The embedded broker holds a fetch whose partitions have nothing new for the whole
        // wait (500 ms by default), and a partition resumed meanwhile waits behind it: with
        // 4 KiB buffers that would make every refill take half a second.
        properties: [("fetch.wait.max.ms".to_owned(), "10".to_owned())].into(),
        ..KafkaConfig::default()
    }
}

/// `kafka` for monitor `{name}-monitor` under `guarantee`, its own transactional id.
pub fn kafka_for(
    bootstrap: String,
    name: &str,
    topics: &Topics,
    guarantee: ProcessingGuarantee,
) -> KafkaConfig {
    let mut k = kafka(bootstrap, &format!("{name}-monitor"), topics);
    k.processing_guarantee = guarantee;
    k.instance_id = name.to_owned();
    k
}

/// A monitor (event clock) running on a thread of the test process.
pub struct Running {
    /// Its counters.
    pub stats: Arc<postloan_monitor::runtime::worker::WorkerStats>,
    cancel: tokio_util::sync::CancellationToken,
    handle: std::thread::JoinHandle<Result<(), postloan_monitor::runtime::RuntimeError>>,
}

/// Starts a monitor on `kafka` with the event clock.
pub fn start_monitor(kafka: &KafkaConfig) -> Running {
    let stats = Arc::new(postloan_monitor::runtime::worker::WorkerStats::default());
    start_monitor_observed(kafka, Arc::clone(&stats), stats)
}

/// [`start_monitor`] reporting to `observer`, which must count into `stats`.
pub fn start_monitor_observed(
    kafka: &KafkaConfig,
    stats: Arc<postloan_monitor::runtime::worker::WorkerStats>,
    observer: Arc<dyn postloan_monitor::runtime::worker::Observer>,
) -> Running {
    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = postloan_monitor::config::ClockSource::Event;
    let cancel = tokio_util::sync::CancellationToken::new();
    let handle = {
        let cancel = cancel.clone();
        std::thread::spawn(move || postloan_monitor::kafka::service::run(&config, cancel, observer))
    };
    Running {
        stats,
        cancel,
        handle,
    }
}

impl Running {
    /// Stops it (commit, leave the group) and requires a clean stop.
    pub fn stop(self) -> Arc<postloan_monitor::runtime::worker::WorkerStats> {
        self.cancel.cancel();
        self.handle.join().unwrap().unwrap();
        self.stats
    }

    /// Waits up to `within` for it to stop by itself, and returns how it ended.
    pub fn ended(self, within: Duration) -> Result<(), postloan_monitor::runtime::RuntimeError> {
        let deadline = Instant::now() + within;
        while !self.handle.is_finished() {
            assert!(Instant::now() < deadline, "the monitor is still running");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.handle.join().unwrap()
    }
}

/// True when the group's committed offsets reach the end of every input partition.
pub fn all_committed(kafka: &KafkaConfig) -> bool {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.bootstrap_servers)
        .set("group.id", &kafka.group_id)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for t in kafka.topics.inputs() {
        for p in 0..super::kafka::partition_count(&kafka.bootstrap_servers, t) {
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

/// Waits up to `within` for [`all_committed`].
pub fn wait_all_committed(kafka: &KafkaConfig, within: Duration) {
    wait_for("every input committed", within, || all_committed(kafka));
}

/// Waits up to `within` for `done`, naming `what` if it never happens.
pub fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    super::wait_for(what, within.as_secs(), || done().then_some(()));
}

/// A generated book, one event per line.
pub fn book(borrowers: u32, months: u32, seed: u64) -> Vec<String> {
    let opts = GenerateOptions {
        borrowers,
        months,
        seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        bad_ratio: 0.0,
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let mut out = Vec::new();
    generate(&opts, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn topic_index(t: &Topics, line: &str) -> usize {
    let v: Value = serde_json::from_str(line).unwrap();
    let et = EventType::parse(v["type"].as_str().unwrap()).unwrap();
    let name = t.for_event(et);
    t.inputs().iter().position(|x| *x == name).unwrap()
}

pub fn occurred(line: &str) -> DateTime<Utc> {
    let v: Value = serde_json::from_str(line).unwrap();
    DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The lines with each topic in its own time order and the topics interleaved at random.
pub fn interleaved(lines: &[String], topics: &Topics, seed: u64) -> Vec<String> {
    let mut per_topic: Vec<Vec<&String>> = vec![Vec::new(); 5];
    for l in lines {
        per_topic[topic_index(topics, l)].push(l);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = per_topic
        .iter()
        .enumerate()
        .flat_map(|(i, v)| std::iter::repeat_n(i, v.len()))
        .collect();
    order.shuffle(&mut rng);
    let mut cursors = [0usize; 5];
    order
        .into_iter()
        .map(|i| {
            cursors[i] += 1;
            per_topic[i][cursors[i] - 1].clone()
        })
        .collect()
}

/// Messages grouped by (borrower, is escalation), each group in order; rejection sources
/// (which name a file line or a Kafka offset) are blanked.
pub type ByBorrower = BTreeMap<(String, bool), Vec<String>>;

fn group(msgs: impl IntoIterator<Item = String>, cutoff: DateTime<Utc>) -> ByBorrower {
    let mut by = ByBorrower::new();
    for m in msgs {
        let mut v: Value = serde_json::from_str(&m).unwrap();
        let t = v["event_time"]
            .as_str()
            .map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc));
        if t.is_some_and(|t| t > cutoff) {
            continue;
        }
        if v["kind"] == "rejected" {
            v["source"] = Value::Null;
            v["message_id"] = Value::Null;
        }
        let borrower = v["borrower_id"]
            .as_str()
            .or(v["key"].as_str())
            .unwrap_or("")
            .to_owned();
        let esc = v["kind"] == "escalation";
        by.entry((borrower, esc)).or_default().push(v.to_string());
    }
    by
}

/// What `replay` publishes for the same events in the order a task applies them.
pub fn expected(
    config: &Config,
    lines: &[String],
    topics: &Topics,
    cutoff: DateTime<Utc>,
) -> ByBorrower {
    let mut merged: Vec<(DateTime<Utc>, usize, usize, &String)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (occurred(l), topic_index(topics, l), i, l))
        .collect();
    merged.sort();
    let input: String = merged.iter().map(|(_, _, _, l)| format!("{l}\n")).collect();
    let settings = Arc::new(config.engine_settings());
    let mut out = Vec::new();
    postloan_monitor::replay::replay(
        settings,
        &mut input.as_bytes(),
        "book",
        None,
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    group(
        String::from_utf8(out).unwrap().lines().map(str::to_owned),
        cutoff,
    )
}

/// Each partition's stream time stops at its own last event: the instant up to which every
/// partition has seen everything.
pub fn cutoff(bootstrap: &str, topics: &Topics) -> DateTime<Utc> {
    let mut end: HashMap<i32, DateTime<Utc>> = HashMap::new();
    for t in topics.inputs() {
        for (p, _, _, payload) in super::kafka::read_all(bootstrap, t) {
            let e = end.entry(p).or_insert(DateTime::<Utc>::MIN_UTC);
            *e = (*e).max(occurred(&payload));
        }
    }
    end.values().min().copied().unwrap()
}

/// What the output topics hold, deduplicated by `message_id` (first copy kept), and how many
/// duplicates were dropped.
pub fn published(bootstrap: &str, topics: &Topics, cutoff: DateTime<Utc>) -> (ByBorrower, usize) {
    let (by, duplicates) = published_by_kind(bootstrap, topics, cutoff);
    (by, duplicates.values().sum())
}

/// [`published`] with the duplicates counted by output topic (`alerts`, `escalations`,
/// `rejected`). Every duplicate must repeat its first copy byte for byte: a `message_id`
/// published twice with different content would be an invented message.
pub fn published_by_kind(
    bootstrap: &str,
    topics: &Topics,
    cutoff: DateTime<Utc>,
) -> (ByBorrower, BTreeMap<&'static str, usize>) {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut msgs = Vec::new();
    let mut duplicates = BTreeMap::new();
    for (kind, t) in [
        ("alerts", &topics.alerts),
        ("escalations", &topics.escalations),
        ("rejected", &topics.rejected),
    ] {
        let n = duplicates.entry(kind).or_insert(0);
        // Each output partition is in publish order; a borrower's messages share a partition.
        let mut all = super::kafka::read_all(bootstrap, t);
        all.sort_by_key(|(p, o, _, _)| (*p, *o));
        for (_, _, _, m) in all {
            let v: Value = serde_json::from_str(&m).unwrap();
            let id = v["message_id"].as_str().unwrap_or("").to_owned();
            match seen.get(&id) {
                None => {
                    seen.insert(id, m.clone());
                    msgs.push(m);
                }
                Some(first) => {
                    assert_eq!(first, &m, "message_id {id} published with other content");
                    *n += 1;
                }
            }
        }
    }
    (group(msgs, cutoff), duplicates)
}

/// Asserts equality borrower by borrower; returns how many messages were compared.
pub fn assert_same(got: &ByBorrower, want: &ByBorrower) -> usize {
    for (k, w) in want {
        assert_eq!(got.get(k), Some(w), "messages of {k:?} differ");
    }
    assert_eq!(
        got.len(),
        want.len(),
        "a borrower has messages the replay does not"
    );
    want.values().map(Vec::len).sum()
}

/// Produces the whole book (topics interleaved at random, each in time order) before any
/// monitor starts: equality with replay holds for complete inputs.
pub fn produce_book(kafka: &KafkaConfig, lines: &[String], topics: &Topics, seed: u64) {
    let text = interleaved(lines, topics, seed).join("\n");
    postloan_monitor::kafka::input_feed::produce(
        kafka,
        &mut text.as_bytes(),
        "book",
        std::time::Duration::from_secs(60),
    )
    .unwrap();
}

/// Compares what the output topics hold (deduplicated) with replay in the event clock; returns
/// (messages compared, duplicates dropped).
pub fn assert_equals_replay(
    kafka: &KafkaConfig,
    lines: &[String],
    topics: &Topics,
) -> (usize, usize) {
    let (compared, duplicates) = assert_equals_replay_by_kind(kafka, lines, topics);
    (compared, duplicates.values().sum())
}

/// [`assert_equals_replay`] with the duplicates counted by output topic.
pub fn assert_equals_replay_by_kind(
    kafka: &KafkaConfig,
    lines: &[String],
    topics: &Topics,
) -> (usize, BTreeMap<&'static str, usize>) {
    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = postloan_monitor::config::ClockSource::Event;
    let cutoff = cutoff(&kafka.bootstrap_servers, topics);
    let want = expected(&config, lines, topics, cutoff);
    let (got, duplicates) = published_by_kind(&kafka.bootstrap_servers, topics, cutoff);
    (assert_same(&got, &want), duplicates)
}
