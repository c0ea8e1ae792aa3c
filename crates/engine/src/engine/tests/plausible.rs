//! Implausible times (issue 25): clock jumps judged by the events after them, events dated
//! before their loan opened, the wall clock's skew — each rejected without a trace in state or
//! clock.

use serde_json::json;

use crate::jump::Followers;
use crate::reject::ErrorKind;
use crate::testkit::*;
use crate::Outcome;

const OPEN: &str = "2026-01-05T10:00:00+08:00";

fn opened() -> Kit {
    let mut k = Kit::new();
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    k.take();
    k
}

/// Sends `v` with the given verdict of its followers; returns the outcome and messages.
fn judged(
    k: &mut Kit,
    v: serde_json::Value,
    followers: Followers,
) -> (Outcome, Vec<serde_json::Value>) {
    k.followers = followers;
    let outcome = k.send(v);
    k.followers = Followers::Confirmed;
    (outcome, k.take())
}

#[test]
fn a_jump_is_applied_only_when_confirmed() {
    // The clock stands at the loan's opening; 31 days later is no jump at all.
    let mut k = opened();
    let (o, _) = judged(
        &mut k,
        income("B1", "2026-02-05T10:00:00+08:00", "20000"),
        Followers::Ended { seen: 0 },
    );
    assert!(matches!(o, Outcome::Applied(_)), "31 days exactly: {o:?}");
    let clock = k.engine.clock();
    let snapshot = k.engine.snapshot("B1").unwrap();
    // One second more than 31 days ahead of the clock: a suspect.
    let typo = income("B1", "2026-03-08T10:00:01+08:00", "1");
    for (followers, tail) in [
        (
            Followers::Refuted { by: at("2026-02-06T02:00:00Z") },
            "and the event after it, at 2026-02-06T10:00:00+08:00, is back more than 31 days earlier: taken for a typo; not applied",
        ),
        (
            Followers::Ended { seen: 0 },
            "and no event after it confirmed the new time; not applied",
        ),
    ] {
        let (o, m) = judged(&mut k, typo.clone(), followers);
        assert_eq!(o, Outcome::Rejected(ErrorKind::ImplausibleTime));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["error_kind"], "implausible_time");
        assert_eq!(
            m[0]["error"],
            format!("field `occurred_at` 2026-03-08T10:00:01+08:00 is 31 days ahead of the clock 2026-02-05T10:00:00+08:00 (limits.max_clock_jump_days = 31), {tail}")
        );
        assert_eq!(k.engine.clock(), clock, "a rejected jump never moves the clock");
        assert_eq!(k.engine.snapshot("B1").unwrap(), snapshot);
    }
    // The same time, confirmed (a feed restarting after a gap), is applied and moves the clock:
    // the DPD the gap left behind is published at once.
    let (o, m) = judged(&mut k, typo, Followers::Confirmed);
    assert!(matches!(o, Outcome::Applied(_)));
    assert_eq!(k.engine.clock(), Some(at("2026-03-08T10:00:01+08:00")));
    assert!(m.iter().any(|m| m["signal"] == "dpd"), "{m:?}");
}

#[test]
fn a_rejected_jump_is_not_remembered_and_can_come_again_confirmed() {
    let mut k = opened();
    let v = json!({"event_id": "inc-1", "type": "income", "borrower_id": "B1",
        "occurred_at": "2095-02-01T10:00:00+08:00", "monthly_income": "20000",
        "currency": "CNY", "source": "payroll"});
    let (o, _) = judged(
        &mut k,
        v.clone(),
        Followers::Refuted {
            by: at("2026-01-06T00:00:00Z"),
        },
    );
    assert_eq!(o, Outcome::Rejected(ErrorKind::ImplausibleTime));
    let (o, _) = judged(&mut k, v, Followers::Confirmed);
    assert!(matches!(o, Outcome::Applied(_)));
}

