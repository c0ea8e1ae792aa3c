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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::client::{Client, ClientError, Position, Rebalance, Sink};
pub use super::observe::{Observer, Work, WorkerStats};
use super::restore::restore;
use super::task::{Processed, Task, INPUTS};
use super::RuntimeError;
use crate::config::{ClockSource, Config, ProcessingGuarantee};
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

/// The time a step runs at: a monotonic millisecond clock (commit interval, tick interval, the
/// merge's idle wait) and the wall clock (`[clock] mode = "wall"`).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Monotonic milliseconds since an arbitrary start.
    pub mono_ms: u64,
    /// Wall-clock time.
    pub utc: DateTime<Utc>,
}

/// The worker's clocks, injected: the real ones in production, a hand-moved one in tests.
pub trait Clock {
    /// The time now.
    fn now(&self) -> Now;
}

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
    settings: Arc<Settings>,
    mode: ClockMode,
    clock_source: ClockSource,
    eos: bool,
    max_task_idle_ms: u64,
    /// Fetching of an input partition stops above this many buffered bytes.
    max_buffered_bytes: usize,
    /// Input partitions (input, partition) paused because their buffer is full.
    paused: std::collections::BTreeSet<(usize, i32)>,
    commit_every_ms: u64,
    tick_every_ms: u64,
    inputs: [Arc<str>; INPUTS],
    tasks: BTreeMap<i32, Task>,
    in_txn: bool,
    uncommitted: Work,
    /// Base of this worker's commit-cycle ids; unique per process start.
    cycle_base: u64,
    cycles: u64,
    last_commit_ms: Option<u64>,
    last_tick_ms: Option<u64>,
    out: Vec<Output>,
    outcomes: Vec<Processed>,
    json: Vec<u8>,
    changelog: Vec<(i32, Arc<str>, Vec<u8>)>,
    notes: Vec<Note>,
    /// The owned partitions' portfolios summed, reused between reports.
    portfolio: Portfolio,
    last_portfolio_ms: Option<u64>,
    /// A commit happened since the last report.
    portfolio_pending: bool,
    late_log: LateLog,
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
            settings: Arc::new(config.engine_settings()),
            mode,
            clock_source: config.clock.mode,
            eos: k.processing_guarantee == ProcessingGuarantee::ExactlyOnce,
            max_task_idle_ms: k.max_task_idle_ms,
            max_buffered_bytes: k.max_buffered_bytes_per_partition,
            paused: Default::default(),
            commit_every_ms: k.commit_interval_ms,
            tick_every_ms: config.clock.tick_interval_ms,
            inputs: k.topics.inputs().map(Arc::from),
            tasks: BTreeMap::new(),
            in_txn: false,
            uncommitted: Work::default(),
            cycle_base,
            cycles: 0,
            last_commit_ms: None,
            last_tick_ms: None,
            out: Vec::new(),
            outcomes: Vec::new(),
            json: Vec::with_capacity(1024),
            changelog: Vec::new(),
            notes: Vec::new(),
            portfolio: Portfolio::default(),
            last_portfolio_ms: None,
            portfolio_pending: false,
            late_log: LateLog::default(),
        }
    }

    /// The client (tests drive the in-memory cluster through it).
    pub fn client_mut(&mut self) -> &mut C {
        &mut self.client
    }

    /// Records buffered in tasks and not yet applied.
    pub fn buffered(&self) -> usize {
        self.tasks.values().map(Task::buffered).sum()
    }

    /// Partition numbers owned now.
    pub fn owned(&self) -> Vec<i32> {
        self.tasks.keys().copied().collect()
    }

    /// One round: poll a batch (acting on rebalances first), apply what the merge allows, fire
    /// due timers in wall-clock mode, publish, and commit when the interval has passed.
    pub fn step(&mut self) -> Result<(), RuntimeError> {
        let mut wait = POLL_WAIT;
        let mut batch = 0;
        let mut received_ms = None;
        while batch < MAX_BATCH {
            let polled = match self.client.poll(wait) {
                Ok(p) => p,
                Err(ClientError::Fatal(e)) => return Err(RuntimeError::Kafka(e)),
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
            if let Some(task) = self.tasks.get_mut(&p.partition) {
                if task.wants(p.input, p.record.offset) {
                    task.push(p.input, p.record);
                    batch += 1;
                    if task.queued_bytes(p.input) >= self.max_buffered_bytes {
                        self.set_paused(p.input, p.partition, true);
                    }
                }
            }
        }
        let now = self.clock.now();
        let tick = self.clock_source == ClockSource::Wall
            && self
                .last_tick_ms
                .is_none_or(|t| now.mono_ms.saturating_sub(t) >= self.tick_every_ms);
        for (p, task) in self.tasks.iter_mut() {
            let (client, p) = (&mut self.client, *p);
            task.process(
                now.mono_ms,
                &mut |input| client.lag(input, p),
                &mut self.out,
                &mut self.outcomes,
            );
            if tick {
                task.advance_to(now.utc, &mut self.out);
            }
            task.take_notes(&mut self.notes);
        }
        for n in self.notes.drain(..) {
            self.uncommitted.note(n);
        }
        self.throttle_inputs();
        if tick {
            self.last_tick_ms = Some(now.mono_ms);
        }
        for p in self.outcomes.drain(..) {
            if let Some(by) = p.late_by {
                self.uncommitted.late(&self.inputs[p.input], by);
                self.late_log
                    .late(&self.inputs[p.input], &p, by, now.mono_ms);
            }
            self.uncommitted.processed(&p, now.utc);
        }
        if self.publish()? == Cycle::Aborted {
            self.rewind()?;
        }
        let due = self
            .last_commit_ms
            .is_none_or(|t| now.mono_ms.saturating_sub(t) >= self.commit_every_ms);
        if due {
            if self.cycle()? == Cycle::Aborted {
                self.rewind()?;
            }
            // Counted from the end of the cycle: a cycle that takes longer than the interval
            // must still leave time to process between cycles.
            self.last_commit_ms = Some(self.clock.now().mono_ms);
        }
        // Committed changes are reported at most once a second, and always eventually (an
        // idle worker commits nothing more that would trigger it).
        if self.portfolio_pending
            && self
                .last_portfolio_ms
                .is_none_or(|t| now.mono_ms.saturating_sub(t) >= PORTFOLIO_EVERY_MS)
        {
            self.report_portfolio();
            self.last_portfolio_ms = Some(now.mono_ms);
        }
        Ok(())
    }

    /// Graceful stop: commits what was processed. (The caller then leaves the group.)
    pub fn shutdown(&mut self) -> Result<(), RuntimeError> {
        // An aborted final transaction is redone by the partitions' next owner.
        if self.cycle()? == Cycle::Done {
            self.report_portfolio();
        }
        Ok(())
    }

    /// Sends the messages of this step; under exactly-once, inside the open transaction.
    fn publish(&mut self) -> Result<Cycle, RuntimeError> {
        if self.out.is_empty() {
            return Ok(Cycle::Done);
        }
        self.begin()?;
        let mut out = std::mem::take(&mut self.out);
        let mut result = Ok(Cycle::Done);
        for msg in out.drain(..) {
            let sink = match msg.kind() {
                OutputKind::Alert => Sink::Alerts,
                OutputKind::Escalation => Sink::Escalations,
                OutputKind::Rejected => Sink::Rejected,
            };
            self.json.clear();
            msg.write_json(&mut self.json);
            let key = msg.key().unwrap_or_default().as_bytes();
            if let Err(e) = self.client.send(sink, key, &self.json) {
                result = self.failed(e, "Publishing failed");
                break;
            }
            self.uncommitted.output(&msg, &self.json);
        }
        self.out = out;
        self.out.clear();
        result
    }

    /// A send failed: fatal, or (exactly-once) abort the transaction.
    fn failed(&mut self, e: ClientError, what: &str) -> Result<Cycle, RuntimeError> {
        match e {
            ClientError::Fatal(m) => Err(RuntimeError::Kafka(m)),
            e if self.eos => {
                tracing::warn!(error = %e, "{what}; aborting the transaction");
                self.abort()?;
                Ok(Cycle::Aborted)
            }
            e => Err(RuntimeError::Delivery(e.to_string())),
        }
    }

    fn begin(&mut self) -> Result<(), RuntimeError> {
        if self.eos && !self.in_txn {
            self.client.begin_transaction()?;
            self.in_txn = true;
        }
        Ok(())
    }

    /// The commit cycle (see the module docs).
    fn cycle(&mut self) -> Result<Cycle, RuntimeError> {
        let started = self.clock.now();
        if !self.eos {
            self.client
                .flush()
                .map_err(|e| RuntimeError::Delivery(e.to_string()))?;
        }
        self.cycles += 1;
        let cycle_id = self.cycle_base.wrapping_add(self.cycles);
        let mut records = Vec::new();
        self.changelog.clear();
        for (p, task) in self.tasks.iter_mut() {
            task.take_changelog(cycle_id, &mut records);
            self.changelog
                .extend(records.drain(..).map(|(k, v)| (*p, k, v)));
        }
        if self.eos && !self.in_txn && self.changelog.is_empty() {
            return Ok(Cycle::Done);
        }
        self.begin()?;
        let changelog = std::mem::take(&mut self.changelog);
        for (p, key, value) in &changelog {
            if let Err(e) = self.client.send_changelog(*p, key.as_bytes(), value) {
                self.changelog = changelog;
                return self.failed(e, "Writing the changelog failed");
            }
        }
        self.changelog = changelog;
        let positions: Vec<Position> = self
            .tasks
            .iter()
            .flat_map(|(p, t)| t.offsets().map(move |(i, o)| (i, *p, o)))
            .collect();
        if self.eos {
            let sent = retry(|| self.client.send_offsets_to_transaction(&positions))
                .and_then(|()| retry(|| self.client.commit_transaction()));
            if let Err(e) = sent {
                return self.failed(e, "Committing the transaction failed");
            }
            self.in_txn = false;
        } else {
            self.client
                .flush()
                .map_err(|e| RuntimeError::Delivery(e.to_string()))?;
            if !positions.is_empty() {
                if let Err(e) = self.client.commit_offsets(&positions) {
                    // The changelog already records the position; a failed commit (e.g. during
                    // a rebalance) costs at most some re-reading by the next owner.
                    tracing::warn!(error = %e, "Offset commit failed; the changelog keeps the position");
                }
            }
        }
        let done = self.clock.now().mono_ms;
        self.uncommitted.commit_at(done);
        self.observer
            .committed(&self.uncommitted, done.saturating_sub(started.mono_ms));
        self.uncommitted = Work::default();
        for (input, p, lag) in self.client.lag_behind(&positions) {
            self.observer.lag(&self.inputs[input], p, lag);
        }
        self.portfolio_pending = true;
        Ok(Cycle::Done)
    }

    /// Tells the observer the owned partitions' book, summed. Called after commits (so under
    /// exactly-once it is the committed state) and when ownership changes.
    fn report_portfolio(&mut self) {
        self.portfolio_pending = false;
        self.portfolio.clear();
        for task in self.tasks.values() {
            self.portfolio.merge(task.engine().portfolio());
        }
        self.observer.portfolio(&self.portfolio);
    }

    /// Aborts the open transaction and forgets the work it held.
    fn abort(&mut self) -> Result<(), RuntimeError> {
        retry(|| self.client.abort_transaction()).map_err(|e| match e {
            ClientError::Fatal(m) => RuntimeError::Kafka(m),
            e => RuntimeError::Kafka(format!("cannot abort the transaction: {e}")),
        })?;
        self.in_txn = false;
        self.uncommitted = Work::default();
        self.out.clear();
        self.observer.aborted();
        Ok(())
    }

    /// After an abort: every owned task goes back to its last committed state and position.
    fn rewind(&mut self) -> Result<(), RuntimeError> {
        let owned = self.owned();
        self.tasks.clear();
        for p in owned {
            let task = self.restore_task(p)?;
            self.tasks.insert(p, task);
        }
        Ok(())
    }

    /// Acts on the rebalances queued during the last poll: revoked partitions commit and drop
    /// their tasks; assigned ones are restored from the changelog and resume where their state
    /// stands.
    fn on_rebalance(&mut self) -> Result<(), RuntimeError> {
        for event in self.client.take_rebalances() {
            match event {
                Rebalance::Revoked(ps) => {
                    // Under at-least-once this is best effort: the next owner may re-read what
                    // it would have covered. Under exactly-once a commit refused because the
                    // group moved on aborts, and the next owner redoes the work.
                    let ended = self.cycle()?;
                    for p in ps {
                        self.tasks.remove(&p);
                    }
                    if ended == Cycle::Aborted {
                        self.rewind()?;
                    }
                    self.observer.assignment(&self.owned(), false);
                    self.report_portfolio();
                }
                Rebalance::Assigned(ps) => {
                    for p in ps {
                        if !self.tasks.contains_key(&p) {
                            let task = self.restore_task(p)?;
                            self.tasks.insert(p, task);
                        }
                    }
                    self.observer.assignment(&self.owned(), true);
                    self.report_portfolio();
                }
            }
        }
        Ok(())
    }

    fn restore_task(&mut self, p: i32) -> Result<Task, RuntimeError> {
        let started = self.clock.now();
        let (mut engine, meta, restored) = restore(&mut self.client, &self.settings, self.mode, p)?;
        let start_clock = match self.clock_source {
            ClockSource::Wall => Some(started.utc),
            ClockSource::Event => meta.clock,
        };
        engine.finish_restore(start_clock);
        // Resume exactly where the restored state stands, whatever offsets the group holds:
        // state and input position must agree.
        for (input, next) in meta.next_offsets.iter().enumerate() {
            retry(|| self.client.seek(input, p, *next))?;
            // A fresh task holds nothing: fetch again what was paused for its predecessor
            // (kept paused across a revocation, as the client may remember it).
            if self.paused.remove(&(input, p)) {
                retry(|| self.client.pause(input, p, false))?;
            }
        }
        let ms = self.clock.now().mono_ms.saturating_sub(started.mono_ms);
        tracing::info!(
            partition = p,
            borrowers = restored.borrowers,
            records = restored.records,
            discarded = restored.discarded,
            ms,
            "Restored task from the changelog"
        );
        self.observer.restored(p, &restored, ms);
        let mut task = Task::new(p, self.inputs.clone(), engine, self.max_task_idle_ms);
        task.resume_from(meta.next_offsets);
        Ok(task)
    }

    /// Pauses fetching an input partition whose buffer is full and resumes it once half of it
    /// is applied: while the merge waits for a slow input, fast ones cannot fill memory.
    fn throttle_inputs(&mut self) {
        let max = self.max_buffered_bytes;
        let drained: Vec<(usize, i32)> = self
            .paused
            .iter()
            .copied()
            .filter(|(input, p)| {
                self.tasks
                    .get(p)
                    .is_some_and(|t| t.queued_bytes(*input) <= max / 2)
            })
            .collect();
        for (input, p) in drained {
            self.set_paused(input, p, false);
        }
    }

    /// Pauses or resumes one input partition (once: the set remembers which are paused).
    fn set_paused(&mut self, input: usize, partition: i32, pause: bool) {
        if self.paused.contains(&(input, partition)) == pause {
            return;
        }
        match self.client.pause(input, partition, pause) {
            Ok(()) if pause => {
                self.paused.insert((input, partition));
            }
            Ok(()) => {
                self.paused.remove(&(input, partition));
            }
            Err(e) => tracing::warn!(
                error = %e,
                input,
                partition,
                pause,
                "Cannot pause or resume an input partition"
            ),
        }
    }
}

