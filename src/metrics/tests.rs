//! The exposition: names, help, label values, and what the observer events add up to.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::*;
use crate::runtime::task::Processed;
use postloan_engine::event::Currency;
use postloan_engine::portfolio::{BookKey, Class, DpdBucket, Exposure};
use postloan_engine::testkit::{self, Kit};

/// Work with applied, duplicate and rejected inputs, alerts, escalations, a 30→60 roll and an
/// acknowledgement, for a borrower and loan whose ids must never show up in a label; and the
/// engine's portfolio after it.
fn work_and_book() -> (Work, usize, Portfolio) {
    let mut kit = Kit::new();
    kit.engine.record_notes();
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
        input: 0,
        partition: 0,
        offset: 0,
        outcome,
        late_by: None,
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
    kit.send(testkit::ack(
        "B-SECRET-7",
        "2026-05-01T01:00:00Z",
        "B-SECRET-7/L-SECRET-7/dpd/1",
    ));
    // A holiday from 2099 on moves no installment, but is a modification all the same; the
    // hardship suppression pauses the stale-income alert (no income since Jan 1 + 120 days).
    kit.send(
        serde_json::json!({"event_id": "m-1", "type": "loan_modified",
        "borrower_id": "B-SECRET-7", "occurred_at": "2026-05-01T02:00:00Z",
        "loan_id": "L-SECRET-7", "kind": "deferral", "effective_date": "2099-01-01",
        "months": 2}),
    );
    kit.send(serde_json::json!({"event_id": "s-1", "type": "suppression",
        "borrower_id": "B-SECRET-7", "occurred_at": "2026-05-01T03:00:00Z",
        "suppression_id": "S-SECRET-7", "signals": ["stale_income"], "until": "2026-06-30",
        "reason": "hardship", "granted_by": "risk-1"}));
    // A second loan, opened and charged off before anything fell due.
    let mut second = testkit::loan(
        "B-SECRET-7",
        "L-SECRET-8",
        "2026-04-01T00:00:00Z",
        "2026-06-01",
    );
    second["event_id"] = "lo-2".into();
    kit.send(second);
    kit.send(testkit::close(
        "B-SECRET-7",
        "L-SECRET-8",
        "2026-05-01T04:00:00Z",
        "charged_off",
    ));
    for o in &kit.out {
        work.output(o, o.to_json().as_bytes());
    }
    let mut notes = Vec::new();
    kit.engine.take_notes(&mut notes);
    for n in notes {
        work.note(n);
    }
    (work, kit.out.len(), kit.engine.portfolio().clone())
}

fn work() -> (Work, usize) {
    let (w, n, _) = work_and_book();
    (w, n)
}

