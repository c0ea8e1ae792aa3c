//! What is drawn once about a borrower and their loans' behaviour: the repayment class, how
//! income is observed, a job loss, a suppression planned ahead, payment holidays to come.

use chrono::{Datelike, NaiveDate};
use postloan_engine::types::SuppressionReason;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::ctx::{add_days, add_months};
use super::odds::{
    P_DEFERRAL, P_DISASTER, P_JOB_LOSS_HARDSHIP, P_LATE_DISPUTE, P_LATE_HARDSHIP,
    P_PARTIAL_DISPUTE, P_RETRO, P_SECOND,
};

/// Repayment behaviour of a borrower (drawn once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// ~80 %: pays 0–3 days before each due date.
    OnTime,
    /// ~10 %: ~30 % of installments 5–40 days late.
    Late,
    /// ~5 %: ~35 % of installments only 40–90 % paid, shortfall usually caught up next time.
    Partial,
    /// ~3 %: ~30 % of installments bounce once (sometimes twice) before the money arrives.
    Bounce,
    /// ~2 %: stops paying for good at installment 2–10 of the first loan.
    Default,
}

impl Class {
    /// 80 % on time, 10 % late, 5 % partial, 3 % bounce, 2 % default.
    pub(crate) fn draw(rng: &mut ChaCha8Rng) -> Class {
        let u: f64 = rng.gen();
        if u < 0.80 {
            Class::OnTime
        } else if u < 0.90 {
            Class::Late
        } else if u < 0.95 {
            Class::Partial
        } else if u < 0.98 {
            Class::Bounce
        } else {
            Class::Default
        }
    }

    /// The suppression a late or partial payer gets at their first installment 8 or more
    /// days behind, if any (drawn for every borrower, so the draws that follow do not move).
    pub(crate) fn draw_late_suppression(self, rng: &mut ChaCha8Rng) -> Option<SuppressionReason> {
        let u: f64 = rng.gen();
        let (hardship, dispute) = match self {
            Class::Late => (P_LATE_HARDSHIP, P_LATE_DISPUTE),
            Class::Partial => (P_LATE_HARDSHIP, P_PARTIAL_DISPUTE),
            _ => (0.0, 0.0),
        };
        if u < hardship {
            Some(SuppressionReason::Hardship)
        } else if u < hardship + dispute {
            Some(SuppressionReason::Dispute)
        } else {
            None
        }
    }
}

/// How a borrower's income is observed after origination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncomeMode {
    /// Monthly payroll observation on `payday` (for the previous month).
    Payroll { payday: u32 },
    /// Quarterly bank statement.
    Quarterly,
    /// Nothing after the origination observation.
    Silent,
}

impl IncomeMode {
    /// 72 % monthly payroll (payday 1–28), 18 % quarterly statements, 10 % nothing more.
    pub(crate) fn draw(rng: &mut ChaCha8Rng) -> IncomeMode {
        let m: f64 = rng.gen();
        if m < 0.72 {
            IncomeMode::Payroll {
                payday: rng.gen_range(1..=28),
            }
        } else if m < 0.90 {
            IncomeMode::Quarterly
        } else {
            IncomeMode::Silent
        }
    }

    /// The first observation after the origination one (first loan opened on `open1`):
    /// next month's payday, or a day 3–15 of one of the next three months.
    pub(crate) fn first_date(self, rng: &mut ChaCha8Rng, open1: NaiveDate) -> NaiveDate {
        let month1 = open1.with_day(1).unwrap_or(open1);
        match self {
            IncomeMode::Payroll { payday } => {
                let m = add_months(month1, 1);
                m.with_day(payday).unwrap_or(m)
            }
            IncomeMode::Quarterly => {
                let m = add_months(month1, rng.gen_range(1..=3));
                m.with_day(rng.gen_range(3..=15)).unwrap_or(m)
            }
            IncomeMode::Silent => NaiveDate::MAX,
        }
    }
}

/// Base monthly income (cents, whole thousands of cents) so that the first loan's
/// installment `inst` is 12–45 % of it (5 %: 50–75 %).
pub(crate) fn draw_income_base(rng: &mut ChaCha8Rng, inst: i64) -> f64 {
    let pti = if rng.gen_bool(0.05) {
        rng.gen_range(0.5..0.75)
    } else {
        rng.gen_range(0.12..0.45)
    };
    (inst as f64 / pti / 1000.0).round() * 1000.0
}

