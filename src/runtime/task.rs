//! One task: the engine for one partition number, fed from that partition of every input topic.
//!
//! Records are buffered per input partition and applied lowest `occurred_at` first (ties: topic
//! order, then offset), the timestamp-synchronised processing of Kafka Streams. When to apply
//! follows KIP-695: the lowest head is applied only when every input partition with nothing
//! buffered is known to hold nothing older ([`Lag`]):
//! - `Behind` (the broker holds records past the last one polled) or `Unknown` (no fetch
//!   response yet): wait, however long — a record is never applied ahead of unread input;
//! - `CaughtUp` (everything the broker held has been polled; a producer may still write): wait
//!   at most `max_task_idle_ms` from the moment it was first seen empty and caught up, then
//!   apply. The deadline stands while the partition stays empty and caught up, and is dropped
//!   when it receives a record or falls behind again.
//!
//! A head whose `occurred_at` is more than `limits.max_clock_jump_days` past the newest time
//! its own input partition has applied (or the first of a partition) is a suspected clock jump
//! (see `postloan_engine::jump`): it is not applied until the records after it *in the same
//! input partition* have judged it — the merge waits for them as for an empty partition (unread:
//! wait; caught up: at most `max_task_idle_ms`, then it is judged on what came). A head refuted
//! by a follower far behind it takes that follower's time as its merge key, so a mistyped year
//! never holds its partition's later records back until the end of the input; the engine then
//! rejects it. The verdict depends only on the partition's records, never on when they came, so
//! a restarted task judges exactly as before. Only with the event clock: with the wall clock
//! there is no jump to judge.
//!
//! An event applied with an `occurred_at` older than the newest already applied is *late* (the
//! contract's late-event rule: applied as usual, the clock never moves back); it is reported
//! with its lateness so that a degraded order is never silent.
//!
//! Sans-I/O: no rdkafka types; time is an argument.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::client::Lag;
use postloan_engine::decode::{peek_occurred_at, OccurredAt};
use postloan_engine::jump::{Followers, JumpRule};
use postloan_engine::output::Output;
use postloan_engine::portfolio::Note;
use postloan_engine::{ClockMode, Engine, Input, Outcome};

/// Number of input topics (lifecycle, repayments, income, valuations, acks).
pub const INPUTS: usize = 5;

/// Changelog key of the task's own record — stream time and input positions — (never a valid
/// borrower id, which is 1–64 chars).
pub const TASK_KEY: &str = "";

/// The task's own changelog record: where its state stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskMeta {
    /// The commit cycle whose borrower records this record vouches for.
    pub cycle: u64,
    /// Stream time.
    pub clock: Option<DateTime<Utc>>,
    /// Next offset to read per input, as of the borrowers written with this record. A
    /// restored task resumes exactly there, so state and input position always agree.
    pub next_offsets: [Option<i64>; INPUTS],
    /// Per input: the newest `occurred_at` applied from it that counted for the clock, against
    /// which a suspected clock jump is told (absent in records of builds before it: the
    /// restored clock stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks: Option<[Option<DateTime<Utc>>; INPUTS]>,
}

/// One consumed input record (the vocabulary's record, shared with `notify`).
pub use crate::stream::Record;

/// One applied record: what the engine made of it, when it happened and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// Input topic index it came from.
    pub input: usize,
    /// Its partition.
    pub partition: i32,
    /// Its offset in that input partition.
    pub offset: i64,
    /// The engine's outcome.
    pub outcome: Outcome,
    /// How much older it is than the newest event applied before it by this task, when it is
    /// (a late event).
    pub late_by: Option<chrono::Duration>,
    /// The event's `occurred_at`, when readable.
    pub occurred_at: Option<DateTime<Utc>>,
    /// [`Record::received_ms`].
    pub received_ms: u64,
}

/// A buffered record with its merge key.
#[derive(Debug)]
struct Pending {
    /// Read ahead by the engine's own rule, and handed to it when the record is applied.
    occurred_at: Option<OccurredAt>,
    /// Whether it is a suspected clock jump and, once judged, what its followers say.
    judged: Judged,
    record: Record,
}

/// Where a head stands with the clock-jump rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judged {
    /// Not looked at yet (only heads are).
    NotYet,
    /// No suspect: it merges by its own time.
    Plain,
    /// A suspect waiting for the records after it.
    Waiting,
    /// A suspect and its verdict.
    Verdict(Followers),
}

