//! The monitor on the embedded broker: what it publishes equals what `replay` produces for the
//! same events in the same (merge) order.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use postloan_monitor::config::{ClockSource, Config, KafkaConfig, ProcessingGuarantee, Topics};
use postloan_monitor::engine::event::EventType;
use postloan_monitor::engine::Settings;
use postloan_monitor::generate::{generate, GenerateOptions};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::produce::produce;
use postloan_monitor::runtime::worker::{self, WorkerStats};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const PARTITIONS: i32 = 3;

/// Topics of one test, so tests never share data.
fn topics(test: &str) -> Topics {
    let t = |name: &str| format!("{test}.{name}");
    Topics {
        lifecycle: t("lifecycle"),
        repayments: t("repayments"),
        income: t("income"),
        valuations: t("valuations"),
        acks: t("acks"),
        alerts: t("alerts"),
        escalations: t("escalations"),
        rejected: t("rejected"),
        changelog: t("changelog"),
    }
}

fn book(borrowers: u32, months: u32, seed: u64) -> Vec<String> {
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

fn topic_index(t: &Topics, line: &str) -> usize {
    let v: Value = serde_json::from_str(line).unwrap();
    let et = EventType::parse(v["type"].as_str().unwrap()).unwrap();
    let name = t.for_event(et);
    t.inputs().iter().position(|x| *x == name).unwrap()
}

fn occurred(line: &str) -> DateTime<Utc> {
    let v: Value = serde_json::from_str(line).unwrap();
    DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// A message without the parts that name where its input came from.
fn normalised(m: &str) -> (String, String) {
    let mut v: Value = serde_json::from_str(m).unwrap();
    if v["kind"] == "rejected" {
        v["source"] = Value::Null;
        v["message_id"] = Value::Null;
    }
    let borrower = v["borrower_id"]
        .as_str()
        .or(v["key"].as_str())
        .unwrap_or("")
        .to_owned();
    (borrower, v.to_string())
}

#[test]
fn event_clock_run_equals_replay_per_borrower() {
    let topics = topics("e2e");
    let broker = EmbeddedBroker::start(1, PARTITIONS, &topics).unwrap();
    let lines = book(60, 8, 11);

    // Each topic in its own time order, the topics interleaved at random.
    let mut per_topic: Vec<Vec<&String>> = vec![Vec::new(); 5];
    for l in &lines {
        per_topic[topic_index(&topics, l)].push(l);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut order: Vec<usize> = per_topic
        .iter()
        .enumerate()
        .flat_map(|(i, v)| std::iter::repeat_n(i, v.len()))
        .collect();
    order.shuffle(&mut rng);
    let mut cursors = [0usize; 5];
    let mut shuffled = String::new();
    for i in order {
        shuffled.push_str(per_topic[i][cursors[i]]);
        shuffled.push('\n');
        cursors[i] += 1;
    }
    let kafka = KafkaConfig {
        bootstrap_servers: broker.bootstrap_servers(),
        group_id: "e2e-monitor".to_owned(),
        processing_guarantee: ProcessingGuarantee::AtLeastOnce,
        session_timeout_ms: 6000,
        topics: topics.clone(),
        ..KafkaConfig::default()
    };
    produce(
        &kafka,
        &mut shuffled.as_bytes(),
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

    // Replay the same events in the order a task applies them: occurred_at, topic, offset.
    let mut merged: Vec<(DateTime<Utc>, usize, usize, &String)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (occurred(l), topic_index(&topics, l), i, l))
        .collect();
    merged.sort();
    let replay_input: String = merged.iter().map(|(_, _, _, l)| format!("{l}\n")).collect();
    let settings = Arc::new(Settings::from_config(&config));
    let mut replayed = Vec::new();
    postloan_monitor::replay::replay(
        settings,
        &mut replay_input.as_bytes(),
        "book",
        None,
        &mut replayed,
        &mut |_| {},
    )
    .unwrap();

    // Each partition's stream time stops at its own last event, replay's at the book's last:
    // compare what both have seen, i.e. up to the earliest partition's stream time.
    let mut partition_end: HashMap<i32, DateTime<Utc>> = HashMap::new();
    for t in topics.inputs() {
        for (p, _, _, payload) in common::kafka::read_topic(&kafka.bootstrap_servers, t, PARTITIONS)
        {
            let e = partition_end.entry(p).or_insert(DateTime::<Utc>::MIN_UTC);
            *e = (*e).max(occurred(&payload));
        }
    }
    let cutoff = partition_end.values().min().copied().unwrap();
    let seen_by_both = |m: &str| {
        let v: Value = serde_json::from_str(m).unwrap();
        let t = v["event_time"]
            .as_str()
            .map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc));
        t.is_none_or(|t| t <= cutoff)
    };
    let group = |msgs: Vec<String>| {
        let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in msgs.into_iter().filter(|m| seen_by_both(m)) {
            let (b, v) = normalised(&m);
            by.entry(b).or_default().push(v);
        }
        by
    };
    let from_replay = group(
        String::from_utf8(replayed)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    );
    let mut from_kafka_msgs = Vec::new();
    for t in topics.outputs() {
        // Each output partition is in publish order; a borrower's messages share one partition.
        let mut msgs = common::kafka::read_topic(&kafka.bootstrap_servers, t, PARTITIONS);
        msgs.sort_by_key(|(p, o, _, _)| (*p, *o));
        from_kafka_msgs.extend(msgs.into_iter().map(|(_, _, _, v)| v));
    }
    // Alerts and escalations of one borrower live on two topics: order within each kind.
    let split = |by: BTreeMap<String, Vec<String>>| -> BTreeMap<(String, bool), Vec<String>> {
        let mut out: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
        for (b, msgs) in by {
            for m in msgs {
                let esc = m.contains("\"kind\":\"escalation\"");
                out.entry((b.clone(), esc)).or_default().push(m);
            }
        }
        out
    };
    let from_kafka = split(group(from_kafka_msgs));
    let from_replay = split(from_replay);
    let total: usize = from_replay.values().map(Vec::len).sum();
    assert!(
        total > 20,
        "the book should produce plenty of messages, got {total}"
    );
    assert_eq!(from_kafka.len(), from_replay.len());
    for (k, want) in &from_replay {
        assert_eq!(from_kafka.get(k), Some(want), "messages of {k:?} differ");
    }
    eprintln!(
        "compared {total} messages up to {cutoff}; worker published {}",
        stats.published.load(Ordering::Relaxed)
    );
    drop(broker);
}