/// The warn line for late events, at most one per [`LATE_LOG_EVERY_MS`]: a badly skewed
/// producer must not flood the log, and the counter carries the full count.
#[derive(Default)]
struct LateLog {
    last_ms: Option<u64>,
    /// Late events since the last line.
    unlogged: u64,
}

/// At most this often a late event is logged.
const LATE_LOG_EVERY_MS: u64 = 10_000;

impl LateLog {
    fn late(&mut self, topic: &str, p: &Processed, by: chrono::Duration, now_ms: u64) {
        self.unlogged += 1;
        if self
            .last_ms
            .is_some_and(|t| now_ms.saturating_sub(t) < LATE_LOG_EVERY_MS)
        {
            return;
        }
        tracing::warn!(
            topic,
            partition = p.partition,
            offset = p.offset,
            lateness_s = by.num_milliseconds() as f64 / 1000.0,
            late_events = self.unlogged,
            "Late event: applied after a newer one of its partition (order degraded; see postloan_late_events_total)"
        );
        self.last_ms = Some(now_ms);
        self.unlogged = 0;
    }
}

/// Repeats a call while it fails retriably, at most [`TXN_ATTEMPTS`] times; then the last
/// error stands (a retriable transactional error that persists aborts the transaction).
fn retry(mut call: impl FnMut() -> Result<(), ClientError>) -> Result<(), ClientError> {
    let mut attempt = 1;
    loop {
        match call() {
            Err(ClientError::Retriable(e)) if attempt < TXN_ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "Retrying");
                attempt += 1;
            }
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests;
