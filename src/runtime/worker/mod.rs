//! The consumer-group worker: records in, tasks in the middle, messages out. Generic over the
//! [`Client`] (rdkafka in production, an in-memory cluster in tests) and driven by an injected
//! clock ([`Now`]), so that every path — commit, abort, rewind, rebalance — is testable.
//!
//! At-least-once cycle, every `commit_interval_ms`: flush the published messages, write the
//! changed borrowers and the task record to the changelog and flush, then commit the input
//! offsets. The changelog is never ahead of what was published, so a crash at any instant can
//! republish messages (each with its deterministic `message_id`) but never lose one.
//!
//! Exactly-once cycle (EOS v2, KIP-447): outputs are sent inside an open transaction as they
//! are produced; every `commit_interval_ms` the changed borrowers and the task record join it,
//! then the input positions (`send_offsets_to_transaction`, fenced by the group generation),
//! then it commits. Retriable failures are retried; an abortable one aborts the transaction
//! and rewinds every owned task — state and input positions — to what the changelog's committed
//! transactions hold, so the aborted work is redone and nothing is published twice. A fenced
//! producer (a newer instance with the same transactional id) is fatal.

mod assignment;
mod commit;
mod late;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::client::{Client, Position, Sink};
pub use super::observe::{Observer, Work, WorkerStats};
use super::restore::restore;
use super::task::{Processed, Task, INPUTS};
use super::RuntimeError;
use crate::config::{ClockSource, Config, ProcessingGuarantee};
use crate::stream::{ClientError, Rebalance};
pub use crate::stream::{Clock, Now};
use commit::retry;
use late::LateLog;
use postloan_engine::output::{Output, OutputKind};
use postloan_engine::portfolio::{Note, Portfolio};
use postloan_engine::{ClockMode, Settings};

/// Records taken from the client per step before processing them.
const MAX_BATCH: usize = 2000;
/// How long a step waits for the first record.
const POLL_WAIT: Duration = Duration::from_millis(50);
/// Attempts of a retriable transactional call before the transaction is aborted instead.
const TXN_ATTEMPTS: u32 = 10;
/// At most this often the portfolio is summed for the observer: it costs the size of the
/// aggregates (buckets × branches × dealers), and dashboards scrape every few seconds.
const PORTFOLIO_EVERY_MS: u64 = 1000;

/// How a commit cycle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cycle {
    /// Committed (or nothing to commit).
    Done,
    /// The transaction was aborted: owned tasks must be rewound.
    Aborted,
}

/// One member of the consumer group.
pub struct Worker<C: Client> {
    client: C,
    clock: Box<dyn Clock>,
    observer: Arc<dyn Observer>,
    policy: Policy,
    owned: Owned,
    commits: Commits,
    report: Report,
    /// When the wall clock last advanced the owned tasks (`[clock] mode = "wall"`).
    last_tick_ms: Option<u64>,
    buf: Buffers,
    late_log: LateLog,
}

/// What the worker was configured with.
struct Policy {
    settings: Arc<Settings>,
    mode: ClockMode,
    clock_source: ClockSource,
    eos: bool,
    max_task_idle_ms: u64,
    /// Fetching of an input partition stops above this many buffered bytes.
    max_buffered_bytes: usize,
    commit_every_ms: u64,
    tick_every_ms: u64,
    inputs: [Arc<str>; INPUTS],
}

/// The owned partitions: one task each, and the inputs paused for back-pressure.
#[derive(Default)]
struct Owned {
    tasks: BTreeMap<i32, Task>,
    /// Input partitions (input, partition) paused because their buffer is full.
    paused: BTreeSet<(usize, i32)>,
}

/// The commit cycle's state: the open transaction (exactly-once) and the work since the last
/// commit.
struct Commits {
    in_txn: bool,
    uncommitted: Work,
    /// Base of this worker's commit-cycle ids; unique per process start.
    cycle_base: u64,
    cycles: u64,
    last_ms: Option<u64>,
}

