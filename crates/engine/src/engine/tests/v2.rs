//! Contract v2 inputs at the engine's level: every rejection path of `loan_modified` and
//! `suppression` changes nothing; replacement, revocation and lapse of suppressions; what a
//! restructure remembers; restore in the middle of a suppression.

use serde_json::{json, Value};

use super::super::Outcome;
use crate::reject::ErrorKind;
use crate::testkit::*;

const OPEN: &str = "2026-01-05T10:00:00+08:00";

/// B1 with L1 open (due on the 10th from Feb 10, never paid) and L2 opened and closed; B3 with
/// a loan whose last installment is due in 9999.
fn book() -> Kit {
    let mut k = Kit::new();
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    k.send(loan("B1", "L2", OPEN, "2026-02-10"));
    k.send(close("B1", "L2", OPEN, "paid_off"));
    let mut far = loan("B3", "L3", OPEN, "9996-12-31");
    far["term_months"] = json!(36);
    k.send(far);
    k.take();
    k
}

#[test]
fn every_v2_rejection_is_one_precise_message_and_changes_nothing() {
    let at = "2026-02-20T10:00:00+08:00";
    let cases: Vec<(Value, ErrorKind, &str)> = vec![
        (
            deferral("B1", "L9", at, "2026-02-01", 2),
            ErrorKind::UnknownLoan,
            "`loan_id`",
        ),
        (
            deferral("B1", "L2", at, "2026-02-01", 2),
            ErrorKind::UnknownLoan,
            "`loan_id`",
        ),
        (
            deferral("B2", "L1", at, "2026-02-01", 2),
            ErrorKind::UnknownLoan,
            "`loan_id`",
        ),
        (
            restructure("B1", "L2", at, "2026-02-20", "2026-03-20"),
            ErrorKind::UnknownLoan,
            "`loan_id`",
        ),
        (
            suppress("B1", at, "S1", Some("L2"), json!(["dpd"]), "2026-03-31"),
            ErrorKind::UnknownLoan,
            "`loan_id`",
        ),
        (
            suppress("B1", at, "S1", Some("L9"), json!(["dpd"]), "2026-03-31"),
            ErrorKind::UnknownLoan,
            "`loan_id`",
        ),
        (
            deferral("B1", "L1", at, "2026-02-01", 25),
            ErrorKind::InvalidValue,
            "`months`",
        ),
        (
            restructure("B1", "L1", at, "2026-03-20", "2026-03-20"),
            ErrorKind::InvalidValue,
            "`first_due_date`",
        ),
        (
            suppress(
                "B1",
                at,
                "S1",
                None,
                json!(["dpd", "dpd_plus"]),
                "2026-03-31",
            ),
            ErrorKind::InvalidValue,
            "`signals`",
        ),
        (
            suppress("B1", at, "S1", None, json!(["dpd"]), "31/03/2026"),
            ErrorKind::InvalidValue,
            "`until`",
        ),
        // 9996-12-31 + 35 months is 9999-11-30; 2 more months would pass 9999-12-31.
        (
            deferral("B3", "L3", at, "2026-01-01", 2),
            ErrorKind::InvalidValue,
            "`months`",
        ),
    ];
    for (event, kind, field) in cases {
        let mut k = book();
        // Timers due by the event's instant fire first; they are not its doing.
        k.advance(at);
        k.take();
        let before = (k.engine.snapshot("B1"), k.engine.snapshot("B3"));
        assert_eq!(k.send(event.clone()), Outcome::Rejected(kind), "{event}");
        let msgs = k.take();
        assert_eq!(msgs.len(), 1, "{event}: {msgs:?}");
        let error = msgs[0]["error"].as_str().unwrap_or("");
        assert!(error.contains(field), "{event}: {error}");
        assert_eq!(
            (k.engine.snapshot("B1"), k.engine.snapshot("B3")),
            before,
            "{event} changed state"
        );
    }
    // A deferral to exactly 9999-12-31 is fine: 9996-12-31 + 35 + 1 months.
    let mut k = book();
    assert!(matches!(
        k.send(deferral("B3", "L3", OPEN, "2026-01-01", 1)),
        Outcome::Applied(_)
    ));
}

