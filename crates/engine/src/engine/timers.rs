//! The timers the clock fires: at most one per borrower, at the instant it next needs the
//! clock, fired in time order and, at one instant, in the order the borrowers were first seen
//! (the creation number is part of the state, so the order survives restores).
//!
//! Timers are kept by instant: a few hundred distinct instants (midnights, mostly) hold a
//! book's hundreds of thousands of timers. Re-arming a borrower adds an entry to its new
//! instant's list and leaves the old entry where it is; an entry counts only while its borrower
//! still has that creation number and is still due at that instant (the engine checks, when the
//! instant comes). A sorted set of (instant, borrower) would instead walk and rebalance a deep
//! tree twice per event, a cache miss at every level below the top.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// One borrower's entry at an instant: (creation number, index in the book).
pub(super) type Entry = (u64, u32);

#[derive(Debug, Default)]
pub(super) struct Timers {
    at: BTreeMap<DateTime<Utc>, Vec<Entry>>,
    /// Timers armed and not yet fired or disarmed.
    live: usize,
    /// Entries held, stale ones included (compacted when they outnumber the live ones).
    held: usize,
}

impl Timers {
    /// Arms borrower (`created`, `idx`) at `due`.
    pub(super) fn arm(&mut self, due: DateTime<Utc>, created: u64, idx: u32) {
        self.at.entry(due).or_default().push((created, idx));
        self.live += 1;
        self.held += 1;
    }

    /// Counts one timer as gone (fired, replaced or its borrower forgotten); its entry stays
    /// until its instant comes, when the engine finds it stale.
    pub(super) fn disarm(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    /// Timers armed.
    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// The earliest instant at or before `t` and its entries in creation order (stale ones
    /// included, for the caller to skip), taken out.
    pub(super) fn take_due(&mut self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, Vec<Entry>)> {
        let (&due, _) = self.at.first_key_value()?;
        if due > t {
            return None;
        }
        let (due, mut entries) = self.at.pop_first()?;
        self.held -= entries.len();
        entries.sort_unstable();
        entries.dedup();
        Some((due, entries))
    }

    /// Whether stale entries outnumber live ones enough to be worth a sweep.
    pub(super) fn wants_compaction(&self) -> bool {
        self.held > 1024 && self.held > 2 * self.live
    }

    /// Keeps only the entries `live` says are current.
    pub(super) fn compact(&mut self, mut live: impl FnMut(DateTime<Utc>, Entry) -> bool) {
        self.at.retain(|due, entries| {
            entries.retain(|e| live(*due, *e));
            !entries.is_empty()
        });
        self.held = self.at.values().map(Vec::len).sum();
    }
}
