//! `repayment`: money received, a debit that bounced, a receipt taken back.

use rust_decimal::Decimal;

use super::{check_currency, Arrival, Engine};
use crate::event::{Repayment, RepaymentStatus};
use crate::reject::{ErrorKind, Rejection};
use crate::state::{id_hash, reserve_compact, Failure, Loan, Payment, Stamp};

impl Engine {
    /// A repayment on an open loan in its currency. The borrower's arrival counter moves only
    /// once every check has passed: a rejection must not change it (it is state, in the
    /// snapshot).
    pub(super) fn on_repayment(
        &mut self,
        at: &Arrival<'_>,
        r: &Repayment<'_>,
    ) -> Result<usize, Rejection> {
        let (i, li) = self.find_loan_since(at, &r.loan_id)?;
        let limits = &self.settings.limits;
        let b = &mut self.book.borrowers[i];
        check_currency(r.currency, &b.loans[li])?;
        let stamp = b.next_stamp(at.occurred_at);
        let loan = &mut b.loans[li];
        match r.status {
            RepaymentStatus::Received => received(loan, r, stamp, limits.max_history_per_loan)?,
            RepaymentStatus::Failed => failed(loan, r, stamp, limits.max_history_per_loan),
            RepaymentStatus::Reversed => reversed(loan, r, limits.max_history_per_loan)?,
        }
        refresh_outstanding(loan, self.settings.rules.arrears_tolerance.0);
        b.seq = stamp.seq;
        Ok(i)
    }
}

/// Money arrived: counted once per `payment_id`; bounces before it no longer count.
fn received(
    loan: &mut Loan,
    r: &Repayment<'_>,
    stamp: Stamp,
    max_history: usize,
) -> Result<(), Rejection> {
    let pid = id_hash(&r.payment_id);
    if loan.payments.iter().any(|p| p.id == pid) {
        return Err(Rejection::new(
            ErrorKind::DuplicatePayment,
            format!(
                "field `payment_id`: payment {:?} was already received",
                r.payment_id
            ),
        ));
    }
    reserve_compact(&mut loan.payments);
    let Some(paid) = loan.paid.checked_add(r.amount) else {
        return Err(Rejection::new(
            ErrorKind::InvalidValue,
            format!(
                "field `amount` {} would take the loan's cumulative paid past the decimal range",
                r.amount
            ),
        ));
    };
    loan.paid = paid;
    if loan.payments.len() >= max_history {
        loan.payments.remove(0);
    }
    loan.payments.push(Payment {
        id: pid,
        amount: r.amount,
    });
    let last = loan.last_received.map_or(stamp, |l| l.max(stamp));
    loan.last_received = Some(last);
    loan.failures.retain(|f| f.stamp > last);
    Ok(())
}

/// A debit bounced: a failure in arrival order, unless money has arrived since.
fn failed(loan: &mut Loan, r: &Repayment<'_>, stamp: Stamp, max_history: usize) {
    if loan.last_received.is_some_and(|l| stamp <= l) {
        return;
    }
    let pos = loan.failures.partition_point(|f| f.stamp <= stamp);
    loan.failures.insert(
        pos,
        Failure {
            stamp,
            reason: r.failure_reason.as_deref().map(Into::into),
        },
    );
    if loan.failures.len() > max_history {
        loan.failures.remove(0);
    }
}

/// A receipt taken back: it takes back what was received, whatever amount it states; once per
/// payment.
fn reversed(loan: &mut Loan, r: &Repayment<'_>, max_history: usize) -> Result<(), Rejection> {
    let pid = id_hash(&r.payment_id);
    let Some(p) = loan.payments.iter().find(|p| p.id == pid) else {
        return Err(Rejection::new(
            ErrorKind::UnknownPayment,
            format!(
                "field `payment_id`: payment {:?} was never received on loan {}",
                r.payment_id, loan.id
            ),
        ));
    };
    if loan.reversed.contains(&pid) {
        return Err(Rejection::new(
            ErrorKind::DuplicatePayment,
            format!(
                "field `payment_id`: payment {:?} was already reversed",
                r.payment_id
            ),
        ));
    }
    loan.paid -= p.amount;
    if loan.reversed.len() >= max_history {
        loan.reversed.remove(0);
    }
    loan.reversed.push(pid);
    Ok(())
}

/// Keeps outstanding principal in step with what has been paid.
fn refresh_outstanding(loan: &mut Loan, tolerance: Decimal) {
    let covered = loan.terms.covered(loan.paid, tolerance);
    if covered == loan.covered {
        return;
    }
    loan.outstanding = if covered == loan.covered + 1 {
        loan.terms.amortize_month(loan.outstanding)
    } else {
        loan.terms.outstanding_after(covered)
    };
    loan.covered = covered;
}
