//! The streaming runtime around the engine (Kafka Streams' model): one [`task::Task`] per
//! input partition number, owning that partition of every input topic and of the changelog.
//!
//! - [`task`]: merge order, offsets and changelog records (sans-I/O).
//! - [`error`]: why a changelog partition could not be read back.
//! - [`restore`]: rebuilding a task from its changelog partition (sans-I/O).
//! - [`client`]: what the worker needs from Kafka, as a trait. `crate::kafka::client`
//!   implements it with rdkafka; the worker's tests implement it in memory, with transactions
//!   and injected faults, to check the exactly-once control flow a mock broker cannot show.
//! - [`observe`]: what the worker reports (committed work, aborts, restores, assignment), for
//!   metrics and progress, without a metrics library here.
//! - [`worker`]: the consumer-group loop, publishing and the commit cycle (at-least-once and
//!   exactly-once), generic over the client and driven by an injected clock.
//!
//! Imports go one way: `error` ← `client` ← `task` ← `restore` ← `worker`. The words shared
//! with `notify` — clock, record, rebalance, client error — are [`crate::stream`]'s.

pub mod client;
pub mod error;
pub mod observe;
pub mod restore;
pub mod task;
pub mod worker;

#[cfg(test)]
mod fake;

/// Why the runtime stopped. Every variant is fatal for the process (exit non-zero with one
/// clear line: the top level prints the whole chain of causes); transient broker errors are
/// retried inside and never surface here.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A Kafka call failed in a way retrying will not fix (authorisation, a producer fenced by a
    /// newer instance with the same transactional id, a fatal client error).
    #[error("Kafka")]
    Kafka(#[from] crate::stream::ClientError),
    /// The open transaction could not even be aborted.
    #[error("cannot abort the transaction")]
    Abort(#[source] crate::stream::ClientError),
    /// A topic the monitor needs does not exist.
    #[error("topic {0:?} does not exist (create it, or set [kafka] create_topics = true)")]
    MissingTopic(String),
    /// Input topics (or the changelog) differ in partition count.
    #[error("input topics must be co-partitioned (same partition count): {0}")]
    CoPartitioning(String),
    /// The changelog could not be read back.
    #[error("state restore failed")]
    Restore(#[from] error::RestoreError),
    /// Published messages were not acknowledged: offsets are not committed.
    #[error("delivery failed; nothing undelivered was committed: restart to resume from the last commit")]
    Delivery(#[source] crate::stream::ClientError),
}

impl RuntimeError {
    /// A fatal Kafka failure from any error (admin calls, metadata), kept as the cause.
    pub fn kafka(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        RuntimeError::Kafka(crate::stream::ClientError::fatal_from(e))
    }
}

#[cfg(test)]
mod error_tests {
    use super::restore::{RecordError, RestoreError};
    use super::RuntimeError;
    use crate::stream::ClientError;
    use postloan_engine::snapshot::SnapshotError;

    fn chain(e: &dyn std::error::Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut next = e.source();
        while let Some(cause) = next {
            out.push(cause.to_string());
            next = cause.source();
        }
        out
    }

    #[test]
    fn a_restore_failure_keeps_every_cause() {
        let e = RuntimeError::from(RestoreError::Record {
            partition: 3,
            offset: 17,
            source: RecordError::Snapshot(SnapshotError::Version(9)),
        });
        assert_eq!(
            chain(&e),
            [
                "state restore failed",
                "changelog partition 3 offset 17",
                "borrower snapshot",
                "snapshot format 9 is not supported (this build reads 2 to 5)",
            ]
        );
    }

    #[test]
    fn a_client_failure_shows_its_cause_once_and_hands_on_the_next() {
        #[derive(Debug, thiserror::Error)]
        #[error("broker said no")]
        struct Outer(#[source] std::io::Error);
        let io = std::io::Error::other("connection reset");
        let e = RuntimeError::Delivery(ClientError::Fatal(std::sync::Arc::new(Outer(io))));
        assert_eq!(
            chain(&e),
            [
                "delivery failed; nothing undelivered was committed: restart to resume from the last commit",
                "broker said no",
                "connection reset",
            ]
        );
        let retriable = ClientError::retriable("timed out");
        assert_eq!(retriable.to_string(), "timed out (retriable)");
    }
}
