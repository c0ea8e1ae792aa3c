//! `notify`'s loop, generic over its I/O: a [`Feed`] of records (Kafka), a [`Deliver`]
//! (Alertmanager), a [`Clock`] and a [`NotifyObserver`] (metrics). Tests drive it with fakes.
//!
//! One step:
//! 1. Take in rebalances. An assigned partition's book is restored from the state topic and
//!    every open notice is sent again. A revoked partition's book is dropped, with what its
//!    uncommitted records did (their next owner reads them again).
//! 2. Read up to `max_batch_records` records into the books.
//! 3. Deliver what changed, and every open notice when a resend is due, to **every**
//!    Alertmanager. While one is unreachable or answers 5xx, the consumer is paused and the
//!    delivery retried with capped exponential backoff. A 4xx is logged, counted and not
//!    retried (the same body would be refused again).
//! 4. Write the changed borrowers to the state topic, flush, then commit the batch's offsets.
//!
//! So a record's offset is committed only after every Alertmanager accepted what it changed
//! and the state that includes it is on the state topic: a crash anywhere repeats work (an
//! Alertmanager deduplicates a notice by its labels) and loses none.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;

use super::book::{Book, BorrowerRecord, Escalation, Told};
pub use super::error::NotifyError;
use super::payload;
use crate::config::NotifyConfig;
pub use crate::stream::{ClientError, Clock, Rebalance};
use postloan_engine::output::AlertStatus;
use postloan_engine::wire;

/// The topic a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// `risk.alerts`
    Alerts,
    /// `risk.escalations`
    Escalations,
}

impl Topic {
    /// Its name in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Alerts => "alerts",
            Topic::Escalations => "escalations",
        }
    }
}

/// One record of either topic (the vocabulary's consumed record; a tombstone, which the
/// monitor never writes, has an empty payload).
pub type Record = crate::stream::Polled<Topic>;

/// A state topic record as read back: the borrower and its record (`None`: deleted).
pub type StateEntry = (String, Option<Vec<u8>>);

/// The records and the state topic.
pub trait Feed {
    /// The next record, waiting at most `wait` for one.
    fn poll(&mut self, wait: StdDuration) -> Result<Option<Record>, NotifyError>;
    /// Rebalances since the last call, in order.
    fn rebalances(&mut self) -> Vec<Rebalance>;
    /// Stops fetching from every owned partition (the group membership stays alive while
    /// `poll` is called).
    fn pause(&mut self) -> Result<(), NotifyError>;
    /// Fetches again.
    fn resume(&mut self) -> Result<(), NotifyError>;
    /// The state topic's partition, from its start: (key, value), a `None` value deleting.
    fn restore(&mut self, partition: i32) -> Result<Vec<StateEntry>, NotifyError>;
    /// Writes one borrower's record (`None`: a tombstone) to the state topic's partition.
    fn save(&mut self, partition: i32, key: &str, value: Option<&[u8]>) -> Result<(), NotifyError>;
    /// Waits until every saved record is acknowledged.
    fn flush(&mut self) -> Result<(), NotifyError>;
    /// Commits the next offsets to read.
    fn commit(&mut self, offsets: &[(Topic, i32, i64)]) -> Result<(), NotifyError>;
}

/// Why a delivery to one Alertmanager failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Accepted (2xx).
    Accepted,
    /// Worth retrying: unreachable, timed out, or a 5xx. The reason is a metrics label.
    Retry(&'static str),
    /// Refused (4xx): retrying the same body would be refused again.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// What Alertmanager said (truncated).
        body: String,
    },
}

/// The Alertmanagers.
pub trait Deliver {
    /// How many (each gets every notice).
    fn targets(&self) -> usize;
    /// Posts one body to one of them.
    fn post(&mut self, target: usize, body: &[u8]) -> Posted;
}

/// What `notify` reports as it goes (the metrics).
pub trait NotifyObserver: Send + Sync {
    /// A notice was delivered firing for the first time.
    fn notice_sent(&self, level: u8);
    /// A notice's end was delivered.
    fn notice_ended(&self, status: AlertStatus);
    /// A delivery attempt to one Alertmanager failed (`rejected` for a 4xx).
    fn delivery_failed(&self, reason: &str);
    /// Every Alertmanager accepted a delivery at `at`.
    fn delivered(&self, at: DateTime<Utc>);
    /// Notices waiting to be delivered, and notices open.
    fn queue(&self, pending: usize, open: usize);
    /// A record that is not a message of its topic was skipped.
    fn bad_record(&self, topic: Topic);
    /// Whether every owned partition is restored.
    fn ready(&self, ready: bool);
}

/// The loop's settings, from `[notify]` (named apart from the engine's `Settings`).
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Resend interval, ms.
    pub resend_ms: u64,
    /// Firing lease.
    pub lease: Duration,
    /// First backoff, ms.
    pub backoff_ms: u64,
    /// Longest backoff, ms.
    pub max_backoff_ms: u64,
    /// Notices per request.
    pub per_request: usize,
    /// Records per step.
    pub batch: usize,
    /// How long resolved alerts are remembered.
    pub grace: Duration,
    /// The case-tool link template.
    pub link_template: String,
}

