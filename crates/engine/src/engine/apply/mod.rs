//! Applying one decoded event to the book: a dispatcher that only routes, and one handler per
//! event type (`loan.rs`: `loan_opened`, `loan_closed`; `repayment.rs`; `observation.rs`:
//! `income`, `collateral_valuation`; `ack.rs`: `alert_ack`; `modify.rs`: `loan_modified`;
//! `suppress.rs`: `suppression`). A handler checks everything
//! before it changes anything — a rejected event leaves no trace in state — and returns the
//! index of the borrower it touched; the dispatcher then re-evaluates that borrower.

mod ack;
mod loan;
mod modify;
mod observation;
mod repayment;
mod suppress;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Engine;
use crate::event::{Body, Currency, Event};
use crate::lifecycle::Moment;
use crate::output::Output;
use crate::reject::{ErrorKind, Rejection};
use crate::state::{Borrower, Labels, Loan};
use crate::time;

/// What every handler needs besides the event's body.
struct Arrival<'e> {
    event_id: &'e str,
    borrower_id: &'e str,
    occurred_at: DateTime<Utc>,
    /// The borrower's index, when it is already held.
    known: Option<u32>,
}

impl Engine {
    /// Applies a decoded event at `now`; returns the borrower's index.
    pub(super) fn apply_event(
        &mut self,
        event: &Event<'_>,
        known: Option<u32>,
        now: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> Result<usize, Rejection> {
        let at = Arrival {
            event_id: &event.event_id,
            borrower_id: &event.borrower_id,
            occurred_at: event.occurred_at,
            known,
        };
        let i = match &event.body {
            Body::LoanOpened(opened) => self.on_loan_opened(&at, opened)?,
            Body::LoanClosed { loan_id, reason } => {
                self.on_loan_closed(&at, loan_id, *reason, now, out)?
            }
            Body::Repayment(repayment) => self.on_repayment(&at, repayment)?,
            Body::Income(income) => self.on_income(&at, income)?,
            Body::CollateralValuation(valuation) => self.on_valuation(&at, valuation)?,
            Body::AlertAck {
                alert_id,
                acked_by,
                note,
            } => self.on_alert_ack(&at, alert_id, acked_by, note.as_deref(), now, out)?,
            Body::LoanModified(m) => self.on_loan_modified(&at, m, now)?,
            Body::Suppression(g) => self.on_suppression(&at, g, now)?,
        };
        let moment = Moment {
            at: now,
            cause: Some(at.event_id),
        };
        self.evaluate(i, moment, out);
        Ok(i)
    }

    /// The borrower's index, creating the borrower when it is new.
    fn borrower_index(&mut self, known: Option<u32>, borrower_id: &str) -> usize {
        if let Some(i) = known {
            return i as usize;
        }
        let book = &mut self.book;
        let id: Arc<str> = Arc::from(borrower_id);
        let i = book.borrowers.len();
        book.borrowers
            .push(Borrower::new(Arc::clone(&id), book.next_created));
        book.next_created += 1;
        book.index.insert(&id, i as u32);
        self.tally.portfolio.borrowers += 1;
        i
    }

    /// (borrower index, loan index) of an open loan, or `unknown_loan`.
    fn find_loan(&self, at: &Arrival<'_>, loan_id: &str) -> Result<(usize, usize), Rejection> {
        at.known
            .and_then(|i| {
                let i = i as usize;
                self.book.borrowers[i].loan_index(loan_id).map(|li| (i, li))
            })
            .ok_or_else(|| unknown_loan(at.borrower_id, loan_id))
    }

    /// [`Engine::find_loan`] for an event that must not be dated before its loan opened (a
    /// repayment, a closure, a modification): one dated on an earlier business date is
    /// `implausible_time` (a valuation may precede the loan: vehicles are appraised first).
    fn find_loan_since(
        &self,
        at: &Arrival<'_>,
        loan_id: &str,
    ) -> Result<(usize, usize), Rejection> {
        let (i, li) = self.find_loan(at, loan_id)?;
        let loan = &self.book.borrowers[i].loans[li];
        not_before_opening(at.occurred_at, loan, self.settings.tz)?;
        Ok((i, li))
    }

    /// The same labels, sharing the engine's interned copies.
    pub(super) fn intern_labels(&mut self, l: &Labels) -> Labels {
        Labels {
            manager_id: self.intern(l.manager_id.as_deref()),
            branch_id: self.intern(l.branch_id.as_deref()),
            dealer_id: self.intern(l.dealer_id.as_deref()),
        }
    }

    fn intern(&mut self, label: Option<&str>) -> Option<Arc<str>> {
        let label = label?;
        if let Some(a) = self.book.labels.get(label) {
            return Some(Arc::clone(a));
        }
        let a: Arc<str> = Arc::from(label);
        self.book.labels.insert(label.into(), Arc::clone(&a));
        Some(a)
    }
}

fn unknown_loan(borrower: &str, loan: &str) -> Rejection {
    Rejection::new(
        ErrorKind::UnknownLoan,
        format!("field `loan_id`: borrower {borrower} has no open loan {loan:?}"),
    )
}

/// `implausible_time` when `occurred_at` falls on a business date before `loan` opened.
fn not_before_opening(occurred_at: DateTime<Utc>, loan: &Loan, tz: Tz) -> Result<(), Rejection> {
    let date = time::business_date(occurred_at, tz);
    if date >= loan.opened_date {
        return Ok(());
    }
    Err(Rejection::new(
        ErrorKind::ImplausibleTime,
        format!(
            "field `occurred_at` {} is dated {date}, before loan {} opened on {}; not applied",
            time::format_instant(occurred_at, tz),
            loan.id,
            loan.opened_date
        ),
    ))
}

fn check_currency(got: Currency, loan: &Loan) -> Result<(), Rejection> {
    if got == loan.currency {
        return Ok(());
    }
    Err(Rejection::new(
        ErrorKind::CurrencyMismatch,
        format!(
            "field `currency` {} differs from loan {}'s currency {}",
            got.as_str(),
            loan.id,
            loan.currency.as_str()
        ),
    ))
}
