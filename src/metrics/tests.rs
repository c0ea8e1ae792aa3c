//! The exposition: names, help, label values, and what the observer events add up to.

use super::*;
use crate::engine::testkit::{self, Kit};
use crate::runtime::task::Processed;

/// Work with applied, duplicate and rejected inputs, alerts and escalations, for a borrower and
/// loan whose ids must never show up in a label.
fn work() -> (Work, usize) {
    let mut kit = Kit::new();
    let mut work = Work::default();
    let loan = testkit::loan(
        "B-SECRET-7",
        "L-SECRET-7",
        "2026-01-01T00:00:00Z",
        "2026-02-01",
    );
    let now = testkit::at("2026-01-01T00:00:30Z");
    let opened = Some(testkit::at("2026-01-01T00:00:00Z"));
    let processed = |outcome, occurred_at| Processed {
        outcome,
        occurred_at,
        received_ms: 100,
    };
    work.processed(&processed(kit.send(loan.clone()), opened), now);
    let mut again = loan;
    again["event_id"] = "auto-1".into();
    work.processed(&processed(kit.send(again), opened), now);
    work.processed(
        &processed(kit.raw(b"{\"borrower_id\":\"B-SECRET-7\"}"), None),
        now,
    );
    work.commit_at(350);
    kit.advance("2026-05-01T00:00:00Z");
    for o in &kit.out {
        work.output(o);
    }
    (work, kit.out.len())
}

fn exposition() -> String {
    let m = Metrics::new().unwrap();
    let (w, _) = work();
    m.committed(&w, 12);
    m.restored(
        0,
        &Restored {
            records: 3,
            borrowers: 2,
            discarded: 0,
        },
        40,
    );
    m.assignment(&[0, 1, 2], true);
    m.lag("loans.repayments", 1, 42);
    m.aborted();
    m.encode().unwrap()
}

#[test]
fn observed_work_appears_under_its_labels() {
    let text = exposition();
    for line in [
        "postloan_events_total{outcome=\"applied\",type=\"loan_opened\"} 1",
        "postloan_events_total{outcome=\"duplicate\",type=\"loan_opened\"} 1",
        "postloan_rejections_total{error_kind=\"missing_field\"} 1",
        "postloan_commits_total 1",
        "postloan_transactions_aborted_total 1",
        "postloan_restored_borrowers_total 2",
        "postloan_assigned_partitions 3",
        "postloan_ready 1",
        "postloan_commit_duration_seconds_count 1",
        "postloan_restore_duration_seconds_sum 0.04",
        "postloan_consumer_lag_records{partition=\"1\",topic=\"loans.repayments\"} 42",
        "postloan_event_age_seconds_count 2",
        "postloan_processing_latency_seconds_count 3",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        text.contains("postloan_alerts_total{severity=\"low\",signal=\"dpd\",status=\"firing\"} 1")
    );
    assert!(
        text.contains("postloan_escalations_total{level=\"2\"}"),
        "{text}"
    );
}

#[test]
fn published_alerts_add_up_to_the_messages() {
    let m = Metrics::new().unwrap();
    let (w, messages) = work();
    m.committed(&w, 1);
    let text = m.encode().unwrap();
    let sum = |name: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    let total = sum("postloan_alerts_total{")
        + sum("postloan_escalations_total{")
        + sum("postloan_rejections_total{");
    assert_eq!(total, messages as u64);
}

#[test]
fn every_metric_is_named_by_convention_and_has_help() {
    let text = exposition();
    let types: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    assert!(types.len() >= 11, "{types:?}");
    for (name, kind) in types {
        assert!(name.starts_with("postloan_"), "{name}");
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{name}"
        );
        assert_eq!(
            kind == "counter",
            name.ends_with("_total"),
            "{name} is a {kind}"
        );
        let help = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# HELP {name} ")))
            .unwrap_or("");
        assert!(help.len() > 20, "{name} has no real help text");
    }
}

#[test]
fn no_label_value_carries_an_id() {
    let text = exposition();
    assert!(
        !text.contains("SECRET"),
        "an id leaked into a label:\n{text}"
    );
}

#[test]
fn readiness_follows_the_assignment() {
    let m = Metrics::new().unwrap();
    assert!(!m.is_ready());
    m.assignment(&[0, 1], true);
    assert!(m.is_ready());
    m.lag("t", 1, 5);
    assert!(m
        .encode()
        .unwrap()
        .contains("postloan_consumer_lag_records{"));
    m.assignment(&[0], false);
    assert!(!m.is_ready());
    // The partition moved away: its lag series goes with it.
    assert!(!m
        .encode()
        .unwrap()
        .contains("postloan_consumer_lag_records{"));
}
