//! `loan_opened` and `loan_closed`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Arrival, Engine};
use crate::event::{CloseReason, LoanOpened};
use crate::lifecycle;
use crate::output::Output;
use crate::portfolio::{Closed, Note};
use crate::reject::{ErrorKind, Rejection};
use crate::schedule::Terms;
use crate::signals::Facts;
use crate::state::{Labels, Loan, Observation};
use crate::time::business_date;

impl Engine {
    /// A new loan: refused when the borrower already has it open or already holds
    /// `limits.max_open_loans_per_borrower` loans. Its collateral value is its first valuation.
    pub(super) fn on_loan_opened(
        &mut self,
        at: &Arrival<'_>,
        lo: &LoanOpened<'_>,
    ) -> Result<usize, Rejection> {
        if let Some(i) = at.known {
            let b = &self.book.borrowers[i as usize];
            if b.loan_index(&lo.loan_id).is_some() {
                return Err(Rejection::new(
                    ErrorKind::DuplicateLoan,
                    format!("field `loan_id`: loan {:?} is already open", lo.loan_id),
                ));
            }
            let max = self.settings.limits.max_open_loans_per_borrower;
            if b.loans.len() >= max {
                return Err(Rejection::new(
                    ErrorKind::LimitExceeded,
                    format!(
                        "field `loan_id`: borrower {:?} already has {max} open loans (limits.max_open_loans_per_borrower)",
                        at.borrower_id
                    ),
                ));
            }
        }
        let labels = Labels {
            manager_id: self.intern(lo.manager_id.as_deref()),
            branch_id: self.intern(lo.branch_id.as_deref()),
            dealer_id: self.intern(lo.dealer_id.as_deref()),
        };
        let opened_date = business_date(at.occurred_at, self.settings.tz);
        let i = self.borrower_index(at.known, at.borrower_id);
        let b = &mut self.book.borrowers[i];
        let stamp = b.stamp(at.occurred_at);
        b.loans.push(Loan {
            id: Arc::from(&*lo.loan_id),
            currency: lo.currency,
            terms: Terms::new(
                lo.principal,
                lo.annual_rate,
                lo.term_months,
                lo.first_due_date,
                lo.installment_amount,
            ),
            opened_date,
            labels,
            paid: Decimal::ZERO,
            payments: Vec::new(),
            reversed: Vec::new(),
            last_received: None,
            failures: Vec::new(),
            valuations: vec![Observation {
                stamp,
                date: opened_date,
                value: lo.collateral_value,
            }],
            covered: 0,
            outstanding: lo.principal,
            restructured: None,
            counted: None,
        });
        Ok(i)
    }

    /// A loan leaves the book: its alerts resolve with the closing as their cause, and it
    /// leaves the portfolio.
    pub(super) fn on_loan_closed(
        &mut self,
        at: &Arrival<'_>,
        loan_id: &str,
        reason: CloseReason,
        now: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> Result<usize, Rejection> {
        let (i, li) = self.find_loan_since(at, loan_id)?;
        let settings = Arc::clone(&self.settings);
        let b = &mut self.book.borrowers[i];
        b.stamp(at.occurred_at);
        let currency = b.loans[li].currency;
        let facts = Facts::LoanClosed(reason);
        let moment = lifecycle::Moment {
            at: now,
            cause: Some(at.event_id),
        };
        lifecycle::close_loan(
            b,
            loan_id,
            &facts,
            currency.as_str(),
            moment,
            &settings,
            out,
        );
        let mut gone = b.loans.remove(li);
        self.tally.portfolio.uncount_loan(&mut gone);
        if let Some(notes) = self.tally.notes.as_mut() {
            notes.push(Note::Closed(Box::new(Closed {
                borrower_id: Arc::clone(&b.id),
                loan_id: gone.id,
                reason,
                currency,
                outstanding: gone.outstanding,
                opened_date: gone.opened_date,
            })));
        }
        Ok(i)
    }
}
