//! Words and figures of alert messages: the `reason` sentence a collector reads, the `metrics`
//! behind it and the `recommended_action`.

use rust_decimal::Decimal;

use super::money::{format_money, format_percent, round_half_away};
use super::output::{AlertMetrics, AlertStatus, MetricValue};
use super::signals::{Facts, SCORE_PARTS};
use super::types::{Severity, Signal};
use crate::settings::rules::{Bands, RulesConfig};

/// Ratios in metrics carry four decimals.
const RATIO_DP: u32 = 4;

fn ratio(d: Decimal) -> MetricValue {
    MetricValue::Num(round_half_away(d, RATIO_DP))
}

/// A ratio that may be out of the decimal range (then `null`).
fn opt_ratio(d: Option<Decimal>) -> MetricValue {
    d.map_or(MetricValue::Null, ratio)
}

fn opt_percent(d: Option<Decimal>) -> String {
    d.map_or_else(|| "beyond the decimal range".to_owned(), format_percent)
}

fn threshold_of<T: std::fmt::Display>(bands: &Bands<T>, sev: Severity) -> String {
    bands.get(&sev).map_or_else(String::new, |t| t.to_string())
}

/// What collections should do about a signal at a severity.
pub fn recommended_action(signal: Signal, status: AlertStatus, severity: Severity) -> &'static str {
    // Resolved: nothing to do; suppressed: contact is paused.
    if matches!(status, AlertStatus::Resolved | AlertStatus::Suppressed) {
        return "none";
    }
    match (signal, severity) {
        (Signal::Dpd, Severity::Info | Severity::Low) => "reminder_sms",
        (Signal::Dpd, Severity::Medium) => "phone_call",
        (Signal::Dpd, Severity::High) => "field_visit",
        (Signal::Dpd, Severity::Critical) => "repossession_review",
        (Signal::PaymentFailed, Severity::Info | Severity::Low | Severity::Medium) => {
            "reminder_sms"
        }
        (Signal::PaymentFailed, _) => "phone_call",
        (Signal::IncomeDrop | Signal::PaymentToIncome, _) => "restructure_review",
        (Signal::Ltv | Signal::CollateralDrop, Severity::High | Severity::Critical) => {
            "repossession_review"
        }
        (Signal::Ltv | Signal::CollateralDrop, _) => "collateral_review",
        (Signal::StaleIncome, _) => "request_income_proof",
        (Signal::StaleValuation, _) => "order_valuation",
        (Signal::EarlyWarning, Severity::Critical) => "field_visit",
        (Signal::EarlyWarning, _) => "phone_call",
    }
}

