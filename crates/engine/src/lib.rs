//! postloan-engine: the risk engine of postloan-monitor — deterministic, I/O-free, clock
//! passed in.
//!
//! [`Engine::apply`] takes one raw input message and [`Engine::advance_to`] takes the passage
//! of time; both append the messages to publish. Nothing here reads the wall clock, touches a
//! socket or a file, or knows about Kafka or Prometheus: adapters (replay, the Kafka runtime in
//! the application crate) own all of that. This crate's Cargo.toml names no runtime, Kafka,
//! metrics, HTTP or CLI crate, and it builds without chrono's `clock` feature (CI checks both).
//!
//! # Layers
//!
//! One line per module, bottom to top; a module imports only modules above it in this list
//! (`tests/layering.rs` fails otherwise):
//!
//! - [`types`] — the vocabulary: signals, severities, scopes.
//! - [`money`] — exact decimal parsing, comparisons and formatting.
//! - [`time`] — business dates and local midnights in the configured zone.
//! - [`event`] — typed input events, borrowed from their bytes.
//! - [`reject`] — why an input could not be applied: the `error_kind` vocabulary.
//! - `serde_forms` — compact exact serde forms (decimal, instant, date) for snapshots.
//! - [`bands`] — DPD buckets, LTV and score bands; what a loan or alert last counted.
//! - [`settings`] — the `[rules]`, `[escalation]`, `[limits]` sections, their checks, [`Settings`].
//! - [`cut`] — how adapters keep an oversized message before the engine sees it.
//! - [`decode`] — bytes → typed event, or a rejection naming the field.
//! - [`schedule`] — due dates (month-end clamping), DPD, amortisation.
//! - [`state`] — per-borrower state: loans, payments, observations, alert slots, event ids.
//! - [`snapshot`] — one borrower's state as versioned bytes for the changelog.
//! - [`signals`] — what each of the nine signals should be now, by exact comparisons.
//! - [`portfolio`] — book-level aggregates, kept as borrowers change; roll and ack notes.
//! - [`output`] — the messages (alert, escalation, rejection) and their JSON.
//! - [`render`] — reason sentences, metrics and recommended actions of alerts.
//! - [`lifecycle`] — alerts from firing to resolved; escalation levels.
//! - `apply` — one handler per event type, a dispatcher that routes; a borrower's next timer.
//! - this file — [`Engine`]: the book, its clock and timers, retention, changelog tracking.
//!
//! With the `testkit` feature, [`testkit`] feeds an engine compact JSON events (tests only).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bands;
pub mod cut;
pub mod decode;
pub mod event;
pub mod lifecycle;
pub mod money;
pub mod output;
pub mod portfolio;
pub mod reject;
pub mod render;
pub mod schedule;
mod serde_forms;
pub mod settings;
pub mod signals;
pub mod snapshot;
pub mod state;
pub mod time;
pub mod types;

mod apply;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;

pub use settings::Settings;

/// The monitor's version, stamped on every alert (the workspace's crates share one version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

use event::EventType;
use output::{Output, RejectedMessage};
use portfolio::{Note, Portfolio};
use reject::{ErrorKind, Rejection};
use signals::Desired;
use state::Borrower;

/// Where the engine's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// The clock is the largest `occurred_at` of the well-formed events read so far (replay,
    /// backfills). Events never are "from the future".
    Event,
    /// The caller drives the clock with [`Engine::advance_to`] (the wall clock in live runs);
    /// events further ahead than `max_future_skew` are rejected.
    External {
        /// Tolerated lead of `occurred_at` over the clock.
        max_future_skew: Duration,
    },
}

/// One raw input message and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The message bytes (one JSON object).
    pub payload: &'a [u8],
    /// `topic/partition/offset` or `file/line`; names the rejection.
    pub source: &'a str,
    /// The Kafka key, if any.
    pub key: Option<&'a [u8]>,
    /// The message's whole length when `payload` holds only its first bytes (an adapter that
    /// met a message longer than `limits.max_event_bytes` keeps no more than a rejection
    /// shows); `None` when `payload` is the whole message.
    pub full_size: Option<usize>,
}

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to state.
    Applied(EventType),
    /// Its event_id was applied before for this borrower: skipped.
    Duplicate(EventType),
    /// Could not be applied; a rejection was published.
    Rejected(ErrorKind),
}

