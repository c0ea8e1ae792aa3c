//! What an alert's reason says, before it is put into words: one [`Reason`] variant per
//! sentence (its code), carrying the figures that sentence and the message's metrics are made
//! of. Computed once per message, on the stack; the words are `english.rs`'s.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::event::CloseReason;
use crate::money::round_half_away;
use crate::output::{AlertMetrics, MetricValue};
use crate::settings::rules::RulesConfig;
use crate::signals::{Facts, SCORE_PARTS};
use crate::types::{Severity, Signal};

/// Ratios in metrics carry four decimals.
const RATIO_DP: u32 = 4;

/// The reason of one alert message: which sentence, with which figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason<'a> {
    /// The loan closed, for this reason.
    LoanClosed(CloseReason),
    /// The borrower has no open loan left.
    NoOpenLoans,
    /// The loan is past due.
    Overdue(Overdue),
    /// The loan is current, having paid this much (received − reversed).
    Current {
        /// Cumulative received − reversed.
        paid: Decimal,
    },
    /// A payment was received after failed debits.
    FailuresCleared(Failures<'a>),
    /// Failed debits since the last received payment.
    FailedDebits(Failures<'a>),
    /// Latest income against the previous ones, whose mean is above 0.
    IncomeDrop(Income),
    /// Latest income against previous ones that averaged 0: no drop to measure.
    IncomeMeanZero(Income),
    /// Too few income observations to judge a drop.
    TooFewIncomes,
    /// Installments against a monthly income above 0.
    PaymentToIncome(Pti),
    /// Installments against a reported monthly income of 0.
    ZeroIncome(Pti),
    /// No income observation to compare installments with.
    NoIncome,
    /// Outstanding principal against collateral value.
    Ltv(Ltv),
    /// Latest valuation against the window's peak.
    CollateralDrop(CollateralDrop),
    /// No earlier valuation in the window.
    NoEarlierValuation,
    /// The latest observation is this old.
    Stale(Stale),
    /// No observation since the loan opened.
    NeverObserved(Stale),
    /// The early-warning score and its parts.
    Score {
        /// Capped total.
        score: u32,
        /// Points by component, in [`SCORE_PARTS`] order.
        parts: &'a [u32; 6],
    },
}

/// Figures of a past-due loan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overdue {
    /// Days past due.
    pub dpd: u32,
    /// The DPD threshold of the alert's severity (`None` if that severity has none).
    pub threshold: Option<u32>,
    /// Amount due and not paid.
    pub arrears: Decimal,
    /// Due date of the first unpaid installment.
    pub due_date: NaiveDate,
    /// The first unpaid installment (1-based).
    pub installment_no: u32,
    /// Cumulative received − reversed.
    pub paid: Decimal,
}

/// Figures of failed debits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Failures<'a> {
    /// Failed debits since the last received payment.
    pub consecutive: u32,
    /// The latest one's reason.
    pub last_reason: Option<&'a str>,
}

/// Figures of an income drop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Income {
    /// Latest monthly income.
    pub latest: Decimal,
    /// How many previous observations.
    pub previous: u32,
    /// Their mean, to the cent.
    pub mean: Decimal,
    /// The drop, unrounded; `None` when the mean is 0 or it is out of range.
    pub ratio: Option<Decimal>,
}

/// Figures of payment-to-income.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pti {
    /// Installments of the open loans.
    pub installments: Decimal,
    /// Latest monthly income.
    pub income: Decimal,
    /// The ratio, unrounded; `None` when income is 0 or it is out of range.
    pub ratio: Option<Decimal>,
}

/// Figures of loan-to-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ltv {
    /// Outstanding principal.
    pub outstanding: Decimal,
    /// Latest collateral value.
    pub value: Decimal,
    /// The ratio, unrounded; `None` when out of range.
    pub ratio: Option<Decimal>,
}

/// Figures of a collateral drop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollateralDrop {
    /// Latest valuation.
    pub latest: Decimal,
    /// Highest earlier valuation in the window.
    pub peak: Decimal,
    /// The drop, unrounded; `None` when out of range.
    pub ratio: Option<Decimal>,
    /// The window, in days.
    pub window_days: u32,
}

/// Figures of a staleness signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stale {
    /// `stale_income` or `stale_valuation`: what is missing.
    pub signal: Signal,
    /// Business days elapsed.
    pub days: i64,
    /// The latest observation's date, or the loan opening's.
    pub since: NaiveDate,
}

