//! Notices open and end as the monitor ordered its messages, whatever order the two topics
//! are read in; redeliveries change nothing; old resolved alerts are forgotten.

use super::*;
use postloan_engine::output::Output;
use postloan_engine::testkit::at;
use postloan_engine::wire;
use proptest::prelude::*;

fn alert(id: &str, k: u32, status: AlertStatus, t: &str, cause: Option<&str>) -> AlertChange {
    AlertChange {
        alert_id: id.to_owned(),
        borrower_id: "b-1".to_owned(),
        k,
        status,
        at: at(t),
        cause: cause.map(str::to_owned),
    }
}

fn escalation(id: &str, level: u8, t: &str, cause: Option<&str>) -> Escalation {
    Escalation {
        escalation_id: format!("{id}/L{level}"),
        alert_id: id.to_owned(),
        level,
        notify: if level == 1 { "team_lead" } else { "risk_head" }.to_owned(),
        borrower_id: "b-1".to_owned(),
        loan_id: Some("l-1".to_owned()),
        manager_id: None,
        branch_id: Some("BR01".to_owned()),
        signal: "dpd".to_owned(),
        severity: "high".to_owned(),
        alert_opened_at: "2026-01-01T00:00:00+08:00".to_owned(),
        at: at(t),
        unacknowledged_hours: serde_json::json!(24),
        reason: "test".to_owned(),
        cause: cause.map(str::to_owned),
        previously_acked_by: None,
    }
}

/// (escalation id, how it ended) of every notice.
fn ends(book: &Book) -> Vec<(String, Option<End>)> {
    book.notices()
        .map(|n| (n.escalation.escalation_id.clone(), n.ended.clone()))
        .collect()
}

const A: &str = "b-1/l-1/dpd/1";

#[test]
fn an_ack_after_the_escalation_ends_it_in_either_arrival_order() {
    let t_esc = "2026-03-03T00:00:00Z";
    let t_ack = "2026-03-03T02:00:00Z";
    let end = Some(End {
        at: at(t_ack),
        status: AlertStatus::Acknowledged,
    });
    for escalation_first in [true, false] {
        let mut book = Book::default();
        let e = escalation(A, 1, t_esc, None);
        let ack = alert(A, 3, AlertStatus::Acknowledged, t_ack, Some("ack-1"));
        if escalation_first {
            book.escalation(e);
            assert_eq!(book.pending().len(), 1);
            assert_eq!(book.pending()[0].1, Told::Firing);
            book.alert(ack);
        } else {
            book.alert(ack);
            book.escalation(e);
        }
        assert_eq!(ends(&book), vec![(format!("{A}/L1"), end.clone())]);
        // Whatever Alertmanager was told, it has to hear that the notice ended.
        assert_eq!(book.pending()[0].1, Told::Ended);
        book.told("b-1", A, 1, Told::Ended);
        assert!(book.pending().is_empty());
    }
}

#[test]
fn at_one_instant_timers_come_first_and_an_escalations_own_evaluation_precedes_it() {
    let t = "2026-03-03T00:00:00Z";
    // A timer escalation at T, then an ack event at T: the ack is after it and ends it.
    let mut book = Book::default();
    book.alert(alert(A, 2, AlertStatus::Updated, t, None));
    book.escalation(escalation(A, 1, t, None));
    book.alert(alert(A, 3, AlertStatus::Acknowledged, t, Some("ack-1")));
    assert!(ends(&book)[0].1.is_some());

    // An ack (event X) at T, then an event Y at T makes the alert critical above the ack:
    // level 2 at once, caused by Y, after the ack. It stays open; a second ack (Z) ends it.
    let mut book = Book::default();
    book.alert(alert(A, 5, AlertStatus::Acknowledged, t, Some("x")));
    book.alert(alert(A, 6, AlertStatus::Updated, t, Some("y")));
    book.escalation(escalation(A, 2, t, Some("y")));
    assert_eq!(ends(&book)[0].1, None);
    book.alert(alert(A, 7, AlertStatus::Acknowledged, t, Some("z")));
    assert_eq!(
        ends(&book)[0].1,
        Some(End {
            at: at(t),
            status: AlertStatus::Acknowledged
        })
    );

    // A message of the escalation's own evaluation (same cause) or of a timer at its instant
    // is before it.
    let mut book = Book::default();
    book.alert(alert(A, 4, AlertStatus::Suppressed, t, None));
    book.alert(alert(A, 5, AlertStatus::Reinstated, t, Some("y")));
    book.escalation(escalation(A, 2, t, Some("y")));
    assert_eq!(ends(&book)[0].1, None);
}