/// The reason sentence and metrics of one alert message.
pub fn describe(
    signal: Signal,
    status: AlertStatus,
    severity: Severity,
    facts: &Facts,
    currency: &str,
    rules: &RulesConfig,
) -> (String, AlertMetrics) {
    let money = |d: Decimal| format!("{} {currency}", format_money(d));
    let mut m = AlertMetrics::default();
    let sentence = match facts {
        Facts::LoanClosed(reason) => {
            m.put(
                "loan_closed_reason",
                MetricValue::Text(reason.as_str().to_owned()),
            );
            format!("Loan closed ({}).", reason.as_str())
        }
        Facts::NoOpenLoans => {
            m.put("open_loans", MetricValue::Int(0));
            "The borrower has no open loan left.".to_owned()
        }
        Facts::Dpd { delinquency, paid } => {
            m.put("paid", MetricValue::Money(*paid));
            match delinquency {
                Some(d) => {
                    m.put("dpd", MetricValue::Int(i64::from(d.dpd)))
                        .put("arrears", MetricValue::Money(d.arrears))
                        .put(
                            "installment_no",
                            MetricValue::Int(i64::from(d.installment_no)),
                        )
                        .put("due_date", MetricValue::Text(d.due_date.to_string()));
                    format!(
                        "DPD {} (≥ {}): {} overdue since {} (installment {}).",
                        d.dpd,
                        threshold_of(&rules.dpd.severity, severity),
                        money(d.arrears),
                        d.due_date,
                        d.installment_no
                    )
                }
                None => {
                    m.put("dpd", MetricValue::Int(0))
                        .put("arrears", MetricValue::Money(Decimal::ZERO));
                    format!("Loan is current: {} paid, nothing past due.", money(*paid))
                }
            }
        }
        Facts::PaymentFailed {
            consecutive,
            last_reason,
        } => {
            m.put(
                "consecutive_failures",
                MetricValue::Int(i64::from(*consecutive)),
            )
            .put(
                "last_failure_reason",
                last_reason
                    .as_deref()
                    .map_or(MetricValue::Null, |r| MetricValue::Text(r.to_owned())),
            );
            match (consecutive, last_reason) {
                (0, _) => "A payment was received after the failed debits.".to_owned(),
                (n, Some(r)) => format!(
                    "{n} failed debit{} since the last received payment (latest: {r}).",
                    plural(*n)
                ),
                (n, None) => format!(
                    "{n} failed debit{} since the last received payment.",
                    plural(*n)
                ),
            }
        }
        Facts::IncomeDrop(Some(d)) => {
            let r = d.ratio();
            m.put("latest_income", MetricValue::Money(d.latest))
                .put(
                    "previous_mean",
                    MetricValue::Money(round_half_away(d.mean(), 2)),
                )
                .put(
                    "previous_observations",
                    MetricValue::Int(i64::from(d.previous)),
                )
                .put("income_drop_ratio", opt_ratio(r));
            if d.previous_sum.is_zero() {
                format!(
                    "Monthly income {}; the previous {} observations averaged 0, so there is no drop to measure.",
                    money(d.latest),
                    d.previous
                )
            } else {
                format!(
                    "Monthly income {} is {} below the mean of the previous {} observations ({}).",
                    money(d.latest),
                    opt_percent(r),
                    d.previous,
                    money(round_half_away(d.mean(), 2))
                )
            }
        }
        Facts::IncomeDrop(None) => {
            m.put("income_drop_ratio", MetricValue::Null);
            "Too few income observations to judge a drop.".to_owned()
        }
        Facts::PaymentToIncome(Some(p)) => {
            m.put("installments", MetricValue::Money(p.installments))
                .put("monthly_income", MetricValue::Money(p.income))
                .put("pti", p.ratio().map_or(MetricValue::Null, ratio));
            if p.income.is_zero() {
                format!(
                    "Installments of {} against a reported monthly income of 0.",
                    money(p.installments)
                )
            } else {
                format!(
                    "Installments of {} are {} of monthly income {}.",
                    money(p.installments),
                    opt_percent(p.ratio()),
                    money(p.income)
                )
            }
        }
        Facts::PaymentToIncome(None) => {
            m.put("pti", MetricValue::Null);
            "No income observation to compare installments with.".to_owned()
        }
        Facts::Ltv { outstanding, value } => {
            let r = outstanding.checked_div(*value);
            m.put("outstanding_principal", MetricValue::Money(*outstanding))
                .put("collateral_value", MetricValue::Money(*value))
                .put("ltv", opt_ratio(r));
            format!(
                "LTV {} (outstanding principal {} against collateral value {}).",
                r.map_or_else(
                    || "beyond the decimal range".to_owned(),
                    |r| round_half_away(r, 2).to_string()
                ),
                money(*outstanding),
                money(*value)
            )
        }
        Facts::CollateralDrop(Some(d)) => {
            let r = d
                .latest
                .checked_div(d.peak)
                .and_then(|x| Decimal::ONE.checked_sub(x));
            m.put("latest_value", MetricValue::Money(d.latest))
                .put("peak_value", MetricValue::Money(d.peak))
                .put("drop_ratio", opt_ratio(r));
            format!(
                "Collateral value {} is {} below the {}-day peak of {}.",
                money(d.latest),
                opt_percent(r),
                rules.collateral_drop.window_days,
                money(d.peak)
            )
        }
        Facts::CollateralDrop(None) => {
            m.put("drop_ratio", MetricValue::Null);
            "No earlier valuation in the window to compare with.".to_owned()
        }
        Facts::Stale {
            days,
            since,
            observed,
        } => {
            let what = if signal == Signal::StaleIncome {
                "income observation"
            } else {
                "collateral valuation"
            };
            m.put("days_since", MetricValue::Int(*days)).put(
                if *observed {
                    "last_observed_on"
                } else {
                    "loan_opened_on"
                },
                MetricValue::Text(since.to_string()),
            );
            if *observed {
                format!("Latest {what} is {days} days old (from {since}).")
            } else {
                format!("No {what} in the {days} days since the loan opened on {since}.")
            }
        }
        Facts::Score { score, parts } => {
            let mut contributions = AlertMetrics::default();
            let mut named = Vec::new();
            for (name, pts) in SCORE_PARTS.iter().zip(parts) {
                contributions.put(name, MetricValue::Int(i64::from(*pts)));
                if *pts > 0 {
                    named.push(format!("{name} {pts}"));
                }
            }
            m.put("score", MetricValue::Int(i64::from(*score)))
                .put("contributions", MetricValue::Map(contributions));
            let detail = if named.is_empty() {
                "no risk factor".to_owned()
            } else {
                named.join(" + ")
            };
            format!("Early-warning score {score}: {detail}.")
        }
    };
    let reason = match status {
        AlertStatus::Resolved => format!("Resolved: {sentence}"),
        _ => sentence,
    };
    (reason, m)
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
