//! The classification in the portfolio: one unpaid loan crossing every class boundary at the
//! business-day boundary, a restructured loan held for its observation period, closings.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::*;
use crate::testkit::{self, Kit};

/// The single loan's (bucket, class, outstanding), checking that the manager's book agrees.
fn only(p: &Portfolio) -> (DpdBucket, Class, Decimal) {
    assert_eq!(p.book.len(), 1, "{:?}", p.book);
    assert_eq!(p.managers.len(), 1, "{:?}", p.managers);
    let (k, e) = p.book.iter().next().unwrap();
    let (m, me) = p.managers.iter().next().unwrap();
    assert_eq!((m.class, m.manager.as_deref()), (k.class, Some("M01")));
    assert_eq!(e, me);
    (k.bucket, k.class, e.outstanding)
}

fn class(h: &Kit) -> Class {
    only(h.engine.portfolio()).1
}

#[test]
fn an_unpaid_loan_crosses_every_class_boundary_at_local_midnight() {
    let mut h = Kit::new();
    // Due 2026-02-10 (Asia/Shanghai), never paid: DPD d on local date Feb 10 + d.
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    assert_eq!(class(&h), Class::Normal);
    // (last instant of the old class, first of the new): local midnights in UTC.
    for (before, at, old, new) in [
        // DPD 1 on 2026-02-11.
        (
            "2026-02-10T15:59:59Z",
            "2026-02-10T16:00:00Z",
            Class::Normal,
            Class::SpecialMention,
        ),
        // DPD 91 on 2026-05-12: DPD 90 is still special mention.
        (
            "2026-05-11T15:59:59Z",
            "2026-05-11T16:00:00Z",
            Class::SpecialMention,
            Class::Substandard,
        ),
        // DPD 271 on 2026-11-08.
        (
            "2026-11-07T15:59:59Z",
            "2026-11-07T16:00:00Z",
            Class::Substandard,
            Class::Doubtful,
        ),
        // DPD 361 on 2027-02-06.
        (
            "2027-02-05T15:59:59Z",
            "2027-02-05T16:00:00Z",
            Class::Doubtful,
            Class::Loss,
        ),
    ] {
        h.advance(before);
        assert_eq!(class(&h), old, "at {before}");
        h.advance(at);
        assert_eq!(class(&h), new, "at {at}");
    }
}

#[test]
fn class_bands_come_from_the_configuration() {
    let mut h = Kit::with_config(
        r#"
[classification]
bands = [
  { class = "normal", from_dpd = 0 },
  { class = "special_mention", from_dpd = 1 },
  { class = "substandard", from_dpd = 61 },
  { class = "doubtful", from_dpd = 181 },
  { class = "loss", from_dpd = 366 },
]
"#,
    );
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    // DPD 61 on 2026-04-12: no rule or bucket has a boundary there, the class does.
    h.advance("2026-04-11T15:59:59Z");
    assert_eq!(class(&h), Class::SpecialMention);
    h.advance("2026-04-11T16:00:00Z");
    assert_eq!(class(&h), Class::Substandard);
}

#[test]
fn a_restructured_loan_keeps_its_class_for_twelve_months_then_is_classed_by_dpd() {
    let mut h = Kit::new();
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    // 95 DPD on 2026-05-16 (substandard), restructured that day (local 10:00).
    h.advance("2026-05-16T02:00:00Z");
    assert_eq!(class(&h), Class::Substandard);
    h.send(testkit::restructure(
        "b-1",
        "l-1",
        "2026-05-16T02:00:00Z",
        "2026-05-16",
        "2026-06-10",
    ));
    assert_eq!(
        only(h.engine.portfolio()),
        (
            DpdBucket::Current,
            Class::Substandard,
            Decimal::new(4_500_000, 2)
        ),
        "current on the new terms, held at the class it had"
    );
    // Every new installment paid at once: DPD 0 for good.
    h.send(testkit::pay(
        "b-1",
        "l-1",
        "2026-05-20T02:00:00Z",
        "p-1",
        "48000.00",
        "received",
    ));
    assert_eq!(only(h.engine.portfolio()).1, Class::Substandard);
    // Observation runs through 2027-05-15 (business dates); normal from local 2027-05-16.
    h.advance("2027-05-15T15:59:59Z");
    assert_eq!(class(&h), Class::Substandard);
    h.advance("2027-05-15T16:00:00Z");
    assert_eq!(class(&h), Class::Normal);
}

#[test]
fn a_closing_is_noted_with_what_it_takes_off_the_book() {
    let mut h = Kit::new();
    h.engine.record_notes();
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    h.advance("2026-06-01T00:00:00Z");
    // DPD 111 on 2026-06-01: 90+, substandard, until it closes.
    let (bucket, class, _) = only(h.engine.portfolio());
    assert_eq!((bucket, class), (DpdBucket::Dpd90Plus, Class::Substandard));
    let mut notes = Vec::new();
    h.engine.take_notes(&mut notes);
    notes.clear();
    h.send(testkit::close(
        "b-1",
        "l-1",
        "2026-06-01T00:00:00Z",
        "charged_off",
    ));
    h.engine.take_notes(&mut notes);
    let [Note::Closed(c)] = notes.as_slice() else {
        panic!("{notes:?}");
    };
    assert_eq!(
        (
            &*c.borrower_id,
            &*c.loan_id,
            c.reason,
            c.currency.as_str(),
            c.outstanding,
            c.opened_date.to_string(),
        ),
        (
            "b-1",
            "l-1",
            CloseReason::ChargedOff,
            "CNY",
            Decimal::new(10_000_000, 2),
            "2026-01-01".to_owned(),
        )
    );
    let p = h.engine.portfolio();
    assert!(p.book.is_empty() && p.managers.is_empty(), "{p:?}");
    assert!(
        p.open_alerts.is_empty(),
        "alerts resolved: {:?}",
        p.open_alerts
    );
}

#[test]
fn open_alerts_are_counted_under_their_branch() {
    let mut h = Kit::new();
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    h.advance("2026-02-11T00:00:00Z");
    let p = h.engine.portfolio();
    let branches: Vec<_> = p.open_alerts.keys().cloned().collect();
    assert_eq!(branches, [Some(Arc::from("BR01"))]);
    assert_eq!(
        p.open_alerts_total()[Signal::Dpd.index()][1][0],
        1,
        "one low unacknowledged DPD alert"
    );
}
