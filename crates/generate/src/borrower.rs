//! One borrower: their profile and loans (decided up front from the borrower's own RNG) and a
//! lazy, time-ordered event stream planned a few days ahead of what has been released.
//!
//! Planning works on *triggers* (an opening, an installment, a valuation, an income
//! observation, an accident appraisal). Each trigger has a key — a UTC lower bound of every
//! event it can produce — and triggers are planned in key order. A planned event is released
//! once it is no later than the smallest unplanned key, so events leave in time order and
//! only a handful are buffered per borrower.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{Datelike, NaiveDate};
use postloan_engine::types::SuppressionReason;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ctx::{add_days, add_months, key, local_date, Ctx};
use super::event::{Change, Event, Kind, PayStatus, Queued};
use super::loan::{make_loan, LoanPlan};
use super::mirror::{quiet_from, SuppInForce};
use super::modify::{deferral_at, P_JOB_LOSS_DEFERRAL};
use super::suppress::{
    SuppPlan, P_DISASTER, P_JOB_LOSS_HARDSHIP, P_LATE_DISPUTE, P_LATE_HARDSHIP, P_PARTIAL_DISPUTE,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncomeMode {
    /// Monthly payroll observation on `payday` (for the previous month).
    Payroll { payday: u32 },
    /// Quarterly bank statement.
    Quarterly,
    /// Nothing after the origination observation.
    Silent,
}

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

#[derive(Debug, Clone, Copy)]
pub(crate) enum Trigger {
    Open(usize),
    Installment(usize),
    Valuation(usize),
    Accident(usize),
    Income,
    Suppression,
}

/// One synthetic borrower as the generator plans it (its loans, income and what happens
/// next) — not the engine's `state::Borrower`.
#[derive(Debug)]
pub(crate) struct BorrowerPlan {
    pub idx: u32,
    /// 1-based borrower number used in ids.
    pub num: u64,
    pub(super) rng: ChaCha8Rng,
    pub(super) class: Class,
    pub loans: Vec<LoanPlan>,
    pub(super) income_mode: IncomeMode,
    /// Base monthly income, cents.
    pub(super) income_base: f64,
    pub(super) job_loss: Option<JobLoss>,
    pub(super) income_date: NaiveDate,
    pub(super) income_key: i64,
    /// A borrower-wide suppression planned ahead (after a job loss, or a disaster).
    pub(super) supp_plan: Option<SuppPlan>,
    pub(super) supp_key: i64,
    /// A suppression due at the first installment 8 or more days behind (late/partial payers).
    pub(super) late_supp: Option<SuppressionReason>,
    /// Suppressions numbered so far (`S-<N>-<no>`).
    pub(super) supp_no: u16,
    /// Suppressions in force as written so far (release-time state for the DPD mirrors).
    supp: Vec<SuppInForce>,
    pending: BinaryHeap<Reverse<Queued>>,
    plan_seq: u32,
    emitted: u32,
    open_loans: u8,
    /// Next event to write, held by the merge.
    pub head: Option<Event>,
}

/// Key clamped to "never" when it lies past the book.
pub(super) fn clamp_key(ctx: &Ctx, k: i64) -> i64 {
    if k >= ctx.end_utc {
        i64::MAX
    } else {
        k
    }
}

/// The per-borrower RNG: ChaCha8 keyed by (seed, borrower index), so every borrower's script
/// is independent of every other and of iteration order.
fn borrower_rng(seed: u64, idx: u32) -> ChaCha8Rng {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&seed.to_le_bytes());
    k[8..12].copy_from_slice(&idx.to_le_bytes());
    k[16..24].copy_from_slice(b"PLMGEN01");
    ChaCha8Rng::from_seed(k)
}

/// Rounds cents to whole yuan.
pub(super) fn whole_yuan(cents: f64) -> i64 {
    ((cents / 100.0).round() as i64) * 100
}

