//! Kafka adapters around the engine and the runtime:
//!
//! - [`broker`]: the embedded development broker (librdkafka's mock cluster).
//! - [`tracked_producer`]: the one producer setup (delivery tracking, back-pressure,
//!   transactions).
//! - [`input_feed`]: publishing event files to the input topics (`produce`, the demo).
//! - [`reference`](mod@reference): what the monitor must publish for a book fed to known partitions (the
//!   demo's self-check).
//! - [`demo`]: the embedded broker's side of `demo` (partitions, feeding the book, reading back).
//! - [`group`]: the consumer-group member every streaming command is (settings, rebalance
//!   callbacks, commits), shared by `run` and `notify`.
//! - [`client`]: the runtime's [`crate::runtime::client::Client`] over rdkafka.
//! - [`topics`]: start-up topic checks and creation.
//! - [`service`]: `run`'s loop — the worker on the real clocks until cancelled — and the real
//!   clocks every loop runs on ([`service::SystemClock`]).

pub mod broker;
pub mod client;
pub mod demo;
pub mod group;
pub mod input_feed;
pub mod reference;
pub mod service;
pub mod topics;
pub mod tracked_producer;

use rdkafka::ClientConfig;

use crate::config::KafkaConfig;

/// Failures talking to Kafka, sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum KafkaAdapterError {
    /// The client could not be created or configured: a configuration problem, fatal.
    #[error("cannot create Kafka client: {0}")]
    Client(#[source] rdkafka::error::KafkaError),
    /// The embedded broker could not start or create a topic: fatal.
    #[error("embedded broker: {0}")]
    Broker(#[source] rdkafka::error::KafkaError),
    /// Some messages were not delivered before the flush deadline: fatal for a batch job.
    #[error("{failed} message(s) were not delivered (first error: {first})")]
    Delivery {
        /// How many.
        failed: u64,
        /// The first delivery error.
        first: String,
    },
    /// The input could not be read.
    #[error("cannot read input {name}: {source}")]
    Read {
        /// Input name.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Reports an error librdkafka raised outside any call (its `error` callback), at the level
/// it deserves: reaching a partition's end is how a restore knows it is done, not an error;
/// lost connections are retried by librdkafka (it says when they come back), so a warning;
/// the rest are errors.
pub fn report_client_error(error: &rdkafka::error::KafkaError, reason: &str) {
    use rdkafka::error::RDKafkaErrorCode as C;
    match error.rdkafka_error_code() {
        Some(C::PartitionEOF) => tracing::trace!(target: "librdkafka", %error, reason),
        Some(C::BrokerTransportFailure | C::AllBrokersDown | C::Resolve | C::OperationTimedOut) => {
            tracing::warn!(target: "librdkafka", %error, reason, "Kafka connection problem; retrying")
        }
        _ => tracing::error!(target: "librdkafka", %error, reason, "Kafka client error"),
    }
}

/// librdkafka settings common to every client of the monitor.
pub fn client_config(k: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (key, value) in k.client_properties() {
        c.set(key, value);
    }
    c
}
