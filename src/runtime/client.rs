//! The worker's view of Kafka: a consumer-group member that is also a (transactional) producer.
//!
//! A trait so that the worker's control flow — commit, abort, rewind, rebalance — is tested
//! against an in-memory implementation that honours transactions and injects faults, while
//! `crate::kafka::client` implements it over rdkafka for real brokers.
//!
//! The words it shares with `notify` (a record, a rebalance, a failed call) are
//! [`crate::stream`]'s; it imports nothing else of the runtime but the restore's errors
//! ([`super::error`]), so the task and the restore can depend on it without a cycle.

use std::time::Duration;

pub use crate::stream::{ClientError, Rebalance};

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

/// One record consumed from an input topic, with its input topic index (lifecycle,
/// repayments, income, valuations, acks) and partition.
pub type Polled = crate::stream::Polled<usize>;

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
    dyn FnMut(i64, &[u8], &[u8]) -> Result<(), super::error::RestoreError> + 'a;

/// An input position to commit: (input topic index, partition, next offset to read).
pub type Position = (usize, i32, i64);

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
