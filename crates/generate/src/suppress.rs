//! Suppressions (contract v2): contact paused for a hardship programme, a dispute, a legal hold
//! or a natural disaster, some revoked early and some extended.
//!
//! They go mostly to borrowers who are, or are about to be, in arrears: after a job loss, at a
//! defaulted loan's first missed installment, at a late installment of a late or partial
//! payer. Each is planned together with its revocation or extension (same `suppression_id`).

use chrono::NaiveDate;
use postloan_engine::types::SuppressionReason;
use rand::Rng;

use super::borrower::BorrowerPlan;
use super::ctx::{add_days, Ctx};
use super::event::{Kind, SuppSignals};
use super::odds::{P_EXTEND, P_REVOKE};

impl BorrowerPlan {
    /// The planned borrower-level suppression: a hardship one after a job loss (80 %
    /// borrower-wide `["*"]`, 20 % first loan `["dpd","payment_failed"]`, 30–120 days) or a
    /// disaster (borrower-wide `["*"]`, 30–90 days).
    pub(super) fn plan_suppression(&mut self, ctx: &Ctx) {
        self.supp_key = i64::MAX;
        let Some(p) = self.supp_plan.take() else {
            return;
        };
        if p.reason == SuppressionReason::Disaster {
            let days = self.rng.gen_range(30..=90);
            self.grant(ctx, 0, p.date, p.reason, None, days);
        } else {
            self.grant_hardship(ctx, 0, p.date, 0.8);
        }
    }

    /// A hardship suppression of 30–120 days: borrower-wide `["*"]` with `p_wide`, otherwise
    /// loan `li`'s `["dpd","payment_failed"]`.
    pub(super) fn grant_hardship(&mut self, ctx: &Ctx, li: usize, date: NaiveDate, p_wide: f64) {
        let days = self.rng.gen_range(30..=120);
        let scope = if self.rng.gen_bool(p_wide) {
            None
        } else {
            Some(SuppSignals::DpdAndFailed)
        };
        self.grant(ctx, li, date, SuppressionReason::Hardship, scope, days);
    }

    /// Grants suppression `S-<N>-<no>` on `date` for `days` days (`until` = date + days − 1):
    /// borrower-wide `["*"]` when `scope` is `None`, else loan `li` with those signals. With
    /// [`P_REVOKE`] it is revoked 2 to days − 2 days later (same id, `until` the day before),
    /// with [`P_EXTEND`] extended 0–6 days before it lapses by 14–60 days.
    pub(super) fn grant(
        &mut self,
        ctx: &Ctx,
        li: usize,
        date: NaiveDate,
        reason: SuppressionReason,
        scope: Option<SuppSignals>,
        days: i64,
    ) {
        self.supp_no = self.supp_no.saturating_add(1);
        let until = add_days(date, days - 1);
        let kind = Kind::Suppression {
            no: self.supp_no,
            loan_scoped: scope.is_some(),
            signals: scope.unwrap_or(SuppSignals::All),
            until,
            reason,
            granter: self.rng.gen_range(1..=12u8),
            follow_up: false,
        };
        let secs = self.business_secs();
        if !self.queue(ctx, li, date, secs, kind) {
            return;
        }
        let r: f64 = self.rng.gen();
        let (on, until) = if r < P_REVOKE {
            let on = add_days(date, self.rng.gen_range(2..=days - 2));
            (on, add_days(on, -1))
        } else if r < P_REVOKE + P_EXTEND {
            let on = add_days(until, -self.rng.gen_range(0..=6));
            (on, add_days(until, self.rng.gen_range(14..=60)))
        } else {
            return;
        };
        let Kind::Suppression {
            no,
            loan_scoped,
            signals,
            ..
        } = kind
        else {
            return;
        };
        let follow = Kind::Suppression {
            no,
            loan_scoped,
            signals,
            until,
            reason,
            granter: self.rng.gen_range(1..=12u8),
            follow_up: true,
        };
        let secs = self.business_secs();
        self.queue(ctx, li, on, secs, follow);
    }
}