/// A job loss: when, whether and when the income recovers, and how it hits repayments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobLoss {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    /// Income factor while out of work (0.0–0.6).
    pub factor: f64,
    /// Income factor after recovery.
    pub recovered: f64,
    /// Pays installments late while out of work.
    pub struggles: bool,
}

impl JobLoss {
    /// With 3 %, a job loss 60–450 days after the first opening (`open1`); half recover
    /// 60–240 days later; half of the on-time payers among them pay late while out of work.
    pub(crate) fn draw(rng: &mut ChaCha8Rng, open1: NaiveDate, class: Class) -> Option<JobLoss> {
        rng.gen_bool(0.03).then(|| {
            let from = add_days(open1, rng.gen_range(60..=450));
            JobLoss {
                from,
                until: rng
                    .gen_bool(0.5)
                    .then(|| add_days(from, rng.gen_range(60..=240))),
                factor: if rng.gen_bool(0.25) {
                    0.0
                } else {
                    rng.gen_range(0.0..0.6)
                },
                recovered: rng.gen_range(0.85..1.1),
                struggles: class == Class::OnTime && rng.gen_bool(0.5),
            }
        })
    }
}

/// A borrower-wide suppression planned ahead (its own trigger).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuppPlan {
    pub date: NaiveDate,
    pub reason: SuppressionReason,
}

impl SuppPlan {
    /// A hardship suppression 10–45 days after a job loss ([`P_JOB_LOSS_HARDSHIP`]), or else a
    /// disaster 30–400 days after the first opening ([`P_DISASTER`]).
    pub(crate) fn draw(
        rng: &mut ChaCha8Rng,
        job_loss: Option<JobLoss>,
        open1: NaiveDate,
    ) -> Option<SuppPlan> {
        match job_loss {
            Some(j) if rng.gen_bool(P_JOB_LOSS_HARDSHIP) => Some(SuppPlan {
                date: add_days(j.from, rng.gen_range(10..=45)),
                reason: SuppressionReason::Hardship,
            }),
            _ if rng.gen_bool(P_DISASTER) => Some(SuppPlan {
                date: add_days(open1, rng.gen_range(30..=400)),
                reason: SuppressionReason::Disaster,
            }),
            _ => None,
        }
    }
}

/// A payment holiday still to plan: granted around installment `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeferPlan {
    /// The installment it moves first (prospective) or the missed one it rescues (`retro`).
    pub k: u32,
    /// Months added (1–6).
    pub months: u8,
    /// Granted 3–20 days after the missed due date of `k`, effective on or before it.
    pub retro: bool,
}

/// Length of a payment holiday: 1–6 months, mostly 1–3.
pub(crate) fn deferral_months(rng: &mut ChaCha8Rng) -> u8 {
    match rng.gen_range(0..100) {
        0..=29 => 1,
        30..=54 => 2,
        55..=79 => 3,
        80..=89 => 4,
        90..=94 => 5,
        _ => 6,
    }
}

/// One holiday around installment `k`.
pub(crate) fn deferral_at(rng: &mut ChaCha8Rng, k: u32, p_retro: f64) -> DeferPlan {
    DeferPlan {
        k,
        months: deferral_months(rng),
        retro: rng.gen_bool(p_retro),
    }
}

/// The holidays of a new loan of `term` months: with [`P_DEFERRAL`] one around installment
/// 2–14, and with [`P_SECOND`] of those a second one 3–9 installments later.
pub(crate) fn draw_deferrals(rng: &mut ChaCha8Rng, term: u32) -> [Option<DeferPlan>; 2] {
    if term < 4 || !rng.gen_bool(P_DEFERRAL) {
        return [None, None];
    }
    let k = rng.gen_range(2..=(term - 1).min(14));
    let first = deferral_at(rng, k, P_RETRO);
    let second = if rng.gen_bool(P_SECOND) {
        let k = first.k + rng.gen_range(3..=9);
        Some(deferral_at(rng, k, P_RETRO)).filter(|d| d.k < term)
    } else {
        None
    };
    [Some(first), second]
}