/// The engine for one partition of the book (or the whole book in replay).
#[derive(Debug)]
pub struct Engine {
    settings: Arc<Settings>,
    mode: ClockMode,
    clock: Option<DateTime<Utc>>,
    borrowers: Vec<Borrower>,
    index: FxHashMap<Arc<str>, u32>,
    /// (due instant, borrower's creation number, borrower index) — one entry per borrower with
    /// a pending timer. Ties in time go to the borrower seen first: the creation number is part
    /// of the state, so the order survives restores (indices do not).
    timers: BTreeSet<(DateTime<Utc>, u64, u32)>,
    /// Creation number of the next new borrower.
    next_created: u64,
    /// Interned portfolio labels (low cardinality).
    labels: FxHashMap<Box<str>, Arc<str>>,
    scratch: Vec<Desired>,
    figures: signals::Figures,
    /// Borrowers changed since the last [`Engine::take_dirty`], by id (indices move when a
    /// borrower is forgotten).
    dirty: Vec<Arc<str>>,
    /// Borrowers with no open loan and no alert history: (when they are to be forgotten,
    /// creation number, index).
    dormant: BTreeSet<(DateTime<Utc>, u64, u32)>,
    /// Borrowers forgotten since the last [`Engine::take_dirty`] (changelog deletions).
    forgotten: Vec<Arc<str>>,
    /// Whether changes are kept for [`Engine::take_dirty`] (see [`Engine::discard_changes`]).
    track_changes: bool,
    /// Book-level aggregates, kept as borrowers change.
    portfolio: Portfolio,
    /// Portfolio notes not yet taken, when someone records them (see [`Engine::record_notes`]).
    notes: Option<Vec<Note>>,
}

impl Engine {
    /// An empty engine.
    pub fn new(settings: Arc<Settings>, mode: ClockMode) -> Self {
        Engine {
            settings,
            mode,
            clock: None,
            borrowers: Vec::new(),
            index: FxHashMap::default(),
            timers: BTreeSet::new(),
            next_created: 0,
            labels: FxHashMap::default(),
            scratch: Vec::new(),
            figures: signals::Figures::default(),
            dirty: Vec::new(),
            dormant: BTreeSet::new(),
            forgotten: Vec::new(),
            track_changes: true,
            portfolio: Portfolio::default(),
            notes: None,
        }
    }

    /// The book-level aggregates as of the last change.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// Stops keeping changed and forgotten borrowers for [`Engine::take_dirty`]: for a caller
    /// with no changelog (replay), which would otherwise hold an entry for every borrower it
    /// ever touched. On by default, so a changelog can never silently miss a change.
    pub fn discard_changes(&mut self) {
        self.track_changes = false;
        self.dirty = Vec::new();
        self.forgotten = Vec::new();
    }

    /// Starts keeping [`Note`]s (rolls, acknowledgements) for [`Engine::take_notes`]. Off by
    /// default so that a caller with no use for them (replay) does not accumulate them.
    pub fn record_notes(&mut self) {
        self.notes.get_or_insert_with(Vec::new);
    }

    /// Appends the notes kept since the last call.
    pub fn take_notes(&mut self, out: &mut Vec<Note>) {
        if let Some(notes) = self.notes.as_mut() {
            out.append(notes);
        }
    }

