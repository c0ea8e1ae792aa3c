//! Why `notify` stops: its fatal errors, below the worker and the adapters that raise them.

use crate::kafka::topics::TopicError;
use crate::stream::ClientError;

/// Why `notify` stopped. Everything else (a bad record, an Alertmanager refusing or down) is
/// handled and counted.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Kafka failed in a way retrying in this process will not fix (the client's own retries
    /// are exhausted, a commit or produce failed for good).
    #[error("Kafka")]
    Kafka(#[source] ClientError),
    /// The topics do not suit `notify`: one missing, partition counts that differ, the state
    /// topic not creatable.
    #[error(transparent)]
    Topics(#[from] TopicError),
    /// A state topic partition could not be read to its end in time.
    #[error("Kafka: restoring {topic}/{partition} did not reach offset {high} in {secs} s")]
    RestoreStalled {
        /// The state topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The end it had to reach.
        high: i64,
        /// How long it tried.
        secs: u64,
    },
    /// The Alertmanager client could not be built.
    #[error(transparent)]
    Alertmanager(#[from] AlertmanagerError),
}

/// Why the Alertmanager client could not be built (fatal at start).
#[derive(Debug, thiserror::Error)]
pub enum AlertmanagerError {
    /// The CA file could not be read.
    #[error("notify.tls_ca_file {path}")]
    CaRead {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no usable certificate.
    #[error("notify.tls_ca_file {path}")]
    CaParse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
}