impl Pending {
    fn time(&self) -> Option<DateTime<Utc>> {
        self.occurred_at.map(OccurredAt::instant)
    }

    /// The merge key's time: its own, or for a refuted suspect the follower's that refuted it.
    fn merge_time(&self) -> Option<DateTime<Utc>> {
        match self.judged {
            Judged::Verdict(Followers::Refuted { by }) => Some(by),
            _ => self.time(),
        }
    }
}

/// The engine of one partition number and its input buffers.
pub struct Task {
    partition: i32,
    topics: [Arc<str>; INPUTS],
    engine: Engine,
    queues: [VecDeque<Pending>; INPUTS],
    /// Payload and key bytes held in each queue.
    queued_bytes: [usize; INPUTS],
    /// Per input: the monotonic instant until which the merge waits for it while it is empty
    /// and caught up (KIP-695's idle deadline).
    idle_deadline: [Option<u64>; INPUTS],
    /// The newest `occurred_at` among the events that counted for the clock: the merge's
    /// stream time, against which lateness is measured.
    stream_time: Option<DateTime<Utc>>,
    /// Next offset to commit per input (last applied + 1).
    next_offsets: [Option<i64>; INPUTS],
    /// [`TaskMeta::marks`].
    marks: [Option<DateTime<Utc>>; INPUTS],
    /// The clock-jump rule, with the event clock only.
    rule: Option<JumpRule>,
    /// `next_offsets` as of the last task record taken for the changelog.
    written_offsets: [Option<i64>; INPUTS],
    max_idle_ms: u64,
    source: String,
    /// Restored behind the wall clock: the first step moves the clock before applying records.
    catch_up: bool,
}

impl Task {
    /// A task over a (restored) engine.
    pub fn new(
        partition: i32,
        topics: [Arc<str>; INPUTS],
        mut engine: Engine,
        max_idle_ms: u64,
    ) -> Self {
        engine.record_notes();
        let rule = (engine.clock_mode() == ClockMode::Event)
            .then(|| JumpRule::from_limits(&engine.settings().limits));
        let marks = [engine.clock(); INPUTS];
        Task {
            partition,
            topics,
            engine,
            queues: Default::default(),
            queued_bytes: [0; INPUTS],
            idle_deadline: [None; INPUTS],
            stream_time: None,
            next_offsets: [None; INPUTS],
            marks,
            rule,
            written_offsets: [None; INPUTS],
            max_idle_ms,
            source: String::new(),
            catch_up: false,
        }
    }

    /// Marks a task restored behind the wall clock: [`Task::take_catch_up`] says so once.
    pub fn catch_up_first(&mut self) {
        self.catch_up = true;
    }

    /// Whether the clock must be caught up before anything is applied (once).
    pub fn take_catch_up(&mut self) -> bool {
        std::mem::take(&mut self.catch_up)
    }

    /// The partition number.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The engine (read-only).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Buffers a record of input `input`.
    pub fn push(&mut self, input: usize, record: Record) {
        let occurred_at = peek_occurred_at(&record.payload);
        self.idle_deadline[input] = None;
        self.queued_bytes[input] += record_bytes(&record);
        self.queues[input].push_back(Pending {
            occurred_at,
            judged: Judged::NotYet,
            record,
        });
    }

    /// Whether a record at `offset` of input `input` is new to this task: not applied yet and
    /// not buffered already (a fetch from before a seek, or a partition refetched after a
    /// pause, can deliver a record twice).
    pub fn wants(&self, input: usize, offset: i64) -> bool {
        match self.queues[input].back() {
            Some(last) => offset > last.record.offset,
            None => self.next_offsets[input].is_none_or(|n| offset >= n),
        }
    }

