//! The borrower's events in time order, as they are written: the stream plans the borrower's
//! triggers a few days ahead of what it has released, and applies at release what only the
//! written book knows — which loans are open, which suppressions are in force, the mirror of
//! each loan's DPD alert — dropping events that no longer apply and numbering the rest.
//!
//! Planning works on *triggers* (an opening, an installment, a valuation, an income
//! observation, an accident appraisal). Each trigger has a key — a UTC lower bound of every
//! event it can produce — and triggers are planned in key order. A planned event is released
//! once it is no later than the smallest unplanned key, so events leave in time order and
//! only a handful are buffered per borrower.

use super::borrower::BorrowerPlan;
use super::ctx::{add_days, local_date, Ctx};
use super::event::{Change, Event, Kind, PayStatus};
use super::mirror::{quiet_from, DpdMirror, SuppInForce};

/// One loan as written so far.
#[derive(Debug)]
struct LoanWritten {
    /// `loan_opened` written and `loan_closed` not yet.
    live: bool,
    /// The engine's DPD alert of the loan.
    mirror: DpdMirror,
    /// The DPD alert (episode) the loan's latest written ack addressed.
    acked_episode: Option<u32>,
}

/// One borrower's stream: the plan, what has been written of it, and the next event to write.
#[derive(Debug)]
pub(crate) struct Borrower {
    /// The borrower's plan and queue of planned events.
    pub plan: BorrowerPlan,
    /// Per loan (same index as the plan's), its release-time state.
    loans: Vec<LoanWritten>,
    /// Suppressions in force as written so far (for the DPD mirrors).
    supp: Vec<SuppInForce>,
    /// Events written so far (the `k` of `E-<N>-<k>`).
    emitted: u32,
    open_loans: u8,
    /// Next event to write, held by the merge.
    pub head: Option<Event>,
}

impl Borrower {
    /// Borrower `idx` (0-based), nothing written yet.
    pub(crate) fn new(idx: u32, ctx: &Ctx) -> Borrower {
        let plan = BorrowerPlan::new(idx, ctx);
        let loans = plan
            .loans
            .iter()
            .map(|l| LoanWritten {
                live: false,
                mirror: DpdMirror::new(l.terms.schedule.clone(), l.terms.inst),
                acked_episode: None,
            })
            .collect();
        Borrower {
            plan,
            loans,
            supp: Vec::new(),
            emitted: 0,
            open_loans: 0,
            head: None,
        }
    }

    /// The borrower's next event in time order, or `None` when the script is exhausted.
    pub(crate) fn next_event(&mut self, ctx: &Ctx) -> Option<Event> {
        loop {
            let (nk, trigger) = self.plan.next_trigger();
            if let Some(ev) = self.plan.pop_before(nk) {
                if let Some(ev) = self.admit(ctx, ev) {
                    return Some(ev);
                }
                continue;
            }
            if nk == i64::MAX {
                return None;
            }
            self.plan.plan(ctx, trigger);
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
                    Change::Restructure => {
                        let new = self.plan.loans.get(li)?.script.restructure.as_ref()?;
                        loan.mirror.restructure(new);
                    }
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
}
