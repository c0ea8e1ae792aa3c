//! The changelog's side of the engine: which borrowers changed or were forgotten since the
//! last commit (as snapshots and deletions), and the restore that loads them back.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Engine;
use crate::signals;
use crate::snapshot;
use crate::time;

impl Engine {
    pub(super) fn mark_dirty(&mut self, i: usize) {
        let b = &mut self.book.borrowers[i];
        if !b.dirty && self.changes.track {
            b.dirty = true;
            self.changes.dirty.push(Arc::clone(&b.id));
        }
    }

    /// The snapshot of one borrower, for the changelog.
    pub fn snapshot(&self, borrower_id: &str) -> Option<Vec<u8>> {
        let i = self.book.index.get(borrower_id)?;
        Some(snapshot::encode(&self.book.borrowers[i as usize]))
    }

    /// Appends (borrower_id, snapshot) for every borrower changed since the last call, in the
    /// order they first changed, after (borrower_id, empty) for every borrower forgotten since
    /// (a borrower forgotten and seen again in between thus ends up as its new state).
    pub fn take_dirty(&mut self, out: &mut Vec<(Arc<str>, Vec<u8>)>) {
        out.extend(self.changes.forgotten.drain(..).map(|id| (id, Vec::new())));
        for id in self.changes.dirty.drain(..) {
            let Some(i) = self.book.index.get(&id) else {
                continue;
            };
            let b = &mut self.book.borrowers[i as usize];
            if b.dirty {
                b.dirty = false;
                out.push((id, snapshot::encode(b)));
            }
        }
    }

    /// Drops a borrower on a changelog deletion (an empty snapshot) while restoring.
    pub fn restore_deletion(&mut self, borrower_id: &str) {
        if let Some(i) = self.book.index.get(borrower_id) {
            let tracked = std::mem::replace(&mut self.changes.track, false);
            self.forget(i);
            self.changes.track = tracked;
        }
    }

    /// Loads one borrower's snapshot, replacing any state already held for it (a changelog that
    /// is not compacted yet holds several; the latest wins). Call [`Engine::finish_restore`]
    /// once every snapshot is in.
    pub fn restore_borrower(&mut self, bytes: &[u8]) -> Result<(), snapshot::SnapshotError> {
        let mut b = snapshot::decode(bytes)?;
        // Re-intern labels so that restored state shares them like live state does.
        for loan in &mut b.loans {
            loan.labels = self.intern_labels(&loan.labels);
        }
        for slot in &mut b.alerts {
            if let Some(open) = slot.open.as_mut() {
                open.labels = self.intern_labels(&open.labels);
            }
        }
        match self.book.index.get(&b.id) {
            Some(i) => {
                let mut old = std::mem::replace(&mut self.book.borrowers[i as usize], b);
                self.tally.portfolio.uncount_borrower(&mut old);
                if old.next_wake.is_some() {
                    // Its entry is stale: the restored state has no timer until re-armed.
                    self.clock.timers.disarm();
                }
                if let Some(t) = old.forget_at {
                    self.retention.dormant.remove(&(t, old.created, i));
                }
            }
            None => {
                let i = self.book.borrowers.len() as u32;
                self.book.next_created = self.book.next_created.max(b.created + 1);
                self.book.index.insert(&b.id, i);
                self.book.borrowers.push(b);
                self.tally.portfolio.borrowers += 1;
            }
        }
        Ok(())
    }

    /// Ends a restore: sets the clock (the task's persisted stream time, or the wall clock) and
    /// re-arms every borrower's timer from it.
    pub fn finish_restore(&mut self, clock: Option<DateTime<Utc>>) {
        if let Some(c) = clock {
            if self.clock.now.is_none_or(|old| old < c) {
                self.clock.now = Some(c);
            }
            if self.clock.high.is_none_or(|old| old < c) {
                self.clock.high = Some(c);
            }
        }
        // Without a clock, arm from the beginning of time: due timers then fire (and find
        // nothing new to say) when the clock first moves, and count the borrowers then.
        let now = self.clock.now.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let today = self
            .clock
            .now
            .map(|c| time::business_date(c, self.settings.tz));
        for i in 0..self.book.borrowers.len() {
            if let Some(today) = today {
                self.count(i, today);
            }
            self.rearm(i, now);
            self.file_dormant(i);
        }
        // Limits may have been lowered, or time passed, since the changelog was written.
        self.cap_dormant();
        if let Some(c) = self.clock.now {
            self.forget_due(c);
        }
    }

    /// Counts restored borrower `i` into the portfolio as of `today` (no messages: its alerts
    /// are as the changelog left them).
    fn count(&mut self, i: usize, today: chrono::NaiveDate) {
        let b = &mut self.book.borrowers[i];
        self.scratch.desired.clear();
        signals::evaluate(
            b,
            today,
            &self.settings.rules,
            &mut self.scratch.figures,
            &mut self.scratch.desired,
        );
        let figures = &self.scratch.figures;
        self.tally.portfolio.recount(
            b,
            today,
            &self.settings.classification,
            |i| figures.dpd(i),
            figures.score(),
            None,
        );
    }
}
