//! Contract v2 suppressions end to end through `replay`, expected messages computed by hand
//! (arithmetic in the comments). Times are Asia/Shanghai (+08:00).
//!
//! Every borrower here has the same loan: 12 × 5,330.93 from Jan 31, 2026, never paid unless
//! said, collateral 80,000 (no LTV alert). Its DPD on date D is D − Jan 31: 1 on Feb 1 (low), 7
//! on Feb 7 (medium), 30 on Mar 2 (high; February has 28 days), 90 on May 1 (critical).

mod common;

use common::{ev, find, jsonl, replay_json, slot};
use serde_json::{json, Value};

fn opened(borrower: &str, loan: &str) -> Value {
    ev(
        &format!("o-{loan}"),
        "loan_opened",
        borrower,
        "2026-01-05T09:00:00+08:00",
        json!({"loan_id": loan, "principal": "60000.00", "currency": "CNY",
            "annual_rate": "0.12", "term_months": 12, "first_due_date": "2026-01-31",
            "installment_amount": "5330.93", "collateral_value": "80000.00",
            "branch_id": "BR02", "manager_id": "M05"}),
    )
}

/// A `suppression` event; `loan` None = borrower-wide.
#[allow(clippy::too_many_arguments)]
fn suppression(
    event_id: &str,
    borrower: &str,
    at: &str,
    id: &str,
    loan: Option<&str>,
    signals: Value,
    until: &str,
    reason: &str,
) -> Value {
    let mut v = ev(
        event_id,
        "suppression",
        borrower,
        at,
        json!({"suppression_id": id, "signals": signals, "until": until, "reason": reason,
            "granted_by": "risk-lead-1"}),
    );
    if let Some(l) = loan {
        v["loan_id"] = json!(l);
    }
    v
}

