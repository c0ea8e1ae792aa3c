//! Realism of the contract-v2 events: deferrals, restructures, suppressions and acks, their
//! rates over a few thousand borrowers, and repayments that follow the modified schedules.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};
use serde_json::Value;

use super::realism::LoanView;
use super::{date, money, opts, parse_all, run, ts};

fn share(n: usize, of: usize) -> f64 {
    n as f64 / of.max(1) as f64
}

fn within(name: &str, x: f64, lo: f64, hi: f64) {
    eprintln!("{name}: {x:.4}");
    assert!(
        (lo..=hi).contains(&x),
        "{name} = {x:.4}, expected {lo}..={hi}"
    );
}

/// Per suppression id: the events that carry it.
type Suppressions = HashMap<String, Vec<Value>>;

#[test]
fn v2_events_come_at_realistic_rates_and_schedules_are_followed() {
    let (text, sum) = run(&opts(6000, 48, 77, 0.0));
    let events = parse_all(&text);
    let end = NaiveDate::from_ymd_opt(2029, 1, 1).unwrap();
    let mut loans: HashMap<String, LoanView> = HashMap::new();
    let mut of_borrower: HashMap<String, Vec<String>> = HashMap::new();
    let mut deferred: HashMap<String, u32> = HashMap::new();
    let (mut retro, mut months, mut short) = (0usize, 0usize, 0usize);
    // Restructured loans: effective date, and whether they defaulted again.
    let mut restructured: HashMap<String, (NaiveDate, bool)> = HashMap::new();
    let mut recovered_without_restructure = 0usize;
    let mut supps: Suppressions = HashMap::new();
    let mut in_arrears_at_grant = 0usize;
    let mut acks: HashMap<String, u32> = HashMap::new();
    let (mut ack_lines, mut notes) = (0usize, 0usize);
    let mut early_payments = Vec::new();
    let mut early: HashMap<String, String> = HashMap::new();
    let mut modified: HashSet<String> = HashSet::new();
    let mut after_modification = 0usize;
    for v in &events {
        let t = ts(v["occurred_at"].as_str().unwrap());
        let day = t.date_naive();
        let kind = v["type"].as_str().unwrap();
        let bid = v["borrower_id"].as_str().unwrap().to_string();
        let lid = v.get("loan_id").and_then(Value::as_str).unwrap_or("");
        if ["loan_modified", "suppression", "alert_ack"].contains(&kind) {
            let hour = t.format("%H").to_string().parse::<u32>().unwrap();
            assert!((9..18).contains(&hour), "outside working hours: {v}");
        }
        match kind {
            "loan_opened" => {
                loans.insert(lid.to_string(), LoanView::opened(v, t));
                of_borrower.entry(bid).or_default().push(lid.to_string());
            }
            "repayment" if v["status"] == "received" => {
                let l = loans.get_mut(lid).unwrap();
                let amount = money(&v["amount"]);
                // After a modification every installment is paid from 3 days before its due
                // date on (late payers later), in the schedule as modified; only a
                // prepayment, which the loan's closure follows, may come earlier.
                if let Some(e) = early.remove(lid) {
                    early_payments.push(e);
                }
                let covered = l.terms.covered(l.paid, Decimal::ONE);
                let due = l.terms.first_uncovered_due(covered);
                if modified.contains(lid) {
                    after_modification += 1;
                    if due.is_some_and(|due| day + Days::new(3) < due) {
                        early.insert(lid.to_string(), format!("{v} (due {due:?})"));
                    }
                }
                l.paid += amount;
            }
            "repayment" if v["status"] == "reversed" => {
                loans.get_mut(lid).unwrap().paid -= money(&v["amount"]);
            }
            "loan_modified" => {
                let l = loans.get_mut(lid).unwrap();
                let effective = date(v["effective_date"].as_str().unwrap()).unwrap();
                if v["kind"] == "deferral" {
                    *deferred.entry(lid.to_string()).or_default() += 1;
                    let m = v["months"].as_u64().unwrap();
                    assert!((1..=6).contains(&m), "{v}");
                    months += 1;
                    short += usize::from(m <= 3);
                    assert!(v["reason"].is_string() && v["approved_by"].is_string());
                    if effective < day {
                        // Retroactive: granted 3–20 days after a missed due date on or after
                        // the effective date.
                        retro += 1;
                        let k = l.terms.first_due_on_or_after(effective).unwrap();
                        let due = l.terms.due_date(k);
                        let late = (day - due).num_days();
                        assert!((3..=20).contains(&late), "retro {late} days: {v}");
                        let covered = l.terms.covered(l.paid, Decimal::ONE);
                        assert!(covered < k, "retro deferral of a paid installment: {v}");
                    }
                } else {
                    restructure_is_sound(v, l, day, effective);
                    restructured.insert(lid.to_string(), (effective, false));
                }
                l.modified(v);
                modified.insert(lid.to_string());
            }
            "loan_closed" => {
                if let Some(e) = early.remove(lid) {
                    if !["paid_off", "refinanced"].contains(&v["reason"].as_str().unwrap()) {
                        early_payments.push(e);
                    }
                }
                let l = loans.get_mut(lid).unwrap();
                l.closed = true;
                if ["charged_off", "repossessed"].contains(&v["reason"].as_str().unwrap()) {
                    match restructured.get_mut(lid) {
                        Some(r) => r.1 = true,
                        None => recovered_without_restructure += 1,
                    }
                }
            }
            "suppression" => {
                let id = v["suppression_id"].as_str().unwrap().to_string();
                let n = &bid[1..];
                assert!(id.starts_with(&format!("S-{n}-")), "{id}");
                let first = !supps.contains_key(&id);
                if first {
                    let behind = of_borrower[&bid].iter().any(|l| {
                        let l = &loans[l];
                        !l.closed && l.past_due_from().is_some_and(|p| p <= t)
                    });
                    in_arrears_at_grant += usize::from(behind);
                }
                supps.entry(id).or_default().push(v.clone());
            }
            "alert_ack" => {
                ack_lines += 1;
                notes += usize::from(v.get("note").is_some());
                *acks
                    .entry(v["alert_id"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    eprintln!("{sum:?}");
    early_payments.extend(early.into_values());
    // A late payer's installment paid after the next one's money came (an old quirk of late
    // payments that also meet a reversal) is the only exception: rare.
    eprintln!("{after_modification} payments after a modification: early {early_payments:#?}");
    assert!(
        after_modification > 400 && early_payments.len() * 200 <= after_modification,
        "{} of {after_modification} payments before the modified schedule, e.g. {:?}",
        early_payments.len(),
        early_payments.first()
    );
    // Deferrals.
    within(
        "loans deferred",
        share(deferred.len(), loans.len()),
        0.012,
        0.03,
    );
    within("deferrals retroactive", share(retro, months), 0.2, 0.5);
    within("deferrals of 1-3 months", share(short, months), 0.6, 0.9);
    let twice = deferred.values().filter(|n| **n >= 2).count();
    within(
        "deferred loans deferred twice",
        share(twice, deferred.len()),
        0.03,
        0.25,
    );
    // Restructures, among defaulted loans that went to restructure or recovery.
    let defaulted = restructured.len() + recovered_without_restructure;
    within(
        "defaults restructured",
        share(restructured.len(), defaulted),
        0.25,
        0.5,
    );
    let followed: Vec<bool> = restructured
        .values()
        .filter(|(on, _)| *on + Days::new(450) < end)
        .map(|(_, again)| *again)
        .collect();
    let again = followed.iter().filter(|a| **a).count();
    within(
        "restructures re-defaulted",
        share(again, followed.len()),
        0.12,
        0.5,
    );
    suppressions_are_sound(&supps, of_borrower.len());
    within(
        "suppressions granted in arrears",
        share(in_arrears_at_grant, supps.len()),
        0.45,
        0.9,
    );
    // Acknowledgements.
    within("acks with a note", share(notes, ack_lines), 0.55, 0.85);
    let repeated = acks.values().filter(|n| **n >= 2).count();
    within(
        "acked alerts acked again",
        share(repeated, acks.len()),
        0.08,
        0.3,
    );
}

/// A restructure at 60–120 DPD sets the owed amount (at least the outstanding before it),
/// 12–60 months, the first due date 15–40 days after the effective date, and an annuity.
fn restructure_is_sound(v: &Value, l: &LoanView, day: NaiveDate, effective: NaiveDate) {
    assert_eq!(effective, day, "{v}");
    let covered = l.terms.covered(l.paid, Decimal::ONE);
    let due = l.terms.first_uncovered_due(covered).unwrap();
    let dpd = (day - due).num_days();
    assert!((60..=120).contains(&dpd), "restructure at DPD {dpd}: {v}");
    let p = money(&v["principal"]);
    assert!(p >= l.terms.outstanding_after(covered), "{v}");
    let term = v["term_months"].as_u64().unwrap();
    assert!((12..=60).contains(&term), "{v}");
    let first = date(v["first_due_date"].as_str().unwrap()).unwrap();
    assert!((15..=40).contains(&(first - effective).num_days()), "{v}");
    let rate: Decimal = v["annual_rate"].as_str().unwrap().parse().unwrap();
    assert!(
        rate >= Decimal::new(3, 2) && rate <= Decimal::new(12, 2),
        "{v}"
    );
    let r = rate / Decimal::from(12);
    let f = (Decimal::ONE + r).powu(term);
    let want = (p * r * f / (f - Decimal::ONE))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    assert_eq!(money(&v["installment_amount"]), want, "{v}");
}

/// Reasons at their rates, durations and scopes by reason, and revocations and extensions that
/// repeat the id, scope and signals.
fn suppressions_are_sound(supps: &Suppressions, borrowers: usize) {
    let mut by_reason: HashMap<&str, HashSet<&str>> = HashMap::new();
    let (mut revoked, mut extended) = (0usize, 0usize);
    for list in supps.values() {
        let first = &list[0];
        let reason = first["reason"].as_str().unwrap();
        by_reason
            .entry(reason)
            .or_default()
            .insert(first["borrower_id"].as_str().unwrap());
        let granted = ts(first["occurred_at"].as_str().unwrap()).date_naive();
        let until = date(first["until"].as_str().unwrap()).unwrap();
        let days = (until - granted).num_days() + 1;
        let signals = first["signals"].to_string();
        let (lo, hi) = match reason {
            "hardship" => (30, 120),
            "dispute" => (14, 60),
            "disaster" => (30, 90),
            _ => (60, 180),
        };
        assert!((lo..=hi).contains(&days), "{days} days: {first}");
        match reason {
            "dispute" => assert!(signals == r#"["dpd"]"# && first.get("loan_id").is_some()),
            "hardship" => assert!(
                (signals == r#"["*"]"# && first.get("loan_id").is_none())
                    || (signals == r#"["dpd","payment_failed"]"# && first.get("loan_id").is_some()),
                "{first}"
            ),
            _ => assert_eq!(signals, r#"["*"]"#),
        }
        assert!(first["granted_by"].is_string());
        assert!(list.len() <= 2, "{list:?}");
        if let Some(next) = list.get(1) {
            for k in ["loan_id", "signals", "reason"] {
                assert_eq!(first.get(k), next.get(k), "{next}");
            }
            let on = ts(next["occurred_at"].as_str().unwrap()).date_naive();
            let new_until = date(next["until"].as_str().unwrap()).unwrap();
            assert!(
                on > granted && on <= until,
                "follow-up after the lapse: {next}"
            );
            if new_until < on {
                revoked += 1;
            } else {
                assert!(new_until > until, "{next}");
                extended += 1;
            }
        }
    }
    let of = |r: &str| share(by_reason.get(r).map_or(0, HashSet::len), borrowers);
    within("borrowers with hardship", of("hardship"), 0.01, 0.022);
    within("borrowers with a dispute", of("dispute"), 0.003, 0.008);
    within(
        "borrowers with a legal hold",
        of("legal_hold"),
        0.0002,
        0.003,
    );
    within("borrowers with a disaster", of("disaster"), 0.0002, 0.003);
    within(
        "suppressions revoked",
        share(revoked, supps.len()),
        0.12,
        0.3,
    );
    within(
        "suppressions extended",
        share(extended, supps.len()),
        0.07,
        0.25,
    );
}
