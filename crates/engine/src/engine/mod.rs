//! [`Engine`]: the book of one partition (or of the whole book in replay) — its borrowers,
//! its clock and the timers the clock fires, retention of borrowers without loans, what the
//! changelog has not been told yet, and the portfolio aggregates.
//!
//! Parts: `apply` (one handler per event type), `index` (borrower id → place in the book,
//! short ids held inline), `firing` (moving the clock, firing and re-arming timers), `timers`
//! (the timers by instant), `retention` (forgetting borrowers without loans), `changelog`
//! (snapshots out, restore in).

mod apply;
mod changelog;
mod firing;
mod index;
mod retention;
mod timers;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;

use crate::decode;
use crate::event::Event;
use crate::input::{rejected_message_within, Input, Outcome};
use crate::jump::{Followers, JumpRule};
use crate::lifecycle::{self, Moment};
use crate::output::Output;
use crate::portfolio::{Note, Portfolio};
use crate::reject::{ErrorKind, Rejection};
use crate::settings::LimitsConfig;
use crate::settings::Settings;
use crate::signals::{self, Desired, Figures};
use crate::state::{self, Borrower, Seen};
use crate::time;
use index::Index;
use timers::Timers;

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

/// An event that passed the screen: decoded, not applied before, its time plausible.
struct Admitted<'a> {
    event: Event<'a>,
    /// [`state::id_hash`] of its `event_id`.
    id: u64,
    /// [`crate::canonical::payload_hash`] of its payload.
    payload: u64,
}

/// An input [`Engine::apply_before`] did not apply: it would have moved the clock to the stop
/// or past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held;

/// The engine for one partition of the book (or the whole book in replay).
#[derive(Debug)]
pub struct Engine {
    settings: Arc<Settings>,
    book: Book,
    clock: Clock,
    retention: Retention,
    changes: Changes,
    tally: Tally,
    scratch: Scratch,
}

/// The borrowers and how to find them.
#[derive(Debug, Default)]
struct Book {
    borrowers: Vec<Borrower>,
    index: Index,
    /// Creation number of the next new borrower.
    next_created: u64,
    /// Interned portfolio labels (low cardinality).
    labels: FxHashMap<Box<str>, Arc<str>>,
}

/// The clock and the timers it fires.
#[derive(Debug)]
struct Clock {
    mode: ClockMode,
    /// `None` until the first event or `advance_to`.
    now: Option<DateTime<Utc>>,
    /// The newest `occurred_at` that moved the event clock (or the restored clock): what a
    /// clock jump is measured from. `advance_to` does not count — a report's stop before a
    /// month-end, or `--until`, is the caller's, not the book's.
    high: Option<DateTime<Utc>>,
    /// One per borrower with a pending timer (see `timers.rs`).
    timers: Timers,
}

/// Borrowers with no open loan and no alert history: (when they are to be forgotten,
/// creation number, index).
#[derive(Debug, Default)]
struct Retention {
    dormant: BTreeSet<(DateTime<Utc>, u64, u32)>,
}

/// What the changelog has not been told yet.
#[derive(Debug)]
struct Changes {
    /// Whether changes are kept for [`Engine::take_dirty`] (see [`Engine::discard_changes`]).
    track: bool,
    /// Borrowers changed since the last [`Engine::take_dirty`], by id (indices move when a
    /// borrower is forgotten).
    dirty: Vec<Arc<str>>,
    /// Borrowers forgotten since the last [`Engine::take_dirty`] (changelog deletions).
    forgotten: Vec<Arc<str>>,
}

/// Book-level aggregates, kept as borrowers change.
#[derive(Debug, Default)]
struct Tally {
    portfolio: Portfolio,
    /// Portfolio notes not yet taken, when someone records them (see [`Engine::record_notes`]).
    notes: Option<Vec<Note>>,
}

/// Buffers one evaluation reuses.
#[derive(Debug, Default)]
struct Scratch {
    desired: Vec<Desired>,
    figures: Figures,
}

impl Engine {
    /// An empty engine.
    pub fn new(settings: Arc<Settings>, mode: ClockMode) -> Self {
        Engine {
            settings,
            book: Book::default(),
            clock: Clock {
                mode,
                now: None,
                high: None,
                timers: Timers::default(),
            },
            retention: Retention::default(),
            changes: Changes {
                track: true,
                dirty: Vec::new(),
                forgotten: Vec::new(),
            },
            tally: Tally::default(),
            scratch: Scratch::default(),
        }
    }

