//! The nine signals: from a borrower's state and a business date to the severity each
//! (loan or borrower, signal) should have now, and the figures behind it.
//!
//! Threshold comparisons are done by exact multiplication (`outstanding ≥ t × value`), never on
//! a rounded quotient, so a ratio exactly at a threshold is always on the documented side.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::event::CloseReason;
use super::money::{ge_product, gt_product, le_product};
use super::schedule::Delinquency;
use super::state::{Borrower, Loan, Observation};
use super::types::{Severity, Signal};
use crate::settings::rules::{Bands, RulesConfig, Step, Threshold};

/// Score components in the order they are reported.
pub const SCORE_PARTS: [&str; 6] = [
    "dpd",
    "failures",
    "income_drop",
    "payment_to_income",
    "ltv",
    "collateral_drop",
];

/// The figures behind one signal's condition, kept until a message needs rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    /// Days past due of one loan.
    Dpd {
        /// Present when the loan is behind.
        delinquency: Option<Delinquency>,
        /// Cumulative received − reversed.
        paid: Decimal,
    },
    /// Failed debits since the last received payment.
    PaymentFailed {
        /// How many.
        consecutive: u32,
        /// The latest one's reason.
        last_reason: Option<Box<str>>,
    },
    /// Latest income against the previous ones (absent when too few observations).
    IncomeDrop(Option<IncomeDrop>),
    /// Installments against income (absent without any income observation).
    PaymentToIncome(Option<PaymentToIncome>),
    /// Outstanding principal against collateral.
    Ltv {
        /// Outstanding principal.
        outstanding: Decimal,
        /// Latest collateral value.
        value: Decimal,
    },
    /// Latest valuation against the window's peak (absent without an earlier valuation).
    CollateralDrop(Option<CollateralDrop>),
    /// Days since the reference date of a staleness signal.
    Stale {
        /// Business days elapsed.
        days: i64,
        /// The latest observation's date (or the loan opening's, for income without any).
        since: NaiveDate,
        /// False when no observation exists and `since` is the loan opening.
        observed: bool,
    },
    /// The composite score.
    Score {
        /// Capped total.
        score: u32,
        /// Points by component, in [`SCORE_PARTS`] order.
        parts: [u32; 6],
    },
    /// The loan closed: its alerts resolve.
    LoanClosed(CloseReason),
    /// The borrower has no open loan: borrower-scope alerts resolve.
    NoOpenLoans,
}

/// Figures of an income drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeDrop {
    /// Latest monthly income.
    pub latest: Decimal,
    /// Sum of the previous observations.
    pub previous_sum: Decimal,
    /// How many previous observations.
    pub previous: u32,
}

impl IncomeDrop {
    /// Mean of the previous observations.
    pub fn mean(&self) -> Decimal {
        self.previous_sum / Decimal::from(self.previous)
    }
    /// `(mean − latest) / mean`, unrounded; `None` when the mean is 0 or the ratio is out of
    /// range.
    pub fn ratio(&self) -> Option<Decimal> {
        let n = Decimal::from(self.previous);
        let share = n.checked_mul(self.latest)?.checked_div(self.previous_sum)?;
        Decimal::ONE.checked_sub(share)
    }
    /// Is the drop at least `t`? Exact: n × latest ≤ (1 − t) × sum.
    fn at_least(&self, t: Decimal) -> bool {
        let n = Decimal::from(self.previous);
        self.previous_sum > Decimal::ZERO
            && n.checked_mul(self.latest)
                .is_some_and(|lhs| le_product(lhs, Decimal::ONE - t, self.previous_sum))
    }
}

/// Figures of payment-to-income.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentToIncome {
    /// Sum of installment amounts of open loans.
    pub installments: Decimal,
    /// Latest monthly income.
    pub income: Decimal,
}

impl PaymentToIncome {
    /// The ratio; `None` when income is 0 (infinite) or the ratio is out of range.
    pub fn ratio(&self) -> Option<Decimal> {
        self.installments.checked_div(self.income)
    }
    /// Is the ratio strictly above `t`?
    fn above(&self, t: Decimal) -> bool {
        if self.income.is_zero() {
            return self.installments > Decimal::ZERO;
        }
        gt_product(self.installments, t, self.income)
    }
}

/// Figures of a collateral drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollateralDrop {
    /// Latest valuation.
    pub latest: Decimal,
    /// Highest earlier valuation in the window.
    pub peak: Decimal,
}

/// What one (loan or none, signal) should be now. The figures behind it are rendered only
/// when this differs from the open alert (see [`Figures::facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desired {
    /// Index into the borrower's open loans for loan-scope signals.
    pub loan: Option<usize>,
    /// The signal.
    pub signal: Signal,
    /// Severity it should have; `None` = no alert.
    pub severity: Option<Severity>,
}

/// Highest severity whose threshold satisfies `holds` (thresholds rise with severity).
pub fn band<T>(bands: &Bands<T>, holds: impl Fn(&T) -> bool) -> Option<Severity> {
    bands.iter().rev().find(|(_, t)| holds(t)).map(|(s, _)| *s)
}

