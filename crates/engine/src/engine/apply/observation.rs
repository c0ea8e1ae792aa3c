//! `income` and `collateral_valuation`: dated observations, kept in arrival-aware order.

use chrono::Duration;

use super::{check_currency, Arrival, Engine};
use crate::event::{Income, Valuation};
use crate::reject::Rejection;
use crate::state::{insert_observation, Observation};
use crate::time::business_date;

impl Engine {
    /// A monthly income observation, in the currency of the borrower's loans. The window the
    /// income-drop rule compares, and the latest, are kept.
    pub(super) fn on_income(&mut self, at: &Arrival<'_>, inc: &Income) -> Result<usize, Rejection> {
        if let Some(i) = at.known {
            if let Some(l) = self.book.borrowers[i as usize]
                .loans
                .iter()
                .find(|l| l.currency != inc.currency)
            {
                check_currency(inc.currency, l)?;
            }
        }
        let keep = self.settings.rules.income_drop.window_observations as usize + 1;
        let date = business_date(at.occurred_at, self.settings.tz);
        let i = self.borrower_index(at.known, at.borrower_id);
        let b = &mut self.book.borrowers[i];
        let obs = Observation {
            stamp: b.stamp(at.occurred_at),
            date,
            value: inc.monthly_income,
        };
        insert_observation(&mut b.incomes, obs, keep);
        Ok(i)
    }

    /// A new value for an open loan's vehicle, in the loan's currency.
    pub(super) fn on_valuation(
        &mut self,
        at: &Arrival<'_>,
        v: &Valuation<'_>,
    ) -> Result<usize, Rejection> {
        let (i, li) = self.find_loan(at, &v.loan_id)?;
        let rules = &self.settings.rules;
        let b = &mut self.book.borrowers[i];
        check_currency(v.currency, &b.loans[li])?;
        let obs = Observation {
            stamp: b.stamp(at.occurred_at),
            date: business_date(at.occurred_at, self.settings.tz),
            value: v.value,
        };
        let vals = &mut b.loans[li].valuations;
        insert_observation(vals, obs, usize::MAX);
        prune_valuations(
            vals,
            rules.collateral_drop.window_days,
            self.settings.limits.max_history_per_loan,
        );
        Ok(i)
    }
}

/// Drops valuations that can no longer be a collateral-drop peak: older than the window before
/// the latest one. Past the cap, the lowest earlier value goes (it cannot be the peak while a
/// higher one stays in the window).
fn prune_valuations(vals: &mut Vec<Observation>, window_days: u32, keep: usize) {
    let Some(latest) = vals.last() else {
        return;
    };
    let from = latest.date - Duration::days(i64::from(window_days));
    let last = vals.len() - 1;
    let mut i = 0;
    vals.retain(|o| {
        let keep = i == last || o.date >= from;
        i += 1;
        keep
    });
    while vals.len() > keep.max(2) {
        let earlier = &vals[..vals.len() - 1];
        let lowest = earlier
            .iter()
            .enumerate()
            .min_by_key(|(_, o)| o.value)
            .map_or(0, |(i, _)| i);
        vals.remove(lowest);
    }
}
