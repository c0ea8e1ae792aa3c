//! Dirty input on the embedded broker (issue 25): the monitor, streaming with the event clock,
//! rejects a far-future line, a line dated before its loan and a conflicting duplicate — each
//! exactly once — and publishes every other message exactly as `replay` of the book without them.
//! And a feed restarting after a 40-day gap is applied while a typo in the middle is rejected.

mod common;

use std::time::{Duration, Instant};

use common::e2e;
use postloan_monitor::config::{ClockSource, Config, ProcessingGuarantee};
use postloan_monitor::kafka::broker::EmbeddedBroker;
use postloan_monitor::kafka::input_feed::produce;
use serde_json::{json, Value};

/// Produces `lines` (topics interleaved, each in its line order), runs the monitor until it has
/// taken every one, and returns what it published (and the broker, still up).
fn run(
    name: &str,
    lines: &[String],
) -> (
    EmbeddedBroker,
    postloan_monitor::config::KafkaConfig,
    e2e::ByBorrower,
) {
    let topics = e2e::topics(name);
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let kafka = e2e::kafka_for(
        broker.bootstrap_servers(),
        name,
        &topics,
        ProcessingGuarantee::ExactlyOnce,
    );
    let input = e2e::interleaved(lines, &topics, 3).join("\n");
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
    assert_eq!(stats.inputs(), lines.len() as u64, "every input taken");
    let cutoff = e2e::cutoff(&kafka.bootstrap_servers, &topics);
    let (got, _) = e2e::published(&kafka.bootstrap_servers, &topics, cutoff);
    (broker, kafka, got)
}

/// Takes out of `got` the rejections of `bad` lines; returns their error kinds, in `bad`'s order.
fn take_rejections(got: &mut e2e::ByBorrower, bad: &[String]) -> Vec<String> {
    let mut kinds = vec![String::new(); bad.len()];
    for msgs in got.values_mut() {
        msgs.retain(|m| {
            let v: Value = serde_json::from_str(m).unwrap();
            let Some(i) = bad.iter().position(|b| v["payload"] == b.as_str()) else {
                return true;
            };
            assert!(kinds[i].is_empty(), "{} rejected twice", bad[i]);
            kinds[i] = v["error_kind"].as_str().unwrap().to_owned();
            false
        });
    }
    got.retain(|_, msgs| !msgs.is_empty());
    kinds
}

#[test]
fn one_bad_line_of_each_kind_is_rejected_once_and_changes_nothing_else() {
    let base = e2e::book(60, 8, 13);
    let find = |ty: &str, from: usize| {
        (from..base.len())
            .find(|&i| base[i].contains(&format!("\"type\":\"{ty}\"")))
            .unwrap()
    };
    // A far-future copy of an income line, a repayment dated 1990, and an income re-sent
    // under its own event_id with another amount, right after the original.
    let mut future: Value = serde_json::from_str(&base[find("income", base.len() / 3)]).unwrap();
    let t = future["occurred_at"].as_str().unwrap().to_owned();
    future["occurred_at"] = json!(format!("2095{}", &t[4..]));
    future["event_id"] = json!("typo-1");
    let mut early: Value = serde_json::from_str(&base[find("repayment", base.len() / 2)]).unwrap();
    early["occurred_at"] = json!("1990-01-01T10:00:00+08:00");
    early["event_id"] = json!("early-1");
    early["payment_id"] = json!("early-1");
    let original = find("income", 2 * base.len() / 3);
    let mut conflict: Value = serde_json::from_str(&base[original]).unwrap();
    conflict["monthly_income"] = json!("1.00");
    let bad = [future.to_string(), early.to_string(), conflict.to_string()];
    let mut lines = base.clone();
    lines.insert(original + 1, bad[2].clone());
    lines.insert(base.len() / 2, bad[1].clone());
    lines.insert(base.len() / 3 + 7, bad[0].clone());

    let (_broker, kafka, mut got) = run("dirty-each", &lines);
    let kinds = take_rejections(&mut got, &bad);
    assert_eq!(kinds[0], "implausible_time");
    assert!(
        kinds[1] == "implausible_time" || kinds[1] == "unknown_loan",
        "{}",
        kinds[1]
    );
    assert_eq!(kinds[2], "conflicting_duplicate");

    let mut config = Config {
        kafka: kafka.clone(),
        ..Config::default()
    };
    config.clock.mode = ClockSource::Event;
    let cutoff = e2e::cutoff(&kafka.bootstrap_servers, &kafka.topics);
    let want = e2e::expected(&config, &base, &kafka.topics, cutoff);
    let compared = e2e::assert_same(&got, &want);
    assert!(compared > 100, "compared only {compared}");
}

#[test]
fn a_feed_restart_after_a_gap_is_applied_and_a_typo_in_it_rejected() {
    let typo = json!({"event_id":"typo","type":"income","borrower_id":"G1","occurred_at":"2095-02-20T10:00:00+08:00","monthly_income":"1","currency":"CNY","source":"payroll"}).to_string();
    let mut lines = Vec::new();
    for b in ["G1", "G2", "G3", "G4"] {
        lines.push(json!({"event_id":format!("{b}-o"),"type":"loan_opened","borrower_id":b,"occurred_at":"2025-01-05T10:00:00+08:00","loan_id":"L1","principal":"60000.00","currency":"CNY","annual_rate":"0.06","term_months":24,"first_due_date":"2025-02-10","installment_amount":"2659.24","collateral_value":"150000.00"}).to_string());
        for (n, day) in [
            "2025-02-10",
            "2025-02-15",
            "2025-02-25",
            "2025-03-01",
            "2025-04-10",
            "2025-04-11",
            "2025-04-12",
        ]
        .iter()
        .enumerate()
        {
            lines.push(json!({"event_id":format!("{b}-i{n}"),"type":"income","borrower_id":b,"occurred_at":format!("{day}T11:00:00+08:00"),"monthly_income":"20000","currency":"CNY","source":"payroll"}).to_string());
            if b == "G1" && n == 1 {
                lines.push(typo.clone());
            }
        }
    }
    let (_broker, _, mut got) = run("dirty-gap", &lines);
    let kinds = take_rejections(&mut got, std::slice::from_ref(&typo));
    assert_eq!(kinds, ["implausible_time"]);
    let all: Vec<&String> = got.values().flatten().collect();
    assert!(
        all.iter().all(|m| !m.contains("\"kind\":\"rejected\"")),
        "only the typo is rejected: {all:?}"
    );
    // Every borrower's March installment went unpaid in the gap: the restart fires its DPD.
    for b in ["G1", "G2", "G3", "G4"] {
        assert!(
            all.iter()
                .any(|m| m.contains(&format!("\"alert_id\":\"{b}/L1/dpd/1\""))),
            "{b} has no DPD alert: {all:?}"
        );
    }
}
