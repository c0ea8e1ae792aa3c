//! Kafka adapters around the engine: the embedded development broker and the event producer.
//! (The consumer-group runtime builds on these.)

pub mod broker;
pub mod produce;
pub mod producer;

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

/// librdkafka settings common to every client of the monitor.
pub fn client_config(k: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (key, value) in k.client_properties() {
        c.set(key, value);
    }
    c
}
