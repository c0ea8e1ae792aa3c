//! `alert_ack`: collections acknowledged an alert.

use chrono::{DateTime, Utc};

use super::{Arrival, Engine};
use crate::portfolio::Note;
use crate::reject::{ErrorKind, Rejection};
use crate::state::Borrower;
use crate::types::{Scope, Signal};

impl Engine {
    /// An acknowledgement of one of the borrower's alerts, by its id. The first ack of an open
    /// alert is noted for the time-to-ack figures.
    pub(super) fn on_alert_ack(
        &mut self,
        at: &Arrival<'_>,
        alert_id: &str,
    ) -> Result<usize, Rejection> {
        let Some(i) = at.known else {
            return Err(unknown_alert(alert_id));
        };
        let b = &mut self.book.borrowers[i as usize];
        if let Some(note) = ack(b, alert_id, at.occurred_at)? {
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

/// Marks an alert acknowledged at `at`. An ack of a resolved alert is accepted and changes
/// nothing.
fn ack(b: &mut Borrower, alert_id: &str, at: DateTime<Utc>) -> Result<Option<Note>, Rejection> {
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
    let Some(slot) = b
        .slot_index(loan, signal)
        .map(|i| &mut b.alerts[i])
        .filter(|s| n <= s.opened)
    else {
        return Err(unknown_alert(alert_id));
    };
    if n == slot.opened {
        if let Some(open) = slot.open.as_mut().filter(|o| !o.acked) {
            open.acked = true;
            return Ok(Some(Note::acked(signal, open.severity, open.opened_at, at)));
        }
    }
    Ok(None)
}