    /// Records buffered and not yet applied.
    pub fn buffered(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Whether input `input`'s head is a suspected clock jump waiting for the records after it
    /// (which must be fetched even past the buffer cap).
    pub fn awaits_followers(&self, input: usize) -> bool {
        self.queues
            .get(input)
            .and_then(VecDeque::front)
            .is_some_and(|p| p.judged == Judged::Waiting)
    }

    /// Bytes (payloads and keys) buffered for input `input`.
    pub fn queued_bytes(&self, input: usize) -> usize {
        self.queued_bytes.get(input).copied().unwrap_or(0)
    }

    /// Applies every record that is ready at `now_ms` (a monotonic millisecond clock), in
    /// merge order; `lag` tells what is known of an input partition beyond what was polled
    /// (asked only for inputs with nothing buffered, at most once per input and call: it cannot
    /// change while the task runs). Returns how many were applied.
    pub fn process(
        &mut self,
        now_ms: u64,
        lag: &mut dyn FnMut(usize) -> Lag,
        out: &mut Vec<Output>,
        outcomes: &mut Vec<Processed>,
    ) -> usize {
        let mut known: [Option<Lag>; INPUTS] = [None; INPUTS];
        let mut applied = 0;
        loop {
            for i in 0..INPUTS {
                self.judge_head(i, false);
            }
            if !self.ready(now_ms, &mut |i| *known[i].get_or_insert_with(|| lag(i))) {
                break;
            }
            let Some(input) = self.lowest_head() else {
                break;
            };
            let Some(p) = self.queues[input].pop_front() else {
                break;
            };
            self.queued_bytes[input] -= record_bytes(&p.record);
            self.source.clear();
            use std::fmt::Write as _;
            // Writing into a String cannot fail.
            let _ = write!(
                self.source,
                "{}/{}/{}",
                self.topics[input], self.partition, p.record.offset
            );
            // The engine asks only about a suspect, and every suspect was judged (a head is
            // plain only when it cannot move the clock that far).
            let verdict = match p.judged {
                Judged::Verdict(v) => v,
                _ => Followers::Ended { seen: 0 },
            };
            let outcome = self.engine.apply_with(
                Input {
                    payload: &p.record.payload,
                    source: &self.source,
                    key: p.record.key.as_deref(),
                    full_size: p.record.full_size,
                    occurred_at: p.occurred_at,
                },
                &mut |_| verdict,
                out,
            );
            let occurred_at = p.occurred_at.map(OccurredAt::instant);
            let late_by = self.note_stream_time(occurred_at, outcome);
            if let Some(t) = occurred_at.filter(|_| counts_for_clock(outcome)) {
                self.marks[input] = Some(self.marks[input].map_or(t, |m| m.max(t)));
            }
            outcomes.push(Processed {
                input,
                partition: self.partition,
                offset: p.record.offset,
                outcome,
                late_by,
                occurred_at,
                received_ms: p.record.received_ms,
            });
            self.next_offsets[input] = Some(p.record.offset + 1);
            applied += 1;
        }
        applied
    }

    /// KIP-695: whether the lowest head may be applied now. Every empty input is looked at (not
    /// only the first that blocks), so the idle deadlines of several caught-up inputs run at
    /// once rather than one after another.
    fn ready(&mut self, now_ms: u64, lag: &mut dyn FnMut(usize) -> Lag) -> bool {
        if self.queues.iter().all(VecDeque::is_empty) {
            return false;
        }
        let mut ready = true;
        for i in 0..INPUTS {
            // A suspect waiting for the records after it waits as an empty input does.
            let waiting = self.queues[i]
                .front()
                .is_none_or(|p| p.judged == Judged::Waiting);
            if !waiting {
                self.idle_deadline[i] = None;
                continue;
            }
            match lag(i) {
                Lag::Unknown | Lag::Behind => {
                    self.idle_deadline[i] = None;
                    ready = false;
                }
                Lag::CaughtUp => {
                    let deadline = *self.idle_deadline[i]
                        .get_or_insert(now_ms.saturating_add(self.max_idle_ms));
                    if now_ms >= deadline {
                        // Nothing more is coming in time: judged on what came.
                        self.judge_head(i, true);
                    } else {
                        ready = false;
                    }
                }
            }
        }
        ready
    }

    /// Looks at input `i`'s head with the clock-jump rule: plain, or a suspect judged by the
    /// records after it in the same input (or still waiting for them, unless `ended`).
    fn judge_head(&mut self, i: usize, ended: bool) {
        let Some(head) = self.queues[i].front() else {
            return;
        };
        if !matches!(head.judged, Judged::NotYet | Judged::Waiting) {
            return;
        }
        let judged = match (self.rule, head.time()) {
            (Some(rule), Some(t)) if rule.is_suspect(self.marks[i], t) => {
                let followers = self.queues[i].iter().skip(1).map(Pending::time);
                match rule.judge(t, followers, ended) {
                    Some(v) => Judged::Verdict(v),
                    None => Judged::Waiting,
                }
            }
            _ => Judged::Plain,
        };
        if let Some(head) = self.queues[i].front_mut() {
            head.judged = judged;
        }
    }

    /// Moves the stream time past an applied event and says how late it was. Only events
    /// that count for the clock count here (applied, or well-formed but not fitting the state):
    /// a duplicate or a malformed event neither is late nor moves the stream time.
    fn note_stream_time(
        &mut self,
        occurred_at: Option<DateTime<Utc>>,
        outcome: Outcome,
    ) -> Option<chrono::Duration> {
        let at = occurred_at.filter(|_| counts_for_clock(outcome))?;
        match self.stream_time {
            Some(newest) if at < newest => Some(newest - at),
            _ => {
                self.stream_time = Some(at);
                None
            }
        }
    }

    fn lowest_head(&self) -> Option<usize> {
        (0..INPUTS)
            .filter_map(|i| {
                let p = self.queues[i].front()?;
                // An unreadable timestamp sorts first: it is rejected without touching state.
                Some(((p.merge_time(), i, p.record.offset), i))
            })
            .min_by_key(|(k, _)| *k)
            .map(|(_, i)| i)
    }

    /// Appends the portfolio notes (rolls, acknowledgements) since the last call.
    pub fn take_notes(&mut self, out: &mut Vec<Note>) {
        self.engine.take_notes(out);
    }

    /// Moves the clock (wall clock mode), firing what is due.
    pub fn advance_to(&mut self, t: DateTime<Utc>, out: &mut Vec<Output>) {
        self.engine.advance_to(t, out);
    }

    /// Offsets to commit: (input, next offset) for every input that applied something.
    pub fn offsets(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        (0..INPUTS).filter_map(|i| self.next_offsets[i].map(|o| (i, o)))
    }

    /// Next offset to apply of input `input`, if anything was applied (or restored).
    pub fn next_offset(&self, input: usize) -> Option<i64> {
        self.next_offsets.get(input).copied().flatten()
    }

    /// Resumes from a restored task record.
    pub fn resume_from(&mut self, meta: &TaskMeta) {
        self.next_offsets = meta.next_offsets;
        self.written_offsets = meta.next_offsets;
        self.marks = meta.marks.unwrap_or([meta.clock; INPUTS]);
    }

    /// Changelog records of commit cycle `cycle` (a number unique to that cycle): changed
    /// borrowers, each value prefixed with the cycle, then the task's record, written last, which
    /// vouches for them. A restore applies a cycle's borrowers only once it has seen its task
    /// record, so a cycle cut short by a crash leaves nothing half-applied.
    pub fn take_changelog(&mut self, cycle: u64, out: &mut Vec<(Arc<str>, Vec<u8>)>) {
        let before = out.len();
        self.engine.take_dirty(out);
        for (_, value) in &mut out[before..] {
            value.splice(0..0, cycle.to_le_bytes());
        }
        let moved = self.next_offsets != self.written_offsets;
        if out.len() > before || moved {
            let meta = TaskMeta {
                cycle,
                clock: self.engine.clock(),
                next_offsets: self.next_offsets,
                marks: Some(self.marks),
            };
            out.push((Arc::from(TASK_KEY), encode_meta(&meta)));
            self.written_offsets = self.next_offsets;
        }
    }
}

/// Whether an outcome counts for the event clock (applied, or well-formed but not fitting the
/// state); a duplicate or a malformed or implausible event does not.
fn counts_for_clock(outcome: Outcome) -> bool {
    match outcome {
        Outcome::Applied(_) => true,
        Outcome::Rejected(kind) => kind.is_state_conflict(),
        Outcome::Duplicate(_) => false,
    }
}

fn record_bytes(r: &Record) -> usize {
    r.payload.len() + r.key.as_ref().map_or(0, Vec::len)
}

/// The task record as a changelog value (JSON: readable with any Kafka tool).
pub fn encode_meta(meta: &TaskMeta) -> Vec<u8> {
    // Cannot fail, by construction: a number, an optional instant (chrono writes RFC 3339
    // text) and five optional integers; serde_json fails only on a failing `Serialize` impl or
    // a non-string map key, and a `Vec` sink never fails. (An empty value would read as a
    // deletion: `encode_and_decode_meta` in the tests would catch it.)
    serde_json::to_vec(meta).unwrap_or_default()
}

/// Reads a task record.
pub fn decode_meta(bytes: &[u8]) -> Option<TaskMeta> {
    serde_json::from_slice(bytes).ok()
}

/// Splits a borrower changelog value into its cycle and snapshot.
pub fn split_cycle(value: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = value.split_at_checked(8)?;
    Some((u64::from_le_bytes(head.try_into().ok()?), rest))
}

#[cfg(test)]
mod tests;