    /// The book-level aggregates as of the last change.
    pub fn portfolio(&self) -> &Portfolio {
        &self.tally.portfolio
    }

    /// Stops keeping changed and forgotten borrowers for [`Engine::take_dirty`]: for a caller
    /// with no changelog (replay), which would otherwise hold an entry for every borrower it
    /// ever touched. On by default, so a changelog can never silently miss a change.
    pub fn discard_changes(&mut self) {
        self.changes.track = false;
        self.changes.dirty = Vec::new();
        self.changes.forgotten = Vec::new();
    }

    /// Starts keeping [`Note`]s (rolls, acknowledgements) for [`Engine::take_notes`]. Off by
    /// default so that a caller with no use for them (replay) does not accumulate them.
    pub fn record_notes(&mut self) {
        self.tally.notes.get_or_insert_with(Vec::new);
    }

    /// Appends the notes kept since the last call.
    pub fn take_notes(&mut self, out: &mut Vec<Note>) {
        if let Some(notes) = self.tally.notes.as_mut() {
            out.append(notes);
        }
    }

    /// Where the clock comes from.
    pub fn clock_mode(&self) -> ClockMode {
        self.clock.mode
    }

    /// The engine's clock: `None` until the first event or `advance_to`.
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        self.clock.now
    }

    /// Borrowers tracked.
    pub fn borrower_count(&self) -> usize {
        self.book.borrowers.len()
    }

    /// Open loans tracked.
    pub fn open_loan_count(&self) -> usize {
        self.book.borrowers.iter().map(|b| b.loans.len()).sum()
    }

    /// Pending timers (one per borrower at most).
    pub fn pending_timers(&self) -> usize {
        self.clock.timers.len()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Applies one input message at the engine's clock, appending what to publish, with no
    /// look at the events after it: an event that would move the event clock further than
    /// `limits.max_clock_jump_days` is rejected as unconfirmed (see [`Engine::apply_with`]).
    pub fn apply(&mut self, input: Input<'_>, out: &mut Vec<Output>) -> Outcome {
        self.apply_with(input, &mut |_| Followers::Ended { seen: 0 }, out)
    }

    /// Applies one input message at the engine's clock, appending what to publish.
    /// `followers` is asked, only for an event the clock-jump rule suspects (see [`crate::jump`]),
    /// what the events after it in its stream say about its time; it is given the event's
    /// `occurred_at`.
    pub fn apply_with(
        &mut self,
        input: Input<'_>,
        followers: &mut dyn FnMut(DateTime<Utc>) -> Followers,
        out: &mut Vec<Output>,
    ) -> Outcome {
        match self.screen(&input, followers, out) {
            Ok(admitted) => self.apply_admitted(&input, admitted, out),
            Err(outcome) => outcome,
        }
    }

    /// Applies one input like [`Engine::apply_with`], unless (with the event clock) it would
    /// move the clock to `stop` or past it: then the clock moves to just before `stop`, firing
    /// every timer due before it, and the input is [`Held`], not applied. The caller reads the
    /// book as it stood at the end of the instant before `stop` (a month-end, say) and offers
    /// the input again with a later stop; what is published is exactly what `apply_with` alone
    /// would publish, since the held input then moves the clock on from there. (An implausible
    /// time is rejected before any stop: it never moves the clock.)
    pub fn apply_before(
        &mut self,
        input: Input<'_>,
        followers: &mut dyn FnMut(DateTime<Utc>) -> Followers,
        stop: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> Result<Outcome, Held> {
        let admitted = match self.screen(&input, followers, out) {
            Ok(admitted) => admitted,
            Err(outcome) => return Ok(outcome),
        };
        if self.clock.mode == ClockMode::Event
            && admitted.event.occurred_at >= stop
            && self.clock.now.is_none_or(|c| c < stop)
        {
            self.advance_to(stop - Duration::nanoseconds(1), out);
            return Err(Held);
        }
        Ok(self.apply_admitted(&input, admitted, out))
    }

    /// The event of an input, or what became of an input that is not one to apply: rejected
    /// before it touched the clock (unreadable, an implausible time, a conflicting duplicate)
    /// or applied before (a duplicate).
    fn screen<'a>(
        &mut self,
        input: &Input<'a>,
        followers: &mut dyn FnMut(DateTime<Utc>) -> Followers,
        out: &mut Vec<Output>,
    ) -> Result<Admitted<'a>, Outcome> {
        let event = match self.admit(input) {
            Ok(event) => event,
            Err(rejection) => return Err(self.reject(input, rejection, out)),
        };
        let id = state::id_hash(&event.event_id);
        let payload = event.payload_hash;
        let known = self.book.index.get(&event.borrower_id);
        if let Some(first) = known.and_then(|i| self.book.borrowers[i as usize].seen_as(id)) {
            if first.conflicts_with(payload) {
                let rejection = conflicting_duplicate(&event.event_id, first, self.settings.tz);
                return Err(self.reject(input, rejection, out));
            }
            return Err(Outcome::Duplicate(event.body.event_type()));
        }
        if let Err(rejection) = self.judge_time(event.occurred_at, followers) {
            return Err(self.reject(input, rejection, out));
        }
        Ok(Admitted { event, id, payload })
    }

    fn apply_admitted(
        &mut self,
        input: &Input<'_>,
        admitted: Admitted<'_>,
        out: &mut Vec<Output>,
    ) -> Outcome {
        let Admitted { event, id, payload } = admitted;
        let event_type = event.body.event_type();
        if let Err(rejection) = self.take_time(event.occurred_at, out) {
            return self.reject(input, rejection, out);
        }
        let now = self
            .clock
            .now
            .map_or(event.occurred_at, |c| c.max(event.occurred_at));
        // Moving the clock may have forgotten borrowers, which moves others' indices.
        let known = self.book.index.get(&event.borrower_id);
        match self.apply_event(&event, known, now, out) {
            Ok(i) => {
                let b = &mut self.book.borrowers[i];
                b.remember(
                    Seen::new(id, payload, event.occurred_at),
                    self.settings.limits.max_event_ids_per_borrower,
                );
                b.last_event_at = Some(b.last_event_at.map_or(now, |t| t.max(now)));
                self.file_dormant(i);
                self.cap_dormant();
                Outcome::Applied(event_type)
            }
            Err(rejection) => self.reject(input, rejection, out),
        }
    }

    /// The borrowers in the book, in no particular order: for reports that read the state
    /// itself (every open loan's `counted` bucket and class are current as of the clock).
    pub fn borrowers(&self) -> impl Iterator<Item = &Borrower> {
        self.book.borrowers.iter()
    }

    /// The event in a message, or why it cannot be one: too large, not decodable, or keyed by
    /// another borrower.
    fn admit<'a>(&self, input: &Input<'a>) -> Result<Event<'a>, Rejection> {
        let size = input.full_size.unwrap_or(input.payload.len());
        let max = self.settings.limits.max_event_bytes;
        if size > max {
            return Err(Rejection::new(
                ErrorKind::TooLarge,
                format!(
                    "message of {size} bytes is longer than limits.max_event_bytes ({max}); not decoded"
                ),
            ));
        }
        let event = decode::decode_with(input.payload, input.occurred_at)?;
        if let Some(key) = input.key {
            if key != event.borrower_id.as_bytes() {
                return Err(Rejection::new(
                    ErrorKind::KeyMismatch,
                    format!(
                        "Kafka key {:?} is not the field `borrower_id` {:?}; events must be keyed by their borrower",
                        String::from_utf8_lossy(&key[..key.len().min(80)]),
                        &*event.borrower_id
                    ),
                ));
            }
        }
        Ok(event)
    }

    /// The event clock's side of the clock-jump rule: an event that would move the clock
    /// further than `limits.max_clock_jump_days` is applied only when the events after it
    /// confirm the new time; the first event only when they do not refute it.
    fn judge_time(
        &self,
        occurred_at: DateTime<Utc>,
        followers: &mut dyn FnMut(DateTime<Utc>) -> Followers,
    ) -> Result<(), Rejection> {
        if self.clock.mode != ClockMode::Event {
            return Ok(());
        }
        let rule = JumpRule::from_limits(&self.settings.limits);
        let clock = self.clock.high;
        if !rule.is_suspect(clock, occurred_at) {
            return Ok(());
        }
        let verdict = followers(occurred_at);
        match (clock, verdict) {
            (_, Followers::Confirmed) | (None, Followers::Ended { .. }) => Ok(()),
            (clock, verdict) => Err(implausible_jump(
                occurred_at,
                clock,
                verdict,
                &self.settings.limits,
                self.settings.tz,
            )),
        }
    }

    /// The clock's side of an event at `occurred_at`: with the event clock it moves there
    /// (firing due timers); with an external clock an event too far ahead is refused.
    fn take_time(
        &mut self,
        occurred_at: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> Result<(), Rejection> {
        match self.clock.mode {
            ClockMode::Event => {
                self.clock.high = Some(self.clock.high.map_or(occurred_at, |h| h.max(occurred_at)));
                self.advance_to(occurred_at, out);
            }
            ClockMode::External { max_future_skew } => {
                if let Some(clock) = self.clock.now {
                    if occurred_at > clock + max_future_skew {
                        return Err(Rejection::new(
                            ErrorKind::ImplausibleTime,
                            format!(
                                "field `occurred_at` {} is more than {} s ahead of the monitor's clock {} (clock.max_future_skew_ms); not applied",
                                time::format_instant(occurred_at, self.settings.tz),
                                max_future_skew.num_seconds(),
                                time::format_instant(clock, self.settings.tz),
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
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
    fn evaluate(&mut self, i: usize, moment: Moment<'_>, out: &mut Vec<Output>) {
        let now = moment.at;
        self.mark_dirty(i);
        let settings = Arc::clone(&self.settings);
        let today = time::business_date(now, settings.tz);
        let b = &mut self.book.borrowers[i];
        if !b.suppressions.is_empty() {
            // Lapsed suppressions go first: the slots they covered are reinstated now.
            b.suppressions.retain(|s| s.lapses_at(settings.tz) > now);
        }
        self.scratch.desired.clear();
        signals::evaluate(
            b,
            today,
            &settings.rules,
            &mut self.scratch.figures,
            &mut self.scratch.desired,
        );
        lifecycle::reconcile(
            b,
            &self.scratch.desired,
            &self.scratch.figures,
            moment,
            &settings,
            out,
        );
        lifecycle::escalate(b, moment, &settings, out);
        self.tally.portfolio.recount(
            b,
            today,
            &settings.classification,
            |i| self.scratch.figures.dpd(i),
            self.scratch.figures.score(),
            self.tally.notes.as_mut(),
        );
        if let (Some(watch), Some(notes)) = (settings.watch_dpd, self.tally.notes.as_mut()) {
            for (li, loan) in b.loans.iter().enumerate() {
                let dpd = self.scratch.figures.dpd(li);
                if dpd >= watch {
                    notes.push(Note::PastDue {
                        borrower_id: Arc::clone(&b.id),
                        loan_id: Arc::clone(&loan.id),
                        dpd,
                        at: now,
                    });
                }
            }
        }
        self.rearm(i, now);
    }
}

/// The rejection of a clock jump the events after it did not confirm.
fn implausible_jump(
    t: DateTime<Utc>,
    clock: Option<DateTime<Utc>>,
    verdict: Followers,
    limits: &LimitsConfig,
    tz: chrono_tz::Tz,
) -> Rejection {
    let days = limits.max_clock_jump_days;
    let when = time::format_instant(t, tz);
    let after = match verdict {
        Followers::Refuted { by } => format!(
            "the event after it, at {}, is back more than {days} days earlier: taken for a typo",
            time::format_instant(by, tz)
        ),
        Followers::Ended { seen: 0 } => "no event after it confirmed the new time".to_owned(),
        Followers::Ended { seen } => format!(
            "only {seen} event(s) after it confirmed the new time, {} needed",
            limits.clock_jump_confirmations
        ),
        Followers::Confirmed => "it was confirmed".to_owned(),
    };
    let message = match clock {
        Some(c) => format!(
            "field `occurred_at` {when} is {} days ahead of the clock {} (limits.max_clock_jump_days = {days}), and {after}; not applied",
            (t - c).num_days(),
            time::format_instant(c, tz),
        ),
        None => format!("field `occurred_at` {when} opens the input, and {after}; not applied"),
    };
    Rejection::new(ErrorKind::ImplausibleTime, message)
}

/// The rejection of an event id applied before with another payload.
fn conflicting_duplicate(event_id: &str, first: &Seen, tz: chrono_tz::Tz) -> Rejection {
    let first_at = match first.at() {
        Some(at) => format!(" (the event of {})", time::format_instant(at, tz)),
        None => String::new(),
    };
    Rejection::new(
        ErrorKind::ConflictingDuplicate,
        format!(
            "field `event_id` {event_id:?} was applied before{first_at} with a different payload; the first is kept — a correction needs a new event_id"
        ),
    )
}

#[cfg(test)]
mod tests;