fn points<T>(steps: &[Step<T>], holds: impl Fn(&T) -> bool) -> u32 {
    steps
        .iter()
        .rev()
        .find(|s| holds(&s.at))
        .map_or(0, |s| s.points)
}

/// Per-loan figures computed once per evaluation.
#[derive(Debug, Clone, Default)]
struct LoanFigures {
    delinquency: Option<Delinquency>,
    collateral_drop: Option<CollateralDrop>,
}

/// Everything one evaluation computed about a borrower; reused across evaluations so that the
/// common case (nothing changed) allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    loans: Vec<LoanFigures>,
    income_drop: Option<IncomeDrop>,
    pti: Option<PaymentToIncome>,
    stale_income: Option<(i64, NaiveDate, bool)>,
    today: Option<NaiveDate>,
    score: u32,
    parts: [u32; 6],
}

fn collateral_drop(valuations: &[Observation], window_days: u32) -> Option<CollateralDrop> {
    let (latest, earlier) = valuations.split_last()?;
    let from = latest.date - chrono::Duration::days(i64::from(window_days));
    let peak = earlier
        .iter()
        .filter(|o| o.date >= from)
        .map(|o| o.value)
        .max()?;
    Some(CollateralDrop {
        latest: latest.value,
        peak,
    })
}

fn income_drop(incomes: &[Observation], window: u32, min_previous: u32) -> Option<IncomeDrop> {
    let (latest, earlier) = incomes.split_last()?;
    let take = earlier.len().min(window as usize);
    let previous = &earlier[earlier.len() - take..];
    if (previous.len() as u32) < min_previous {
        return None;
    }
    Some(IncomeDrop {
        latest: latest.value,
        previous_sum: previous
            .iter()
            .fold(Decimal::ZERO, |acc, o| acc.saturating_add(o.value)),
        previous: previous.len() as u32,
    })
}

fn ltv_at_least(loan: &Loan, t: Decimal) -> bool {
    loan.valuations
        .last()
        .is_some_and(|v| ge_product(loan.outstanding, t, v.value))
}

fn drop_fires(d: &CollateralDrop, ratio: Threshold) -> bool {
    le_product(d.latest, ratio.0, d.peak)
}

/// Computes the figures of `b` on business date `today` and pushes what every signal should
/// be, in publishing order: signals in table order, loans in the order they opened.
pub fn evaluate(
    b: &Borrower,
    today: NaiveDate,
    rules: &RulesConfig,
    fig: &mut Figures,
    out: &mut Vec<Desired>,
) {
    fig.today = Some(today);
    fig.loans.clear();
    fig.loans.extend(b.loans.iter().map(|l| LoanFigures {
        delinquency: l.terms.delinquency(l.paid, l.covered, today),
        collateral_drop: collateral_drop(&l.valuations, rules.collateral_drop.window_days),
    }));
    let has_loans = !b.loans.is_empty();
    let loan_signal =
        |out: &mut Vec<Desired>, signal: Signal, sev: &dyn Fn(usize) -> Option<Severity>| {
            for i in 0..b.loans.len() {
                out.push(Desired {
                    loan: Some(i),
                    signal,
                    severity: sev(i),
                });
            }
        };
    let borrower_signal = |out: &mut Vec<Desired>, signal: Signal, severity: Option<Severity>| {
        // Borrower-scope signals need at least one open loan.
        out.push(Desired {
            loan: None,
            signal,
            severity: severity.filter(|_| has_loans),
        });
    };
    let dpd_of = |i: usize| fig.loans[i].delinquency.as_ref().map_or(0, |d| d.dpd);
    let failures_of = |i: usize| b.loans[i].failures.len() as u32;
    let cd = &rules.collateral_drop;
    let drop_of = |i: usize| {
        fig.loans[i]
            .collateral_drop
            .as_ref()
            .is_some_and(|d| drop_fires(d, cd.max_ratio_of_peak))
    };

    loan_signal(out, Signal::Dpd, &|i| {
        enabled(
            rules.dpd.enabled,
            band(&rules.dpd.severity, |t| dpd_of(i) >= *t),
        )
    });
    loan_signal(out, Signal::PaymentFailed, &|i| {
        let pf = &rules.payment_failed;
        enabled(pf.enabled, band(&pf.severity, |t| failures_of(i) >= *t))
    });

    let ic = &rules.income_drop;
    let drop = income_drop(
        &b.incomes,
        ic.window_observations,
        ic.min_previous_observations,
    );
    let drop_sev = drop
        .as_ref()
        .and_then(|d| band(&ic.severity, |t| d.at_least(t.0)));
    borrower_signal(out, Signal::IncomeDrop, enabled(ic.enabled, drop_sev));

    let pti = b.incomes.last().map(|inc| PaymentToIncome {
        installments: b.loans.iter().fold(Decimal::ZERO, |acc, l| {
            acc.saturating_add(l.terms.installment)
        }),
        income: inc.value,
    });
    let pti_sev = pti
        .as_ref()
        .and_then(|p| band(&rules.payment_to_income.severity, |t| p.above(t.0)));
    borrower_signal(
        out,
        Signal::PaymentToIncome,
        enabled(rules.payment_to_income.enabled, pti_sev),
    );

    loan_signal(out, Signal::Ltv, &|i| {
        enabled(
            rules.ltv.enabled,
            band(&rules.ltv.severity, |t| ltv_at_least(&b.loans[i], t.0)),
        )
    });
    loan_signal(out, Signal::CollateralDrop, &|i| {
        enabled(cd.enabled, drop_of(i).then_some(cd.severity))
    });

    let (since, observed) = match b.incomes.last() {
        Some(inc) => (inc.date, true),
        None => (
            b.loans.iter().map(|l| l.opened_date).min().unwrap_or(today),
            false,
        ),
    };
    let days = (today - since).num_days();
    let si = &rules.stale_income;
    borrower_signal(
        out,
        Signal::StaleIncome,
        enabled(
            si.enabled,
            (days >= i64::from(si.after_days)).then_some(si.severity),
        ),
    );
    let sv = &rules.stale_valuation;
    loan_signal(out, Signal::StaleValuation, &|i| {
        let days = (today - valuation_date(&b.loans[i])).num_days();
        enabled(
            sv.enabled,
            (days >= i64::from(sv.after_days)).then_some(sv.severity),
        )
    });

    let ew = &rules.early_warning;
    let worst = |f: &dyn Fn(usize) -> u32| (0..b.loans.len()).map(f).max().unwrap_or(0);
    let parts = [
        worst(&|i| points(&ew.dpd_points, |t| dpd_of(i) >= *t)),
        worst(&|i| points(&ew.failure_points, |t| failures_of(i) >= *t)),
        drop.as_ref()
            .map_or(0, |d| points(&ew.income_drop_points, |t| d.at_least(t.0))),
        pti.as_ref().map_or(0, |p| {
            points(&ew.payment_to_income_points, |t| p.above(t.0))
        }),
        worst(&|i| points(&ew.ltv_points, |t| ltv_at_least(&b.loans[i], t.0))),
        if (0..b.loans.len()).any(drop_of) {
            ew.collateral_drop_points
        } else {
            0
        },
    ];
    let score = parts.iter().sum::<u32>().min(ew.cap);
    borrower_signal(
        out,
        Signal::EarlyWarning,
        enabled(ew.enabled, band(&ew.severity, |t| score >= *t)),
    );

    fig.income_drop = drop;
    fig.pti = pti;
    fig.stale_income = Some((days, since, observed));
    fig.score = score;
    fig.parts = parts;
}

