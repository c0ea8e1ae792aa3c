//! Outcomes from notes, verdicts at the horizon's edges, and the scores.

use super::*;
use crate::backtest::episodes::Slot;
use postloan_engine::event::{CloseReason, Currency};
use postloan_engine::portfolio::Closed;
use postloan_engine::testkit::at;
use postloan_engine::types::Severity;

fn past_due(b: &str, l: &str, t: &str) -> Note {
    Note::PastDue {
        borrower_id: Arc::from(b),
        loan_id: Arc::from(l),
        dpd: 90,
        at: at(t),
    }
}

fn closed(b: &str, l: &str, reason: CloseReason) -> Note {
    Note::Closed(Box::new(Closed {
        borrower_id: Arc::from(b),
        loan_id: Arc::from(l),
        reason,
        currency: Currency(*b"CNY"),
        outstanding: rust_decimal::Decimal::ONE,
        opened_date: "2026-01-01".parse().unwrap(),
    }))
}

fn ep(id: &str, b: &str, loan: Option<&str>, signal: Signal, open: &str) -> Episode {
    Episode {
        alert_id: id.to_owned(),
        slot: Slot {
            borrower: Arc::from(b),
            loan: loan.map(Arc::from),
            signal,
        },
        opened_at: at(open),
        closed_at: None,
        peak: Severity::Low,
        escalation: 0,
    }
}

/// b-1/l-1 defaults 2026-06-01, b-1/l-2 2026-09-01, b-2/l-3 2026-04-15 (a charge-off).
fn book() -> Outcomes {
    let mut o = Outcomes::default();
    o.note(&past_due("b-1", "l-1", "2026-06-02T00:00:00Z"), None);
    // Notes may come late; the earliest wins.
    o.note(&past_due("b-1", "l-1", "2026-06-01T00:00:00Z"), None);
    o.note(&past_due("b-1", "l-2", "2026-09-01T00:00:00Z"), None);
    o.note(
        &closed("b-2", "l-3", CloseReason::ChargedOff),
        Some(at("2026-04-15T00:00:00Z")),
    );
    // Closings that are no loss are no outcome.
    o.note(
        &closed("b-3", "l-4", CloseReason::Refinanced),
        Some(at("2026-04-15T00:00:00Z")),
    );
    o
}

#[test]
fn a_loans_outcome_is_its_first_default() {
    let o = book();
    assert_eq!(o.len(), 3);
    let by = o.by_borrower();
    assert_eq!(
        by["b-1"],
        vec![
            ("l-1", at("2026-06-01T00:00:00Z")),
            ("l-2", at("2026-09-01T00:00:00Z"))
        ]
    );
    assert_eq!(by["b-2"], vec![("l-3", at("2026-04-15T00:00:00Z"))]);
    assert!(!by.contains_key("b-3"));
}

#[test]
fn verdicts_at_the_edges_of_the_horizon() {
    let o = book();
    let s = Scorer::new(&o, Duration::days(30), at("2026-12-31T00:00:00Z"));
    let hit = |t: &str| Verdict::Hit { outcome_at: at(t) };
    let v = |loan, open| s.verdict(&ep("x", "b-1", loan, Signal::Dpd, open));
    // Opened at the default: a hit with no lead; 30 days (exactly) before: still a hit.
    assert_eq!(
        v(Some("l-1"), "2026-06-01T00:00:00Z"),
        hit("2026-06-01T00:00:00Z")
    );
    assert_eq!(
        v(Some("l-1"), "2026-05-02T00:00:00Z"),
        hit("2026-06-01T00:00:00Z")
    );
    // One second more: the default is beyond the horizon.
    assert_eq!(v(Some("l-1"), "2026-05-01T23:59:59Z"), Verdict::Miss);
    // After the default: late, not scored.
    assert_eq!(v(Some("l-1"), "2026-06-01T00:00:01Z"), Verdict::Late);
    // A loan-scope episode covers only its loan; borrower scope covers both.
    assert_eq!(v(Some("l-2"), "2026-05-15T00:00:00Z"), Verdict::Miss);
    assert_eq!(v(None, "2026-05-15T00:00:00Z"), hit("2026-06-01T00:00:00Z"));
    // Between the two defaults, borrower scope: l-1 already defaulted, l-2 is a hit.
    assert_eq!(v(None, "2026-08-10T00:00:00Z"), hit("2026-09-01T00:00:00Z"));
    assert_eq!(v(None, "2026-07-01T00:00:00Z"), Verdict::Late);
    // A borrower without outcomes: a miss while the horizon is inside the data, censored
    // once it runs past the end (2026-12-31).
    let other = |open| s.verdict(&ep("y", "b-9", None, Signal::IncomeDrop, open));
    assert_eq!(other("2026-12-01T00:00:00Z"), Verdict::Miss);
    assert_eq!(other("2026-12-01T00:00:01Z"), Verdict::Censored);
}

#[test]
fn precision_recall_and_median_lead_per_signal_and_in_total() {
    let o = book();
    let s = Scorer::new(&o, Duration::days(30), at("2026-12-31T00:00:00Z"));
    let episodes: Episodes = [
        // dpd: a hit on l-1 (lead 10 days), a miss, a late one.
        ep("a", "b-1", Some("l-1"), Signal::Dpd, "2026-05-22T00:00:00Z"),
        ep("b", "b-7", Some("l-9"), Signal::Dpd, "2026-03-01T00:00:00Z"),
        ep("c", "b-2", Some("l-3"), Signal::Dpd, "2026-05-01T00:00:00Z"),
        // income_drop (borrower scope): catches l-1 20 days ahead and l-2 4 days ahead
        // (a hit either way: one episode).
        ep("d", "b-1", None, Signal::IncomeDrop, "2026-05-12T00:00:00Z"),
        ep("e", "b-1", None, Signal::IncomeDrop, "2026-08-28T00:00:00Z"),
    ]
    .into_iter()
    .collect();
    let (per, total) = s.score(&episodes);
    let dpd = &per[Signal::Dpd.index()];
    assert_eq!((dpd.hits, dpd.misses, dpd.late, dpd.censored), (1, 1, 1, 0));
    assert_eq!(dpd.outcomes, 3);
    assert_eq!(dpd.leads_days, vec![10.0]);
    assert_eq!(dpd.precision(), Some(0.5));
    assert_eq!(dpd.recall(), Some(1.0 / 3.0));
    let income = &per[Signal::IncomeDrop.index()];
    assert_eq!((income.hits, income.misses), (2, 0));
    assert_eq!(income.leads_days, vec![4.0, 20.0]);
    assert_eq!(income.median_lead_days(), Some(12.0));
    // In total: l-1 caught first by income_drop (20 days), l-2 by it (4 days), l-3 never.
    assert_eq!((total.hits, total.misses, total.late), (3, 1, 1));
    assert_eq!(total.leads_days, vec![4.0, 20.0]);
    assert_eq!(total.recall(), Some(2.0 / 3.0));
    assert_eq!(total.precision(), Some(0.75));
    let none = &per[Signal::Ltv.index()];
    assert_eq!(
        (none.precision(), none.recall(), none.median_lead_days()),
        (None, Some(0.0), None)
    );
}
