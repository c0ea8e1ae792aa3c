//! The embedded development broker: librdkafka's mock cluster, which speaks the Kafka protocol
//! over TCP on 127.0.0.1 so that any client (the monitor, kcat) can use it.
//!
//! Known limits (design for real brokers, test what this can show): transactions are accepted
//! but not honoured (read_committed sees aborted data, transactional offsets are not stored,
//! zombies are not fenced); a partition keeps at most ~5 MiB and silently drops its oldest data;
//! topic configs such as `cleanup.policy=compact` are not supported.

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use super::KafkaAdapterError;
use crate::config::Topics;

/// A running mock cluster with the contract's topics created. Not `Send`: keep it on the thread
/// that made it.
pub struct EmbeddedBroker {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedBroker {
    /// Starts `brokers` mock brokers and creates every topic of `topics` with `partitions`.
    pub fn start(
        brokers: i32,
        partitions: i32,
        topics: &Topics,
    ) -> Result<Self, KafkaAdapterError> {
        let cluster = MockCluster::new(brokers).map_err(KafkaAdapterError::Broker)?;
        let broker = EmbeddedBroker { cluster };
        let mut all: Vec<&str> = topics
            .inputs()
            .into_iter()
            .chain(topics.outputs())
            .collect();
        all.push(&topics.changelog);
        for t in all {
            broker.create_topic(t, partitions)?;
        }
        Ok(broker)
    }

    /// Creates one more topic.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), KafkaAdapterError> {
        let replication = 1;
        self.cluster
            .create_topic(name, partitions, replication)
            .map_err(KafkaAdapterError::Broker)
    }

    /// `host:port,…` to connect to.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    /// The mock cluster, for fault injection in tests.
    pub fn cluster(&self) -> &MockCluster<'static, DefaultProducerContext> {
        &self.cluster
    }
}
