//! Signal boundaries, driven through the engine with the event clock.
//!
//! Loan defaults (see `testkit::loan`): 100,000.00 CNY at 6%, 36 × 3,000.00, collateral
//! 150,000.00 (LTV 0.67), labels BR01/M01/D001. Times are Asia/Shanghai.

use crate::testkit::*;
use crate::Outcome;

/// Alert lines (not escalations) of one signal.
fn only(lines: Vec<String>, signal: &str) -> Vec<String> {
    let pat = format!("/{signal}/");
    lines
        .into_iter()
        .filter(|l| l.contains(&pat) && l.contains('#'))
        .collect()
}

/// The severity an alert of `signal` is left open at, if any.
fn final_severity(lines: &[String]) -> Option<String> {
    let last = lines.last()?;
    let mut words = last.split(' ').skip(1);
    let status = words.next()?;
    (status != "resolved").then(|| words.next().unwrap_or("").to_owned())
}

const OPEN: &str = "2026-01-05T10:00:00+08:00";

fn opened() -> Kit {
    let mut k = Kit::new();
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    k.take();
    k
}

#[test]
fn dpd_fires_the_day_after_the_due_date_at_local_midnight() {
    let mut k = opened();
    k.advance("2026-02-10T23:59:59+08:00");
    assert_eq!(only(k.lines(), "dpd"), Vec::<String>::new());
    k.advance("2026-02-11T00:00:00+08:00");
    assert_eq!(
        only(k.lines(), "dpd"),
        ["B1/L1/dpd/1#1 firing low 2026-02-11T00:00:00+08:00"]
    );
}

#[test]
fn dpd_severity_changes_exactly_at_7_30_and_90_days() {
    let mut k = opened();
    k.advance("2026-02-16T23:59:59+08:00"); // DPD 6
    assert_eq!(only(k.lines(), "dpd").len(), 1);
    k.advance("2026-05-11T00:00:00+08:00");
    assert_eq!(
        only(k.lines(), "dpd"),
        [
            "B1/L1/dpd/1#2 updated medium 2026-02-17T00:00:00+08:00",
            "B1/L1/dpd/1#3 updated high 2026-03-12T00:00:00+08:00",
            "B1/L1/dpd/1#4 updated critical 2026-05-11T00:00:00+08:00",
        ]
    );
}

#[test]
fn an_event_at_2330_utc_is_already_the_next_business_day_in_shanghai() {
    let mut k = opened();
    // 15:30Z is 23:30 on the due date in Shanghai: nothing is past due yet.
    k.send(income("B1", "2026-02-10T15:30:00Z", "20000"));
    assert_eq!(only(k.lines(), "dpd"), Vec::<String>::new());
    // 23:30Z on the 10th is 07:30 on the 11th: the timer at local midnight fires first.
    k.send(income("B1", "2026-02-10T23:30:00Z", "20000"));
    assert_eq!(
        only(k.lines(), "dpd"),
        ["B1/L1/dpd/1#1 firing low 2026-02-11T00:00:00+08:00"]
    );
}