fn exposition() -> String {
    let m = Metrics::new(500).unwrap();
    let (w, _, book) = work_and_book();
    m.committed(&w, 12);
    m.portfolio(&book);
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
fn the_book_appears_by_bucket_branch_dealer_and_currency() {
    let text = exposition();
    // 2026-02-01 unpaid, seen on 2026-05-01 (Shanghai): 89 days past due, rolled once from
    // 30-59; its DPD alert is high (30–89) and was acknowledged an hour later.
    for line in [
        "postloan_borrowers 1",
        "postloan_active_borrowers 1",
        "postloan_open_loans 1",
        "postloan_loans{branch=\"BR01\",bucket=\"60-89\"} 1",
        "postloan_dealer_loans{bucket=\"60-89\",dealer=\"D001\"} 1",
        "postloan_outstanding_principal{branch=\"BR01\",bucket=\"60-89\",currency=\"CNY\"} 100000",
        "postloan_loans_by_ltv{bucket=\"0.6-0.8\"} 1",
        "postloan_loans_by_ltv{bucket=\"1.2+\"} 0",
        "postloan_open_alerts{branch=\"BR01\",severity=\"high\",signal=\"dpd\",status=\"acknowledged\"} 1",
        "postloan_dpd_rolls_30_to_60_total{branch=\"BR01\"} 1",
        "postloan_dealer_dpd_rolls_30_to_60_total{dealer=\"D001\"} 1",
        "postloan_dpd_flows_total{from=\"current\",to=\"1-29\"} 1",
        "postloan_dpd_flows_total{from=\"1-29\",to=\"30-59\"} 1",
        "postloan_dpd_flows_total{from=\"30-59\",to=\"60-89\"} 1",
        "postloan_dpd_flows_total{from=\"60-89\",to=\"90+\"} 0",
        "postloan_loans_by_class{branch=\"BR01\",classification=\"special_mention\",currency=\"CNY\"} 1",
        "postloan_outstanding_principal_by_class{branch=\"BR01\",classification=\"special_mention\",currency=\"CNY\"} 100000",
        "postloan_manager_loans_by_class{classification=\"special_mention\",currency=\"CNY\",manager=\"M01\"} 1",
        "postloan_manager_outstanding_principal_by_class{classification=\"special_mention\",currency=\"CNY\",manager=\"M01\"} 100000",
        "postloan_loans_closed_total{currency=\"CNY\",reason=\"charged_off\"} 1",
        "postloan_closed_principal_total{currency=\"CNY\",reason=\"charged_off\"} 100000",
        "postloan_alert_acks_total{severity=\"high\",signal=\"dpd\"} 1",
        "postloan_alert_ack_delay_seconds_count{signal=\"dpd\"} 1",
        "postloan_open_alerts{branch=\"BR01\",severity=\"low\",signal=\"stale_income\",status=\"suppressed\"} 1",
        "postloan_loan_modifications_total{kind=\"deferral\"} 1",
        "postloan_loan_modifications_total{kind=\"restructure\"} 0",
        "postloan_suppressions_total{reason=\"hardship\"} 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // Open alerts by branch exist while counted: one DPD and one stale-income alert.
    assert_eq!(text.matches("postloan_open_alerts{").count(), 2, "{text}");
    // Every score band and LTV band is present, zeros included, so panels never go blank.
    assert_eq!(text.matches("postloan_borrowers_by_score{").count(), 4);
    assert_eq!(text.matches("postloan_loans_by_ltv{").count(), 5);
}

fn book(branches: &[(&str, u64)]) -> Portfolio {
    let mut p = Portfolio::default();
    for (branch, loans) in branches {
        p.book.insert(
            BookKey {
                bucket: DpdBucket::Dpd30To59,
                class: Class::SpecialMention,
                branch: (!branch.is_empty()).then(|| Arc::from(*branch)),
                dealer: None,
                currency: Currency(*b"CNY"),
            },
            Exposure {
                loans: *loans,
                outstanding: Decimal::new(*loans as i64 * 1_000_005, 2),
            },
        );
    }
    p
}

#[test]
fn branch_labels_are_capped_and_series_leave_with_their_loans() {
    let m = Metrics::new(2).unwrap();
    m.portfolio(&book(&[("BR1", 1), ("BR2", 2), ("", 4)]));
    let text = m.encode().unwrap();
    for line in [
        "postloan_loans{branch=\"BR1\",bucket=\"30-59\"} 1",
        "postloan_loans{branch=\"BR2\",bucket=\"30-59\"} 2",
        "postloan_loans{branch=\"unknown\",bucket=\"30-59\"} 4",
        "postloan_dealer_loans{bucket=\"30-59\",dealer=\"unknown\"} 7",
        "postloan_outstanding_principal{branch=\"BR2\",bucket=\"30-59\",currency=\"CNY\"} 20000.1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // Two branches are known: a third goes under "other", with a fourth.
    m.portfolio(&book(&[("BR1", 1), ("BR3", 3), ("BR4", 5)]));
    let text = m.encode().unwrap();
    for line in [
        "postloan_loans{branch=\"BR1\",bucket=\"30-59\"} 1",
        "postloan_loans{branch=\"other\",bucket=\"30-59\"} 8",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // BR2's loans left: its series goes rather than freezing at its last value.
    assert!(!text.contains("branch=\"BR2\""), "{text}");
    assert!(!text.contains("branch=\"unknown\""), "{text}");
}

#[test]
fn published_alerts_add_up_to_the_messages() {
    let m = Metrics::new(500).unwrap();
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
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
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
    let m = Metrics::new(500).unwrap();
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

/// Every series of a closed label set exists from the start at 0: `rate()` then sees the first
/// increment, and ratios or "no events" alerts are never silently empty.
#[test]
fn closed_label_sets_start_at_zero() {
    let text = Metrics::new(500).unwrap().encode().unwrap();
    let count = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("postloan_events_total{"), 8 * 2);
    assert_eq!(count("postloan_rejections_total{"), 16);
    // Statuses: firing, updated, resolved, acknowledged, suppressed, reinstated.
    assert_eq!(count("postloan_alerts_total{"), 9 * 5 * 6);
    assert_eq!(count("postloan_escalations_total{"), 2);
    assert_eq!(count("postloan_alert_acks_total{"), 9 * 5);
    // Every ordered pair of distinct DPD buckets.
    assert_eq!(count("postloan_dpd_flows_total{"), 5 * 4);
    assert_eq!(count("postloan_loan_modifications_total{"), 2);
    assert_eq!(count("postloan_suppressions_total{"), 6);
    assert_eq!(count("postloan_alert_ack_delay_seconds_count{"), 9);
    for line in [
        "postloan_rejections_total{error_kind=\"unknown_alert\"} 0",
        "postloan_events_total{outcome=\"duplicate\",type=\"alert_ack\"} 0",
        "postloan_open_loans 0",
    ] {
        assert!(text.contains(line), "missing {line:?}");
    }
    // Nothing with an open-ended label set is invented before it is seen.
    assert_eq!(count("postloan_loans{"), 0);
    assert_eq!(count("postloan_dpd_rolls_30_to_60_total{"), 0);
    assert_eq!(count("postloan_open_alerts{"), 0);
    assert_eq!(count("postloan_loans_closed_total{"), 0);
}

/// Late events count by input topic, from 0 for every watched topic, and only as committed.
#[test]
fn late_events_count_by_topic_from_zero() {
    let m = Metrics::new(500).unwrap();
    m.watch_inputs(&["loans.lifecycle", "borrowers.income"]);
    let text = m.encode().unwrap();
    for topic in ["loans.lifecycle", "borrowers.income"] {
        let line = format!("postloan_late_events_total{{topic=\"{topic}\"}} 0");
        assert!(text.contains(&line), "missing {line:?}");
    }
    let mut work = Work::default();
    let income: std::sync::Arc<str> = "borrowers.income".into();
    work.late(&income, chrono::Duration::hours(3));
    work.late(&income, chrono::Duration::seconds(90));
    m.committed(&work, 1);
    let text = m.encode().unwrap();
    for line in [
        "postloan_late_events_total{topic=\"borrowers.income\"} 2",
        "postloan_late_events_total{topic=\"loans.lifecycle\"} 0",
        "postloan_event_lateness_seconds_sum 10890",
        "postloan_event_lateness_seconds_count 2",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