#[test]
fn the_first_event_is_rejected_only_when_the_next_ones_refute_it() {
    let mut k = Kit::new();
    let (o, m) = judged(
        &mut k,
        loan("B1", "L1", "2095-01-05T10:00:00+08:00", "2095-02-10"),
        Followers::Refuted {
            by: at("2025-01-05T02:00:00Z"),
        },
    );
    assert_eq!(o, Outcome::Rejected(ErrorKind::ImplausibleTime));
    assert_eq!(
        m[0]["error"],
        "field `occurred_at` 2095-01-05T10:00:00+08:00 opens the input, and the event after it, at 2025-01-05T10:00:00+08:00, is back more than 31 days earlier: taken for a typo; not applied"
    );
    assert_eq!(k.engine.clock(), None);
    // With nothing after it, the first event stands: there is no evidence against it.
    let (o, _) = judged(
        &mut k,
        loan("B1", "L1", OPEN, "2026-02-10"),
        Followers::Ended { seen: 0 },
    );
    assert!(matches!(o, Outcome::Applied(_)));
}

#[test]
fn apply_without_a_look_ahead_rejects_every_jump() {
    let mut e = crate::Engine::new(
        std::sync::Arc::new(crate::Settings::default()),
        crate::ClockMode::Event,
    );
    let mut out = Vec::new();
    let send = |e: &mut crate::Engine, mut v: serde_json::Value, out: &mut Vec<_>| {
        v["event_id"] = json!(v["occurred_at"]);
        let text = v.to_string();
        e.apply(
            crate::Input {
                payload: text.as_bytes(),
                source: "t/1",
                key: None,
                full_size: None,
                occurred_at: None,
            },
            out,
        )
    };
    assert!(matches!(
        send(&mut e, loan("B1", "L1", OPEN, "2026-02-10"), &mut out),
        Outcome::Applied(_)
    ));
    assert_eq!(
        send(
            &mut e,
            income("B1", "2026-03-05T10:00:00+08:00", "1"),
            &mut out
        ),
        Outcome::Rejected(ErrorKind::ImplausibleTime)
    );
}

#[test]
fn events_dated_before_their_loan_opened_are_rejected() {
    // Opened on 2026-01-05 (Shanghai); the day before is too early, the same day is not.
    let before = "2026-01-04T23:59:59+08:00";
    let cases = [
        (
            "repayment",
            pay("B1", "L1", before, "P1", "3000.00", "received"),
        ),
        ("closure", close("B1", "L1", before, "paid_off")),
        ("deferral", deferral("B1", "L1", before, "2026-02-01", 1)),
        (
            "restructure",
            restructure("B1", "L1", before, "2026-02-01", "2026-03-10"),
        ),
    ];
    for (what, v) in cases {
        let mut k = opened();
        let snapshot = k.engine.snapshot("B1").unwrap();
        let clock = k.engine.clock();
        assert_eq!(
            k.send(v),
            Outcome::Rejected(ErrorKind::ImplausibleTime),
            "{what}"
        );
        let m = k.take();
        assert_eq!(
            m[0]["error"],
            "field `occurred_at` 2026-01-04T23:59:59+08:00 is dated 2026-01-04, before loan L1 opened on 2026-01-05; not applied",
            "{what}"
        );
        assert_eq!(k.engine.snapshot("B1").unwrap(), snapshot, "{what}");
        assert_eq!(k.engine.clock(), clock, "{what}");
    }
    let mut k = opened();
    assert!(matches!(
        k.send(pay(
            "B1",
            "L1",
            "2026-01-05T00:00:00+08:00",
            "P1",
            "3000.00",
            "received"
        )),
        Outcome::Applied(_)
    ));
    // A vehicle is appraised before the loan is paid out: a valuation may precede it.
    assert!(matches!(
        k.send(valuation("B1", "L1", "2025-12-20T10:00:00+08:00", "150000")),
        Outcome::Applied(_)
    ));
}

#[test]
fn an_ack_dated_before_its_alerts_loan_opened_is_rejected() {
    let mut k = opened();
    k.advance("2026-02-14T00:00:00+08:00");
    let alert = k
        .take()
        .into_iter()
        .find(|m| m["signal"] == "dpd")
        .expect("a DPD alert")["alert_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        k.send(ack("B1", "1990-01-01T10:00:00+08:00", &alert)),
        Outcome::Rejected(ErrorKind::ImplausibleTime)
    );
    assert!(matches!(
        k.send(ack("B1", "2026-02-14T10:00:00+08:00", &alert)),
        Outcome::Applied(_)
    ));
}
