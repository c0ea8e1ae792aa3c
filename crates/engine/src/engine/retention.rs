//! Retention: a borrower with no open loan and no alert history is forgotten
//! `limits.forget_borrowers_without_loans_after_days` after its last event, and the oldest
//! such borrowers go first when there are more than `limits.max_borrowers_without_loans`.

use chrono::{DateTime, Utc};

use super::Engine;

impl Engine {
    /// Forgets every borrower whose retention ended at or before `t`.
    pub(super) fn forget_due(&mut self, t: DateTime<Utc>) {
        while let Some(&(at, _, idx)) = self.retention.dormant.first() {
            if at > t {
                break;
            }
            self.forget(idx);
        }
    }

    /// Files borrower `i` among the borrowers that may be forgotten — no open loan, no alert
    /// ever opened, no suppression in force — or takes it out: it is forgotten `forget_after` after its last
    /// event. A borrower that ever had an alert is kept: its alert numbering must go on, or a
    /// later alert would reuse an old `alert_id` and `message_id`.
    pub(super) fn file_dormant(&mut self, i: usize) {
        let b = &mut self.book.borrowers[i];
        let next = if b.loans.is_empty() && b.alerts.is_empty() && b.suppressions.is_empty() {
            b.last_event_at.or(self.clock.now).map(|t| {
                t.checked_add_signed(self.settings.forget_after)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            })
        } else {
            None
        };
        if next == b.forget_at {
            return;
        }
        if let Some(old) = b.forget_at {
            self.retention.dormant.remove(&(old, b.created, i as u32));
        }
        b.forget_at = next;
        if let Some(t) = next {
            self.retention.dormant.insert((t, b.created, i as u32));
        }
    }

    /// Forgets the borrowers without loans whose last event is oldest while there are more
    /// than `limits.max_borrowers_without_loans`.
    pub(super) fn cap_dormant(&mut self) {
        while self.retention.dormant.len() > self.settings.limits.max_borrowers_without_loans {
            match self.retention.dormant.first() {
                Some(&(_, _, idx)) => self.forget(idx),
                None => break,
            }
        }
    }

    /// Drops borrower `idx` and everything it holds (the changelog deletes it at the next
    /// [`Engine::take_dirty`]). The last borrower moves into its index.
    pub(super) fn forget(&mut self, idx: u32) {
        let i = idx as usize;
        if i >= self.book.borrowers.len() {
            return;
        }
        let b = &mut self.book.borrowers[i];
        if let Some(t) = b.forget_at.take() {
            self.retention.dormant.remove(&(t, b.created, idx));
        }
        if b.next_wake.take().is_some() {
            self.clock.timers.disarm();
        }
        self.tally.portfolio.uncount_borrower(b);
        self.tally.portfolio.borrowers = self.tally.portfolio.borrowers.saturating_sub(1);
        self.book.index.remove(&b.id);
        let gone = self.book.borrowers.swap_remove(i);
        if self.changes.track {
            self.changes.forgotten.push(gone.id);
        }
        let Some(moved) = self.book.borrowers.get(i) else {
            return;
        };
        let from = self.book.borrowers.len() as u32;
        self.book.index.relocate(&moved.id, idx);
        if let Some(t) = moved.next_wake {
            // Its entry at `from` is stale now (no borrower there, or another one).
            self.clock.timers.disarm();
            self.clock.timers.arm(t, moved.created, idx);
        }
        if let Some(t) = moved.forget_at {
            self.retention.dormant.remove(&(t, moved.created, from));
            self.retention.dormant.insert((t, moved.created, idx));
        }
    }

    /// Borrowers held now that may be forgotten (no open loan, no alert history).
    pub fn borrowers_without_loans(&self) -> usize {
        self.retention.dormant.len()
    }
}
