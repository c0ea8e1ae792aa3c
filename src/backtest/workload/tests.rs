//! Daily workload from real engine output: acknowledgements, severity rises and resolution
//! at their edges (local midnights, two stretches on one date).

use super::*;
use postloan_engine::testkit::{self, at, Kit};
use postloan_engine::types::Signal;

const SHANGHAI: Tz = Tz::Asia__Shanghai;

/// The daily counts of `signal`'s alerts in `h`'s messages from `first` to `end`.
fn daily(h: &Kit, signal: Signal, first: &str, end: &str) -> Daily {
    let mut w = Workload::new(SHANGHAI, Severity::Medium);
    for m in &h.out {
        if let Output::Alert(a) = m {
            if a.signal == signal {
                w.observe(m, at(&a.event_time));
            }
        }
    }
    w.finish(at(first), at(end))
}

/// The dates (counted from `d.first`) with a non-zero count, and the counts.
fn busy(d: &Daily) -> Vec<(NaiveDate, u64)> {
    (0..)
        .zip(&d.counts)
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| (d.first + Duration::days(i), *n))
        .collect()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn an_alert_counts_from_medium_until_acked_and_again_once_it_rises_above_the_ack() {
    let mut h = Kit::new();
    // Due 2026-02-10 (Shanghai), unpaid: DPD 1 (low, no contact) on 02-11, DPD 7 (medium)
    // from 02-17 00:00 local; acked at medium on 02-19 10:00 local (02-19 still counts);
    // DPD 30 (high, above the ack) from 03-12 00:00 local; paid in full 03-15 10:00 local.
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-02-01T00:00:00Z",
        "2026-02-10",
    ));
    h.advance("2026-02-19T01:00:00Z");
    h.send(testkit::ack("b-1", "2026-02-19T02:00:00Z", "b-1/l-1/dpd/1"));
    h.advance("2026-03-15T01:00:00Z");
    h.send(testkit::pay(
        "b-1",
        "l-1",
        "2026-03-15T02:00:00Z",
        "p-1",
        "20000.00",
        "received",
    ));
    h.advance("2026-03-20T16:00:00Z");
    let d = daily(
        &h,
        Signal::Dpd,
        "2026-02-01T00:00:00Z",
        "2026-03-20T16:00:00Z",
    );
    // 2026-02-01 (08:00 local) to 2026-03-20: the end is the midnight starting 03-21.
    assert_eq!(d.first, date("2026-02-01"));
    assert_eq!(d.counts.len(), 28 + 20);
    let mut expected: Vec<(NaiveDate, u64)> = ["2026-02-17", "2026-02-18", "2026-02-19"]
        .iter()
        .map(|s| (date(s), 1))
        .collect();
    expected.extend(
        ["2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15"]
            .iter()
            .map(|s| (date(s), 1)),
    );
    assert_eq!(busy(&d), expected);
    // 41 zero days and 7 one days: the median is 0; rank ⌈48 × 0.95⌉ = 46 is a one.
    assert_eq!((d.percentile(50), d.percentile(95)), (0, 1));
}

#[test]
fn two_stretches_on_one_date_count_once_and_an_open_alert_counts_to_the_end() {
    let mut h = Kit::new();
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-02-01T00:00:00Z",
        "2026-06-10",
    ));
    // 03-02 local: a failed debit (medium) at 10:00, acked at 11:00, a second failure (high,
    // above the ack) at 15:00. Still open when the run ends at 03-04 12:00 local.
    for (t, p) in [
        ("2026-03-02T02:00:00Z", "p-1"),
        ("2026-03-02T07:00:00Z", "p-2"),
    ] {
        if p == "p-2" {
            h.send(testkit::ack(
                "b-1",
                "2026-03-02T03:00:00Z",
                "b-1/l-1/payment_failed/1",
            ));
        }
        h.send(testkit::pay("b-1", "l-1", t, p, "100.00", "failed"));
    }
    let d = daily(
        &h,
        Signal::PaymentFailed,
        "2026-02-01T00:00:00Z",
        "2026-03-04T04:00:00Z",
    );
    assert_eq!(
        busy(&d),
        vec![
            (date("2026-03-02"), 1),
            (date("2026-03-03"), 1),
            (date("2026-03-04"), 1)
        ]
    );
}

#[test]
fn percentiles_are_by_nearest_rank_and_weeks_start_on_monday() {
    // 2026-03-01 is a Sunday.
    let d = Daily {
        first: date("2026-03-01"),
        counts: vec![4, 1, 2, 3, 4, 5, 6, 7, 10, 0],
    };
    // Sorted 0 1 2 3 4 4 5 6 7 10: rank ⌈10 × 0.5⌉ = 5 → 4; ⌈9.5⌉ = 10 → 10; ⌈1.0⌉ = 1 → 0.
    assert_eq!(d.percentile(50), 4);
    assert_eq!(d.percentile(95), 10);
    assert_eq!(d.percentile(10), 0);
    assert_eq!(
        d.weekly_means(),
        vec![
            (date("2026-02-23"), 4.0),
            (date("2026-03-02"), 4.0),
            (date("2026-03-09"), 5.0)
        ]
    );
    assert_eq!(
        Daily {
            first: date("2026-03-01"),
            counts: vec![]
        }
        .percentile(95),
        0
    );
}