impl BorrowerPlan {
    pub(crate) fn new(idx: u32, ctx: &Ctx) -> BorrowerPlan {
        let mut rng = borrower_rng(ctx.seed, idx);
        let u: f64 = rng.gen();
        let class = if u < 0.80 {
            Class::OnTime
        } else if u < 0.90 {
            Class::Late
        } else if u < 0.95 {
            Class::Partial
        } else if u < 0.98 {
            Class::Bounce
        } else {
            Class::Default
        };
        let half = (super::ctx::days(add_months(ctx.start, (ctx.months / 2).max(1)))
            - super::ctx::days(ctx.start))
        .max(1);
        let open1 = add_days(ctx.start, rng.gen_range(0..half));
        let mut loans = vec![make_loan(&mut rng, ctx, 1, open1, class)];
        let late_supp = {
            let u: f64 = rng.gen();
            let (hardship, dispute) = match class {
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
        };
        if class != Class::Default && rng.gen_bool(0.05) {
            let open2 = add_days(open1, rng.gen_range(60..=300));
            loans.push(make_loan(&mut rng, ctx, 2, open2, class));
        }

        let pti = if rng.gen_bool(0.05) {
            rng.gen_range(0.5..0.75)
        } else {
            rng.gen_range(0.12..0.45)
        };
        let income_base = (loans[0].inst as f64 / pti / 1000.0).round() * 1000.0;
        let m: f64 = rng.gen();
        let income_mode = if m < 0.72 {
            IncomeMode::Payroll {
                payday: rng.gen_range(1..=28),
            }
        } else if m < 0.90 {
            IncomeMode::Quarterly
        } else {
            IncomeMode::Silent
        };
        let job_loss = rng.gen_bool(0.03).then(|| {
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
        });
        if let Some(j) = job_loss.filter(|_| class != Class::Default) {
            // A payment holiday at the first installment due 10–40 days after the job loss.
            let first = &mut loans[0];
            if first.defer[0].is_none() && rng.gen_bool(P_JOB_LOSS_DEFERRAL) {
                let from = add_days(j.from, rng.gen_range(10..=40));
                let k = (1..first.term).find(|&k| first.due(k) >= from);
                if let Some(k) = k.filter(|k| *k >= 2) {
                    first.defer = [Some(deferral_at(&mut rng, k, 0.5)), None];
                }
            }
        }
        let supp_plan = match job_loss {
            Some(j) if rng.gen_bool(P_JOB_LOSS_HARDSHIP) => Some(SuppPlan {
                date: add_days(j.from, rng.gen_range(10..=45)),
                reason: SuppressionReason::Hardship,
            }),
            _ if rng.gen_bool(P_DISASTER) => Some(SuppPlan {
                date: add_days(open1, rng.gen_range(30..=400)),
                reason: SuppressionReason::Disaster,
            }),
            _ => None,
        };
        let supp_key = supp_plan.map_or(i64::MAX, |p| clamp_key(ctx, key(p.date)));
        let month1 = open1.with_day(1).unwrap_or(open1);
        let income_date = match income_mode {
            IncomeMode::Payroll { payday } => {
                let m = add_months(month1, 1);
                m.with_day(payday).unwrap_or(m)
            }
            IncomeMode::Quarterly => {
                let m = add_months(month1, rng.gen_range(1..=3));
                m.with_day(rng.gen_range(3..=15)).unwrap_or(m)
            }
            IncomeMode::Silent => NaiveDate::MAX,
        };
        let income_key = if income_mode == IncomeMode::Silent {
            i64::MAX
        } else {
            clamp_key(ctx, key(income_date))
        };
        BorrowerPlan {
            idx,
            num: u64::from(idx) + 1,
            rng,
            class,
            loans,
            income_mode,
            income_base,
            job_loss,
            income_date,
            income_key,
            supp_plan,
            supp_key,
            late_supp,
            supp_no: 0,
            supp: Vec::new(),
            pending: BinaryHeap::new(),
            plan_seq: 0,
            emitted: 0,
            open_loans: 0,
            head: None,
        }
    }

    /// Smallest unplanned trigger key and its trigger.
    pub(super) fn next_trigger(&self) -> (i64, Trigger) {
        let mut best = (self.income_key, Trigger::Income);
        if self.supp_key < best.0 {
            best = (self.supp_key, Trigger::Suppression);
        }
        for (i, l) in self.loans.iter().enumerate() {
            for (k, t) in [
                (l.open_key, Trigger::Open(i)),
                (l.inst_key, Trigger::Installment(i)),
                (l.val_key, Trigger::Valuation(i)),
                (l.acc_key, Trigger::Accident(i)),
            ] {
                if k < best.0 {
                    best = (k, t);
                }
            }
        }
        best
    }

    /// The borrower's next event in time order, or `None` when the script is exhausted.
    pub(crate) fn next_event(&mut self, ctx: &Ctx) -> Option<Event> {
        loop {
            let (nk, trigger) = self.next_trigger();
            if let Some(Reverse(q)) = self.pending.peek() {
                if q.0.t <= nk {
                    let Some(Reverse(Queued(ev))) = self.pending.pop() else {
                        continue;
                    };
                    if let Some(ev) = self.admit(ctx, ev) {
                        return Some(ev);
                    }
                    continue;
                }
            }
            if nk == i64::MAX {
                return None;
            }
            self.plan(ctx, trigger);
        }
    }

    /// Applies release-time state (open loans, suppressions, DPD mirrors) and drops events that
    /// no longer apply (e.g. a valuation after the loan closed, an ack whose alert is not open,
    /// a revocation of a suppression that was never written).
    fn admit(&mut self, ctx: &Ctx, mut ev: Event) -> Option<Event> {
        let li = usize::from(ev.loan);
        let t = ev.t;
        if matches!(
            ev.kind,
            Kind::Repayment { .. }
                | Kind::AckCandidate { .. }
                | Kind::Modified { .. }
                | Kind::Suppression { .. }
        ) {
            self.advance_mirrors(ctx, t);
        }
        match ev.kind {
            Kind::Income { .. } => {
                if self.open_loans == 0 {
                    return None;
                }
            }
            Kind::LoanOpened => {
                let loan = self.loans.get_mut(li)?;
                if loan.live {
                    return None;
                }
                loan.live = true;
                self.open_loans += 1;
            }
            Kind::Repayment { amount, status, .. } => {
                let loan = self.loans.get_mut(li).filter(|l| l.live)?;
                loan.mirror.paid += match status {
                    PayStatus::Received => amount,
                    PayStatus::Reversed => -amount,
                    PayStatus::Failed(_) => 0,
                };
                self.settle(ctx, t, li);
            }
            Kind::Valuation { .. } => {
                self.loans.get(li).filter(|l| l.live)?;
            }
            Kind::Closed { .. } => {
                let loan = self.loans.get_mut(li).filter(|l| l.live)?;
                loan.live = false;
                self.open_loans = self.open_loans.saturating_sub(1);
            }
            Kind::AckCandidate {
                collector,
                note,
                repeat,
            } => {
                let loan = self.loans.get_mut(li).filter(|l| l.live)?;
                let episode = loan.mirror.episodes;
                if !loan.mirror.open || (repeat && loan.acked_episode != Some(episode)) {
                    return None;
                }
                loan.acked_episode = Some(episode);
                ev.kind = Kind::Ack {
                    episode,
                    collector,
                    note,
                };
            }
            Kind::Ack { .. } => {}
            Kind::Modified {
                effective, change, ..
            } => {
                let loan = self.loans.get_mut(li).filter(|l| l.live)?;
                match change {
                    Change::Deferral { months } => loan.mirror.defer(effective, months),
                    Change::Restructure => loan.mirror.restructure(loan.restructure.as_ref()?),
                }
                self.settle(ctx, t, li);
            }
            Kind::Suppression {
                no,
                loan_scoped,
                signals,
                until,
                follow_up,
                ..
            } => {
                let known = self.supp.iter().position(|s| s.no == no);
                let loan_open = self.loans.get(li).is_some_and(|l| l.live);
                if (follow_up && known.is_none())
                    || (loan_scoped && !loan_open)
                    || (!follow_up && self.open_loans == 0)
                {
                    return None;
                }
                if until < local_date(t, ev.off) {
                    // Revoked: it lapses at once.
                    if let Some(p) = known {
                        self.supp.remove(p);
                    }
                } else {
                    let s = SuppInForce {
                        no,
                        loan: loan_scoped.then_some(ev.loan),
                        dpd: signals.covers_dpd(),
                        lapse: ctx.midnight(add_days(until, 1)),
                    };
                    match known {
                        Some(p) => self.supp[p] = s,
                        None => self.supp.push(s),
                    }
                }
                for i in 0..self.loans.len() {
                    if self.loans[i].live {
                        self.settle(ctx, t, i);
                    }
                }
            }
        }
        self.emitted += 1;
        ev.eid = self.emitted;
        Some(ev)
    }

    /// Brings every open loan's DPD mirror to instant `t` (the timers before it), then forgets
    /// the suppressions that have lapsed by then.
    fn advance_mirrors(&mut self, ctx: &Ctx, t: i64) {
        for (i, loan) in self.loans.iter_mut().enumerate() {
            if loan.live {
                let quiet = quiet_from(&self.supp, u8::try_from(i).unwrap_or(u8::MAX));
                loan.mirror.advance(ctx, t, quiet);
            }
        }
        self.supp.retain(|s| s.lapse > t);
    }

    /// Re-evaluates loan `li`'s DPD mirror at `t` after an event changed it.
    fn settle(&mut self, ctx: &Ctx, t: i64, li: usize) {
        let quiet = quiet_from(&self.supp, u8::try_from(li).unwrap_or(u8::MAX));
        if let Some(loan) = self.loans.get_mut(li) {
            loan.mirror.settle(ctx, t, quiet > t);
        }
    }

    /// Queues an event at local `date` + `secs`; returns false (and queues nothing) when that
    /// instant lies outside the book.
    pub(super) fn push(
        &mut self,
        ctx: &Ctx,
        loan: usize,
        date: NaiveDate,
        secs: u32,
        kind: Kind,
    ) -> bool {
        let Some((t, off)) = ctx.at(date, secs) else {
            return false;
        };
        self.plan_seq += 1;
        self.pending.push(Reverse(Queued(Event {
            t,
            off,
            seq: self.plan_seq,
            loan: u8::try_from(loan).unwrap_or(u8::MAX),
            eid: 0,
            kind,
        })));
        true
    }

    /// A random instant during business hours (09:00–18:00), seconds after midnight.
    pub(super) fn business_secs(&mut self) -> u32 {
        self.rng.gen_range(9 * 3600..18 * 3600)
    }
}
