//! Planning of one trigger of a borrower's script: what happens at a loan opening, around
//! an installment's due date, at a valuation, at an income observation.

use chrono::{Datelike, NaiveDate};
use postloan_engine::types::SuppressionReason;
use rand::Rng;

use postloan_engine::event::CloseReason;

use super::borrower::BorrowerPlan;
use super::ctx::{add_days, add_months, clamp_key, key, Ctx};
use super::event::{IncomeSource, Kind, PayStatus, SuppSignals, ValSource};
use super::loan::whole_yuan;
use super::odds::{P_DEFAULT_HARDSHIP, P_DEFAULT_LEGAL_HOLD, P_MEDIUM_ACK, P_RESTRUCTURE};
use super::profile::{Class, IncomeMode};

/// Year and month of the month before `d`.
fn previous_month(d: NaiveDate) -> (i32, u32) {
    if d.month() == 1 {
        (d.year() - 1, 12)
    } else {
        (d.year(), d.month() - 1)
    }
}

/// What the script plans next: one of the borrower's own triggers or one of a loan's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trigger {
    Open(usize),
    Installment(usize),
    Valuation(usize),
    Accident(usize),
    Income,
    Suppression,
}

impl BorrowerPlan {
    /// Smallest unplanned trigger key and its trigger.
    pub(crate) fn next_trigger(&self) -> (i64, Trigger) {
        let mut best = (self.income.key, Trigger::Income);
        if self.supp_key < best.0 {
            best = (self.supp_key, Trigger::Suppression);
        }
        for (i, l) in self.loans.iter().enumerate() {
            let c = &l.cursor;
            for (k, t) in [
                (c.open_key, Trigger::Open(i)),
                (c.inst_key, Trigger::Installment(i)),
                (c.val_key, Trigger::Valuation(i)),
                (c.acc_key, Trigger::Accident(i)),
            ] {
                if k < best.0 {
                    best = (k, t);
                }
            }
        }
        best
    }

    /// Plans everything `trigger` produces into the borrower's queue.
    pub(crate) fn plan(&mut self, ctx: &Ctx, trigger: Trigger) {
        match trigger {
            Trigger::Open(li) => self.plan_open(ctx, li),
            Trigger::Installment(li) => self.plan_installment(ctx, li),
            Trigger::Valuation(li) => self.plan_valuation(ctx, li),
            Trigger::Accident(li) => self.plan_accident(ctx, li),
            Trigger::Income => self.plan_income(ctx),
            Trigger::Suppression => self.plan_suppression(ctx),
        }
    }

    fn plan_open(&mut self, ctx: &Ctx, li: usize) {
        let loan = &mut self.loans[li];
        loan.cursor.open_key = i64::MAX;
        let (date, secs) = (loan.open_date, loan.open_secs);
        self.queue(ctx, li, date, secs, Kind::LoanOpened);
        if li == 0 {
            // Income verified at origination, written right after the loan.
            let source = if self.rng.gen_bool(0.7) {
                IncomeSource::BankStatement
            } else {
                IncomeSource::TaxRecord
            };
            let amount = self.income_amount(date);
            let later = secs + self.rng.gen_range(300..3600);
            let period = previous_month(date);
            self.queue(
                ctx,
                li,
                date,
                later,
                Kind::Income {
                    amount,
                    source,
                    period,
                },
            );
        }
    }

    /// Income observed on `date` (cents), with ±3 % noise and the job-loss factor.
    fn income_amount(&mut self, date: NaiveDate) -> i64 {
        let factor = match self.income.job_loss {
            Some(j) if date >= j.from => match j.until {
                Some(u) if date >= u => j.recovered,
                _ => j.factor,
            },
            _ => 1.0,
        };
        let noise = 1.0 + self.rng.gen_range(-0.03..0.03);
        (self.income.base * factor * noise).round().max(0.0) as i64
    }

