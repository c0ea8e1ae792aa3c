//! `Settings::watch_dpd`: a loan reaching the watched day count is noted at the local midnight
//! it gets there, even on a day count no rule uses, and watching changes no message.

use std::sync::Arc;

use super::*;
use crate::testkit::{self, at, Kit};
use crate::{ClockMode, Engine};

/// The `PastDue` notes taken so far, as (loan, dpd, at).
fn past_due(h: &mut Kit) -> Vec<(String, u32, DateTime<Utc>)> {
    let mut notes = Vec::new();
    h.engine.take_notes(&mut notes);
    notes
        .into_iter()
        .filter_map(|n| match n {
            Note::PastDue {
                borrower_id,
                loan_id,
                dpd,
                at,
            } => {
                assert_eq!(&*borrower_id, "b-1");
                Some((loan_id.to_string(), dpd, at))
            }
            _ => None,
        })
        .collect()
}

fn watching(dpd: u32) -> Kit {
    let mut h = Kit::new();
    let settings = testkit::settings_from_toml("").watching_dpd(dpd);
    h.engine = Engine::new(Arc::new(settings), ClockMode::Event);
    h.engine.record_notes();
    h
}

#[test]
fn a_loan_is_noted_from_the_local_midnight_it_reaches_the_watched_dpd() {
    // 45 is no rule's, bucket's or class's boundary: only the watch arms a timer there.
    let mut h = watching(45);
    // Due 2026-02-10 (Asia/Shanghai), never paid: DPD 45 on local date 2026-03-27.
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    h.advance("2026-03-26T15:59:59Z");
    assert_eq!(past_due(&mut h), vec![]);
    h.advance("2026-03-26T16:00:00Z");
    assert_eq!(
        past_due(&mut h),
        vec![("l-1".to_owned(), 45, at("2026-03-26T16:00:00Z"))]
    );
    // A later evaluation (an event) notes it again, with the DPD then.
    h.send(testkit::income("b-1", "2026-03-28T02:00:00Z", "9000.00"));
    assert_eq!(
        past_due(&mut h),
        vec![("l-1".to_owned(), 46, at("2026-03-28T02:00:00Z"))]
    );
}

#[test]
fn watching_a_dpd_publishes_exactly_what_not_watching_does() {
    let mut plain = Kit::new();
    let mut watched = watching(45);
    for h in [&mut plain, &mut watched] {
        h.send(testkit::loan(
            "b-1",
            "l-1",
            "2026-01-01T00:00:00Z",
            "2026-02-10",
        ));
        h.send(testkit::income("b-1", "2026-01-05T02:00:00Z", "9000.00"));
        h.advance("2026-03-29T00:00:00Z");
        h.send(testkit::pay(
            "b-1",
            "l-1",
            "2026-04-02T01:00:00Z",
            "P1",
            "500.00",
            "received",
        ));
        h.advance("2026-09-01T00:00:00Z");
    }
    let (a, b) = (plain.lines(), watched.lines());
    assert!(a.len() > 5, "{a:?}");
    assert_eq!(a, b);
}
