//! The portfolio follows one loan through the delinquency ladder, by hand-computed figures.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::*;
use crate::event::Currency;
use crate::testkit::{self, Kit};

fn key(bucket: DpdBucket, class: Class) -> BookKey {
    BookKey {
        bucket,
        class,
        branch: Some(Arc::from("BR01")),
        dealer: Some(Arc::from("D001")),
        currency: Currency(*b"CNY"),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The single loan's (bucket, outstanding), checking it is the only entry.
fn only_loan(p: &Portfolio) -> (DpdBucket, Decimal) {
    assert_eq!(p.book.len(), 1, "{:?}", p.book);
    let (k, e) = p.book.iter().next().unwrap();
    assert_eq!(e.loans, 1);
    assert_eq!(*k, key(k.bucket, k.class));
    (k.bucket, e.outstanding)
}

/// Opens the test kit's standard loan `l-1` of borrower `b-1` (100,000 CNY, 3,000 a month).
fn open_loan(h: &mut Kit, opened_at: &str, first_due: &str) {
    h.send(testkit::loan("b-1", "l-1", opened_at, first_due));
}

fn open(p: &Portfolio, signal: Signal, severity: Severity, acked: bool) -> u64 {
    p.open_alerts_total()[signal.index()][severity_index(severity)][usize::from(acked)]
}

#[test]
fn buckets_follow_the_business_day_boundaries() {
    let mut h = Kit::new();
    h.engine.record_notes();
    // 100,000 CNY at 6%, 3,000 a month from 2026-02-10; collateral 150,000 (LTV 0.667).
    open_loan(&mut h, "2026-01-01T00:00:00Z", "2026-02-10");
    let p = h.engine.portfolio();
    assert_eq!(only_loan(p), (DpdBucket::Current, dec("100000.00")));
    assert_eq!(p.borrowers, 1);
    assert_eq!(p.ltv, [0, 1, 0, 0, 0]);
    assert_eq!(p.scores, [1, 0, 0, 0]);
    assert_eq!(p.open_loans(), 1);
    assert_eq!(p.active_borrowers(), 1);

    // Due 2026-02-10, unpaid: 1 DPD from local (Shanghai) midnight of the 11th.
    h.advance("2026-02-10T15:59:59Z");
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Current);
    h.advance("2026-02-10T16:00:00Z");
    let p = h.engine.portfolio();
    assert_eq!(only_loan(p).0, DpdBucket::Dpd1To29);
    assert_eq!(open(p, Signal::Dpd, Severity::Low, false), 1);
    assert_eq!(p.scores, [1, 0, 0, 0], "10 points for 1-6 DPD");

    // 30 DPD on 2026-03-12 (Feb 10 + 30 days).
    h.advance("2026-03-11T15:59:59Z");
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd1To29);
    h.advance("2026-03-11T16:00:00Z");
    let p = h.engine.portfolio();
    assert_eq!(only_loan(p).0, DpdBucket::Dpd30To59);
    assert_eq!(open(p, Signal::Dpd, Severity::High, false), 1);
    assert_eq!(open(p, Signal::Dpd, Severity::Low, false), 0);
    assert_eq!(p.scores, [0, 1, 0, 0], "35 points for 30-59 DPD");

    // 60 DPD on 2026-04-11: the loan rolls, once.
    let mut notes = Vec::new();
    h.engine.take_notes(&mut notes);
    assert_eq!(
        notes,
        [
            Note::Flowed {
                from: DpdBucket::Current,
                to: DpdBucket::Dpd1To29
            },
            Note::Flowed {
                from: DpdBucket::Dpd1To29,
                to: DpdBucket::Dpd30To59
            },
        ]
    );
    notes.clear();
    h.advance("2026-04-10T16:00:00Z");
    h.advance("2026-04-10T20:00:00Z");
    h.engine.take_notes(&mut notes);
    assert_eq!(
        notes,
        [
            Note::Flowed {
                from: DpdBucket::Dpd30To59,
                to: DpdBucket::Dpd60To89
            },
            Note::Rolled {
                branch: Some(Arc::from("BR01")),
                dealer: Some(Arc::from("D001")),
            }
        ]
    );
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd60To89);

    // One installment paid: interest 100,000 × 0.5% = 500.00, so 2,500 of principal goes.
    // Installment 2 (due 2026-03-10) is now the first unpaid: 32 DPD, back to 30-59 (a cure,
    // not a roll).
    h.send(testkit::pay(
        "b-1",
        "l-1",
        "2026-04-11T01:00:00Z",
        "p-1",
        "3000.00",
        "received",
    ));
    let p = h.engine.portfolio();
    assert_eq!(only_loan(p), (DpdBucket::Dpd30To59, dec("97500.00")));
    notes.clear();
    h.engine.take_notes(&mut notes);
    assert_eq!(
        notes,
        [Note::Flowed {
            from: DpdBucket::Dpd60To89,
            to: DpdBucket::Dpd30To59
        }],
        "a flow back, no new roll"
    );

    // Collections acknowledges the DPD alert (opened 2026-02-10T16:00Z as low; high since
    // the 30-day boundary): 60 days and 8 hours later.
    h.send(testkit::ack("b-1", "2026-04-12T00:00:00Z", "b-1/l-1/dpd/1"));
    let p = h.engine.portfolio();
    assert_eq!(open(p, Signal::Dpd, Severity::High, false), 0);
    assert_eq!(open(p, Signal::Dpd, Severity::High, true), 1);
    notes.clear();
    h.engine.take_notes(&mut notes);
    assert_eq!(
        notes,
        [Note::Acked {
            signal: Signal::Dpd,
            severity: Severity::High,
            after_s: 60 * 86_400 + 8 * 3_600,
        }]
    );
    // A second ack of the same alert changes nothing and is not noted again.
    h.send(testkit::ack("b-1", "2026-04-12T01:00:00Z", "b-1/l-1/dpd/1"));
    h.engine.take_notes(&mut notes);
    assert_eq!(notes.len(), 1);

    // Closing the loan takes it, its alerts and the borrower's score out; the borrower stays.
    h.send(testkit::close(
        "b-1",
        "l-1",
        "2026-04-13T00:00:00Z",
        "charged_off",
    ));
    let p = h.engine.portfolio();
    assert!(p.book.is_empty(), "{:?}", p.book);
    assert_eq!(p.ltv, [0; 5]);
    assert_eq!(p.scores, [0; 4]);
    assert_eq!(p.open_alerts, Portfolio::default().open_alerts);
    assert_eq!(p.borrowers, 1);
}