    fn plan_income(&mut self, ctx: &Ctx) {
        let date = self.income.date;
        let next = match self.income.mode {
            IncomeMode::Payroll { .. } => add_months(date, 1),
            IncomeMode::Quarterly => {
                let m = add_months(date.with_day(1).unwrap_or(date), 3);
                m.with_day(self.rng.gen_range(3..=15)).unwrap_or(m)
            }
            IncomeMode::Silent => NaiveDate::MAX,
        };
        self.income.date = next;
        // Stop once every loan has a planned closure before this observation.
        let all_closed = self
            .loans
            .iter()
            .all(|l| l.cursor.close_date.is_some_and(|c| c <= date));
        self.income.key = if all_closed || next == NaiveDate::MAX {
            i64::MAX
        } else {
            clamp_key(ctx, key(next))
        };
        let source = match self.income.mode {
            IncomeMode::Payroll { .. } => IncomeSource::Payroll,
            _ => IncomeSource::BankStatement,
        };
        let amount = self.income_amount(date);
        let secs = self.business_secs();
        let period = previous_month(date);
        self.queue(
            ctx,
            0,
            date,
            secs,
            Kind::Income {
                amount,
                source,
                period,
            },
        );
    }

    fn plan_valuation(&mut self, ctx: &Ctx, li: usize) {
        let date = self.loans[li].cursor.val_date;
        self.loans[li].advance_valuation(&mut self.rng, ctx);
        let loan = &self.loans[li];
        if loan.cursor.close_date.is_some_and(|c| date >= c) {
            self.loans[li].cursor.val_key = i64::MAX;
            return;
        }
        let base = loan.market_value(date);
        let mileage = loan.mileage(date);
        let value = whole_yuan(base * (1.0 + self.rng.gen_range(-0.02..0.02)));
        let source = if self.rng.gen_bool(0.05) {
            ValSource::DealerQuote
        } else {
            ValSource::MarketIndex
        };
        let secs = self.rng.gen_range(6 * 3600..8 * 3600);
        self.queue(
            ctx,
            li,
            date,
            secs,
            Kind::Valuation {
                value,
                source,
                mileage,
            },
        );
    }

    fn plan_accident(&mut self, ctx: &Ctx, li: usize) {
        let loan = &mut self.loans[li];
        loan.cursor.acc_key = i64::MAX;
        let Some((date, _)) = loan.vehicle.accident else {
            return;
        };
        if loan.cursor.close_date.is_some_and(|c| date >= c) {
            return;
        }
        let base = loan.market_value(date);
        let mileage = loan.mileage(date);
        let value = whole_yuan(base * (1.0 + self.rng.gen_range(-0.03..0.03)));
        let secs = self.business_secs();
        let kind = Kind::Valuation {
            value,
            source: ValSource::Appraisal,
            mileage,
        };
        self.queue(ctx, li, date, secs, kind);
    }

    /// Installment `next_k` of loan `li`: a payment holiday planned for it, a missed one
    /// (default), or a paid one; nothing once a closure is planned.
    fn plan_installment(&mut self, ctx: &Ctx, li: usize) {
        let loan = &mut self.loans[li];
        let k = loan.cursor.next_k;
        if let Some(d) = loan.script.defer[0].filter(|d| d.k == k && !loan.cursor.ended) {
            self.plan_deferral(ctx, li, k, d);
            return;
        }
        loan.cursor.next_k += 1;
        loan.cursor.inst_key = if loan.cursor.next_k > loan.cursor.last_k || loan.cursor.ended {
            i64::MAX
        } else {
            loan.inst_key_for(ctx, loan.cursor.next_k)
        };
        let due = loan.due(k);
        if let Some(s) = loan.script.stop.filter(|s| k >= *s) {
            self.plan_missed(ctx, li, k, due, s);
            return;
        }
        if !loan.cursor.ended {
            self.plan_paid(ctx, li, k, due);
        }
    }

    /// Installment `k` of loan `li`, due on `due`, is paid: on time, late, partly, after a
    /// bounced debit or two, sometimes reversed and paid again; then an early exit or, after
    /// the final one, the loan is paid off.
    fn plan_paid(&mut self, ctx: &Ctx, li: usize, k: u32, due: NaiveDate) {
        let loan = &self.loans[li];
        let (inst, stop) = (loan.terms.inst, loan.script.stop);
        let early_exit = loan.script.early_exit;
        let is_final = k == loan.terms.term;
        let (amount, partial) = self.installment_amount(li, k);
        let struggling = self
            .income
            .job_loss
            .is_some_and(|j| j.struggles && due >= j.from && j.until.is_none_or(|u| due < u));
        let late_days = match self.class {
            Class::Late if self.rng.gen_bool(0.3) => Some(self.rng.gen_range(5..=40)),
            Class::Default if stop == Some(k + 1) && self.rng.gen_bool(0.5) => {
                Some(self.rng.gen_range(5..=20))
            }
            _ if struggling && self.rng.gen_bool(0.6) => Some(self.rng.gen_range(10..=40)),
            _ => None,
        };
        let mut date = match late_days {
            Some(d) => add_days(due, d),
            None => add_days(due, -self.rng.gen_range(0..=3)),
        };
        // Days the installment stays (partly) unpaid: a partial payment is caught up at the
        // next installment, about four weeks later.
        let behind = late_days.or(partial.then_some(25)).filter(|b| *b >= 8);
        if let Some(b) = behind {
            self.plan_behind(ctx, li, due, b, struggling);
        }
        if self.class == Class::Bounce && late_days.is_none() && self.rng.gen_bool(0.3) {
            date = self.plan_bounces(ctx, li, due, amount.max(inst));
        }
        if amount > 0 {
            self.plan_received(ctx, li, date, amount, is_final);
        }
        if let Some((e, reason)) = early_exit.filter(|(e, _)| *e == k && !is_final) {
            self.plan_early_exit(ctx, li, k, e, reason);
        } else if is_final {
            let cdate = add_days(
                self.loans[li].cursor.last_pay_date,
                self.rng.gen_range(1..=7),
            );
            self.close(ctx, li, cdate, CloseReason::PaidOff);
        }
    }

