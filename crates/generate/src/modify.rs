//! Loan modifications (contract v2), planned at the installment they concern: payment holidays
//! (`deferral`) of performing loans and restructures of defaulted ones.
//!
//! The planning schedule takes every modification exactly as the engine does (the engine's own
//! [`Terms::defer`](postloan_engine::schedule::Terms::defer), and new terms with payments
//! counted from 0 after a restructure), so the borrower's later repayments follow it.

use rand::Rng;

use super::borrower::BorrowerPlan;
use super::ctx::{add_days, days, Ctx};
use super::event::{Change, Kind, NewTerms, PayStatus, DEFERRAL_REASONS, RESTRUCTURE_REASONS};
use super::loan::annuity;
use super::mirror::engine_terms;
use super::odds::P_REDEFAULT;
use super::profile::DeferPlan;

impl BorrowerPlan {
    /// Installment `k` of loan `li` gets the payment holiday `d`. Prospective: requested 3–14
    /// days before the due date, effective between the request and the due date. Retroactive:
    /// the installment is missed (a bounced debit with 50 %), and 3–20 days later the holiday
    /// is granted effective 0–5 days before the due date, so the installment moves and its DPD
    /// falls at once. Either way installment `k` is planned again at its new due date.
    pub(super) fn plan_deferral(&mut self, ctx: &Ctx, li: usize, k: u32, d: DeferPlan) {
        let due = self.loans[li].due(k);
        let (grant, effective) = if d.retro {
            if self.rng.gen_bool(0.5) {
                let reason = self.rng.gen_range(0..3u8);
                let inst = self.loans[li].terms.inst;
                self.pay(ctx, li, due, PayStatus::Failed(reason), inst, None);
            }
            let grant = add_days(due, self.rng.gen_range(3..=20));
            (grant, add_days(due, -self.rng.gen_range(0..=5)))
        } else {
            let grant = add_days(due, -self.rng.gen_range(3..=14));
            let gap = days(due) - days(grant);
            (grant, add_days(grant, self.rng.gen_range(0..=gap)))
        };
        let reason = self.rng.gen_range(0..DEFERRAL_REASONS.len()) as u8;
        let approver = self.rng.gen_range(1..=8u8);
        let secs = self.business_secs();
        let change = Change::Deferral { months: d.months };
        let kind = Kind::Modified {
            effective,
            change,
            reason,
            approver,
        };
        self.queue(ctx, li, grant, secs, kind);
        let loan = &mut self.loans[li];
        // The engine refuses a holiday past year 9999 and so does the schedule: unreachable here.
        let _ = loan.terms.schedule.defer(effective, u32::from(d.months));
        loan.script.defer = [loan.script.defer[1], None];
        loan.cursor.inst_key = loan.inst_key_for(ctx, k);
    }

    /// Defaulted loan `li`, first missed installment `k` due on `due`, is restructured at 60–120
    /// DPD: the bank tries the next installment's debit once (40 %), then sets new terms —
    /// principal = the balance scheduled after the installments due so far + the arrears (what
    /// is owed, arrears capitalised), rate 0–2 points lower (0.0300–0.1200), 12–60 months
    /// (multiples of 6), first due date 15–40 days after the effective date, installment the
    /// annuity. The schedule restarts at installment 1 with nothing paid; with [`P_REDEFAULT`]
    /// the borrower stops again at new installment 2–7, otherwise pays it to the end.
    pub(super) fn plan_restructure(
        &mut self,
        ctx: &Ctx,
        li: usize,
        k: u32,
        due: chrono::NaiveDate,
    ) {
        let on = add_days(due, self.rng.gen_range(60..=120));
        let (term0, inst0) = (self.loans[li].terms.term, self.loans[li].terms.inst);
        if k < term0 && self.rng.gen_bool(0.4) {
            let reason = self.rng.gen_range(0..3u8);
            let next = self.loans[li].due(k + 1);
            self.pay(ctx, li, next, PayStatus::Failed(reason), inst0, None);
        }
        let loan = &self.loans[li];
        let n_due = (1..=loan.terms.term)
            .take_while(|&j| loan.due(j) < on)
            .count() as u32;
        let arrears = (i64::from(n_due) * loan.terms.inst - loan.cursor.planned_paid).max(0);
        let principal = loan.outstanding_after(n_due) + arrears;
        let cut = self.rng.gen_range(0..=200);
        let rate_bp = (i64::from(loan.terms.rate_bp) - cut).clamp(300, 1200) as u32;
        let term = 6 * self.rng.gen_range(2..=10u32);
        let first_due = add_days(on, self.rng.gen_range(15..=40));
        let inst = annuity(principal, rate_bp, term);
        let new = NewTerms {
            principal,
            rate_bp,
            term,
            first_due,
            inst,
        };
        let reason = self.rng.gen_range(0..RESTRUCTURE_REASONS.len()) as u8;
        let approver = self.rng.gen_range(1..=8u8);
        let secs = self.business_secs();
        let kind = Kind::Modified {
            effective: on,
            change: Change::Restructure,
            reason,
            approver,
        };
        self.queue(ctx, li, on, secs, kind);
        let stop = self
            .rng
            .gen_bool(P_REDEFAULT)
            .then(|| self.rng.gen_range(2..=7u32).min(term));
        let loan = &mut self.loans[li];
        loan.terms.principal = principal;
        loan.terms.rate_bp = rate_bp;
        loan.terms.term = term;
        loan.terms.inst = inst;
        loan.terms.schedule = engine_terms(principal, rate_bp, term, first_due, inst);
        loan.script.restructure = Some(new);
        loan.script.stop = stop;
        loan.cursor.next_k = 1;
        loan.cursor.last_k = stop.map_or(term, |s| (s + 1).min(term));
        loan.cursor.planned_paid = 0;
        loan.cursor.inst_key = loan.inst_key_for(ctx, 1);
    }
}
