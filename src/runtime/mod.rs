//! The streaming runtime around the engine (Kafka Streams' model): one [`task::Task`] per
//! input partition number, owning that partition of every input topic and of the changelog.
//!
//! - [`task`]: merge order, offsets and changelog records (sans-I/O).
//! - [`restore`]: rebuilding a task from its changelog partition (sans-I/O).
//! - [`client`]: what the worker needs from Kafka, as a trait. `crate::kafka::client`
//!   implements it with rdkafka; the worker's tests implement it in memory, with transactions
//!   and injected faults, to check the exactly-once control flow a mock broker cannot show.
//! - [`observe`]: what the worker reports (committed work, aborts, restores, assignment), for
//!   metrics and progress, without a metrics library here.
//! - [`worker`]: the consumer-group loop, publishing and the commit cycle (at-least-once and
//!   exactly-once), generic over the client and driven by an injected clock.

pub mod client;
pub mod observe;
pub mod restore;
pub mod task;
pub mod worker;

#[cfg(test)]
mod fake;

/// Why the runtime stopped. Every variant is fatal for the process (exit non-zero with one
/// clear line); transient broker errors are retried inside and never surface here.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A Kafka call failed in a way retrying will not fix (authorisation, a producer fenced by a
    /// newer instance with the same transactional id, a fatal client error).
    #[error("Kafka: {0}")]
    Kafka(String),
    /// A topic the monitor needs does not exist.
    #[error("topic {0:?} does not exist (create it, or set [kafka] create_topics = true)")]
    MissingTopic(String),
    /// Input topics (or the changelog) differ in partition count.
    #[error("input topics must be co-partitioned (same partition count): {0}")]
    CoPartitioning(String),
    /// The changelog could not be read back.
    #[error("state restore failed: {0}")]
    Restore(String),
    /// Published messages were not acknowledged: offsets are not committed.
    #[error("delivery failed: {0}; nothing undelivered was committed: restart to resume from the last commit")]
    Delivery(String),
}

impl From<client::ClientError> for RuntimeError {
    fn from(e: client::ClientError) -> Self {
        RuntimeError::Kafka(e.to_string())
    }
}