    /// What installment `k` of loan `li` pays (cents) and whether only part of it: the
    /// installment plus the arrears so far, the balance of the schedule for the final one, or
    /// (partial payers, 35 %, arrears at most two installments) 40–90 % of the installment.
    fn installment_amount(&mut self, li: usize, k: u32) -> (i64, bool) {
        let loan = &self.loans[li];
        let (inst, term) = (loan.terms.inst, i64::from(loan.terms.term));
        let planned = loan.cursor.planned_paid;
        let kk = i64::from(k);
        let arrears = ((kk - 1) * inst - planned).max(0);
        if kk == term {
            (term * inst - planned, false)
        } else if self.class == Class::Partial && arrears <= 2 * inst && self.rng.gen_bool(0.35) {
            let part = whole_yuan(inst as f64 * self.rng.gen_range(0.4..0.9));
            (part, true)
        } else {
            (inst + arrears, false)
        }
    }

    /// A bounced debit of `attempt` 0–2 days before `due` (30 %: a second one 2–4 days later);
    /// returns the date the money arrives, 2–7 days after the last bounce.
    fn plan_bounces(&mut self, ctx: &Ctx, li: usize, due: NaiveDate, attempt: i64) -> NaiveDate {
        let mut fdate = add_days(due, -self.rng.gen_range(0..=2));
        let reason = self.rng.gen_range(0..3u8);
        self.pay(ctx, li, fdate, PayStatus::Failed(reason), attempt, None);
        if self.rng.gen_bool(0.3) {
            fdate = add_days(fdate, self.rng.gen_range(2..=4));
            self.pay(ctx, li, fdate, PayStatus::Failed(reason), attempt, None);
        }
        add_days(fdate, self.rng.gen_range(2..=7))
    }

    /// `amount` received on `date`; outside the final installment 0.5 % are reversed 2–6 days
    /// later, and 90 % of those paid again 3–10 days after.
    fn plan_received(
        &mut self,
        ctx: &Ctx,
        li: usize,
        date: NaiveDate,
        amount: i64,
        is_final: bool,
    ) {
        let no = self.pay(ctx, li, date, PayStatus::Received, amount, None);
        if !is_final && self.rng.gen_bool(0.005) {
            // Money taken back a few days later; usually paid again afterwards.
            let rdate = add_days(date, self.rng.gen_range(2..=6));
            self.pay(ctx, li, rdate, PayStatus::Reversed, amount, Some(no));
            if self.rng.gen_bool(0.9) {
                let again = add_days(rdate, self.rng.gen_range(3..=10));
                self.pay(ctx, li, again, PayStatus::Received, amount, None);
            }
        }
    }

    /// After installment `k` (= the script's `e`), everything still owed is paid 1–10 days
    /// after the last payment and the loan closed 1–3 days later for `reason`.
    fn plan_early_exit(&mut self, ctx: &Ctx, li: usize, k: u32, e: u32, reason: CloseReason) {
        let loan = &self.loans[li];
        let due_so_far = i64::from(k) * loan.terms.inst;
        let payoff = loan.outstanding_after(e) + (due_so_far - loan.cursor.planned_paid).max(0);
        let pdate = add_days(loan.cursor.last_pay_date, self.rng.gen_range(1..=10));
        if payoff > 0 {
            self.pay(ctx, li, pdate, PayStatus::Received, payoff, None);
        }
        let cdate = add_days(pdate, self.rng.gen_range(1..=3));
        self.close(ctx, li, cdate, reason);
    }