fn valuation_date(loan: &Loan) -> NaiveDate {
    loan.valuations.last().map_or(loan.opened_date, |v| v.date)
}

impl Figures {
    /// Days past due of open loan `i` as evaluated (0 when current or unknown).
    pub fn dpd(&self, i: usize) -> u32 {
        self.loans
            .get(i)
            .and_then(|l| l.delinquency.as_ref())
            .map_or(0, |d| d.dpd)
    }

    /// The early-warning score as evaluated.
    pub fn score(&self) -> u32 {
        self.score
    }

    /// The figures behind one desired state, for its message.
    pub fn facts(&self, b: &Borrower, d: &Desired) -> Facts {
        if d.loan.is_none() && b.loans.is_empty() {
            return Facts::NoOpenLoans;
        }
        let loan = d
            .loan
            .and_then(|i| Some((b.loans.get(i)?, self.loans.get(i)?)));
        match (d.signal, loan) {
            (Signal::Dpd, Some((l, f))) => Facts::Dpd {
                delinquency: f.delinquency.clone(),
                paid: l.paid,
            },
            (Signal::PaymentFailed, Some((l, _))) => Facts::PaymentFailed {
                consecutive: l.failures.len() as u32,
                last_reason: l.failures.last().and_then(|x| x.reason.clone()),
            },
            (Signal::Ltv, Some((l, _))) => Facts::Ltv {
                outstanding: l.outstanding,
                value: l.valuations.last().map_or(Decimal::ZERO, |v| v.value),
            },
            (Signal::CollateralDrop, Some((_, f))) => {
                Facts::CollateralDrop(f.collateral_drop.clone())
            }
            (Signal::StaleValuation, Some((l, _))) => {
                let since = valuation_date(l);
                Facts::Stale {
                    days: self.today.map_or(0, |t| (t - since).num_days()),
                    since,
                    observed: true,
                }
            }
            (Signal::IncomeDrop, _) => Facts::IncomeDrop(self.income_drop.clone()),
            (Signal::PaymentToIncome, _) => Facts::PaymentToIncome(self.pti.clone()),
            (Signal::StaleIncome, _) => {
                let (days, since, observed) = self.stale_income.unwrap_or_default();
                Facts::Stale {
                    days,
                    since,
                    observed,
                }
            }
            (Signal::EarlyWarning, _) => Facts::Score {
                score: self.score,
                parts: self.parts,
            },
            // A loan-scope signal without its loan cannot be asked for; say so plainly.
            (_, None) => Facts::NoOpenLoans,
        }
    }
}

fn enabled(on: bool, severity: Option<Severity>) -> Option<Severity> {
    severity.filter(|_| on)
}

#[cfg(test)]
mod tests;