#[test]
fn suppressions_past_the_cap_are_refused_but_replacements_and_revocations_are_not() {
    let mut k = Kit::with_config("[limits]\nmax_suppressions_per_borrower = 1\n");
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    let at = "2026-01-06T10:00:00+08:00";
    let s = |id: &str, until: &str| suppress("B1", at, id, None, json!(["ltv"]), until);
    assert!(matches!(k.send(s("S1", "2026-03-31")), Outcome::Applied(_)));
    assert_eq!(
        k.send(s("S2", "2026-03-31")),
        Outcome::Rejected(ErrorKind::LimitExceeded)
    );
    // Replacing S1, or granting one that lapses at once, holds nothing new.
    assert!(matches!(k.send(s("S1", "2026-04-30")), Outcome::Applied(_)));
    assert!(matches!(k.send(s("S3", "2026-01-01")), Outcome::Applied(_)));
    // Revoked, S1 frees its place.
    assert!(matches!(k.send(s("S1", "2026-01-05")), Outcome::Applied(_)));
    assert!(matches!(k.send(s("S2", "2026-03-31")), Outcome::Applied(_)));
}

/// A replacement that narrows the signals reinstates the alerts it no longer covers at its
/// instant; widening again suppresses them again.
#[test]
fn a_replacement_takes_effect_at_its_instant() {
    let mut k = book();
    // Installment 1 due Feb 10 unpaid: DPD 1 on Feb 11 (low), 7 on Feb 17 (medium).
    k.send(suppress(
        "B1",
        "2026-02-12T09:00:00+08:00",
        "S1",
        None,
        json!(["*"]),
        "2026-06-30",
    ));
    k.send(suppress(
        "B1",
        "2026-02-20T09:00:00+08:00",
        "S1",
        None,
        json!(["stale_income"]),
        "2026-06-30",
    ));
    k.send(suppress(
        "B1",
        "2026-02-21T09:00:00+08:00",
        "S1",
        Some("L1"),
        json!(["dpd"]),
        "2026-06-30",
    ));
    assert_eq!(
        k.lines(),
        [
            "B1/L1/dpd/1#1 firing low 2026-02-11T00:00:00+08:00",
            "B1/L1/dpd/1#2 suppressed low 2026-02-12T09:00:00+08:00",
            // Medium on Feb 17 is silent; narrowed to stale_income on Feb 20.
            "B1/L1/dpd/1#3 reinstated medium 2026-02-20T09:00:00+08:00",
            "B1/L1/dpd/1#4 suppressed medium 2026-02-21T09:00:00+08:00",
        ]
    );
}

/// A borrower-wide suppression of a borrower the monitor does not know yet is kept (it covers
/// loans opened later) until it lapses; then the borrower may be forgotten as usual.
#[test]
fn a_suppression_before_any_loan_covers_loans_opened_later() {
    let mut k = Kit::new();
    k.send(suppress(
        "B7",
        "2026-01-02T10:00:00+08:00",
        "S1",
        None,
        json!(["dpd"]),
        "2026-02-28",
    ));
    assert_eq!(k.engine.borrowers_without_loans(), 0);
    k.send(loan("B7", "L7", OPEN, "2026-02-10"));
    // DPD from Feb 11, suppressed; at the lapse (Mar 1 00:00) DPD 19: medium.
    k.advance("2026-03-01T01:00:00+08:00");
    assert_eq!(
        k.lines(),
        ["B7/L7/dpd/1#1 firing medium 2026-03-01T00:00:00+08:00"]
    );
}