/// Suppressed at medium, the alert turns high silently; at the lapse it is reinstated at its
/// current severity and escalation counts from the lapse instant.
#[test]
fn a_suppressed_alert_is_silent_and_reinstated_at_the_lapse() {
    let events = [
        opened("B500", "L500"),
        suppression(
            "s1",
            "B500",
            "2026-02-20T10:00:00+08:00",
            "HS-1",
            Some("L500"),
            json!(["dpd"]),
            "2026-04-10",
            "hardship",
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-05-01T12:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B500/L500/dpd/"),
        [
            "B500/L500/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B500/L500/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B500/L500/dpd/1#3 suppressed medium 2026-02-20T10:00:00+08:00",
            // High on Mar 2 is silent; no level 1 on Mar 3 nor level 2 on Mar 5. Until Apr 10
            // lapses at the midnight that starts Apr 11, DPD 70: still high.
            "B500/L500/dpd/1#4 reinstated high 2026-04-11T00:00:00+08:00",
            // Counted from the lapse: 24 h and 72 h later.
            "B500/L500/dpd/1/L1 high 2026-04-12T00:00:00+08:00",
            "B500/L500/dpd/1/L2 high 2026-04-14T00:00:00+08:00",
            "B500/L500/dpd/1#5 updated critical 2026-05-01T00:00:00+08:00",
        ]
    );
    let s = find(&msgs, "B500/L500/dpd/1#3");
    assert_eq!(s["suppression_id"], "HS-1");
    assert_eq!(s["suppressed_until"], "2026-04-10");
    assert_eq!(s["suppression_reason"], "hardship");
    assert_eq!(s["cause_event_id"], "s1");
    assert_eq!(s["recommended_action"], "none");
    let r = find(&msgs, "B500/L500/dpd/1#4");
    assert_eq!(r["cause_event_id"], Value::Null);
    assert_eq!(r["metrics"]["dpd"], 70);
    assert!(r.get("suppression_id").is_none(), "{r}");
    let l1 = find(&msgs, "B500/L500/dpd/1/L1");
    // Since the alert opened: Feb 1 → Apr 12 is 27 + 31 + 12 = 70 days, 1,680 h.
    assert_eq!(l1["unacknowledged_hours"], 1680);
    assert_eq!(l1["previously_acked_by"], Value::Null);
    // The score is not suppressed: 60 points from DPD 90 make early_warning high on May 1.
    assert_eq!(
        slot(&msgs, "B500/-/early_warning/"),
        ["B500/-/early_warning/1#1 firing high 2026-05-01T00:00:00+08:00"]
    );
}

/// Suppressed while high: a payment takes it down to medium and the next missed installment back
/// to high, all silent; reinstated at the lapse, and escalated 24 h and 72 h after the lapse,
/// not after it first reached high.
#[test]
fn a_suppression_of_an_open_high_alert() {
    let events = [
        opened("B506", "L506"),
        suppression(
            "s1",
            "B506",
            "2026-03-02T10:00:00+08:00",
            "HS-6",
            Some("L506"),
            json!(["dpd"]),
            "2026-04-10",
            "hardship",
        ),
        // Installment 1 paid on Mar 10: DPD counts from installment 2 (Jan 31 + 1 month = Feb
        // 28), 10 on Mar 10 (medium), 30 on Mar 30 (high).
        ev(
            "p1",
            "repayment",
            "B506",
            "2026-03-10T10:00:00+08:00",
            json!({"loan_id": "L506", "payment_id": "P1", "amount": "5330.93",
                "currency": "CNY", "status": "received"}),
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-04-20T00:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B506/L506/dpd/"),
        [
            "B506/L506/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B506/L506/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B506/L506/dpd/1#3 updated high 2026-03-02T00:00:00+08:00",
            // Level 1 would have been due on Mar 3 00:00.
            "B506/L506/dpd/1#4 suppressed high 2026-03-02T10:00:00+08:00",
            // Apr 11 − Feb 28 = 42 days: high.
            "B506/L506/dpd/1#5 reinstated high 2026-04-11T00:00:00+08:00",
            "B506/L506/dpd/1/L1 high 2026-04-12T00:00:00+08:00",
            "B506/L506/dpd/1/L2 high 2026-04-14T00:00:00+08:00",
        ]
    );
    assert_eq!(find(&msgs, "B506/L506/dpd/1#5")["metrics"]["dpd"], 42);
}

/// A condition that starts while its slot is suppressed opens no alert; if it still holds at
/// the lapse, the alert fires then.
#[test]
fn a_condition_starting_during_a_suppression_fires_at_the_lapse() {
    let events = [
        opened("B501", "L501"),
        suppression(
            "s1",
            "B501",
            "2026-01-20T10:00:00+08:00",
            "DS-1",
            None,
            json!(["*"]),
            "2026-02-15",
            "dispute",
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-03-03T01:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B501/L501/dpd/"),
        [
            // Lapse at Feb 16 00:00: DPD 16, medium.
            "B501/L501/dpd/1#1 firing medium 2026-02-16T00:00:00+08:00",
            "B501/L501/dpd/1#2 updated high 2026-03-02T00:00:00+08:00",
            "B501/L501/dpd/1/L1 high 2026-03-03T00:00:00+08:00",
        ]
    );
    assert_eq!(
        find(&msgs, "B501/L501/dpd/1#1")["cause_event_id"],
        Value::Null
    );
}

/// A suppression with the same id whose `until` is before today's business date revokes it:
/// the alert is reinstated at the revocation's instant, which starts the escalation count.
#[test]
fn a_revocation_reinstates_at_once() {
    let events = [
        opened("B502", "L502"),
        suppression(
            "s1",
            "B502",
            "2026-02-20T10:00:00+08:00",
            "HS-2",
            Some("L502"),
            json!(["dpd", "payment_failed"]),
            "2026-06-30",
            "hardship",
        ),
        suppression(
            "s2",
            "B502",
            "2026-03-05T15:00:00+08:00",
            "HS-2",
            Some("L502"),
            json!(["dpd"]),
            "2026-03-01",
            "hardship",
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-03-06T16:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B502/L502/dpd/"),
        [
            "B502/L502/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B502/L502/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B502/L502/dpd/1#3 suppressed medium 2026-02-20T10:00:00+08:00",
            // DPD 33: high since Mar 2, but counted from the revocation.
            "B502/L502/dpd/1#4 reinstated high 2026-03-05T15:00:00+08:00",
            "B502/L502/dpd/1/L1 high 2026-03-06T15:00:00+08:00",
        ]
    );
    assert_eq!(find(&msgs, "B502/L502/dpd/1#4")["cause_event_id"], "s2");
}

/// Borrower-scope slots are covered only by suppressions without `loan_id`.
#[test]
fn only_a_borrower_wide_suppression_covers_a_borrower_scope_signal() {
    let events = [
        opened("B503", "L503"),
        // Limited to L503: it cannot cover stale_income, which belongs to the borrower.
        suppression(
            "s1",
            "B503",
            "2026-04-01T10:00:00+08:00",
            "LS-1",
            Some("L503"),
            json!(["stale_income"]),
            "2026-06-30",
            "other",
        ),
        // No income ever: stale from Jan 5 + 120 days = May 5. Borrower-wide May 10–20.
        suppression(
            "s2",
            "B503",
            "2026-05-10T10:00:00+08:00",
            "BS-1",
            None,
            json!(["stale_income"]),
            "2026-05-20",
            "disaster",
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-05-22T00:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B503/-/stale_income/"),
        [
            "B503/-/stale_income/1#1 firing low 2026-05-05T00:00:00+08:00",
            "B503/-/stale_income/1#2 suppressed low 2026-05-10T10:00:00+08:00",
            "B503/-/stale_income/1#3 reinstated low 2026-05-21T00:00:00+08:00",
        ]
    );
    assert_eq!(
        find(&msgs, "B503/-/stale_income/1#2")["suppression_id"],
        "BS-1"
    );
}

/// An acknowledgement of a suppressed alert is published; when the alert rises above it during
/// the suppression, the ack stops covering it, and escalation after the lapse names who
/// acknowledged.
#[test]
fn an_ack_of_a_suppressed_alert_is_published_and_outgrown() {
    let events = [
        opened("B504", "L504"),
        suppression(
            "s1",
            "B504",
            "2026-02-20T10:00:00+08:00",
            "HS-4",
            Some("L504"),
            json!(["dpd"]),
            "2026-04-10",
            "hardship",
        ),
        ev(
            "a1",
            "alert_ack",
            "B504",
            "2026-02-25T10:00:00+08:00",
            json!({"alert_id": "B504/L504/dpd/1", "acked_by": "col-9", "note": "in programme"}),
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-04-12T01:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B504/L504/dpd/"),
        [
            "B504/L504/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B504/L504/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B504/L504/dpd/1#3 suppressed medium 2026-02-20T10:00:00+08:00",
            "B504/L504/dpd/1#4 acknowledged medium 2026-02-25T10:00:00+08:00",
            // High on Mar 2 (silent) is above the acknowledged medium; reinstated at the lapse.
            "B504/L504/dpd/1#5 reinstated high 2026-04-11T00:00:00+08:00",
            "B504/L504/dpd/1/L1 high 2026-04-12T00:00:00+08:00",
        ]
    );
    assert_eq!(find(&msgs, "B504/L504/dpd/1#4")["acked_by"], "col-9");
    assert_eq!(
        find(&msgs, "B504/L504/dpd/1/L1")["previously_acked_by"],
        "col-9"
    );
}

/// Two loans, one suppressed: the other alerts as usual, and the borrower's score still counts
/// the suppressed loan's DPD.
#[test]
fn two_loans_one_suppressed() {
    let pay = |id: &str, at: &str| {
        ev(
            id,
            "repayment",
            "B505",
            at,
            json!({"loan_id": "L505b", "payment_id": id, "amount": "5330.93",
                "currency": "CNY", "status": "received"}),
        )
    };
    let events = [
        opened("B505", "L505a"),
        opened("B505", "L505b"),
        suppression(
            "s1",
            "B505",
            "2026-01-20T10:00:00+08:00",
            "HS-5",
            Some("L505a"),
            json!(["dpd"]),
            "2026-06-30",
            "legal_hold",
        ),
        // L505b is paid on time.
        pay("p1", "2026-01-30T10:00:00+08:00"),
        pay("p2", "2026-02-27T10:00:00+08:00"),
        pay("p3", "2026-03-30T10:00:00+08:00"),
        pay("p4", "2026-04-29T10:00:00+08:00"),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-05-01T12:00:00+08:00"));
    assert!(slot(&msgs, "B505/L505a/dpd/").is_empty(), "{msgs:?}");
    assert!(slot(&msgs, "B505/L505b/").is_empty(), "{msgs:?}");
    // L505a's DPD 90 on May 1 gives 60 points: early_warning high.
    assert_eq!(
        slot(&msgs, "B505/-/early_warning/"),
        ["B505/-/early_warning/1#1 firing high 2026-05-01T00:00:00+08:00"]
    );
    assert_eq!(
        find(&msgs, "B505/-/early_warning/1#1")["metrics"]["contributions"]["dpd"],
        60
    );
}
