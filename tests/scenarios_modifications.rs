//! Contract v2 loan modifications end to end through `replay`, expected messages computed by
//! hand (arithmetic in the comments). Times are Asia/Shanghai (+08:00).

mod common;

use common::{ev, find, jsonl, replay_json, slot};
use serde_json::{json, Value};

/// `loan_opened` of 12 × 5,330.93 (60,000 at 12 %), collateral 80,000 (LTV 0.75: no LTV alert).
fn opened(id: &str, borrower: &str, loan: &str, at: &str, first_due: &str) -> Value {
    ev(
        id,
        "loan_opened",
        borrower,
        at,
        json!({"loan_id": loan, "principal": "60000.00", "currency": "CNY",
            "annual_rate": "0.12", "term_months": 12, "first_due_date": first_due,
            "installment_amount": "5330.93", "collateral_value": "80000.00",
            "branch_id": "BR01"}),
    )
}

fn deferral(id: &str, borrower: &str, loan: &str, at: &str, effective: &str, months: u32) -> Value {
    ev(
        id,
        "loan_modified",
        borrower,
        at,
        json!({"loan_id": loan, "kind": "deferral", "effective_date": effective,
            "months": months, "reason": "payment holiday", "approved_by": "ops-3"}),
    )
}

fn paid(id: &str, borrower: &str, loan: &str, at: &str, payment: &str, amount: &str) -> Value {
    ev(
        id,
        "repayment",
        borrower,
        at,
        json!({"loan_id": loan, "payment_id": payment, "amount": amount, "currency": "CNY",
            "status": "received"}),
    )
}

/// A deferral whose effective date lies before a missed installment moves it too: its DPD falls
/// at the event's instant and the open DPD alert resolves then.
#[test]
fn a_retroactive_deferral_resolves_the_open_dpd_alert() {
    let events = [
        opened(
            "o1",
            "B300",
            "L300",
            "2026-01-05T09:00:00+08:00",
            "2026-01-31",
        ),
        // Installment 1 (Jan 31) is missed: DPD 1 on Feb 1 (low), 7 on Feb 7 (medium).
        // On Feb 10 a 3-month holiday effective Jan 31: installment 1 moves to Jan 31 + 3
        // months = Apr 30, so DPD is 0 at once.
        deferral(
            "d1",
            "B300",
            "L300",
            "2026-02-10T10:00:00+08:00",
            "2026-01-31",
            3,
        ),
    ];
    // Nothing is paid: DPD 1 again on May 1 (Apr 30 + 1 day), a new alert.
    let msgs = replay_json(&jsonl(&events), Some("2026-05-02T00:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B300/L300/dpd/"),
        [
            "B300/L300/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B300/L300/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B300/L300/dpd/1#3 resolved medium 2026-02-10T10:00:00+08:00",
            "B300/L300/dpd/2#1 firing low 2026-05-01T00:00:00+08:00",
        ]
    );
    assert_eq!(find(&msgs, "B300/L300/dpd/1#3")["cause_event_id"], "d1");
    let again = find(&msgs, "B300/L300/dpd/2#1");
    assert_eq!(again["metrics"]["due_date"], "2026-04-30");
    assert_eq!(again["cause_event_id"], Value::Null);
}

/// Installments due before the effective date stay due: a holiday effective the day after a
/// missed installment leaves its DPD counting.
#[test]
fn installments_due_before_the_effective_date_stay_due() {
    let events = [
        opened(
            "o1",
            "B301",
            "L301",
            "2026-01-05T09:00:00+08:00",
            "2026-01-31",
        ),
        // Effective Feb 1: installment 1 (Jan 31) stays; installments 2.. move 3 months.
        deferral(
            "d1",
            "B301",
            "L301",
            "2026-02-10T10:00:00+08:00",
            "2026-02-01",
            3,
        ),
    ];
    // DPD counts from Jan 31 on: 7 on Feb 7 (medium), 30 on Mar 2 (high; 28 days of
    // February), and level 1 24 h later.
    let msgs = replay_json(&jsonl(&events), Some("2026-03-03T12:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B301/L301/dpd/"),
        [
            "B301/L301/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B301/L301/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B301/L301/dpd/1#3 updated high 2026-03-02T00:00:00+08:00",
            "B301/L301/dpd/1/L1 high 2026-03-03T00:00:00+08:00",
        ]
    );
    // Installment 2 was due Feb 28 and now is due Jan 31 + (1 + 3) months = May 31: the
    // arrears on Mar 2 are installment 1 alone.
    assert_eq!(
        find(&msgs, "B301/L301/dpd/1#3")["metrics"]["arrears"],
        "5330.93"
    );
}

/// A holiday over the last installments moves the schedule's end.
#[test]
fn a_deferral_of_the_last_installments_moves_the_schedule_end() {
    let events = [
        ev(
            "o1",
            "loan_opened",
            "B302",
            "2026-01-05T09:00:00+08:00",
            json!({"loan_id": "L302", "principal": "2900.00", "currency": "CNY",
                "annual_rate": "0.06", "term_months": 3, "first_due_date": "2026-02-10",
                "installment_amount": "1000.00", "collateral_value": "80000.00"}),
        ),
        paid(
            "p1",
            "B302",
            "L302",
            "2026-02-09T10:00:00+08:00",
            "P1",
            "1000.00",
        ),
        paid(
            "p2",
            "B302",
            "L302",
            "2026-03-09T10:00:00+08:00",
            "P2",
            "1000.00",
        ),
        // Installment 3 (Apr 10, the last) moves 2 months: Feb 10 + (2 + 2) months = Jun 10.
        deferral(
            "d1",
            "B302",
            "L302",
            "2026-03-20T10:00:00+08:00",
            "2026-04-01",
            2,
        ),
    ];
    // Unpaid, it is past due from Jun 11, not Apr 11.
    let msgs = replay_json(&jsonl(&events), Some("2026-06-11T01:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B302/L302/dpd/"),
        ["B302/L302/dpd/1#1 firing low 2026-06-11T00:00:00+08:00"]
    );
    let m = &find(&msgs, "B302/L302/dpd/1#1")["metrics"];
    assert_eq!(
        (&m["installment_no"], &m["due_date"]),
        (&json!(3), &json!("2026-06-10"))
    );
}