/// What a restructure remembers for the classification: the DPD just before it, and the floor
/// carried over from an earlier restructure still under observation.
#[test]
fn a_restructure_remembers_the_dpd_before_it_and_the_floor() {
    let mut k = book();
    // Feb 10 unpaid: DPD 40 on Mar 22.
    k.send(restructure(
        "B1",
        "L1",
        "2026-03-22T10:00:00+08:00",
        "2026-03-22",
        "2026-04-22",
    ));
    let first = restructured(&k);
    assert_eq!(
        (first.dpd_before, first.floor_dpd, first.floor_watch),
        (40, 40, false)
    );
    assert_eq!(first.on.to_string(), "2026-03-22");
    // Current when restructured again 5 months later (still observed): the floor stays 40.
    for (i, due) in ["2026-04-22", "2026-05-22", "2026-06-22", "2026-07-22"]
        .iter()
        .enumerate()
    {
        let at = format!("{due}T09:00:00+08:00");
        k.send(pay(
            "B1",
            "L1",
            &at,
            &format!("P{i}"),
            "2000.00",
            "received",
        ));
    }
    k.send(restructure(
        "B1",
        "L1",
        "2026-08-01T10:00:00+08:00",
        "2026-08-01",
        "2026-09-01",
    ));
    let second = restructured(&k);
    assert_eq!(
        (second.dpd_before, second.floor_dpd, second.floor_watch),
        (0, 40, true)
    );
    // After the observation period (12 months from Aug 1, 2026) a new restructure starts fresh.
    for m in 0..12u32 {
        let due = chrono::NaiveDate::from_ymd_opt(2026, 9, 1)
            .unwrap()
            .checked_add_months(chrono::Months::new(m))
            .unwrap();
        let at = format!("{due}T09:00:00+08:00");
        k.send(pay(
            "B1",
            "L1",
            &at,
            &format!("Q{m}"),
            "2000.00",
            "received",
        ));
    }
    k.send(restructure(
        "B1",
        "L1",
        "2027-08-01T10:00:00+08:00",
        "2027-08-01",
        "2027-09-01",
    ));
    let third = restructured(&k);
    assert_eq!(
        (third.dpd_before, third.floor_dpd, third.floor_watch),
        (0, 0, false)
    );
}

fn restructured(k: &Kit) -> crate::state::Restructured {
    let bytes = k.engine.snapshot("B1").unwrap();
    let b = crate::snapshot::decode(&bytes).unwrap();
    b.loans[0].restructured.unwrap()
}

/// Restored from its snapshot in the middle of a suppression, the borrower's lapse timer is
/// re-armed and the alert is reinstated exactly as without the restore.
#[test]
fn a_lapse_survives_a_restore() {
    let events = [
        loan("B1", "L1", OPEN, "2026-02-10"),
        suppress(
            "B1",
            "2026-02-12T09:00:00+08:00",
            "S1",
            Some("L1"),
            json!(["dpd"]),
            "2026-03-15",
        ),
    ];
    let mut whole = Kit::new();
    for e in &events {
        whole.send(e.clone());
    }
    let clock = whole.engine.clock();
    let bytes = whole.engine.snapshot("B1").unwrap();
    whole.take();
    whole.advance("2026-03-20T00:00:00+08:00");
    let expected = whole.lines();
    assert_eq!(
        expected,
        [
            // DPD 34 at the lapse (Mar 16 00:00): high; levels 24 h and 72 h later.
            "B1/L1/dpd/1#3 reinstated high 2026-03-16T00:00:00+08:00",
            "B1/L1/dpd/1/L1 high 2026-03-17T00:00:00+08:00",
            "B1/L1/dpd/1/L2 high 2026-03-19T00:00:00+08:00",
        ]
    );
    let mut restored = Kit::new();
    restored.engine.restore_borrower(&bytes).unwrap();
    restored.engine.finish_restore(clock);
    restored.advance("2026-03-20T00:00:00+08:00");
    assert_eq!(restored.lines(), expected);
}
