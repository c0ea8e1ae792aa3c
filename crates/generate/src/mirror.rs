//! Mirror of the engine's `dpd` alert of one loan, so that every `alert_ack` the generator
//! writes addresses an alert that is open at the ack's instant.
//!
//! The engine's rule (default settings): the condition holds from the local midnight after the
//! due date of the first installment not covered by paid + `arrears_tolerance` (1.00); an alert
//! opens when the condition holds and the slot is not suppressed, at a DPD boundary, at any of
//! the borrower's events, or at the lapse of the suppression that held it back; it resolves when
//! the condition clears (suppressed or not). The mirror follows the loan's schedule with the
//! engine's own [`Terms`] (deferral offsets, month-end clamping), restarts `paid` at 0 on a
//! restructure, and learns of suppressions from the borrower ([`SuppInForce`]).

use chrono::NaiveDate;
use postloan_engine::schedule::Terms;
use rust_decimal::Decimal;

use super::ctx::{add_days, Ctx};
use super::event::NewTerms;

/// The engine's default `arrears_tolerance` (1.00) in cents.
pub(crate) const ARREARS_TOLERANCE: i64 = 100;

/// The engine's schedule for terms given in cents and basis points.
pub(crate) fn engine_terms(
    principal: i64,
    rate_bp: u32,
    term: u32,
    first_due: NaiveDate,
    inst: i64,
) -> Terms {
    Terms::new(
        Decimal::new(principal, 2),
        Decimal::new(i64::from(rate_bp), 4),
        term,
        first_due,
        Decimal::new(inst, 2),
    )
}

/// A suppression of the borrower in force, as far as `dpd` slots are concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuppInForce {
    /// Its number (`S-<N>-<no>`).
    pub no: u16,
    /// The loan (index) it is limited to; `None`: every loan.
    pub loan: Option<u8>,
    /// Whether it names `dpd`.
    pub dpd: bool,
    /// UTC instant it lapses (local midnight after `until`; `i64::MAX` past the book).
    pub lapse: i64,
}

impl SuppInForce {
    fn covers(&self, loan: u8) -> bool {
        self.dpd && self.loan.is_none_or(|l| l == loan)
    }
}

/// The instant from which none of `list` suppresses loan `loan`'s `dpd` slot any more
/// (`i64::MIN` when none covers it).
pub(crate) fn quiet_from(list: &[SuppInForce], loan: u8) -> i64 {
    list.iter()
        .filter(|s| s.covers(loan))
        .map(|s| s.lapse)
        .max()
        .unwrap_or(i64::MIN)
}

/// The engine's view of one loan's DPD alert, fed with the loan's events in time order.
#[derive(Debug, Clone)]
pub(crate) struct DpdMirror {
    /// The schedule as the engine holds it now.
    pub terms: Terms,
    /// Installment amount of `terms`, cents.
    pub inst: i64,
    /// Cumulative received − reversed since opening or the latest restructure, cents.
    pub paid: i64,
    /// DPD alerts opened so far (the `n` of the open or next alert id is `episodes` or
    /// `episodes + 1`).
    pub episodes: u32,
    /// Whether the alert is open right now.
    pub open: bool,
}

impl DpdMirror {
    pub(crate) fn new(terms: Terms, inst: i64) -> DpdMirror {
        DpdMirror {
            terms,
            inst,
            paid: 0,
            episodes: 0,
            open: false,
        }
    }

    /// Instant from which the condition holds with today's schedule and `paid`
    /// (`i64::MAX`: never, everything is covered).
    fn holds_from(&self, ctx: &Ctx) -> i64 {
        if self.inst <= 0 {
            return i64::MAX;
        }
        let covered = (self.paid + ARREARS_TOLERANCE).max(0) / self.inst;
        match u32::try_from(covered + 1) {
            Ok(k) if k <= self.terms.term_months => {
                ctx.midnight(add_days(self.terms.due_date(k), 1))
            }
            _ => i64::MAX,
        }
    }

    /// Brings the mirror to instant `t` through the timers before it (DPD boundaries and
    /// lapses), given that the slot is suppressed until `quiet_from` by the suppressions in
    /// force since the loan's last event. Nothing but time has changed since then.
    pub(crate) fn advance(&mut self, ctx: &Ctx, t: i64, quiet_from: i64) {
        if !self.open {
            let from = self.holds_from(ctx);
            if from <= t && quiet_from <= t {
                self.open = true;
                self.episodes += 1;
            }
        }
    }

    /// Re-evaluates at instant `t` after one of the borrower's events changed something:
    /// a cleared condition resolves the alert, a condition holding on an unsuppressed slot
    /// opens one.
    pub(crate) fn settle(&mut self, ctx: &Ctx, t: i64, suppressed: bool) {
        let holds = self.holds_from(ctx) <= t;
        if self.open && !holds {
            self.open = false;
        } else if !self.open && holds && !suppressed {
            self.open = true;
            self.episodes += 1;
        }
    }

    /// A deferral as the engine applies it.
    pub(crate) fn defer(&mut self, effective: NaiveDate, months: u8) {
        // Past year 9999 the engine refuses it and nothing changes; so does the mirror.
        let _ = self.terms.defer(effective, u32::from(months));
    }

    /// A restructure: the new terms alone, paid restarting at 0.
    pub(crate) fn restructure(&mut self, new: &NewTerms) {
        self.terms = engine_terms(
            new.principal,
            new.rate_bp,
            new.term,
            new.first_due,
            new.inst,
        );
        self.inst = new.inst;
        self.paid = 0;
    }
}
