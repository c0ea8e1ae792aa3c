//! Start-up topic checks: inputs co-partitioned, outputs and changelog present (or created).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::error::RDKafkaErrorCode;

use super::client_config;
use crate::config::KafkaConfig;
use crate::runtime::client::ClientError;
use crate::runtime::RuntimeError;

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

/// Not verifiable on the embedded broker: librdkafka's mock cluster has no CreateTopics handler
/// (see `rdkafka_mock_handlers.c`), so this path is exercised only against real brokers.
pub(crate) fn create_topics(
    k: &KafkaConfig,
    names: &[&str],
    partitions: usize,
    compacted: &[&str],
) -> Result<(), RuntimeError> {
    let admin: AdminClient<DefaultClientContext> =
        client_config(k).create().map_err(RuntimeError::kafka)?;
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
        .map_err(|e| {
            RuntimeError::Kafka(ClientError::fatal(format!(
                "cannot start a runtime for topic creation: {e}"
            )))
        })?;
    let results = runtime
        .block_on(admin.create_topics(topics.iter(), &opts))
        .map_err(RuntimeError::kafka)?;
    for r in results {
        match r {
            Ok(name) => tracing::info!(topic = %name, partitions, "Created topic"),
            // Another instance may have created it first.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(RuntimeError::MissingTopic(format!(
                    "{name} (creation failed: {code})"
                )));
            }
        }
    }
    Ok(())
}