/// The portfolio as last reported to the observer.
#[derive(Default)]
struct Report {
    /// The owned partitions' portfolios summed, reused between reports.
    portfolio: Portfolio,
    last_ms: Option<u64>,
    /// A commit happened since the last report.
    pending: bool,
}

/// Buffers reused between steps.
#[derive(Default)]
struct Buffers {
    out: Vec<Output>,
    outcomes: Vec<Processed>,
    json: Vec<u8>,
    changelog: Vec<(i32, Arc<str>, Vec<u8>)>,
    notes: Vec<Note>,
}

impl<C: Client> Worker<C> {
    /// A worker over a connected, subscribed client. `cycle_base` must differ between process
    /// starts (commit-cycle ids must never repeat in a changelog).
    pub fn new(
        config: &Config,
        client: C,
        clock: Box<dyn Clock>,
        observer: Arc<dyn Observer>,
        cycle_base: u64,
    ) -> Self {
        let mode = match config.clock.mode {
            ClockSource::Event => ClockMode::Event,
            ClockSource::Wall => ClockMode::External {
                max_future_skew: chrono::Duration::milliseconds(
                    i64::try_from(config.clock.max_future_skew_ms).unwrap_or(i64::MAX),
                ),
            },
        };
        let k = &config.kafka;
        Worker {
            client,
            clock,
            observer,
            policy: Policy {
                settings: Arc::new(config.engine_settings()),
                mode,
                clock_source: config.clock.mode,
                eos: k.processing_guarantee == ProcessingGuarantee::ExactlyOnce,
                max_task_idle_ms: k.max_task_idle_ms,
                max_buffered_bytes: k.max_buffered_bytes_per_partition,
                commit_every_ms: k.commit_interval_ms,
                tick_every_ms: config.clock.tick_interval_ms,
                inputs: k.topics.inputs().map(Arc::from),
            },
            owned: Owned::default(),
            commits: Commits {
                in_txn: false,
                uncommitted: Work::default(),
                cycle_base,
                cycles: 0,
                last_ms: None,
            },
            report: Report::default(),
            last_tick_ms: None,
            buf: Buffers {
                json: Vec::with_capacity(1024),
                ..Buffers::default()
            },
            late_log: LateLog::default(),
        }
    }

    /// The client (tests drive the in-memory cluster through it).
    pub fn client_mut(&mut self) -> &mut C {
        &mut self.client
    }

    /// Records buffered in tasks and not yet applied.
    pub fn buffered(&self) -> usize {
        self.owned.tasks.values().map(Task::buffered).sum()
    }

    /// Partition numbers owned now.
    pub fn owned(&self) -> Vec<i32> {
        self.owned.tasks.keys().copied().collect()
    }

    /// One round, in phases: poll a batch (acting on rebalances first), apply what the merge
    /// allows and fire due timers, account for what was applied, publish, commit when the
    /// interval has passed, report the portfolio when it is due.
    pub fn step(&mut self) -> Result<(), RuntimeError> {
        self.poll_batch()?;
        let now = self.clock.now();
        self.process(now);
        self.account(now);
        if self.publish()? == Cycle::Aborted {
            self.rewind()?;
        }
        self.commit_if_due(now)?;
        self.report_if_due(now);
        Ok(())
    }