    /// Installment due on `due` stays unpaid for `behind` (≥ 8) days: the borrower's pending
    /// late-payer suppression is granted 2 to behind − 1 days after the due date (hardship: half
    /// borrower-wide `["*"]`, half the loan's `["dpd","payment_failed"]`, 30–120 days; dispute:
    /// the loan's `["dpd"]`, 14–60 days), and with [`P_MEDIUM_ACK`] (late and partial payers,
    /// struggling on-time payers; behind ≥ 9) the DPD alert is acknowledged at DPD 7–29.
    fn plan_behind(&mut self, ctx: &Ctx, li: usize, due: NaiveDate, behind: i64, struggling: bool) {
        if let Some(reason) = self.late_supp.take() {
            let date = add_days(due, self.rng.gen_range(2..behind));
            if reason == SuppressionReason::Hardship {
                self.grant_hardship(ctx, li, date, 0.5);
            } else {
                let days = self.rng.gen_range(14..=60);
                self.grant(ctx, li, date, reason, Some(SuppSignals::Dpd), days);
            }
        }
        let acks = matches!(self.class, Class::Late | Class::Partial) || struggling;
        if acks && behind >= 9 && self.rng.gen_bool(P_MEDIUM_ACK) {
            let date = add_days(due, self.rng.gen_range(7..=(behind - 1).min(29)));
            self.plan_ack(ctx, li, date, add_days(due, behind));
        }
    }

    /// An installment the borrower never pays (default): a bounced debit or two, an ack of the
    /// DPD alert (60 %), a hardship suppression or a legal hold; then a restructure at 60–120
    /// DPD ([`P_RESTRUCTURE`], once per loan), or 4–6 months later repossession (after an
    /// auction valuation) or charge-off.
    fn plan_missed(&mut self, ctx: &Ctx, li: usize, k: u32, due: NaiveDate, stop: u32) {
        let inst = self.loans[li].terms.inst;
        if k == stop {
            if self.rng.gen_bool(0.6) {
                let reason = self.rng.gen_range(0..3u8);
                self.pay(ctx, li, due, PayStatus::Failed(reason), inst, None);
            }
            if self.rng.gen_bool(0.6) {
                self.plan_ack(ctx, li, add_days(due, 3), add_days(due, 60));
            }
            if self.loans[li].script.restructure.is_none() {
                let u: f64 = self.rng.gen();
                if u < P_DEFAULT_HARDSHIP {
                    let date = add_days(due, self.rng.gen_range(5..=40));
                    self.grant_hardship(ctx, li, date, 0.7);
                } else if u < P_DEFAULT_HARDSHIP + P_DEFAULT_LEGAL_HOLD {
                    let date = add_days(due, self.rng.gen_range(30..=90));
                    let days = self.rng.gen_range(60..=180);
                    let reason = SuppressionReason::LegalHold;
                    self.grant(ctx, li, date, reason, Some(SuppSignals::All), days);
                }
                if self.rng.gen_bool(P_RESTRUCTURE) {
                    self.plan_restructure(ctx, li, k, due);
                    return;
                }
            }
            let cdate = add_days(due, self.rng.gen_range(120..=180));
            let reason = if self.rng.gen_bool(0.6) {
                CloseReason::Repossessed
            } else {
                CloseReason::ChargedOff
            };
            if reason == CloseReason::Repossessed {
                let adate = add_days(cdate, -self.rng.gen_range(3..=15));
                let loan = &self.loans[li];
                let (base, mileage) = (loan.market_value(adate), loan.mileage(adate));
                let value = whole_yuan(base * self.rng.gen_range(0.6..0.85));
                let secs = self.business_secs();
                let kind = Kind::Valuation {
                    value,
                    source: ValSource::Auction,
                    mileage,
                };
                self.queue(ctx, li, adate, secs, kind);
            }
            self.close(ctx, li, cdate, reason);
            // The bank still tries to debit the next installment once.
            let loan = &mut self.loans[li];
            if k < loan.cursor.last_k {
                loan.cursor.inst_key = loan.inst_key_for(ctx, k + 1);
            }
        } else if k == stop + 1 && self.rng.gen_bool(0.4) {
            let reason = self.rng.gen_range(0..3u8);
            self.pay(ctx, li, due, PayStatus::Failed(reason), inst, None);
        }
    }
}
