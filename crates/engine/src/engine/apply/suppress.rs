//! `suppression` (contract v2): contact about some of a borrower's alert slots pauses until a
//! business date. The slots' messages follow at the evaluation that comes after
//! (`lifecycle::reconcile`); the lapse is the borrower's timer (`wake`).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Arrival, Engine};
use crate::event::Suppression as Granted;
use crate::portfolio::Note;
use crate::reject::{ErrorKind, Rejection};
use crate::state::Suppression;
use crate::time::business_date;

impl Engine {
    /// A suppression in force from `now` to the end of its `until`, replacing one with the same
    /// id; one whose `until` is already past lapses at once (so it revokes its namesake).
    pub(super) fn on_suppression(
        &mut self,
        at: &Arrival<'_>,
        g: &Granted<'_>,
        now: DateTime<Utc>,
    ) -> Result<usize, Rejection> {
        let loan_id = match &g.loan_id {
            Some(l) => {
                let (i, li) = self.find_loan(at, l)?;
                Some(Arc::clone(&self.book.borrowers[i].loans[li].id))
            }
            None => None,
        };
        let today = business_date(now, self.settings.tz);
        let in_force = g.until >= today;
        let held = at
            .known
            .map(|i| &self.book.borrowers[i as usize].suppressions);
        let replaces = held.and_then(|list| list.iter().position(|s| *s.id == *g.suppression_id));
        let max = self.settings.limits.max_suppressions_per_borrower;
        if in_force && replaces.is_none() && held.is_some_and(|list| list.len() >= max) {
            return Err(Rejection::new(
                ErrorKind::LimitExceeded,
                format!(
                    "field `suppression_id`: borrower {:?} already has {max} suppressions in force (limits.max_suppressions_per_borrower)",
                    at.borrower_id
                ),
            ));
        }
        let i = self.borrower_index(at.known, at.borrower_id);
        let b = &mut self.book.borrowers[i];
        let granted = Suppression {
            id: Arc::from(&*g.suppression_id),
            loan_id,
            signals: g.signals,
            until: g.until,
            reason: g.reason,
            granted_by: Arc::from(&*g.granted_by),
        };
        match (replaces, in_force) {
            (Some(p), true) => b.suppressions[p] = granted,
            (Some(p), false) => {
                b.suppressions.remove(p);
            }
            (None, true) => b.suppressions.push(granted),
            (None, false) => {}
        }
        b.stamp(at.occurred_at);
        if let Some(notes) = self.tally.notes.as_mut() {
            notes.push(Note::Suppression(g.reason));
        }
        Ok(i)
    }
}