#[test]
fn payment_cures_and_a_second_delinquency_opens_alert_2() {
    let mut k = opened();
    k.advance("2026-02-12T00:00:00+08:00");
    k.send(pay(
        "B1",
        "L1",
        "2026-02-12T10:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    k.advance("2026-03-11T00:00:00+08:00");
    assert_eq!(
        only(k.lines(), "dpd"),
        [
            "B1/L1/dpd/1#1 firing low 2026-02-11T00:00:00+08:00",
            "B1/L1/dpd/1#2 resolved low 2026-02-12T10:00:00+08:00",
            "B1/L1/dpd/2#1 firing low 2026-03-11T00:00:00+08:00",
        ]
    );
}

#[test]
fn arrears_within_the_tolerance_count_as_paid() {
    let mut k = opened();
    k.send(pay(
        "B1",
        "L1",
        "2026-02-09T10:00:00+08:00",
        "P1",
        "2999.00",
        "received",
    ));
    k.advance("2026-03-01T00:00:00+08:00");
    assert_eq!(only(k.lines(), "dpd"), Vec::<String>::new());
    let mut k = opened();
    k.send(pay(
        "B1",
        "L1",
        "2026-02-09T10:00:00+08:00",
        "P1",
        "2998.99",
        "received",
    ));
    k.advance("2026-02-11T00:00:00+08:00");
    let msgs = k.take();
    let dpd: Vec<_> = msgs.iter().filter(|m| m["signal"] == "dpd").collect();
    assert_eq!(dpd.len(), 1);
    assert_eq!(dpd[0]["metrics"]["arrears"], "1.01");
    assert_eq!(dpd[0]["metrics"]["dpd"], 1);
}

#[test]
fn a_reversal_reopens_the_arrears_it_takes_back() {
    let mut k = opened();
    k.send(pay(
        "B1",
        "L1",
        "2026-02-09T10:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    // The reversal states a different amount: the originally received one is taken back.
    k.send(pay(
        "B1",
        "L1",
        "2026-02-20T10:00:00+08:00",
        "P1",
        "1.00",
        "reversed",
    ));
    assert_eq!(
        only(k.lines(), "dpd"),
        ["B1/L1/dpd/1#1 firing medium 2026-02-20T10:00:00+08:00"]
    );
}

#[test]
fn month_end_due_dates_clamp_in_leap_and_common_years() {
    for (first_due, fires_at) in [
        // Installment 2 of a Jan-31 schedule is due Feb 29 in 2028 (leap) and Feb 28 in 2027.
        ("2028-01-31", "2028-03-01T00:00:00+08:00"),
        ("2027-01-31", "2027-03-01T00:00:00+08:00"),
    ] {
        let mut k = Kit::new();
        let year = &first_due[..4];
        k.send(loan(
            "B1",
            "L1",
            &format!("{year}-01-01T10:00:00+08:00"),
            first_due,
        ));
        k.send(pay(
            "B1",
            "L1",
            &format!("{year}-01-30T10:00:00+08:00"),
            "P1",
            "3000.00",
            "received",
        ));
        k.advance(&format!("{year}-03-01T12:00:00+08:00"));
        let lines = only(k.lines(), "dpd");
        assert_eq!(
            lines,
            [format!("B1/L1/dpd/1#1 firing low {fires_at}")],
            "{first_due}"
        );
    }
    // Feb 29 due in 2028: on Feb 29 itself nothing is late.
    let mut k = Kit::new();
    k.send(loan("B1", "L1", "2028-01-01T10:00:00+08:00", "2028-01-31"));
    k.send(pay(
        "B1",
        "L1",
        "2028-01-30T10:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    k.advance("2028-02-29T23:59:59+08:00");
    assert_eq!(only(k.lines(), "dpd"), Vec::<String>::new());
}

#[test]
fn payment_failed_counts_consecutive_failures_since_the_last_received() {
    let mut k = opened();
    k.send(pay(
        "B1",
        "L1",
        "2026-02-01T10:00:00+08:00",
        "P1",
        "3000.00",
        "failed",
    ));
    k.send(pay(
        "B1",
        "L1",
        "2026-02-03T10:00:00+08:00",
        "P2",
        "3000.00",
        "failed",
    ));
    k.send(pay(
        "B1",
        "L1",
        "2026-02-05T10:00:00+08:00",
        "P3",
        "3000.00",
        "received",
    ));
    // A failure older than the last received payment does not count.
    k.send(pay(
        "B1",
        "L1",
        "2026-02-04T10:00:00+08:00",
        "P4",
        "3000.00",
        "failed",
    ));
    k.send(pay(
        "B1",
        "L1",
        "2026-02-06T10:00:00+08:00",
        "P5",
        "3000.00",
        "failed",
    ));
    assert_eq!(
        only(k.lines(), "payment_failed"),
        [
            "B1/L1/payment_failed/1#1 firing medium 2026-02-01T10:00:00+08:00",
            "B1/L1/payment_failed/1#2 updated high 2026-02-03T10:00:00+08:00",
            "B1/L1/payment_failed/1#3 resolved high 2026-02-05T10:00:00+08:00",
            "B1/L1/payment_failed/2#1 firing medium 2026-02-06T10:00:00+08:00",
        ]
    );
}

fn incomes(k: &mut Kit, values: &[&str]) {
    for (i, v) in values.iter().enumerate() {
        k.send(income(
            "B1",
            &format!("2026-01-{:02}T12:00:00+08:00", 10 + i),
            v,
        ));
    }
}

#[test]
fn income_drop_thresholds_are_inclusive_and_need_two_previous_observations() {
    for (values, want) in [
        (&["10000", "7000"][..], None), // one previous observation: no judgement
        (&["10000", "10000", "7000"], Some("medium")), // exactly 30%
        (&["10000", "10000", "7000.01"], None),
        (&["10000", "10000", "5000"], Some("high")), // exactly 50%
        (&["10000", "10000", "5000.01"], Some("medium")),
        (&["12000", "8000", "7000"], Some("medium")), // mean 10,000
        (&["10000", "10000", "0"], Some("high")),
        // Only the 6 observations before the latest form the mean: the first is ignored.
        (
            &[
                "1000000", "10000", "10000", "10000", "10000", "10000", "10000", "7000",
            ],
            Some("medium"),
        ),
    ] {
        let mut k = opened();
        incomes(&mut k, values);
        let lines = only(k.lines(), "income_drop");
        assert_eq!(
            final_severity(&lines).as_deref(),
            want,
            "{values:?}: {lines:?}"
        );
    }
}

#[test]
fn income_drop_metrics_and_reason_carry_the_figures() {
    let mut k = opened();
    incomes(&mut k, &["10000", "10000", "6000"]);
    let m = k
        .take()
        .into_iter()
        .find(|m| m["signal"] == "income_drop")
        .unwrap();
    assert_eq!(m["metrics"]["income_drop_ratio"], serde_json::json!(0.4));
    assert_eq!(m["metrics"]["previous_mean"], "10000.00");
    assert_eq!(m["loan_id"], serde_json::Value::Null);
    assert_eq!(m["alert_id"], "B1/-/income_drop/1");
    assert!(
        m["reason"].as_str().unwrap().contains("40.0% below"),
        "{}",
        m["reason"]
    );
}

#[test]
fn payment_to_income_is_strictly_above_its_thresholds() {
    // Installment 3,000: PTI 0.5 at 6,000; 0.8 at 3,750.
    for (inc, want) in [
        ("6000", None),
        ("5999.99", Some("medium")),
        ("3750", Some("medium")),
        ("3749.99", Some("high")),
        ("0", Some("high")),
        ("100000", None),
    ] {
        let mut k = opened();
        k.send(income("B1", "2026-01-06T10:00:00+08:00", inc));
        let lines = only(k.lines(), "payment_to_income");
        match want {
            None => assert!(lines.is_empty(), "{inc}: {lines:?}"),
            Some(sev) => assert_eq!(
                lines,
                [format!(
                    "B1/-/payment_to_income/1#1 firing {sev} 2026-01-06T10:00:00+08:00"
                )],
                "{inc}"
            ),
        }
    }
}

#[test]
fn payment_to_income_sums_the_installments_of_all_open_loans() {
    let mut k = opened();
    k.send(income("B1", "2026-01-06T10:00:00+08:00", "10000"));
    k.send(loan("B1", "L2", "2026-01-07T10:00:00+08:00", "2026-02-07"));
    // 6,000 / 10,000 = 0.6 > 0.5.
    assert_eq!(
        only(k.lines(), "payment_to_income"),
        ["B1/-/payment_to_income/1#1 firing medium 2026-01-07T10:00:00+08:00"]
    );
    k.send(close("B1", "L2", "2026-01-08T10:00:00+08:00", "refinanced"));
    assert_eq!(
        only(k.lines(), "payment_to_income"),
        ["B1/-/payment_to_income/1#2 resolved medium 2026-01-08T10:00:00+08:00"]
    );
}

#[test]
fn ltv_is_inclusive_at_its_thresholds() {
    // Outstanding 100,000 before any payment.
    for (value, want) in [
        ("100000", Some("medium")),
        ("100000.01", None),
        ("83333.34", Some("medium")), // 1.19999…
        ("83333.33", Some("high")),   // 1.2000…
    ] {
        let mut k = opened();
        k.send(valuation("B1", "L1", "2026-01-06T10:00:00+08:00", value));
        let lines = only(k.lines(), "ltv");
        match want {
            None => assert!(lines.is_empty(), "{value}: {lines:?}"),
            Some(sev) => assert_eq!(
                lines,
                [format!(
                    "B1/L1/ltv/1#1 firing {sev} 2026-01-06T10:00:00+08:00"
                )],
                "{value}"
            ),
        }
    }
}

#[test]
fn ltv_falls_as_installments_amortise_principal() {
    let mut k = opened();
    k.send(valuation("B1", "L1", "2026-01-06T10:00:00+08:00", "100000"));
    assert_eq!(only(k.lines(), "ltv").len(), 1);
    // Month 1: interest 500.00, principal 2,500.00 → outstanding 97,500.00 < 100,000.
    k.send(pay(
        "B1",
        "L1",
        "2026-02-09T10:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    let m = k.take().into_iter().find(|m| m["signal"] == "ltv").unwrap();
    assert_eq!(m["status"], "resolved");
    assert_eq!(m["metrics"]["outstanding_principal"], "97500.00");
    assert_eq!(m["metrics"]["ltv"], serde_json::json!(0.975));
}

#[test]
fn collateral_drop_fires_at_80_percent_of_the_window_peak() {
    for (value, fires) in [("120000", true), ("120000.01", false)] {
        let mut k = opened(); // origination value 150,000 counts as the first valuation
        k.send(valuation("B1", "L1", "2026-03-01T10:00:00+08:00", value));
        let lines = only(k.lines(), "collateral_drop");
        assert_eq!(lines.len(), usize::from(fires), "{value}: {lines:?}");
    }
}

#[test]
fn collateral_drop_peak_only_looks_180_days_back() {
    // Opened 2026-01-05 at 150,000; 180 days later is 2026-07-04.
    for (day, fires) in [("2026-07-04", true), ("2026-07-05", false)] {
        let mut k = opened();
        k.send(valuation(
            "B1",
            "L1",
            &format!("{day}T10:00:00+08:00"),
            "110000",
        ));
        let lines = only(k.lines(), "collateral_drop");
        assert_eq!(lines.len(), usize::from(fires), "{day}: {lines:?}");
    }
}

#[test]
fn stale_income_counts_from_the_loan_opening_without_income_then_from_the_latest() {
    let mut k = opened();
    // Opened 2026-01-05: 120 days later is 2026-05-05.
    k.advance("2026-05-04T23:59:59+08:00");
    assert!(only(k.lines(), "stale_income").is_empty());
    k.advance("2026-05-05T00:00:00+08:00");
    assert_eq!(
        only(k.lines(), "stale_income"),
        ["B1/-/stale_income/1#1 firing low 2026-05-05T00:00:00+08:00"]
    );
    k.send(income("B1", "2026-05-06T10:00:00+08:00", "20000"));
    k.advance("2026-09-03T00:00:00+08:00"); // 2026-05-06 + 120 days
    assert_eq!(
        only(k.lines(), "stale_income"),
        [
            "B1/-/stale_income/1#2 resolved low 2026-05-06T10:00:00+08:00",
            "B1/-/stale_income/2#1 firing low 2026-09-03T00:00:00+08:00",
        ]
    );
}

#[test]
fn stale_valuation_fires_180_days_after_the_latest_valuation() {
    let mut k = opened();
    k.send(valuation("B1", "L1", "2026-02-01T10:00:00+08:00", "140000"));
    k.advance("2026-07-31T00:00:00+08:00"); // 2026-02-01 + 180 days
    assert_eq!(
        only(k.lines(), "stale_valuation"),
        ["B1/L1/stale_valuation/1#1 firing low 2026-07-31T00:00:00+08:00"]
    );
}

#[test]
fn early_warning_adds_the_worst_loans_components() {
    let mut k = opened();
    k.send(income("B1", "2026-01-06T10:00:00+08:00", "20000"));
    k.send(pay(
        "B1",
        "L1",
        "2026-02-09T10:00:00+08:00",
        "P1",
        "3000.00",
        "failed",
    ));
    k.send(pay(
        "B1",
        "L1",
        "2026-02-10T10:00:00+08:00",
        "P2",
        "3000.00",
        "failed",
    ));
    // DPD 30 on 2026-03-12: 35 + failures 20 = 55 → high.
    k.advance("2026-03-12T00:00:00+08:00");
    let m = k
        .take()
        .into_iter()
        .find(|m| m["signal"] == "early_warning")
        .unwrap();
    assert_eq!(m["severity"], "high");
    assert_eq!(m["event_time"], "2026-03-12T00:00:00+08:00");
    assert_eq!(m["metrics"]["score"], 55);
    assert_eq!(m["metrics"]["contributions"]["dpd"], 35);
    assert_eq!(m["metrics"]["contributions"]["failures"], 20);
    // Income drops by half: +25 → 80 → critical.
    k.send(income("B1", "2026-03-13T10:00:00+08:00", "20000"));
    k.send(income("B1", "2026-03-14T10:00:00+08:00", "10000"));
    let lines: Vec<String> = k
        .lines()
        .into_iter()
        .filter(|l| l.contains("early_warning"))
        .collect();
    assert_eq!(
        lines,
        [
            // High since 2026-03-12 00:00: level 1 is due 24 h later.
            "B1/-/early_warning/1/L1 high 2026-03-13T00:00:00+08:00",
            "B1/-/early_warning/1#2 updated critical 2026-03-14T10:00:00+08:00",
            // Critical: level 2 at once.
            "B1/-/early_warning/1/L2 critical 2026-03-14T10:00:00+08:00",
        ]
    );
}

#[test]
fn borrower_signals_need_an_open_loan() {
    let mut k = Kit::new();
    k.send(income("B1", "2026-01-06T10:00:00+08:00", "0"));
    assert!(k.lines().is_empty());
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    // The loan's occurred_at is before the clock: it is applied at the clock, which never goes back.
    assert_eq!(
        only(k.lines(), "payment_to_income"),
        ["B1/-/payment_to_income/1#1 firing high 2026-01-06T10:00:00+08:00"]
    );
    assert_eq!(k.engine.clock(), Some(at("2026-01-06T10:00:00+08:00")));
    k.send(close("B1", "L1", "2026-01-07T10:00:00+08:00", "paid_off"));
    let msgs = k.take();
    // Level 1 of the high PTI alert is due at the very instant of the close: timers fire first.
    assert_eq!(
        line(&msgs[0]),
        "B1/-/payment_to_income/1/L1 high 2026-01-07T10:00:00+08:00"
    );
    let pti = msgs
        .iter()
        .find(|m| m["signal"] == "payment_to_income" && m["kind"] == "alert")
        .unwrap();
    assert_eq!(pti["status"], "resolved");
    assert_eq!(pti["severity"], "high");
    assert!(matches!(
        k.send(pay(
            "B1",
            "L1",
            "2026-01-08T10:00:00+08:00",
            "P1",
            "1",
            "received"
        )),
        Outcome::Rejected(_)
    ));
}

#[test]
fn disabled_signals_stay_silent() {
    let mut k = Kit::with_config("[rules.payment_to_income]\nenabled = false\n");
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    k.send(income("B1", "2026-01-06T10:00:00+08:00", "0"));
    assert!(only(k.lines(), "payment_to_income").is_empty());
}
