//! `alert_ack`: collections acknowledged an alert (contract v2: the acknowledgement is
//! published, and covers the alert only up to the severity acknowledged).

use chrono::{DateTime, Utc};

use super::{not_before_opening, Arrival, Engine};
use crate::lifecycle::{self, Moment};
use crate::output::Output;
use crate::reject::{ErrorKind, Rejection};
use crate::state::Borrower;
use crate::types::{Scope, Signal};

impl Engine {
    /// An acknowledgement of one of the borrower's alerts, by its id. Of an open alert not yet
    /// covered: it covers it and an `acknowledged` message is published; of a resolved alert,
    /// or a repeat while the alert is still covered: accepted, nothing changes.
    pub(super) fn on_alert_ack(
        &mut self,
        at: &Arrival<'_>,
        alert_id: &str,
        acked_by: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> Result<usize, Rejection> {
        let Some(i) = at.known else {
            return Err(unknown_alert(alert_id));
        };
        let tz = self.settings.tz;
        let b = &mut self.book.borrowers[i as usize];
        let (idx, open) = slot_of(b, alert_id)?;
        // An acknowledgement dated before the alert's loan opened cannot be true.
        if let Some(loan) = b.alerts[idx]
            .loan_id
            .as_deref()
            .and_then(|id| b.loans.iter().find(|l| &*l.id == id))
        {
            not_before_opening(at.occurred_at, loan, tz)?;
        }
        if !open {
            b.stamp(at.occurred_at);
            return Ok(i as usize);
        }
        let moment = Moment {
            at: now,
            cause: Some(at.event_id),
        };
        if let Some(note) =
            lifecycle::acknowledge(b, idx, acked_by, note, moment, &self.settings, out)
        {
            if let Some(notes) = self.tally.notes.as_mut() {
                notes.push(note);
            }
        }
        b.stamp(at.occurred_at);
        Ok(i as usize)
    }
}

fn unknown_alert(alert_id: &str) -> Rejection {
    Rejection::new(
        ErrorKind::UnknownAlert,
        format!("field `alert_id`: no alert {alert_id:?} was ever opened for this borrower"),
    )
}

/// The slot of alert `alert_id` and whether that alert is open now (not when it was opened and
/// has been resolved); `unknown_alert` when no such alert was ever opened.
fn slot_of(b: &Borrower, alert_id: &str) -> Result<(usize, bool), Rejection> {
    let parsed = alert_id
        .strip_prefix(&*b.id)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| {
            let mut parts = rest.rsplitn(3, '/');
            let n_text = parts.next()?;
            let signal = Signal::parse(parts.next()?)?;
            let loan = parts.next()?;
            let n: u32 = n_text
                .parse()
                .ok()
                .filter(|n: &u32| n.to_string() == n_text)?;
            let loan = (loan != "-").then_some(loan);
            let scope_ok = (signal.scope() == Scope::Loan) == loan.is_some();
            (scope_ok && n >= 1).then_some((loan, signal, n))
        });
    let Some((loan, signal, n)) = parsed else {
        return Err(unknown_alert(alert_id));
    };
    let Some(idx) = b
        .slot_index(loan, signal)
        .filter(|&i| n <= b.alerts[i].opened)
    else {
        return Err(unknown_alert(alert_id));
    };
    let slot = &b.alerts[idx];
    Ok((idx, n == slot.opened && slot.open.is_some()))
}