impl<'a> Reason<'a> {
    /// What the message of `signal` at `severity` says about `facts`.
    pub fn of(signal: Signal, severity: Severity, facts: &'a Facts, rules: &RulesConfig) -> Self {
        match facts {
            Facts::LoanClosed(reason) => Reason::LoanClosed(*reason),
            Facts::NoOpenLoans => Reason::NoOpenLoans,
            Facts::Dpd {
                delinquency: Some(d),
                paid,
            } => Reason::Overdue(Overdue {
                dpd: d.dpd,
                threshold: rules.dpd.severity.get(&severity).copied(),
                arrears: d.arrears,
                due_date: d.due_date,
                installment_no: d.installment_no,
                paid: *paid,
            }),
            Facts::Dpd {
                delinquency: None,
                paid,
            } => Reason::Current { paid: *paid },
            Facts::PaymentFailed {
                consecutive,
                last_reason,
            } => {
                let f = Failures {
                    consecutive: *consecutive,
                    last_reason: last_reason.as_deref(),
                };
                if f.consecutive == 0 {
                    Reason::FailuresCleared(f)
                } else {
                    Reason::FailedDebits(f)
                }
            }
            Facts::IncomeDrop(Some(d)) => {
                let i = Income {
                    latest: d.latest,
                    previous: d.previous,
                    mean: round_half_away(d.mean(), 2),
                    ratio: d.ratio(),
                };
                if d.previous_sum.is_zero() {
                    Reason::IncomeMeanZero(i)
                } else {
                    Reason::IncomeDrop(i)
                }
            }
            Facts::IncomeDrop(None) => Reason::TooFewIncomes,
            Facts::PaymentToIncome(Some(p)) => {
                let x = Pti {
                    installments: p.installments,
                    income: p.income,
                    ratio: p.ratio(),
                };
                if p.income.is_zero() {
                    Reason::ZeroIncome(x)
                } else {
                    Reason::PaymentToIncome(x)
                }
            }
            Facts::PaymentToIncome(None) => Reason::NoIncome,
            Facts::Ltv { outstanding, value } => Reason::Ltv(Ltv {
                outstanding: *outstanding,
                value: *value,
                ratio: outstanding.checked_div(*value),
            }),
            Facts::CollateralDrop(Some(d)) => Reason::CollateralDrop(CollateralDrop {
                latest: d.latest,
                peak: d.peak,
                ratio: d
                    .latest
                    .checked_div(d.peak)
                    .and_then(|x| Decimal::ONE.checked_sub(x)),
                window_days: rules.collateral_drop.window_days,
            }),
            Facts::CollateralDrop(None) => Reason::NoEarlierValuation,
            Facts::Stale {
                days,
                since,
                observed,
            } => {
                let s = Stale {
                    signal,
                    days: *days,
                    since: *since,
                };
                if *observed {
                    Reason::Stale(s)
                } else {
                    Reason::NeverObserved(s)
                }
            }
            Facts::Score { score, parts } => Reason::Score {
                score: *score,
                parts,
            },
        }
    }

    /// The message's `metrics`: the reason's figures by name, in the contract's order.
    pub fn metrics(&self) -> AlertMetrics {
        let mut m = AlertMetrics::default();
        match *self {
            Reason::LoanClosed(reason) => {
                m.put(
                    "loan_closed_reason",
                    MetricValue::Text(reason.as_str().to_owned()),
                );
            }
            Reason::NoOpenLoans => {
                m.put("open_loans", MetricValue::Int(0));
            }
            Reason::Overdue(d) => {
                m.put("paid", MetricValue::Money(d.paid))
                    .put("dpd", MetricValue::Int(i64::from(d.dpd)))
                    .put("arrears", MetricValue::Money(d.arrears))
                    .put(
                        "installment_no",
                        MetricValue::Int(i64::from(d.installment_no)),
                    )
                    .put("due_date", MetricValue::Text(d.due_date.to_string()));
            }
            Reason::Current { paid } => {
                m.put("paid", MetricValue::Money(paid))
                    .put("dpd", MetricValue::Int(0))
                    .put("arrears", MetricValue::Money(Decimal::ZERO));
            }
            Reason::FailuresCleared(f) | Reason::FailedDebits(f) => {
                let last = f
                    .last_reason
                    .map_or(MetricValue::Null, |r| MetricValue::Text(r.to_owned()));
                m.put(
                    "consecutive_failures",
                    MetricValue::Int(i64::from(f.consecutive)),
                )
                .put("last_failure_reason", last);
            }
            Reason::IncomeDrop(i) | Reason::IncomeMeanZero(i) => {
                m.put("latest_income", MetricValue::Money(i.latest))
                    .put("previous_mean", MetricValue::Money(i.mean))
                    .put(
                        "previous_observations",
                        MetricValue::Int(i64::from(i.previous)),
                    )
                    .put("income_drop_ratio", opt_ratio(i.ratio));
            }
            Reason::TooFewIncomes => {
                m.put("income_drop_ratio", MetricValue::Null);
            }
            Reason::PaymentToIncome(p) | Reason::ZeroIncome(p) => {
                m.put("installments", MetricValue::Money(p.installments))
                    .put("monthly_income", MetricValue::Money(p.income))
                    .put("pti", opt_ratio(p.ratio));
            }
            Reason::NoIncome => {
                m.put("pti", MetricValue::Null);
            }
            Reason::Ltv(l) => {
                m.put("outstanding_principal", MetricValue::Money(l.outstanding))
                    .put("collateral_value", MetricValue::Money(l.value))
                    .put("ltv", opt_ratio(l.ratio));
            }
            Reason::CollateralDrop(d) => {
                m.put("latest_value", MetricValue::Money(d.latest))
                    .put("peak_value", MetricValue::Money(d.peak))
                    .put("drop_ratio", opt_ratio(d.ratio));
            }
            Reason::NoEarlierValuation => {
                m.put("drop_ratio", MetricValue::Null);
            }
            Reason::Stale(s) => {
                m.put("days_since", MetricValue::Int(s.days))
                    .put("last_observed_on", MetricValue::Text(s.since.to_string()));
            }
            Reason::NeverObserved(s) => {
                m.put("days_since", MetricValue::Int(s.days))
                    .put("loan_opened_on", MetricValue::Text(s.since.to_string()));
            }
            Reason::Score { score, parts } => {
                let mut contributions = AlertMetrics::default();
                for (name, pts) in SCORE_PARTS.iter().zip(parts) {
                    contributions.put(name, MetricValue::Int(i64::from(*pts)));
                }
                m.put("score", MetricValue::Int(i64::from(score)))
                    .put("contributions", MetricValue::Map(contributions));
            }
        }
        m
    }
}

/// A ratio to four decimals, or `null` when it is out of the decimal range.
fn opt_ratio(d: Option<Decimal>) -> MetricValue {
    d.map_or(MetricValue::Null, |d| {
        MetricValue::Num(round_half_away(d, RATIO_DP))
    })
}
