//! One task: the engine for one partition number, fed from that partition of every input topic.
//!
//! Records are buffered per input partition and applied lowest `occurred_at` first (ties: topic
//! order, then offset), the timestamp-synchronised processing of Kafka Streams (KIP-353): a task
//! only takes the lowest head when every input partition either has something buffered or is
//! known to be caught up, so the order does not depend on how fetches happen to interleave. It
//! waits at most `max_task_idle_ms` for a partition that has neither, then processes anyway.
//!
//! Sans-I/O: no rdkafka types; time is an argument.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::output::Output;
use crate::engine::portfolio::Note;
use crate::engine::{Engine, Input, Outcome};

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
}

/// One consumed input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Offset in its partition.
    pub offset: i64,
    /// Kafka key.
    pub key: Option<Vec<u8>>,
    /// Message bytes: the whole message, or only its first bytes when it is longer than
    /// `limits.max_event_bytes` (it will be rejected; see [`Record::full_size`]).
    pub payload: Vec<u8>,
    /// The message's whole length when `payload` was cut.
    pub full_size: Option<usize>,
    /// When the worker took it from Kafka, on its monotonic millisecond clock (0 where no one
    /// measures).
    pub received_ms: u64,
}

/// One applied record: what the engine made of it, when it happened and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// The engine's outcome.
    pub outcome: Outcome,
    /// The event's `occurred_at`, when readable.
    pub occurred_at: Option<DateTime<Utc>>,
    /// [`Record::received_ms`].
    pub received_ms: u64,
}

/// A buffered record with its merge key.
#[derive(Debug)]
struct Pending {
    occurred_at: Option<DateTime<Utc>>,
    record: Record,
}

/// The engine of one partition number and its input buffers.
pub struct Task {
    partition: i32,
    topics: [Arc<str>; INPUTS],
    engine: Engine,
    queues: [VecDeque<Pending>; INPUTS],
    /// Payload and key bytes held in each queue.
    queued_bytes: [usize; INPUTS],
    caught_up: [bool; INPUTS],
    /// Next offset to commit per input (last applied + 1).
    next_offsets: [Option<i64>; INPUTS],
    /// `next_offsets` as of the last task record taken for the changelog.
    written_offsets: [Option<i64>; INPUTS],
    waiting_since_ms: Option<u64>,
    max_idle_ms: u64,
    source: String,
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
        Task {
            partition,
            topics,
            engine,
            queues: Default::default(),
            queued_bytes: [0; INPUTS],
            caught_up: [false; INPUTS],
            next_offsets: [None; INPUTS],
            written_offsets: [None; INPUTS],
            waiting_since_ms: None,
            max_idle_ms,
            source: String::new(),
        }
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
        let occurred_at = occurred_at(&record.payload);
        self.caught_up[input] = false;
        self.queued_bytes[input] += record_bytes(&record);
        self.queues[input].push_back(Pending {
            occurred_at,
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

    /// Input `input` has nothing more to fetch for now (end of partition reached).
    pub fn mark_caught_up(&mut self, input: usize) {
        self.caught_up[input] = true;
    }

    /// Inputs the task is waiting on: it holds data elsewhere, but these are empty and not known
    /// to be caught up.
    pub fn blocked_on(&self) -> impl Iterator<Item = usize> + '_ {
        let holding = self.queues.iter().any(|q| !q.is_empty());
        (0..INPUTS).filter(move |i| holding && self.queues[*i].is_empty() && !self.caught_up[*i])
    }

    /// Records buffered and not yet applied.
    pub fn buffered(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Bytes (payloads and keys) buffered for input `input`.
    pub fn queued_bytes(&self, input: usize) -> usize {
        self.queued_bytes.get(input).copied().unwrap_or(0)
    }

    /// Applies every record that is ready at `now_ms` (a monotonic millisecond clock), in
    /// merge order; returns how many were applied.
    pub fn process(
        &mut self,
        now_ms: u64,
        out: &mut Vec<Output>,
        outcomes: &mut Vec<Processed>,
    ) -> usize {
        let mut applied = 0;
        loop {
            if self.queues.iter().all(VecDeque::is_empty) {
                self.waiting_since_ms = None;
                break;
            }
            let ready = (0..INPUTS).all(|i| !self.queues[i].is_empty() || self.caught_up[i]);
            if !ready {
                let since = *self.waiting_since_ms.get_or_insert(now_ms);
                if now_ms.saturating_sub(since) < self.max_idle_ms {
                    break;
                }
            } else {
                self.waiting_since_ms = None;
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
            let _ = write!(
                self.source,
                "{}/{}/{}",
                self.topics[input], self.partition, p.record.offset
            );
            let outcome = self.engine.apply(
                Input {
                    payload: &p.record.payload,
                    source: &self.source,
                    key: p.record.key.as_deref(),
                    full_size: p.record.full_size,
                },
                out,
            );
            outcomes.push(Processed {
                outcome,
                occurred_at: p.occurred_at,
                received_ms: p.record.received_ms,
            });
            self.next_offsets[input] = Some(p.record.offset + 1);
            applied += 1;
        }
        applied
    }

    fn lowest_head(&self) -> Option<usize> {
        (0..INPUTS)
            .filter_map(|i| {
                let p = self.queues[i].front()?;
                // An unreadable timestamp sorts first: it is rejected without touching state.
                Some(((p.occurred_at, i, p.record.offset), i))
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

    /// Resumes from a restored position.
    pub fn resume_from(&mut self, next_offsets: [Option<i64>; INPUTS]) {
        self.next_offsets = next_offsets;
        self.written_offsets = next_offsets;
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
            };
            out.push((Arc::from(TASK_KEY), encode_meta(&meta)));
            self.written_offsets = self.next_offsets;
        }
    }
}

fn record_bytes(r: &Record) -> usize {
    r.payload.len() + r.key.as_ref().map_or(0, Vec::len)
}

/// The task record as a changelog value (JSON: readable with any Kafka tool).
pub fn encode_meta(meta: &TaskMeta) -> Vec<u8> {
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

/// `occurred_at` of a payload for the merge, without decoding the rest.
fn occurred_at(payload: &[u8]) -> Option<DateTime<Utc>> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        occurred_at: Option<&'a str>,
    }
    let head: Head<'_> = serde_json::from_slice(payload).ok()?;
    DateTime::parse_from_rfc3339(head.occurred_at?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;
