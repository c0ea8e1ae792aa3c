//! End-to-end scenarios through `replay`, with expected outputs computed by hand from the
//! contract (the arithmetic is in the comments). Times are Asia/Shanghai (+08:00).

mod common;

use common::{ev, find, jsonl, line, lines, replay_json};
use serde_json::{json, Value};

/// A missed installment walks through low → medium → high, escalates to the team lead after
/// 24 h at high, and resolves when the arrears are paid.
#[test]
fn missed_installment_escalates_and_cures() {
    // 60,000.00 at 12% over 12 months: annuity 5,330.93. Due dates Mar 31, Apr 30, May 31, …
    let events = [
        ev(
            "e1",
            "loan_opened",
            "B100",
            "2026-03-01T09:00:00+08:00",
            json!({
            "loan_id": "L100", "principal": "60000.00", "currency": "CNY", "annual_rate": "0.12",
            "term_months": 12, "first_due_date": "2026-03-31", "installment_amount": "5330.93",
            "collateral_value": "80000.00", "branch_id": "BR07", "manager_id": "M12", "dealer_id": "D044"}),
        ),
        ev(
            "e2",
            "repayment",
            "B100",
            "2026-03-30T10:00:00+08:00",
            json!({
            "loan_id": "L100", "payment_id": "P1", "amount": "5330.93", "currency": "CNY", "status": "received"}),
        ),
        // Installments 2 (Apr 30) and 3 (May 31) paid together on Jun 1: paid = 3 × 5,330.93.
        ev(
            "e3",
            "repayment",
            "B100",
            "2026-06-01T15:00:00+08:00",
            json!({
            "loan_id": "L100", "payment_id": "P2", "amount": "10661.86", "currency": "CNY", "status": "received"}),
        ),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-06-15T00:00:00+08:00"));
    assert_eq!(
        lines(&msgs),
        [
            // Apr 30 + 1 day: DPD 1.
            "B100/L100/dpd/1#1 firing low 2026-05-01T00:00:00+08:00",
            // Apr 30 + 7 days = May 7.
            "B100/L100/dpd/1#2 updated medium 2026-05-07T00:00:00+08:00",
            // Apr 30 + 30 days = May 30.
            "B100/L100/dpd/1#3 updated high 2026-05-30T00:00:00+08:00",
            // High since May 30 00:00 + 24 h. (Level 2 would be Jun 2 00:00: cured before.)
            "B100/L100/dpd/1/L1 high 2026-05-31T00:00:00+08:00",
            // The payment covers 3 installments; installment 4 is due Jun 30: DPD 0.
            "B100/L100/dpd/1#4 resolved high 2026-06-01T15:00:00+08:00",
        ]
    );
    let first = find(&msgs, "B100/L100/dpd/1#1");
    assert_eq!(
        first["reason"],
        "DPD 1 (≥ 1): 5,330.93 CNY overdue since 2026-04-30 (installment 2)."
    );
    assert_eq!(
        first["metrics"],
        json!({"paid": "5330.93", "dpd": 1, "arrears": "5330.93",
        "installment_no": 2, "due_date": "2026-04-30"})
    );
    assert_eq!(first["recommended_action"], "reminder_sms");
    assert_eq!(first["loan_id"], "L100");
    assert_eq!(
        (first["branch_id"].as_str(), first["dealer_id"].as_str()),
        (Some("BR07"), Some("D044"))
    );
    // On May 30 only installments 1 and 2 are due: arrears 2 × 5,330.93 − 5,330.93.
    let high = find(&msgs, "B100/L100/dpd/1#3");
    assert_eq!(high["metrics"]["dpd"], 30);
    assert_eq!(high["metrics"]["arrears"], "5330.93");
    assert_eq!(high["recommended_action"], "field_visit");
    assert_eq!(high["opened_at"], "2026-05-01T00:00:00+08:00");
    let esc = find(&msgs, "B100/L100/dpd/1/L1");
    assert_eq!(esc["notify"], "team_lead");
    assert_eq!(esc["manager_id"], "M12");
    // From May 1 00:00 (opened) to May 31 00:00: 720 h.
    assert_eq!(esc["unacknowledged_hours"], json!(720));
    let resolved = find(&msgs, "B100/L100/dpd/1#4");
    assert_eq!(resolved["metrics"]["paid"], "15992.79");
    assert_eq!(resolved["metrics"]["dpd"], 0);
    assert_eq!(resolved["recommended_action"], "none");
}

/// A job loss: income halves, payment-to-income rises, an installment is missed, and the
/// composite score crosses 50.
#[test]
fn income_collapse_drives_the_early_warning_score() {
    // 100,000.00 at 6% over 36 months: annuity 3,042.19, due the 10th.
    let mut events = vec![ev(
        "l",
        "loan_opened",
        "B200",
        "2026-01-10T10:00:00+08:00",
        json!({
        "loan_id": "L200", "principal": "100000.00", "currency": "CNY", "annual_rate": "0.06",
        "term_months": 36, "first_due_date": "2026-02-10", "installment_amount": "3042.19",
        "collateral_value": "130000.00"}),
    )];
    for (i, month) in ["01", "02", "03"].iter().enumerate() {
        events.push(ev(
            &format!("i{i}"),
            "income",
            "B200",
            &format!("2026-{month}-12T10:00:00+08:00"),
            json!({"monthly_income": "9000", "currency": "CNY", "source": "payroll"}),
        ));
    }
    for (i, month) in ["02", "03", "04"].iter().enumerate() {
        events.push(ev(
            &format!("p{i}"),
            "repayment",
            "B200",
            &format!("2026-{month}-09T10:00:00+08:00"),
            json!({"loan_id": "L200", "payment_id": format!("P{i}"), "amount": "3042.19",
                   "currency": "CNY", "status": "received"}),
        ));
    }
    events.push(ev(
        "i3",
        "income",
        "B200",
        "2026-04-12T10:00:00+08:00",
        json!({"monthly_income": "4000.00", "currency": "CNY", "source": "bank_statement"}),
    ));
    // Keep arrival in occurred_at order, as a producer would.
    events.sort_by(|a, b| a["occurred_at"].as_str().cmp(&b["occurred_at"].as_str()));
    let msgs = replay_json(&jsonl(&events), Some("2026-05-21T00:00:00+08:00"));
    assert_eq!(
        lines(&msgs),
        [
            // (9,000 − 4,000) / 9,000 = 55.6% ≥ 50%.
            "B200/-/income_drop/1#1 firing high 2026-04-12T10:00:00+08:00",
            // 3,042.19 / 4,000 = 0.7605 > 0.5 (not > 0.8).
            "B200/-/payment_to_income/1#1 firing medium 2026-04-12T10:00:00+08:00",
            "B200/-/income_drop/1/L1 high 2026-04-13T10:00:00+08:00",
            "B200/-/income_drop/1/L2 high 2026-04-15T10:00:00+08:00",
            // Installment 4 due May 10 is missed.
            "B200/L200/dpd/1#1 firing low 2026-05-11T00:00:00+08:00",
            "B200/L200/dpd/1#2 updated medium 2026-05-17T00:00:00+08:00",
            // Score on May 17: dpd 7–29 → 20, income drop ≥ 50% → 25, PTI > 0.5 → 10 = 55.
            // (On May 11 it was 10 + 25 + 10 = 45.)
            "B200/-/early_warning/1#1 firing high 2026-05-17T00:00:00+08:00",
            "B200/-/early_warning/1/L1 high 2026-05-18T00:00:00+08:00",
            "B200/-/early_warning/1/L2 high 2026-05-20T00:00:00+08:00",
        ]
    );
    let drop = find(&msgs, "B200/-/income_drop/1#1");
    assert_eq!(drop["loan_id"], Value::Null);
    assert_eq!(
        drop["metrics"],
        json!({"latest_income": "4000.00", "previous_mean": "9000.00",
        "previous_observations": 3, "income_drop_ratio": 0.5556})
    );
    assert_eq!(
        find(&msgs, "B200/-/payment_to_income/1#1")["metrics"]["pti"],
        json!(0.7605)
    );
    let ew = find(&msgs, "B200/-/early_warning/1#1");
    assert_eq!(
        ew["metrics"],
        json!({"score": 55, "contributions": {"dpd": 20, "failures": 0,
        "income_drop": 25, "payment_to_income": 10, "ltv": 0, "collateral_drop": 0}})
    );
}

/// An accident halves the car's value: LTV and collateral drop fire, payments bring LTV down,
/// and the drop clears once the origination value leaves the 180-day window.
#[test]
fn collateral_accident_and_ltv() {
    // 90,000.00 at 0% over 30 months: 3,000.00 of principal a month. Collateral 100,000.00.
    let mut events = vec![ev(
        "l",
        "loan_opened",
        "B300",
        "2026-01-01T10:00:00+08:00",
        json!({
        "loan_id": "L300", "principal": "90000.00", "currency": "CNY", "annual_rate": "0",
        "term_months": 30, "first_due_date": "2026-02-01", "installment_amount": "3000.00",
        "collateral_value": "100000.00"}),
    )];
    for (i, month) in ["02", "03", "04", "05", "06", "07"].iter().enumerate() {
        events.push(ev(
            &format!("p{i}"),
            "repayment",
            "B300",
            &format!("2026-{month}-01T10:00:00+08:00"),
            json!({"loan_id": "L300", "payment_id": format!("P{i}"), "amount": "3000.00",
                   "currency": "CNY", "status": "received"}),
        ));
    }
    events.push(ev(
        "v1",
        "collateral_valuation",
        "B300",
        "2026-03-15T10:00:00+08:00",
        json!({"loan_id": "L300", "value": "70000.00", "currency": "CNY", "source": "appraisal"}),
    ));
    events.push(ev(
        "v2",
        "collateral_valuation",
        "B300",
        "2026-07-10T10:00:00+08:00",
        json!({"loan_id": "L300", "value": 68000, "currency": "CNY", "source": "market_index"}),
    ));
    events.sort_by(|a, b| a["occurred_at"].as_str().cmp(&b["occurred_at"].as_str()));
    let msgs = replay_json(&jsonl(&events), Some("2026-07-11T00:00:00+08:00"));
    assert_eq!(
        lines(&msgs),
        [
            // Outstanding after 2 installments 84,000 / 70,000 = 1.2 ≥ 1.2.
            "B300/L300/ltv/1#1 firing high 2026-03-15T10:00:00+08:00",
            // 70,000 ≤ 80% of the 100,000 origination value (Jan 1, within 180 days).
            "B300/L300/collateral_drop/1#1 firing medium 2026-03-15T10:00:00+08:00",
            "B300/L300/ltv/1/L1 high 2026-03-16T10:00:00+08:00",
            "B300/L300/ltv/1/L2 high 2026-03-18T10:00:00+08:00",
            // 81,000 / 70,000 = 1.157: medium.
            "B300/L300/ltv/1#2 updated medium 2026-04-01T10:00:00+08:00",
            // No income ever: 120 days from the opening (Jan 1) is May 1.
            "B300/-/stale_income/1#1 firing low 2026-05-01T00:00:00+08:00",
            // Window from Jan 11: peak 70,000 (Mar 15); 68,000 > 56,000. LTV 72,000 / 68,000 =
            // 1.0588 stays medium: nothing to publish for it.
            "B300/L300/collateral_drop/1#2 resolved medium 2026-07-10T10:00:00+08:00",
        ]
    );
    let ltv = find(&msgs, "B300/L300/ltv/1#1");
    assert_eq!(
        ltv["metrics"],
        json!({"outstanding_principal": "84000.00",
        "collateral_value": "70000.00", "ltv": 1.2})
    );
    let drop = find(&msgs, "B300/L300/collateral_drop/1#1");
    assert_eq!(
        drop["metrics"],
        json!({"latest_value": "70000.00", "peak_value": "100000.00", "drop_ratio": 0.3})
    );
    assert_eq!(drop["recommended_action"], "collateral_review");
}

/// Late and repeated events: a late payment is applied at the clock, a duplicate changes
/// nothing, a second receipt of the same payment is rejected with its line.
#[test]
fn late_duplicate_and_repeated_payments() {
    let opened = ev(
        "e1",
        "loan_opened",
        "B400",
        "2026-01-05T10:00:00+08:00",
        json!({
        "loan_id": "L400", "principal": "100000.00", "currency": "CNY", "annual_rate": "0.06",
        "term_months": 36, "first_due_date": "2026-02-10", "installment_amount": "3000.00",
        "collateral_value": "150000.00"}),
    );
    let income = ev(
        "e2",
        "income",
        "B400",
        "2026-02-20T12:00:00+08:00",
        json!({"monthly_income": "20000", "currency": "CNY", "source": "payroll"}),
    );
    let late = ev(
        "e3",
        "repayment",
        "B400",
        "2026-02-09T10:00:00+08:00",
        json!({
        "loan_id": "L400", "payment_id": "P1", "amount": "3000.00", "currency": "CNY", "status": "received"}),
    );
    let mut again = late.clone();
    again["event_id"] = json!("e4");
    let text = jsonl(&[opened, income, late.clone(), late, again]);
    let msgs = replay_json(&text, None);
    assert_eq!(
        lines(&msgs),
        [
            "B400/L400/dpd/1#1 firing low 2026-02-11T00:00:00+08:00",
            "B400/L400/dpd/1#2 updated medium 2026-02-17T00:00:00+08:00",
            // occurred_at Feb 9, applied at the clock (Feb 20 12:00): event_time never goes back.
            "B400/L400/dpd/1#3 resolved medium 2026-02-20T12:00:00+08:00",
            // Line 4 is a duplicate (skipped silently); line 5 repeats payment P1.
            "rejected duplicate_payment events.jsonl/5",
        ]
    );
    assert_eq!(msgs[3]["message_id"], "rejected/events.jsonl/5");
    assert_eq!(msgs[3]["key"], "B400");
}

/// Every bad line becomes exactly one rejection naming its file and line; blank lines are not
/// events.
#[test]
fn bad_lines_are_rejected_with_file_and_line() {
    let good = ev(
        "e1",
        "income",
        "B500",
        "2026-01-05T10:00:00+08:00",
        json!({"monthly_income": "1000", "currency": "CNY", "source": "payroll"}),
    );
    let mut neg = good.clone();
    neg["event_id"] = json!("e2");
    neg["monthly_income"] = json!("-1");
    let mut v2 = good.clone();
    v2["event_id"] = json!("e3");
    v2["schema_version"] = json!(2);
    let text = format!(
        "{good}\n\n   \n{{\"event_id\": \n{neg}\n{v2}\n{{\"type\":\"loan_paused\"}}\r\n[]\n"
    );
    let msgs = replay_json(&text, None);
    assert_eq!(
        lines(&msgs),
        [
            "rejected malformed_json events.jsonl/4",
            "rejected invalid_value events.jsonl/5",
            "rejected unsupported_version events.jsonl/6",
            "rejected unknown_type events.jsonl/7",
            "rejected malformed_json events.jsonl/8",
        ]
    );
    assert!(msgs[1]["error"]
        .as_str()
        .unwrap()
        .contains("`monthly_income`"));
    assert_eq!(msgs[1]["payload"], neg.to_string());
    // The CR of a CRLF line is not part of the payload.
    assert_eq!(msgs[3]["payload"], "{\"type\":\"loan_paused\"}");
    let _ = line(&msgs[0]);
}
