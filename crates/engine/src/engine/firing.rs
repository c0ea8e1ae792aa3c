//! The clock's side of the engine: moving it forward fires the timers due (each borrower's
//! at most one, kept in `timers.rs`), and every evaluation re-arms its borrower's timer.

use chrono::{DateTime, Utc};

use super::timers::Entry;
use super::Engine;
use crate::lifecycle::Moment;
use crate::output::Output;
use crate::state::Borrower;
use crate::wake::next_wake;

impl Engine {
    /// Moves the clock forward to `t`, firing every timer due at or before it, in time order.
    /// A `t` before the clock changes nothing: the clock never goes back.
    pub fn advance_to(&mut self, t: DateTime<Utc>, out: &mut Vec<Output>) {
        while let Some((due, entries)) = self.clock.timers.take_due(t) {
            for (created, idx) in entries {
                let i = idx as usize;
                // An entry left behind by a re-arm, or by a borrower forgotten or moved.
                if !is_current(&self.book.borrowers, due, (created, idx)) {
                    continue;
                }
                self.book.borrowers[i].next_wake = None;
                self.clock.timers.disarm();
                if self.clock.now.is_none_or(|c| c < due) {
                    self.clock.now = Some(due);
                }
                self.evaluate(
                    i,
                    Moment {
                        at: due,
                        cause: None,
                    },
                    out,
                );
                // A lapsed suppression may have been all that kept a borrower without loans.
                self.file_dormant(i);
            }
        }
        if self.clock.now.is_none_or(|c| c < t) {
            self.clock.now = Some(t);
        }
        self.forget_due(t);
    }

    /// Recomputes borrower `i`'s next timer and files it.
    pub(super) fn rearm(&mut self, i: usize, now: DateTime<Utc>) {
        let b = &mut self.book.borrowers[i];
        let next = next_wake(b, now, &self.settings);
        if next == b.next_wake {
            return;
        }
        if b.next_wake.is_some() {
            self.clock.timers.disarm();
        }
        b.next_wake = next;
        if let Some(t) = next {
            self.clock.timers.arm(t, b.created, i as u32);
        }
        if self.clock.timers.wants_compaction() {
            let borrowers = &self.book.borrowers;
            self.clock
                .timers
                .compact(|due, entry| is_current(borrowers, due, entry));
        }
    }
}

/// Whether a timer entry at `due` is its borrower's current timer: the borrower at its index
/// still has its creation number (it was not forgotten, nor another moved there) and is still
/// due then (it was not re-armed since).
fn is_current(borrowers: &[Borrower], due: DateTime<Utc>, (created, idx): Entry) -> bool {
    borrowers
        .get(idx as usize)
        .is_some_and(|b| b.created == created && b.next_wake == Some(due))
}
