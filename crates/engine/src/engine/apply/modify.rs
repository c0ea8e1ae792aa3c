//! `loan_modified` (contract v2): a deferral moves installments later; a restructure replaces
//! the terms.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Arrival, Engine};
use crate::event::{LoanModified, Modification, NewTerms};
use crate::portfolio::Note;
use crate::reject::{ErrorKind, Rejection};
use crate::schedule::{Terms, LAST_DUE_DATE};
use crate::state::{Loan, Restructured};
use crate::time::business_date;
use crate::types::ModificationKind;

impl Engine {
    /// A change of an open loan's terms at `now`. Nothing changes when it is refused.
    pub(super) fn on_loan_modified(
        &mut self,
        at: &Arrival<'_>,
        m: &LoanModified<'_>,
        now: DateTime<Utc>,
    ) -> Result<usize, Rejection> {
        let (i, li) = self.find_loan_since(at, &m.loan_id)?;
        let today = business_date(now, self.settings.tz);
        let b = &mut self.book.borrowers[i];
        let loan = &mut b.loans[li];
        let kind = match &m.change {
            Modification::Deferral { months } => {
                loan.terms
                    .defer(m.effective_date, *months)
                    .map_err(|last| {
                        Rejection::new(
                            ErrorKind::InvalidValue,
                            format!(
                                "field `months` {months} would move loan {}'s last installment to {last}, after {LAST_DUE_DATE}",
                                loan.id
                            ),
                        )
                    })?;
                ModificationKind::Deferral
            }
            Modification::Restructure(new) => {
                restructure(loan, new, m.effective_date, today);
                ModificationKind::Restructure
            }
        };
        b.stamp(at.occurred_at);
        if let Some(notes) = self.tally.notes.as_mut() {
            notes.push(Note::Modified(kind));
        }
        Ok(i)
    }
}

/// The loan follows the new terms alone from now: a new schedule (earlier deferrals dropped),
/// amortisation from the new principal, and a paid amount that restarts at 0. Received
/// payments stay remembered, so a later reversal of one counts against the new schedule.
fn restructure(
    loan: &mut Loan,
    new: &NewTerms,
    effective_date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) {
    let dpd_before = loan
        .terms
        .delinquency(loan.paid, loan.covered, today)
        .map_or(0, |d| d.dpd);
    // The class just before: its DPD's, or worse while an earlier restructure's observation
    // period still ran (then at least special mention, and never better than that one's
    // floor).
    let (floor_dpd, floor_watch) = match loan.restructured {
        Some(prior) if prior.observing(today) => (prior.floor_dpd.max(dpd_before), true),
        _ => (dpd_before, false),
    };
    loan.terms = Terms::new(
        new.principal,
        new.annual_rate,
        new.term_months,
        new.first_due_date,
        new.installment_amount,
    );
    loan.paid = Decimal::ZERO;
    loan.covered = 0;
    loan.outstanding = new.principal;
    loan.restructured = Some(Restructured {
        effective_date,
        on: today,
        dpd_before,
        floor_dpd,
        floor_watch,
    });
}