    /// The engine's clock: `None` until the first event or `advance_to`.
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        self.clock
    }

    /// Borrowers tracked.
    pub fn borrower_count(&self) -> usize {
        self.borrowers.len()
    }

    /// Open loans tracked.
    pub fn open_loan_count(&self) -> usize {
        self.borrowers.iter().map(|b| b.loans.len()).sum()
    }

    /// Pending timers (one per borrower at most).
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Moves the clock forward to `t`, firing every timer due at or before it, in time order.
    /// A `t` before the clock changes nothing: the clock never goes back.
    pub fn advance_to(&mut self, t: DateTime<Utc>, out: &mut Vec<Output>) {
        while let Some(&(due, _, idx)) = self.timers.first() {
            if due > t {
                break;
            }
            self.timers.pop_first();
            let i = idx as usize;
            self.borrowers[i].next_wake = None;
            if self.clock.is_none_or(|c| c < due) {
                self.clock = Some(due);
            }
            self.evaluate(i, due, out);
        }
        if self.clock.is_none_or(|c| c < t) {
            self.clock = Some(t);
        }
        self.forget_due(t);
    }

    /// Forgets every borrower whose retention ended at or before `t`.
    fn forget_due(&mut self, t: DateTime<Utc>) {
        while let Some(&(at, _, idx)) = self.dormant.first() {
            if at > t {
                break;
            }
            self.forget(idx);
        }
    }

    /// Applies one input message at the engine's clock, appending what to publish.
    pub fn apply(&mut self, input: Input<'_>, out: &mut Vec<Output>) -> Outcome {
        let size = input.full_size.unwrap_or(input.payload.len());
        if size > self.settings.limits.max_event_bytes {
            let rejection = Rejection::new(
                ErrorKind::TooLarge,
                format!(
                    "message of {size} bytes is longer than limits.max_event_bytes ({}); not decoded",
                    self.settings.limits.max_event_bytes
                ),
            );
            return self.reject(&input, rejection, out);
        }
        let event = match decode::decode(input.payload) {
            Ok(e) => e,
            Err(rejection) => return self.reject(&input, rejection, out),
        };
        if let Some(key) = input.key {
            if key != event.borrower_id.as_bytes() {
                let rejection = Rejection::new(
                    ErrorKind::KeyMismatch,
                    format!(
                        "Kafka key {:?} is not the field `borrower_id` {:?}; events must be keyed by their borrower",
                        String::from_utf8_lossy(&key[..key.len().min(80)]),
                        &*event.borrower_id
                    ),
                );
                return self.reject(&input, rejection, out);
            }
        }
        let event_type = event.body.event_type();
        let hash = state::id_hash(&event.event_id);
        let known = self.index.get(&*event.borrower_id).copied();
        if let Some(i) = known {
            if self.borrowers[i as usize].has_seen(hash) {
                return Outcome::Duplicate(event_type);
            }
        }
        match self.mode {
            ClockMode::Event => self.advance_to(event.occurred_at, out),
            ClockMode::External { max_future_skew } => {
                if let Some(clock) = self.clock {
                    if event.occurred_at > clock + max_future_skew {
                        let rejection = Rejection::new(
                            ErrorKind::FutureEvent,
                            format!(
                                "field `occurred_at` {} is more than {} s ahead of the monitor's clock {}",
                                time::format_instant(event.occurred_at, self.settings.tz),
                                max_future_skew.num_seconds(),
                                time::format_instant(clock, self.settings.tz),
                            ),
                        );
                        return self.reject(&input, rejection, out);
                    }
                }
            }
        }
        let now = self
            .clock
            .map_or(event.occurred_at, |c| c.max(event.occurred_at));
        // Moving the clock may have forgotten borrowers, which moves others' indices.
        let known = self.index.get(&*event.borrower_id).copied();
        match self.apply_event(&event, known, now, out) {
            Ok(i) => {
                let b = &mut self.borrowers[i];
                b.remember(hash, self.settings.limits.max_event_ids_per_borrower);
                b.last_event_at = Some(b.last_event_at.map_or(now, |t| t.max(now)));
                self.file_dormant(i);
                self.cap_dormant();
                Outcome::Applied(event_type)
            }
            Err(rejection) => self.reject(&input, rejection, out),
        }
    }

    fn reject(
        &mut self,
        input: &Input<'_>,
        rejection: Rejection,
        out: &mut Vec<Output>,
    ) -> Outcome {
        let kind = rejection.kind;
        out.push(Output::Rejected(rejected_message_within(
            input,
            rejection,
            self.settings.limits.max_rejected_payload_bytes,
        )));
        Outcome::Rejected(kind)
    }

    /// Re-evaluates borrower `i` at `now`, publishes changes and re-arms its timer.
    fn evaluate(&mut self, i: usize, now: DateTime<Utc>, out: &mut Vec<Output>) {
        self.mark_dirty(i);
        let settings = Arc::clone(&self.settings);
        let today = time::business_date(now, settings.tz);
        let b = &mut self.borrowers[i];
        self.scratch.clear();
        signals::evaluate(
            b,
            today,
            &settings.rules,
            &mut self.figures,
            &mut self.scratch,
        );
        lifecycle::reconcile(b, &self.scratch, &self.figures, now, &settings, out);
        lifecycle::escalate(b, now, &settings, out);
        self.portfolio.recount(
            b,
            |i| self.figures.dpd(i),
            self.figures.score(),
            self.notes.as_mut(),
        );
        self.rearm(i, now);
    }

    fn mark_dirty(&mut self, i: usize) {
        let b = &mut self.borrowers[i];
        if !b.dirty && self.track_changes {
            b.dirty = true;
            self.dirty.push(Arc::clone(&b.id));
        }
    }

    /// Files borrower `i` among the borrowers that may be forgotten — no open loan and no
    /// alert ever opened — or takes it out: it is forgotten `forget_after` after its last
    /// event. A borrower that ever had an alert is kept: its alert numbering must go on, or a
    /// later alert would reuse an old `alert_id` and `message_id`.
    fn file_dormant(&mut self, i: usize) {
        let b = &mut self.borrowers[i];
        let next = if b.loans.is_empty() && b.alerts.is_empty() {
            b.last_event_at.or(self.clock).map(|t| {
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
            self.dormant.remove(&(old, b.created, i as u32));
        }
        b.forget_at = next;
        if let Some(t) = next {
            self.dormant.insert((t, b.created, i as u32));
        }
    }

    /// Forgets the borrowers without loans whose last event is oldest while there are more
    /// than `limits.max_borrowers_without_loans`.
    fn cap_dormant(&mut self) {
        while self.dormant.len() > self.settings.limits.max_borrowers_without_loans {
            match self.dormant.first() {
                Some(&(_, _, idx)) => self.forget(idx),
                None => break,
            }
        }
    }

    /// Drops borrower `idx` and everything it holds (the changelog deletes it at the next
    /// [`Engine::take_dirty`]). The last borrower moves into its index.
    fn forget(&mut self, idx: u32) {
        let i = idx as usize;
        if i >= self.borrowers.len() {
            return;
        }
        let b = &mut self.borrowers[i];
        if let Some(t) = b.forget_at.take() {
            self.dormant.remove(&(t, b.created, idx));
        }
        if let Some(t) = b.next_wake.take() {
            self.timers.remove(&(t, b.created, idx));
        }
        self.portfolio.uncount_borrower(b);
        self.portfolio.borrowers = self.portfolio.borrowers.saturating_sub(1);
        self.index.remove(&b.id);
        let gone = self.borrowers.swap_remove(i);
        if self.track_changes {
            self.forgotten.push(gone.id);
        }
        let Some(moved) = self.borrowers.get(i) else {
            return;
        };
        let from = self.borrowers.len() as u32;
        if let Some(slot) = self.index.get_mut(&moved.id) {
            *slot = idx;
        }
        if let Some(t) = moved.next_wake {
            self.timers.remove(&(t, moved.created, from));
            self.timers.insert((t, moved.created, idx));
        }
        if let Some(t) = moved.forget_at {
            self.dormant.remove(&(t, moved.created, from));
            self.dormant.insert((t, moved.created, idx));
        }
    }

    /// Borrowers held now that may be forgotten (no open loan, no alert history).
    pub fn borrowers_without_loans(&self) -> usize {
        self.dormant.len()
    }

    /// The snapshot of one borrower, for the changelog.
    pub fn snapshot(&self, borrower_id: &str) -> Option<Vec<u8>> {
        let i = *self.index.get(borrower_id)?;
        Some(snapshot::encode(&self.borrowers[i as usize]))
    }

    /// Appends (borrower_id, snapshot) for every borrower changed since the last call, in the
    /// order they first changed, after (borrower_id, empty) for every borrower forgotten since
    /// (a borrower forgotten and seen again in between thus ends up as its new state).
    pub fn take_dirty(&mut self, out: &mut Vec<(Arc<str>, Vec<u8>)>) {
        out.extend(self.forgotten.drain(..).map(|id| (id, Vec::new())));
        for id in self.dirty.drain(..) {
            let Some(&i) = self.index.get(&id) else {
                continue;
            };
            let b = &mut self.borrowers[i as usize];
            if b.dirty {
                b.dirty = false;
                out.push((id, snapshot::encode(b)));
            }
        }
    }

    /// Drops a borrower on a changelog deletion (an empty snapshot) while restoring.
    pub fn restore_deletion(&mut self, borrower_id: &str) {
        if let Some(&i) = self.index.get(borrower_id) {
            let tracked = std::mem::replace(&mut self.track_changes, false);
            self.forget(i);
            self.track_changes = tracked;
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
        match self.index.get(&*b.id).copied() {
            Some(i) => {
                let mut old = std::mem::replace(&mut self.borrowers[i as usize], b);
                self.portfolio.uncount_borrower(&mut old);
                if let Some(t) = old.next_wake {
                    self.timers.remove(&(t, old.created, i));
                }
                if let Some(t) = old.forget_at {
                    self.dormant.remove(&(t, old.created, i));
                }
            }
            None => {
                let i = self.borrowers.len() as u32;
                self.next_created = self.next_created.max(b.created + 1);
                self.index.insert(Arc::clone(&b.id), i);
                self.borrowers.push(b);
                self.portfolio.borrowers += 1;
            }
        }
        Ok(())
    }

    /// Ends a restore: sets the clock (the task's persisted stream time, or the wall clock) and
    /// re-arms every borrower's timer from it.
    pub fn finish_restore(&mut self, clock: Option<DateTime<Utc>>) {
        if let Some(c) = clock {
            if self.clock.is_none_or(|old| old < c) {
                self.clock = Some(c);
            }
        }
        // Without a clock, arm from the beginning of time: due timers then fire (and find
        // nothing new to say) when the clock first moves, and count the borrowers then.
        let now = self.clock.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let today = self.clock.map(|c| time::business_date(c, self.settings.tz));
        for i in 0..self.borrowers.len() {
            if let Some(today) = today {
                self.count(i, today);
            }
            self.rearm(i, now);
            self.file_dormant(i);
        }
        // Limits may have been lowered, or time passed, since the changelog was written.
        self.cap_dormant();
        if let Some(c) = self.clock {
            self.forget_due(c);
        }
    }

    /// Counts restored borrower `i` into the portfolio as of `today` (no messages: its alerts
    /// are as the changelog left them).
    fn count(&mut self, i: usize, today: chrono::NaiveDate) {
        let b = &mut self.borrowers[i];
        self.scratch.clear();
        signals::evaluate(
            b,
            today,
            &self.settings.rules,
            &mut self.figures,
            &mut self.scratch,
        );
        let figures = &self.figures;
        self.portfolio
            .recount(b, |i| figures.dpd(i), figures.score(), None);
    }

    /// Recomputes borrower `i`'s next timer and files it.
    fn rearm(&mut self, i: usize, now: DateTime<Utc>) {
        let b = &mut self.borrowers[i];
        let next = apply::next_wake(b, now, &self.settings);
        if next == b.next_wake {
            return;
        }
        if let Some(old) = b.next_wake {
            self.timers.remove(&(old, b.created, i as u32));
        }
        b.next_wake = next;
        if let Some(t) = next {
            self.timers.insert((t, b.created, i as u32));
        }
    }
}

/// Builds the `risk.rejected` message for an input, with at most the default
/// `limits.max_rejected_payload_bytes` of its payload.
pub fn rejected_message(input: &Input<'_>, rejection: Rejection) -> RejectedMessage {
    rejected_message_within(
        input,
        rejection,
        settings::LimitsConfig::default().max_rejected_payload_bytes,
    )
}

/// Builds the `risk.rejected` message for an input, carrying at most `max_payload_bytes` of
/// its payload.
pub fn rejected_message_within(
    input: &Input<'_>,
    rejection: Rejection,
    max_payload_bytes: usize,
) -> RejectedMessage {
    let size = input.full_size.unwrap_or(input.payload.len());
    let bytes = &input.payload[..input.payload.len().min(max_payload_bytes)];
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => Some(s),
        // Cut inside a character (by us or by the adapter): the text up to it is still the
        // payload's, so keep it as text.
        Err(e) if e.error_len().is_none() && size > bytes.len() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    let (payload, payload_base64, kept) = match text {
        Some(s) => (Some(s.to_owned()), None, s.len()),
        None => {
            use base64::Engine as _;
            (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                bytes.len(),
            )
        }
    };
    let truncated = kept < size;
    let key = match input.key {
        Some(k) => Some(String::from_utf8_lossy(&k[..k.len().min(max_payload_bytes)]).into_owned()),
        // Files have no keys; a producer would have keyed the message by its borrower_id.
        None => decode::borrower_id_hint(input.payload),
    };
    RejectedMessage {
        kind: "rejected",
        message_id: format!("rejected/{}", input.source),
        error_kind: rejection.kind,
        error: rejection.message,
        source: input.source.to_owned(),
        key,
        payload,
        payload_base64,
        payload_truncated: truncated,
        payload_size_bytes: truncated.then_some(size),
    }
}

#[cfg(test)]
mod tests;