impl NotifySettings {
    /// From `[notify]`.
    pub fn new(c: &NotifyConfig) -> Self {
        NotifySettings {
            resend_ms: c.resend_interval_ms,
            lease: Duration::milliseconds(i64::try_from(c.firing_lease_ms).unwrap_or(i64::MAX)),
            backoff_ms: c.retry_initial_backoff_ms,
            max_backoff_ms: c.retry_max_backoff_ms,
            per_request: c.max_alerts_per_request.max(1),
            batch: c.max_batch_records.max(1),
            grace: Duration::hours(i64::from(c.forget_resolved_after_hours)),
            link_template: c.link_template.clone(),
        }
    }
}

/// One notice to deliver: where it lives and what to say.
#[derive(Debug, Clone)]
struct Item {
    partition: i32,
    borrower: String,
    alert: String,
    level: u8,
    state: Told,
    /// A state change (else a refresh of an open notice).
    change: bool,
}

/// The loop.
pub struct Worker<F, D> {
    feed: F,
    deliver: D,
    clock: Box<dyn Clock + Send>,
    observer: std::sync::Arc<dyn NotifyObserver>,
    settings: NotifySettings,
    cancel: CancellationToken,
    books: BTreeMap<i32, Book>,
    /// Next offset to commit, per (topic, partition), for the records taken in.
    offsets: BTreeMap<(Topic, i32), i64>,
    /// Records polled while paused, taken in first next step.
    stash: VecDeque<Record>,
    next_resend_ms: u64,
}

mod deliver;
mod state;

impl<F: Feed, D: Deliver> Worker<F, D> {
    /// A worker that has not read anything yet.
    pub fn new(
        feed: F,
        deliver: D,
        clock: Box<dyn Clock + Send>,
        observer: std::sync::Arc<dyn NotifyObserver>,
        settings: NotifySettings,
        cancel: CancellationToken,
    ) -> Self {
        observer.ready(false);
        Worker {
            feed,
            deliver,
            clock,
            observer,
            settings,
            cancel,
            books: BTreeMap::new(),
            offsets: BTreeMap::new(),
            stash: VecDeque::new(),
            next_resend_ms: 0,
        }
    }

    /// Runs steps until cancelled or a fatal error.
    pub fn run(&mut self) -> Result<(), NotifyError> {
        while !self.cancel.is_cancelled() {
            self.step()?;
        }
        Ok(())
    }

    /// One step (see the module doc).
    pub fn step(&mut self) -> Result<(), NotifyError> {
        self.rebalance()?;
        let mut taken = 0;
        while taken < self.settings.batch {
            let record = match self.stash.pop_front() {
                Some(r) => Some(r),
                None => {
                    let wait = if taken == 0 {
                        let to_resend =
                            self.next_resend_ms.saturating_sub(self.clock.now().mono_ms);
                        StdDuration::from_millis(to_resend.clamp(1, 100))
                    } else {
                        StdDuration::ZERO
                    };
                    self.feed.poll(wait)?
                }
            };
            let Some(record) = record else { break };
            self.take(record);
            taken += 1;
            self.rebalance()?;
        }
        let resend = self.clock.now().mono_ms >= self.next_resend_ms;
        if !self.deliver(resend)? {
            // Cancelled before every Alertmanager accepted: commit nothing.
            return Ok(());
        }
        if resend {
            self.next_resend_ms = self.clock.now().mono_ms + self.settings.resend_ms;
        }
        for book in self.books.values_mut() {
            book.prune(self.settings.grace);
        }
        self.save()?;
        self.commit()?;
        self.report_queue();
        Ok(())
    }

    fn take(&mut self, r: Record) {
        let Some(book) = self.books.get_mut(&r.partition) else {
            // Not ours (any more): its next owner reads it.
            return;
        };
        let (topic, offset, payload) = (r.input, r.record.offset, &r.record.payload);
        if payload.is_empty() {
            // A tombstone: the monitor never writes one.
            self.observer.bad_record(topic);
            return;
        }
        let read = match topic {
            Topic::Alerts => wire::alert(payload).map(|m| book.alert(m)),
            Topic::Escalations => Escalation::from_json(payload).map(|e| book.escalation(e)),
        };
        if let Err(error) = read {
            let error = anyhow::Error::from(error);
            tracing::warn!(
                topic = topic.as_str(),
                partition = r.partition,
                offset,
                error = format!("{error:#}"),
                "Skipping a record that is not a message of its topic"
            );
            self.observer.bad_record(topic);
        }
        self.offsets.insert((topic, r.partition), offset + 1);
    }

    fn report_queue(&self) {
        let pending = self.books.values().map(|b| b.pending().len()).sum();
        let open = self.books.values().map(|b| b.open().count()).sum();
        self.observer.queue(pending, open);
    }

    /// The books, by partition (tests read them).
    pub fn books(&self) -> &BTreeMap<i32, Book> {
        &self.books
    }

    /// The feed (tests inspect it).
    pub fn feed_mut(&mut self) -> &mut F {
        &mut self.feed
    }

    /// The Alertmanagers (tests inspect them).
    pub fn deliver_mut(&mut self) -> &mut D {
        &mut self.deliver
    }

    /// The feed and the Alertmanagers back (a test's restart hands them to the next worker).
    pub fn into_parts(self) -> (F, D) {
        (self.feed, self.deliver)
    }
}

/// A record of the state topic, as written.
pub fn encode(rec: &BorrowerRecord) -> Vec<u8> {
    // Maps of strings, numbers and instants always serialise.
    serde_json::to_vec(rec).unwrap_or_default()
}

#[cfg(test)]
mod tests;