/// Offsets count from the first due date, so a deferred month-end date clamps as v1 does: Jan
/// 31 + 1 month is Feb 28, and the next installment is Jan 31 + 2 months = Mar 31, not Mar 28.
#[test]
fn a_deferred_month_end_due_date_clamps_from_the_first_due_date() {
    let events = [
        opened(
            "o1",
            "B303",
            "L303",
            "2027-01-05T09:00:00+08:00",
            "2027-01-31",
        ),
        // Every installment moves one month: 1 → Feb 28 (2027 is not a leap year), 2 → Mar 31.
        deferral(
            "d1",
            "B303",
            "L303",
            "2027-01-10T10:00:00+08:00",
            "2027-01-10",
            1,
        ),
        paid(
            "p1",
            "B303",
            "L303",
            "2027-02-27T10:00:00+08:00",
            "P1",
            "5330.93",
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2027-04-01T01:00:00+08:00"));
    // Installment 2 unpaid: DPD 1 on Apr 1.
    assert_eq!(
        slot(&msgs, "B303/L303/dpd/"),
        ["B303/L303/dpd/1#1 firing low 2027-04-01T00:00:00+08:00"]
    );
    assert_eq!(
        find(&msgs, "B303/L303/dpd/1#1")["metrics"]["due_date"],
        "2027-03-31"
    );
}

/// A 95-DPD loan restructured: new terms alone from the event on, paid restarts at 0, and a
/// reversal of a payment received before the restructure counts against the new schedule.
#[test]
fn a_restructure_of_a_95_dpd_loan_then_a_pre_restructure_reversal() {
    let events = [
        opened(
            "o1",
            "B400",
            "L400",
            "2025-12-01T09:00:00+08:00",
            "2025-12-31",
        ),
        // Installment 1 paid; installment 2 (Jan 31) never is.
        paid(
            "p1",
            "B400",
            "L400",
            "2025-12-30T10:00:00+08:00",
            "P1",
            "5330.93",
        ),
        // DPD from Jan 31: 1 on Feb 1, 7 on Feb 7, 30 on Mar 2 (high; level 1 on Mar 3, level
        // 2 72 h after Mar 2 = Mar 5), 90 on May 1 (28 + 31 + 30 + 1 days: critical, level 2
        // already sent), 95 on May 6.
        ev(
            "r1",
            "loan_modified",
            "B400",
            "2026-05-06T10:00:00+08:00",
            json!({"loan_id": "L400", "kind": "restructure", "effective_date": "2026-05-06",
                "principal": "55000.00", "annual_rate": "0.10", "term_months": 24,
                "first_due_date": "2026-06-06", "installment_amount": "2537.99",
                "reason": "arrears capitalised", "approved_by": "credit-committee"}),
        ),
        // P1 (received before the restructure) taken back: paid = 0 − 5,330.93.
        ev(
            "v1",
            "repayment",
            "B400",
            "2026-05-20T10:00:00+08:00",
            json!({"loan_id": "L400", "payment_id": "P1", "amount": "5330.93",
                "currency": "CNY", "status": "reversed"}),
        ),
        // The first new installment paid in full: paid = −5,330.93 + 2,537.99 = −2,792.94,
        // which covers nothing.
        paid(
            "p2",
            "B400",
            "L400",
            "2026-06-05T10:00:00+08:00",
            "P2",
            "2537.99",
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-06-07T01:00:00+08:00"));
    assert_eq!(
        slot(&msgs, "B400/L400/dpd/"),
        [
            "B400/L400/dpd/1#1 firing low 2026-02-01T00:00:00+08:00",
            "B400/L400/dpd/1#2 updated medium 2026-02-07T00:00:00+08:00",
            "B400/L400/dpd/1#3 updated high 2026-03-02T00:00:00+08:00",
            "B400/L400/dpd/1/L1 high 2026-03-03T00:00:00+08:00",
            "B400/L400/dpd/1/L2 high 2026-03-05T00:00:00+08:00",
            "B400/L400/dpd/1#4 updated critical 2026-05-01T00:00:00+08:00",
            // The new schedule's first installment is due Jun 6: DPD 0 at once.
            "B400/L400/dpd/1#5 resolved critical 2026-05-06T10:00:00+08:00",
            // Jun 6 is not covered (paid is negative): DPD 1 on Jun 7.
            "B400/L400/dpd/2#1 firing low 2026-06-07T00:00:00+08:00",
        ]
    );
    assert_eq!(find(&msgs, "B400/L400/dpd/1#5")["cause_event_id"], "r1");
    let m = &find(&msgs, "B400/L400/dpd/2#1")["metrics"];
    // Arrears: 1 installment due (2,537.99) − paid (−2,792.94) = 5,330.93.
    assert_eq!(m["paid"], "-2792.94");
    assert_eq!(m["arrears"], "5330.93");
    assert_eq!(m["due_date"], "2026-06-06");
}
