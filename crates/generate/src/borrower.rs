//! One borrower as the generator plans them: the profile and loans drawn up front from the
//! borrower's own RNG, the planning cursors, and the queue of planned events that the stream
//! (`stream.rs`) releases in time order. The queue's primitives live here — queue an event,
//! a repayment, a closure, an acknowledgement — so that every part of the schedule
//! (`suppress`, `modify`, `script`) builds on them without knowing the others.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::NaiveDate;
use postloan_engine::event::CloseReason;
use postloan_engine::types::SuppressionReason;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ctx::{add_days, add_months, clamp_key, days, key, Ctx};
use super::event::{Event, Kind, PayStatus, Queued, ACK_NOTES};
use super::loan::{make_loan, LoanPlan};
use super::odds::{P_ACK_NOTE, P_JOB_LOSS_DEFERRAL, P_REPEAT_ACK};
use super::profile::{deferral_at, draw_income_base, Class, IncomeMode, JobLoss, SuppPlan};

/// A borrower's income as the script observes it.
#[derive(Debug)]
pub(crate) struct IncomePlan {
    /// How income is observed after origination.
    pub mode: IncomeMode,
    /// Base monthly income, cents.
    pub base: f64,
    /// A job loss, if the borrower has one.
    pub job_loss: Option<JobLoss>,
    /// Date of the next observation, and its planning key.
    pub date: NaiveDate,
    /// Planning key of the next observation (`i64::MAX`: none).
    pub key: i64,
}

/// One synthetic borrower as the generator plans it (its loans, income and what happens
/// next) — not the engine's `state::Borrower`.
#[derive(Debug)]
pub(crate) struct BorrowerPlan {
    /// 0-based borrower index (the merge's tie-break, the RNG's key).
    pub idx: u32,
    /// 1-based borrower number used in ids.
    pub num: u64,
    /// The borrower's own RNG: every draw of the plan and the schedule.
    pub(crate) rng: ChaCha8Rng,
    /// Repayment behaviour.
    pub(crate) class: Class,
    /// The borrower's loans (one, 5 %: two), by sequence.
    pub loans: Vec<LoanPlan>,
    /// Income observations: mode, base, job loss, next date.
    pub(crate) income: IncomePlan,
    /// A borrower-wide suppression planned ahead (after a job loss, or a disaster).
    pub(crate) supp_plan: Option<SuppPlan>,
    /// Planning key of `supp_plan` (`i64::MAX`: none).
    pub(crate) supp_key: i64,
    /// A suppression due at the first installment 8 or more days behind (late/partial payers).
    pub(crate) late_supp: Option<SuppressionReason>,
    /// Suppressions numbered so far (`S-<N>-<no>`).
    pub(crate) supp_no: u16,
    /// Planned events not yet released, earliest first.
    pending: BinaryHeap<Reverse<Queued>>,
    plan_seq: u32,
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

/// The first loan opens on a uniformly random day of the book's first half.
fn draw_first_opening(rng: &mut ChaCha8Rng, ctx: &Ctx) -> NaiveDate {
    let half = (days(add_months(ctx.start, (ctx.months / 2).max(1))) - days(ctx.start)).max(1);
    add_days(ctx.start, rng.gen_range(0..half))
}

/// After job loss `j`, with [`P_JOB_LOSS_DEFERRAL`], a payment holiday on `first` at the
/// first installment due 10–40 days after it (from installment 2 on; none if one is planned).
fn job_loss_holiday(rng: &mut ChaCha8Rng, first: &mut LoanPlan, j: JobLoss) {
    if first.script.defer[0].is_none() && rng.gen_bool(P_JOB_LOSS_DEFERRAL) {
        let from = add_days(j.from, rng.gen_range(10..=40));
        let k = (1..first.terms.term).find(|&k| first.due(k) >= from);
        if let Some(k) = k.filter(|k| *k >= 2) {
            first.script.defer = [Some(deferral_at(rng, k, 0.5)), None];
        }
    }
}

impl BorrowerPlan {
    /// Draws borrower `idx` (0-based): every draw in a fixed order from the borrower's RNG,
    /// so the same seed always gives the same borrower.
    pub(crate) fn new(idx: u32, ctx: &Ctx) -> BorrowerPlan {
        let mut rng = borrower_rng(ctx.seed, idx);
        let class = Class::draw(&mut rng);
        let open1 = draw_first_opening(&mut rng, ctx);
        let mut loans = vec![make_loan(&mut rng, ctx, 1, open1, class)];
        let late_supp = class.draw_late_suppression(&mut rng);
        if class != Class::Default && rng.gen_bool(0.05) {
            let open2 = add_days(open1, rng.gen_range(60..=300));
            loans.push(make_loan(&mut rng, ctx, 2, open2, class));
        }
        let base = draw_income_base(&mut rng, loans[0].terms.inst);
        let mode = IncomeMode::draw(&mut rng);
        let job_loss = JobLoss::draw(&mut rng, open1, class);
        if let Some(j) = job_loss.filter(|_| class != Class::Default) {
            job_loss_holiday(&mut rng, &mut loans[0], j);
        }
        let supp_plan = SuppPlan::draw(&mut rng, job_loss, open1);
        let supp_key = supp_plan.map_or(i64::MAX, |p| clamp_key(ctx, key(p.date)));
        let date = mode.first_date(&mut rng, open1);
        let income_key = if mode == IncomeMode::Silent {
            i64::MAX
        } else {
            clamp_key(ctx, key(date))
        };
        BorrowerPlan {
            idx,
            num: u64::from(idx) + 1,
            rng,
            class,
            loans,
            income: IncomePlan {
                mode,
                base,
                job_loss,
                date,
                key: income_key,
            },
            supp_plan,
            supp_key,
            late_supp,
            supp_no: 0,
            pending: BinaryHeap::new(),
            plan_seq: 0,
        }
    }