    /// Polls up to [`MAX_BATCH`] records into their tasks, pausing inputs whose buffer fills.
    fn poll_batch(&mut self) -> Result<(), RuntimeError> {
        let mut wait = POLL_WAIT;
        let mut batch = 0;
        let mut received_ms = None;
        while batch < MAX_BATCH {
            let polled = match self.client.poll(wait) {
                Ok(p) => p,
                Err(e @ ClientError::Fatal(_)) => return Err(RuntimeError::Kafka(e)),
                Err(e) => {
                    tracing::warn!(error = %e, "Consumer error; retrying");
                    None
                }
            };
            wait = Duration::ZERO;
            // A rebalance is acted on before the record that follows it, so a task exists —
            // restored, at its position — before any of its records is buffered.
            self.on_rebalance()?;
            let Some(mut p) = polled else { break };
            // One clock read per batch: the rest of a batch arrives within the same instant
            // for any latency worth measuring, and the hot path stays free of clock calls.
            let at = match received_ms {
                Some(at) => at,
                None => *received_ms.insert(self.clock.now().mono_ms),
            };
            p.record.received_ms = at;
            // A record of a partition no longer owned is its new owner's; one the task has
            // applied or buffered already is dropped.
            if let Some(task) = self.owned.tasks.get_mut(&p.partition) {
                if task.wants(p.input, p.record.offset) {
                    task.push(p.input, p.record);
                    batch += 1;
                    // A suspected clock jump waits for the records after it: its partition
                    // keeps fetching (at most `jump::MAX_HELD_AFTER` records past the cap).
                    if task.queued_bytes(p.input) >= self.policy.max_buffered_bytes
                        && !task.awaits_followers(p.input)
                    {
                        self.set_paused(p.input, p.partition, true);
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies what each task's merge allows, fires due timers when the wall clock ticks, and
    /// resumes inputs whose buffers have drained.
    fn process(&mut self, now: Now) {
        let tick = self.policy.clock_source == ClockSource::Wall
            && self
                .last_tick_ms
                .is_none_or(|t| now.mono_ms.saturating_sub(t) >= self.policy.tick_every_ms);
        for (p, task) in self.owned.tasks.iter_mut() {
            let (client, p) = (&mut self.client, *p);
            if task.take_catch_up() {
                // Timers that fell due while the partition had no owner, before any record.
                task.advance_to(now.utc, &mut self.buf.out);
            }
            task.process(
                now.mono_ms,
                &mut |input| client.lag(input, p),
                &mut self.buf.out,
                &mut self.buf.outcomes,
            );
            if tick {
                task.advance_to(now.utc, &mut self.buf.out);
            }
            task.take_notes(&mut self.buf.notes);
        }
        self.throttle_inputs();
        if tick {
            self.last_tick_ms = Some(now.mono_ms);
        }
    }

    /// Adds what was applied (outcomes, notes, late events) to the uncommitted work.
    fn account(&mut self, now: Now) {
        for n in self.buf.notes.drain(..) {
            self.commits.uncommitted.note(n);
        }
        for p in self.buf.outcomes.drain(..) {
            let topic = &self.policy.inputs[p.input];
            if let Some(by) = p.late_by {
                self.commits.uncommitted.late(topic, by);
                self.late_log.late(topic, &p, by, now.mono_ms);
            }
            self.commits.uncommitted.processed(&p, now.utc);
        }
    }

    /// Runs the commit cycle when `commit_interval_ms` has passed since the last one ended.
    fn commit_if_due(&mut self, now: Now) -> Result<(), RuntimeError> {
        let due = self
            .commits
            .last_ms
            .is_none_or(|t| now.mono_ms.saturating_sub(t) >= self.policy.commit_every_ms);
        if due {
            if self.cycle()? == Cycle::Aborted {
                self.rewind()?;
            }
            // Counted from the end of the cycle: a cycle that takes longer than the interval
            // must still leave time to process between cycles.
            self.commits.last_ms = Some(self.clock.now().mono_ms);
        }
        Ok(())
    }

    /// Committed changes are reported at most once a second, and always eventually (an idle
    /// worker commits nothing more that would trigger it).
    fn report_if_due(&mut self, now: Now) {
        if self.report.pending
            && self
                .report
                .last_ms
                .is_none_or(|t| now.mono_ms.saturating_sub(t) >= PORTFOLIO_EVERY_MS)
        {
            self.report_portfolio();
            self.report.last_ms = Some(now.mono_ms);
        }
    }
}

#[cfg(test)]
mod tests;