#[test]
fn a_reinstated_alert_does_not_reopen_an_ended_notice_and_redeliveries_change_nothing() {
    let mut book = Book::default();
    book.escalation(escalation(A, 1, "2026-03-03T00:00:00Z", None));
    book.alert(alert(
        A,
        3,
        AlertStatus::Suppressed,
        "2026-03-04T00:00:00Z",
        Some("s"),
    ));
    book.alert(alert(
        A,
        4,
        AlertStatus::Reinstated,
        "2026-03-09T00:00:00Z",
        None,
    ));
    let ended = ends(&book);
    assert_eq!(
        ended[0].1.as_ref().map(|e| e.status),
        Some(AlertStatus::Suppressed)
    );
    // The same records again (a restart before the commit).
    book.escalation(escalation(A, 1, "2026-03-03T00:00:00Z", None));
    book.alert(alert(
        A,
        3,
        AlertStatus::Suppressed,
        "2026-03-04T00:00:00Z",
        Some("s"),
    ));
    assert_eq!(ends(&book), ended);
    assert_eq!(book.notices().count(), 1);
}

#[test]
fn resolved_alerts_are_forgotten_once_the_escalations_pass_the_grace_and_all_is_delivered() {
    let mut book = Book::default();
    book.escalation(escalation(A, 1, "2026-03-03T00:00:00Z", None));
    book.alert(alert(
        A,
        4,
        AlertStatus::Resolved,
        "2026-03-05T00:00:00Z",
        Some("p"),
    ));
    let _ = book.take_touched();
    // Alerts far ahead move nothing: only escalations measure time.
    book.alert(alert(
        "b-1/l-1/ltv/1",
        1,
        AlertStatus::Firing,
        "2026-05-20T00:00:00Z",
        Some("v"),
    ));
    book.told("b-1", A, 1, Told::Ended);
    book.prune(Duration::days(1));
    assert_eq!(book.notices().count(), 1);
    // An escalation of another borrower 30 days on: within a 40-day grace, kept; past a
    // 1-day grace, forgotten.
    book.escalation(Escalation {
        borrower_id: "b-9".to_owned(),
        ..escalation("b-9/l-9/dpd/1", 1, "2026-04-04T00:00:00Z", None)
    });
    book.told("b-9", "b-9/l-9/dpd/1", 1, Told::Firing);
    book.prune(Duration::days(40));
    assert_eq!(book.notices().count(), 2);
    let _ = book.take_touched();
    book.prune(Duration::days(1));
    assert_eq!(book.notices().count(), 1);
    // The borrower still has its open ltv alert: its record is rewritten, not tombstoned.
    let touched = book.take_touched();
    assert_eq!(touched.len(), 1);
    assert!(touched[0].1.is_some_and(|r| r.alerts.len() == 1));
    book.alert(alert(
        "b-1/l-1/ltv/1",
        2,
        AlertStatus::Resolved,
        "2026-03-21T00:00:00Z",
        Some("w"),
    ));
    let _ = book.take_touched();
    book.prune(Duration::days(1));
    // b-1 has nothing left: a tombstone.
    let touched = book.take_touched();
    assert_eq!(touched.len(), 1);
    assert_eq!(touched[0].0, "b-1");
    assert!(touched[0].1.is_none(), "{touched:?}");
}

