//! The worker's view of Kafka: a consumer-group member that is also a (transactional) producer.
//!
//! A trait so that the worker's control flow — commit, abort, rewind, rebalance — is tested
//! against an in-memory implementation that honours transactions and injects faults, while
//! `crate::kafka::client` implements it over rdkafka for real brokers.

use std::sync::Arc;
use std::time::Duration;

use super::task::Record;

/// Where an output message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sink {
    /// `risk.alerts`.
    Alerts,
    /// `risk.escalations`.
    Escalations,
    /// `risk.rejected`.
    Rejected,
}

/// A change of the partitions this member owns, as the group decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebalance {
    /// These partition numbers (of every input topic) are now this member's.
    Assigned(Vec<i32>),
    /// These partition numbers are no longer this member's.
    Revoked(Vec<i32>),
}

/// One record consumed from an input topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    /// Input topic index (lifecycle, repayments, income, valuations, acks).
    pub input: usize,
    /// Partition number.
    pub partition: i32,
    /// The record.
    pub record: Record,
}

/// What the consumer knows of an input partition's unread records, from what it already has
/// (fetch responses, statistics): no broker round trip per question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lag {
    /// Nothing known yet (no fetch response since the partition was assigned): it may hold
    /// anything, so the merge waits for it.
    Unknown,
    /// Records are known to be on the broker past the last one polled: the merge waits for
    /// them, however long that takes.
    Behind,
    /// Everything the broker held when last seen has been polled: more may still be written,
    /// so the merge waits at most `max_task_idle_ms` for it.
    CaughtUp,
}

/// Receives changelog records during a restore: (offset, key, value); an error stops the read.
pub type ChangelogSink<'a> =
    dyn FnMut(i64, &[u8], &[u8]) -> Result<(), super::restore::RestoreError> + 'a;

/// An input position to commit: (input topic index, partition, next offset to read).
pub type Position = (usize, i32, i64);

/// The error underneath a client failure (rdkafka's, or a test double's), kept whole for the
/// error chain. Shared, so that a fault can be queued and handed out more than once in tests.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A failed client call, sorted by what the worker does about it. It shows its cause's message
/// with what it means for the worker, and hands on the cause's own source.
#[derive(Debug, Clone)]
pub enum ClientError {
    /// Transient (a broker bounce, a timeout): the same call may be repeated.
    Retriable(Cause),
    /// The open transaction cannot commit: abort it, then rewind state and inputs to what the
    /// last committed transaction holds.
    Abortable(Cause),
    /// Nothing this process can fix: fenced by a newer instance, not authorised, a missing
    /// topic, a fatal client error.
    Fatal(Cause),
}

impl ClientError {
    /// A retriable failure described by text (test doubles, conditions found by the client).
    pub fn retriable(what: impl Into<String>) -> Self {
        ClientError::Retriable(cause(what))
    }

    /// An abortable failure described by text.
    pub fn abortable(what: impl Into<String>) -> Self {
        ClientError::Abortable(cause(what))
    }

    /// A fatal failure described by text.
    pub fn fatal(what: impl Into<String>) -> Self {
        ClientError::Fatal(cause(what))
    }

    fn cause(&self) -> &Cause {
        match self {
            ClientError::Retriable(c) | ClientError::Abortable(c) | ClientError::Fatal(c) => c,
        }
    }
}

fn cause(what: impl Into<String>) -> Cause {
    let boxed: Box<dyn std::error::Error + Send + Sync> = what.into().into();
    Arc::from(boxed)
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Retriable(c) => write!(f, "{c} (retriable)"),
            ClientError::Abortable(c) => write!(f, "{c} (the transaction must be aborted)"),
            ClientError::Fatal(c) => write!(f, "{c}"),
        }
    }
}

impl std::error::Error for ClientError {
    // The cause's message is already this error's; its source comes next in the chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause().source()
    }
}

/// What the worker needs from Kafka.
pub trait Client {
    /// The next consumed record, waiting at most `wait`; `None` when nothing arrived.
    /// Rebalances decided meanwhile are queued for [`Client::take_rebalances`].
    fn poll(&mut self, wait: Duration) -> Result<Option<Polled>, ClientError>;

    /// Rebalances since the last call, oldest first.
    fn take_rebalances(&mut self) -> Vec<Rebalance>;

    /// What is known of an owned input partition beyond the last record polled from it: the
    /// merge never applies a record while another input may hold older unread ones.
    fn lag(&mut self, input: usize, partition: i32) -> Lag;

    /// Stops (`paused`) or restarts fetching an owned input partition; what was fetched before
    /// a pause may still be polled.
    fn pause(&mut self, input: usize, partition: i32, paused: bool) -> Result<(), ClientError>;

    /// Positions an owned input partition so that the next record polled is at `offset`;
    /// `None`: at the group's committed offset, or the beginning if there is none.
    fn seek(
        &mut self,
        input: usize,
        partition: i32,
        offset: Option<i64>,
    ) -> Result<(), ClientError>;

    /// Reads changelog partition `partition` from its beginning to its end — committed
    /// transactions only, under exactly-once — calling `each(offset, key, value)` in order.
    /// Stops at the first error `each` returns.
    fn read_changelog(
        &mut self,
        partition: i32,
        each: &mut ChangelogSink<'_>,
    ) -> Result<(), super::RuntimeError>;

    /// Publishes an output message, keyed (the key picks the partition).
    fn send(&mut self, sink: Sink, key: &[u8], payload: &[u8]) -> Result<(), ClientError>;

    /// Writes a changelog record to changelog partition `partition`.
    fn send_changelog(
        &mut self,
        partition: i32,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), ClientError>;

    /// At-least-once: waits until every message sent so far is acknowledged.
    fn flush(&mut self) -> Result<(), ClientError>;

    /// At-least-once: commits input positions to the group (best effort: the changelog keeps
    /// the position that matters).
    fn commit_offsets(&mut self, positions: &[Position]) -> Result<(), ClientError>;

    /// Exactly-once: opens a transaction; every send until the commit or abort belongs to it.
    fn begin_transaction(&mut self) -> Result<(), ClientError>;

    /// Exactly-once: adds input positions to the open transaction, fenced by the member's
    /// group generation (EOS v2).
    fn send_offsets_to_transaction(&mut self, positions: &[Position]) -> Result<(), ClientError>;

    /// Exactly-once: commits the open transaction.
    fn commit_transaction(&mut self) -> Result<(), ClientError>;

    /// Exactly-once: aborts the open transaction; nothing sent in it becomes visible.
    fn abort_transaction(&mut self) -> Result<(), ClientError>;

    /// How far each of `positions` is behind its partition's end, as last seen (no broker
    /// round trip): (input, partition, records behind).
    fn lag_behind(&mut self, positions: &[Position]) -> Vec<Position>;
}