#[test]
fn a_jump_straight_past_60_is_not_a_roll_from_30() {
    let mut h = Kit::new();
    h.engine.record_notes();
    // Opened with the first installment long overdue: 65 DPD at once.
    open_loan(&mut h, "2026-03-16T00:00:00Z", "2026-01-10");
    let mut notes = Vec::new();
    h.engine.take_notes(&mut notes);
    assert!(notes.is_empty());
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd60To89);
    // 90 DPD from local 2026-04-10: 60-89 → 90+ is not a 30 → 60 roll either.
    h.advance("2026-04-10T00:00:00Z");
    h.engine.take_notes(&mut notes);
    assert_eq!(
        notes,
        [Note::Flowed {
            from: DpdBucket::Dpd60To89,
            to: DpdBucket::Dpd90Plus
        }]
    );
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd90Plus);
}

#[test]
fn notes_are_kept_only_when_asked_for() {
    let mut h = Kit::new();
    open_loan(&mut h, "2026-01-01T00:00:00Z", "2026-02-10");
    h.advance("2026-06-01T00:00:00Z");
    let mut notes = Vec::new();
    h.engine.take_notes(&mut notes);
    assert!(notes.is_empty());
}

#[test]
fn ltv_bands_are_exact_at_their_bounds() {
    // Outstanding 100,000.00 against valuations landing exactly on each bound.
    let cases = [
        ("200000", 0),    // 0.5
        ("166666.67", 0), // 0.59999…
        ("166666.66", 1), // 0.60000… (just above 0.6)
        ("125000", 2),    // 0.8 exactly
        ("100000.01", 2), // just below 1.0
        ("100000", 3),    // 1.0 exactly
        ("83333.34", 3),  // just below 1.2
        ("83333.33", 4),  // just above 1.2
        ("50000", 4),     // 2.0
    ];
    for (value, band) in cases {
        let mut h = Kit::new();
        open_loan(&mut h, "2026-01-01T00:00:00Z", "2026-02-10");
        h.send(testkit::valuation(
            "b-1",
            "l-1",
            "2026-01-02T00:00:00Z",
            value,
        ));
        let mut expected = [0; 5];
        expected[band] = 1;
        assert_eq!(h.engine.portfolio().ltv, expected, "value {value}");
    }
}

