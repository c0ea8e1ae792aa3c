//! Start-up topic checks, one per command that reads the cluster: `run`'s (inputs
//! co-partitioned, outputs and changelog present or created) and `notify`'s (alerts and
//! escalations co-partitioned, its state topic present or created), over one partition-count
//! lookup and one topic creation.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::client_config;
use crate::config::{Config, KafkaConfig};
use crate::runtime::RuntimeError;
use crate::stream::ClientError;

/// Why the cluster's topics do not suit a command.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    /// The cluster's metadata could not be read.
    #[error("cannot read the cluster's topics")]
    Metadata(#[source] KafkaError),
    /// A topic the command needs does not exist (and may not be created).
    #[error("topic {0} does not exist")]
    Missing(String),
    /// Topics that must have the same partition count do not.
    #[error("{0}")]
    CoPartitioning(String),
    /// The admin client could not be created or its request failed.
    #[error("cannot create topics")]
    Create(#[source] KafkaError),
    /// No runtime for the admin client's request.
    #[error("cannot start a runtime for topic creation")]
    Runtime(#[source] std::io::Error),
    /// The broker refused to create a topic.
    #[error("{name} (creation failed: {code})")]
    Refused {
        /// The topic.
        name: String,
        /// The broker's answer.
        code: RDKafkaErrorCode,
    },
}

impl From<TopicError> for RuntimeError {
    /// `run`'s wording of the same problems.
    fn from(e: TopicError) -> Self {
        match e {
            TopicError::Metadata(k) | TopicError::Create(k) => RuntimeError::kafka(k),
            TopicError::Missing(t) => RuntimeError::MissingTopic(t),
            TopicError::CoPartitioning(what) => RuntimeError::CoPartitioning(what),
            TopicError::Runtime(io) => RuntimeError::Kafka(ClientError::fatal(format!(
                "cannot start a runtime for topic creation: {io}"
            ))),
            refused @ TopicError::Refused { .. } => RuntimeError::MissingTopic(refused.to_string()),
        }
    }
}

/// How many partitions `name` has in `metadata`; `None` when it does not exist (or its
/// metadata carries an error).
pub(crate) fn partition_count(metadata: &rdkafka::metadata::Metadata, name: &str) -> Option<usize> {
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == name && t.error().is_none())
        .map(|t| t.partitions().len())
}

/// Refuses to run when input topics are missing or not co-partitioned. Missing output and
/// changelog topics are created (inputs' partition count, broker-default replication, the
/// changelog compacted) when `create_topics` is set, and refused otherwise.
pub fn check_topics<X: rdkafka::consumer::ConsumerContext>(
    consumer: &impl Consumer<X>,
    k: &KafkaConfig,
) -> Result<(), RuntimeError> {
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(30))
        .map_err(RuntimeError::kafka)?;
    let count = |name: &str| partition_count(&metadata, name);
    let mut counts = Vec::new();
    let first = count(k.topics.inputs()[0]);
    for t in k.topics.inputs() {
        let n = count(t).ok_or_else(|| RuntimeError::MissingTopic(t.to_owned()))?;
        counts.push(format!("{t}={n}"));
        if Some(n) != first {
            return Err(RuntimeError::CoPartitioning(counts.join(", ")));
        }
    }
    let partitions = first.unwrap_or(1);
    let mut missing: Vec<&str> = k.topics.outputs().to_vec();
    missing.push(&k.topics.changelog);
    missing.retain(|t| count(t).is_none());
    if !missing.is_empty() {
        if !k.create_topics {
            return Err(RuntimeError::MissingTopic(missing[0].to_owned()));
        }
        create_topics(k, &missing, partitions, &[&k.topics.changelog])?;
    } else if count(&k.topics.changelog) != first {
        return Err(RuntimeError::CoPartitioning(format!(
            "changelog {} has {} partitions, the inputs {partitions}",
            k.topics.changelog,
            count(&k.topics.changelog).unwrap_or(0),
        )));
    }
    Ok(())
}

/// `notify`'s topics: refuses to run when alerts and escalations are missing or not
/// co-partitioned; the state topic is created (compacted, as many partitions) when missing and
/// `[kafka] create_topics` allows, else refused.
pub fn check_notify_topics<X: rdkafka::consumer::ConsumerContext>(
    consumer: &impl Consumer<X>,
    config: &Config,
) -> Result<(), TopicError> {
    let k = &config.kafka;
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(30))
        .map_err(TopicError::Metadata)?;
    let count = |name: &str| partition_count(&metadata, name);
    let missing = |name: &str| TopicError::Missing(name.to_owned());
    let alerts = count(&k.topics.alerts).ok_or_else(|| missing(&k.topics.alerts))?;
    let escalations = count(&k.topics.escalations).ok_or_else(|| missing(&k.topics.escalations))?;
    if alerts != escalations {
        return Err(TopicError::CoPartitioning(format!(
            "{} has {alerts} partitions and {} {escalations}: notify needs them equal (both are keyed by borrower)",
            k.topics.alerts, k.topics.escalations
        )));
    }
    let state = &config.notify.state_topic;
    match count(state) {
        Some(n) if n == alerts => Ok(()),
        Some(n) => Err(TopicError::CoPartitioning(format!(
            "state topic {state} has {n} partitions, {} has {alerts}: they must be equal",
            k.topics.escalations
        ))),
        None if k.create_topics => create_topics(k, &[state], alerts, &[state]),
        None => Err(missing(state)),
    }
}

/// Not verifiable on the embedded broker: librdkafka's mock cluster has no CreateTopics handler
/// (see `rdkafka_mock_handlers.c`), so this path is exercised only against real brokers.
pub(crate) fn create_topics(
    k: &KafkaConfig,
    names: &[&str],
    partitions: usize,
    compacted: &[&str],
) -> Result<(), TopicError> {
    let admin: AdminClient<DefaultClientContext> =
        client_config(k).create().map_err(TopicError::Create)?;
    let partitions = i32::try_from(partitions).unwrap_or(i32::MAX);
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            let t = NewTopic::new(name, partitions, TopicReplication::Fixed(-1));
            if compacted.contains(name) {
                t.set("cleanup.policy", "compact")
            } else {
                t
            }
        })
        .collect();
    let opts = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(30)))
        .request_timeout(Some(Duration::from_secs(30)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(TopicError::Runtime)?;
    let results = runtime
        .block_on(admin.create_topics(topics.iter(), &opts))
        .map_err(TopicError::Create)?;
    for r in results {
        match r {
            Ok(name) => tracing::info!(topic = %name, partitions, "Created topic"),
            // Another instance may have created it first.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(TopicError::Refused { name, code }),
        }
    }
    Ok(())
}
