//! The streaming runtime around the engine (Kafka Streams' model): one [`task::Task`] per
//! input partition number, owning that partition of every input topic and of the changelog.
//!
//! - [`task`]: merge order, offsets and changelog records (sans-I/O).
//! - [`restore`]: rebuilding a task from its changelog partition.
//! - [`worker`]: the consumer-group loop, publishing and the commit cycle.

pub mod restore;
pub mod task;
pub mod worker;

/// Why the runtime stopped. Every variant is fatal for the process (exit non-zero with one
/// clear line); transient broker errors are retried inside and never surface here.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A Kafka client call failed in a way retrying will not fix.
    #[error("Kafka: {0}")]
    Kafka(#[source] rdkafka::error::KafkaError),
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
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// A configured mode this build does not run.
    #[error("{0}")]
    Unsupported(String),
}