#[test]
fn an_escalation_read_days_after_its_alerts_resolution_is_still_known_ended() {
    // A catch-up: the alerts topic is read months ahead of the escalations topic.
    let mut book = Book::default();
    book.alert(alert(
        A,
        3,
        AlertStatus::Resolved,
        "2026-03-05T00:00:00Z",
        Some("p"),
    ));
    for day in 1..=28 {
        book.alert(alert(
            &format!("b-1/l-{day}/ltv/1"),
            1,
            AlertStatus::Firing,
            &format!("2026-06-{day:02}T00:00:00Z"),
            Some("v"),
        ));
        book.prune(Duration::hours(24));
    }
    book.escalation(escalation(A, 1, "2026-03-03T00:00:00Z", None));
    assert_eq!(
        ends(&book)[0].1.as_ref().map(|e| e.status),
        Some(AlertStatus::Resolved)
    );
}

/// The scenario's messages as (topic is escalations, payload).
fn published() -> Vec<(bool, Vec<u8>)> {
    crate::notify::scenario::messages()
        .iter()
        .map(|m| (matches!(m, Output::Escalation(_)), m.to_json().into_bytes()))
        .collect()
}

fn book_of(order: &[(bool, Vec<u8>)]) -> Book {
    let mut book = Book::default();
    for (is_escalation, payload) in order {
        if *is_escalation {
            book.escalation(Escalation::from_json(payload).unwrap());
        } else {
            book.alert(wire::alert(payload).unwrap());
        }
    }
    book
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// However the two topics interleave (each in its own order), the notices end exactly as
    /// when the messages are read in the order the monitor published them.
    #[test]
    fn any_interleaving_of_the_topics_gives_the_published_orders_notices(
        mut positions in prop::collection::vec(0.0f64..=1.0, 64)
    ) {
        let messages = published();
        let reference = book_of(&messages);
        let (escalations, alerts): (Vec<_>, Vec<_>) =
            messages.iter().cloned().partition(|(e, _)| *e);
        // Escalation i is read just before alert message ⌊positions[i] × alerts⌋: each topic
        // in its own order, the two interleaved anyhow.
        positions.truncate(escalations.len());
        prop_assume!(positions.len() == escalations.len());
        positions.sort_by(f64::total_cmp);
        let mut order = Vec::new();
        let mut e = escalations.into_iter().zip(positions).peekable();
        for (i, a) in alerts.iter().enumerate() {
            while let Some((msg, _)) = e.next_if(|(_, p)| (p * alerts.len() as f64) as usize <= i) {
                order.push(msg);
            }
            order.push(a.clone());
        }
        order.extend(e.map(|(msg, _)| msg));
        prop_assert_eq!(ends(&book_of(&order)), ends(&reference));
    }
}

#[test]
fn the_published_order_ends_notices_by_ack_suppression_and_resolution() {
    let book = book_of(&published());
    let by_status: Vec<(String, Option<AlertStatus>)> = ends(&book)
        .into_iter()
        .map(|(id, end)| (id, end.map(|e| e.status)))
        .collect();
    // b-1: level 1 on 03-12 (DPD 30 from 03-11 local), acked on 03-14: ended; the ack covers
    // it at high, so no level 2 follows. b-2: level 1, then suppressed on 03-15; after the
    // lapse (03-21) the count restarts: level 2 after 72 h, open at the end. b-3: levels 1
    // and 2, resolved by the payment.
    assert!(
        by_status.contains(&(
            "b-1/b-1-l/dpd/1/L1".to_owned(),
            Some(AlertStatus::Acknowledged)
        )),
        "{by_status:?}"
    );
    assert!(
        by_status.contains(&(
            "b-2/b-2-l/dpd/1/L1".to_owned(),
            Some(AlertStatus::Suppressed)
        )),
        "{by_status:?}"
    );
    assert!(
        by_status.contains(&("b-3/b-3-l/dpd/1/L2".to_owned(), Some(AlertStatus::Resolved))),
        "{by_status:?}"
    );
    assert!(book.open().count() >= 1, "{by_status:?}");
}