#[test]
fn bands_of_scores_and_buckets_of_days() {
    let scores = [
        (0, 0),
        (24, 0),
        (25, 1),
        (49, 1),
        (50, 2),
        (74, 2),
        (75, 3),
        (100, 3),
    ];
    for (score, band) in scores {
        assert_eq!(score_band(score), band, "score {score}");
    }
    let days = [
        (0, "current"),
        (1, "1-29"),
        (29, "1-29"),
        (30, "30-59"),
        (59, "30-59"),
        (60, "60-89"),
        (89, "60-89"),
        (90, "90+"),
        (4000, "90+"),
    ];
    for (dpd, bucket) in days {
        assert_eq!(DpdBucket::of(dpd).as_str(), bucket, "{dpd} DPD");
    }
}

#[test]
fn partitions_merge_by_key_and_sum_exactly() {
    let mut a = Kit::new();
    open_loan(&mut a, "2026-01-01T00:00:00Z", "2026-02-10");
    let mut b = Kit::new();
    b.send(testkit::loan(
        "b-2",
        "l-2",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    b.send(testkit::pay(
        "b-2",
        "l-2",
        "2026-01-05T00:00:00Z",
        "p-1",
        "3000.00",
        "received",
    ));
    let mut total = Portfolio::default();
    total.merge(a.engine.portfolio());
    total.merge(b.engine.portfolio());
    assert_eq!(total.borrowers, 2);
    assert_eq!(
        total.book[&key(DpdBucket::Current, Class::Normal)],
        Exposure {
            loans: 2,
            outstanding: dec("197500.00"),
        }
    );
    assert_eq!(total.ltv, [0, 2, 0, 0, 0]);
    total.clear();
    assert_eq!(total, Portfolio::default());
}

#[test]
fn buckets_move_on_time_even_when_no_rule_watches_those_days() {
    // No DPD severity or score step at 30 or 60: only the bucket boundaries arm those timers.
    let mut h = Kit::with_config(
        r#"
[rules.dpd]
severity = { low = 1, critical = 100 }
[rules.early_warning]
dpd_points = [{ at = 1, points = 10 }]
"#,
    );
    h.engine.record_notes();
    open_loan(&mut h, "2026-01-01T00:00:00Z", "2026-02-10");
    h.advance("2026-02-11T00:00:00Z");
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd1To29);
    // Without a timer at 30 and 60 days, the bucket would lag until some other change.
    h.advance("2026-03-12T00:00:00Z");
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd30To59);
    h.advance("2026-04-11T00:00:00Z");
    assert_eq!(only_loan(h.engine.portfolio()).0, DpdBucket::Dpd60To89);
    let mut notes = Vec::new();
    h.engine.take_notes(&mut notes);
    let rolls = notes
        .iter()
        .filter(|n| matches!(n, Note::Rolled { .. }))
        .count();
    assert_eq!((notes.len(), rolls), (4, 1), "3 flows, 1 roll: {notes:?}");
    assert!(
        h.lines().iter().all(|l| l.contains("/dpd/")),
        "only DPD alerts"
    );
}