    /// The earliest planned event if it is no later than `key` (the smallest unplanned key:
    /// nothing planned later can come before it).
    pub(crate) fn pop_before(&mut self, key: i64) -> Option<Event> {
        match self.pending.peek() {
            Some(Reverse(q)) if q.0.t <= key => self.pending.pop().map(|Reverse(Queued(ev))| ev),
            _ => None,
        }
    }

    /// Queues an event at local `date` + `secs`; returns false (and queues nothing) when that
    /// instant lies outside the book.
    pub(crate) fn queue(
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
    pub(crate) fn business_secs(&mut self) -> u32 {
        self.rng.gen_range(9 * 3600..18 * 3600)
    }

    /// Queues a repayment event and books its effect on the planned balance.
    pub(crate) fn pay(
        &mut self,
        ctx: &Ctx,
        li: usize,
        date: NaiveDate,
        status: PayStatus,
        amount: i64,
        reuse: Option<u32>,
    ) -> u32 {
        let secs = self.business_secs();
        let loan = &mut self.loans[li];
        let pay_no = reuse.unwrap_or_else(|| {
            loan.cursor.pay_no += 1;
            loan.cursor.pay_no
        });
        match status {
            PayStatus::Received => loan.cursor.planned_paid += amount,
            PayStatus::Reversed => loan.cursor.planned_paid -= amount,
            PayStatus::Failed(_) => {}
        }
        loan.cursor.last_pay_date = loan.cursor.last_pay_date.max(date);
        self.queue(
            ctx,
            li,
            date,
            secs,
            Kind::Repayment {
                pay_no,
                amount,
                status,
            },
        );
        pay_no
    }

    /// Queues loan `li`'s closure on `date`: no installment, valuation or income is planned
    /// for it after that.
    pub(crate) fn close(&mut self, ctx: &Ctx, li: usize, date: NaiveDate, reason: CloseReason) {
        let loan = &mut self.loans[li];
        loan.cursor.ended = true;
        loan.cursor.inst_key = i64::MAX;
        loan.cursor.close_date = Some(date);
        if loan.cursor.val_date >= date {
            loan.cursor.val_key = i64::MAX;
        }
        let secs = self.business_secs();
        self.queue(ctx, li, date, secs, Kind::Closed { reason });
    }

    /// An acknowledgement of loan `li`'s DPD alert on `date` (written only if the alert is open
    /// then), and with [`P_REPEAT_ACK`] a repeat of it 1–40 days later, before `until`.
    pub(crate) fn plan_ack(&mut self, ctx: &Ctx, li: usize, date: NaiveDate, until: NaiveDate) {
        let collector = self.rng.gen_range(1..=12u8);
        let note = |rng: &mut ChaCha8Rng| {
            rng.gen_bool(P_ACK_NOTE)
                .then(|| rng.gen_range(0..ACK_NOTES.len()) as u8)
        };
        let first = Kind::AckCandidate {
            collector,
            note: note(&mut self.rng),
            repeat: false,
        };
        let secs = self.business_secs();
        self.queue(ctx, li, date, secs, first);
        let room = days(until) - days(date) - 1;
        if room >= 1 && self.rng.gen_bool(P_REPEAT_ACK) {
            let again = add_days(date, self.rng.gen_range(1..=room.min(40)));
            let repeat = Kind::AckCandidate {
                collector: if self.rng.gen_bool(0.5) {
                    collector
                } else {
                    self.rng.gen_range(1..=12u8)
                },
                note: note(&mut self.rng),
                repeat: true,
            };
            let secs = self.business_secs();
            self.queue(ctx, li, again, secs, repeat);
        }
    }
}
