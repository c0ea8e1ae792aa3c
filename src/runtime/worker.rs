//! The consumer-group worker: Kafka in, tasks in the middle, Kafka out.
//!
//! At-least-once cycle, every `commit_interval_ms`: flush the published messages, then write the
//! changed borrowers to the changelog and flush, then commit the input offsets. The changelog is
//! therefore never ahead of what was published, so a crash at any instant can republish
//! messages (each with its deterministic `message_id`) but never lose one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::BaseRecord;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::restore::restore;
use super::task::{Record, Task, INPUTS};
use super::RuntimeError;
use crate::config::{ClockSource, Config, ProcessingGuarantee};
use crate::engine::output::{Output, OutputKind};
use crate::engine::types::Signal;
use crate::engine::{ClockMode, Outcome, Settings};
use crate::kafka::client_config;
use crate::kafka::producer::{self, TrackedProducer};

/// Live counters of a worker, shared with whoever watches it (tests, progress, metrics).
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Inputs applied.
    pub applied: AtomicU64,
    /// Inputs skipped as duplicates.
    pub duplicates: AtomicU64,
    /// Inputs rejected.
    pub rejected: AtomicU64,
    /// Messages handed to the producer.
    pub published: AtomicU64,
    /// Alert messages published, by signal (in [`Signal::ALL`] order).
    pub alerts_by_signal: [AtomicU64; 9],
    /// Escalations published.
    pub escalations: AtomicU64,
    /// Commit cycles completed.
    pub commits: AtomicU64,
    /// Partition numbers owned now.
    pub tasks: AtomicU64,
    /// Every owned partition is restored and the consumer is in the group.
    pub ready: AtomicBool,
}

impl WorkerStats {
    /// Alert messages published for `signal`.
    pub fn alerts(&self, signal: Signal) -> u64 {
        self.alerts_by_signal[signal.index()].load(Ordering::Relaxed)
    }

    /// Inputs seen (applied, duplicate or rejected).
    pub fn inputs(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
            + self.duplicates.load(Ordering::Relaxed)
            + self.rejected.load(Ordering::Relaxed)
    }
}

enum RebalanceEvent {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

#[derive(Default)]
struct GroupContext {
    events: Mutex<Vec<RebalanceEvent>>,
    /// High watermark per (topic, partition), from librdkafka's statistics (fetch responses):
    /// how far each input partition goes, known without asking the broker.
    high_watermarks: Mutex<std::collections::HashMap<(String, i32), i64>>,
}

fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    let mut p: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    p.sort_unstable();
    p.dedup();
    p
}

impl ClientContext for GroupContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        let Ok(mut hw) = self.high_watermarks.lock() else {
            return;
        };
        for (topic, t) in statistics.topics {
            for (partition, p) in t.partitions {
                if partition >= 0 && p.hi_offset >= 0 {
                    hw.insert((topic.clone(), partition), p.hi_offset);
                }
            }
        }
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            if let Ok(mut e) = self.events.lock() {
                e.push(RebalanceEvent::Revoked(partitions(tpl)));
            }
        }
    }
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                if let Ok(mut e) = self.events.lock() {
                    e.push(RebalanceEvent::Assigned(partitions(tpl)));
                }
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "Rebalance error"),
            Rebalance::Revoke(_) => {}
        }
    }
}

/// Everything the loop needs besides the consumer and the tasks.
struct Session<'a> {
    config: &'a Config,
    settings: Arc<Settings>,
    mode: ClockMode,
    inputs: [Arc<str>; INPUTS],
    producer: TrackedProducer,
    changelog: Vec<(Arc<str>, Vec<u8>)>,
    /// Base of this process's commit-cycle ids; unique per process start.
    cycle_base: u64,
    cycles: u64,
}

/// Runs the worker until `cancel` fires or a fatal error occurs.
pub fn run(
    config: &Config,
    cancel: CancellationToken,
    stats: Arc<WorkerStats>,
) -> Result<(), RuntimeError> {
    let k = &config.kafka;
    if k.processing_guarantee == ProcessingGuarantee::ExactlyOnce {
        return Err(RuntimeError::Unsupported(
            "processing_guarantee = \"exactly_once\" is not available in this build yet; set [kafka] processing_guarantee = \"at_least_once\"".to_owned(),
        ));
    }
    let mode = match config.clock.mode {
        ClockSource::Event => ClockMode::Event,
        ClockSource::Wall => ClockMode::External {
            max_future_skew: chrono::Duration::milliseconds(config.clock.max_future_skew_ms as i64),
        },
    };
    let consumer: BaseConsumer<GroupContext> = client_config(k)
        .set("group.id", &k.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Range gives one member the same partition number of every co-partitioned topic.
        .set("partition.assignment.strategy", "range")
        .set("session.timeout.ms", k.session_timeout_ms.to_string())
        // Statistics carry each partition's high watermark: the merge's "caught up" signal.
        .set("statistics.interval.ms", "100")
        .create_with_context(GroupContext::default())
        .map_err(RuntimeError::Kafka)?;
    let producer = producer::create(k).map_err(RuntimeError::Kafka)?;
    check_topics(&consumer, config)?;
    let mut session = Session {
        config,
        settings: Arc::new(Settings::from_config(config)),
        mode,
        inputs: k.topics.inputs().map(Arc::from),
        producer,
        changelog: Vec::new(),
        cycle_base: process_nonce(),
        cycles: 0,
    };
    let input_names: Vec<&str> = session.inputs.iter().map(|s| &**s).collect();
    consumer
        .subscribe(&input_names)
        .map_err(RuntimeError::Kafka)?;

    let mut tasks: BTreeMap<i32, Task> = BTreeMap::new();
    let result = run_loop(&consumer, &mut tasks, &mut session, &cancel, &stats);
    // Graceful stop: commit what was processed, then leave the group.
    let result = result.and_then(|()| cycle(&consumer, &mut tasks, &mut session, &stats));
    consumer.unsubscribe();
    result
}

fn run_loop(
    consumer: &BaseConsumer<GroupContext>,
    tasks: &mut BTreeMap<i32, Task>,
    session: &mut Session<'_>,
    cancel: &CancellationToken,
    stats: &WorkerStats,
) -> Result<(), RuntimeError> {
    let config = session.config;
    let k = &config.kafka;
    let inputs = session.inputs.clone();
    let started = Instant::now();
    let mut last_commit = Instant::now();
    let mut last_tick = Instant::now();
    let commit_every = Duration::from_millis(k.commit_interval_ms);
    let tick_every = Duration::from_millis(config.clock.tick_interval_ms);
    let mut out: Vec<Output> = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut json = Vec::with_capacity(1024);
    while !cancel.is_cancelled() {
        // Poll a batch: block briefly for the first message, then take what is ready.
        // Rebalances run inside poll: act on them before the message that follows, so a task
        // exists (restored, at its position) before any of its records arrive.
        let mut batch = 0;
        let mut wait = Duration::from_millis(50);
        while batch < 2000 {
            let polled = consumer.poll(wait);
            wait = Duration::ZERO;
            on_rebalance(consumer, tasks, session, stats)?;
            let Some(polled) = polled else { break };
            match polled {
                Ok(m) => {
                    let Some(input) = inputs.iter().position(|t| **t == *m.topic()) else {
                        continue;
                    };
                    // A record of a partition this worker no longer owns is left to its owner.
                    let Some(task) = tasks.get_mut(&m.partition()) else {
                        continue;
                    };
                    task.push(
                        input,
                        Record {
                            offset: m.offset(),
                            key: m.key().map(<[u8]>::to_vec),
                            payload: m.payload().unwrap_or_default().to_vec(),
                        },
                    );
                    batch += 1;
                }
                Err(KafkaError::PartitionEOF(_)) => {}
                Err(e) if is_fatal(&e) => return Err(RuntimeError::Kafka(e)),
                Err(e) => tracing::warn!(error = %e, "Consumer error; retrying"),
            }
        }
        stats.tasks.store(tasks.len() as u64, Ordering::Relaxed);
        // Which empty inputs that a task waits on have nothing left to fetch?
        mark_caught_up(consumer, tasks, &inputs);
        let now_ms = started.elapsed().as_millis() as u64;
        let wall_tick = config.clock.mode == ClockSource::Wall && last_tick.elapsed() >= tick_every;
        for task in tasks.values_mut() {
            task.process(now_ms, &mut out, &mut outcomes);
            if wall_tick {
                task.advance_to(Utc::now(), &mut out);
            }
        }
        if wall_tick {
            last_tick = Instant::now();
        }
        for o in outcomes.drain(..) {
            let c = match o {
                Outcome::Applied(_) => &stats.applied,
                Outcome::Duplicate(_) => &stats.duplicates,
                Outcome::Rejected(_) => &stats.rejected,
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
        for msg in out.drain(..) {
            match &msg {
                Output::Alert(a) => {
                    stats.alerts_by_signal[a.signal.index()].fetch_add(1, Ordering::Relaxed);
                }
                Output::Escalation(_) => {
                    stats.escalations.fetch_add(1, Ordering::Relaxed);
                }
                Output::Rejected(_) => {}
            }
            let topic = match msg.kind() {
                OutputKind::Alert => &k.topics.alerts,
                OutputKind::Escalation => &k.topics.escalations,
                OutputKind::Rejected => &k.topics.rejected,
            };
            json.clear();
            msg.write_json(&mut json);
            let key = msg.key().unwrap_or_default().as_bytes();
            send(
                &session.producer,
                BaseRecord::to(topic).key(key).payload(&json[..]),
            )?;
            stats.published.fetch_add(1, Ordering::Relaxed);
        }
        session.producer.poll(Duration::ZERO);
        if last_commit.elapsed() >= commit_every {
            cycle(consumer, tasks, session, stats)?;
            last_commit = Instant::now();
        }
    }
    Ok(())
}

/// Acts on the rebalances recorded during the last poll: revoked partitions commit and drop
/// their tasks; assigned ones are restored from the changelog and resume where their state
/// stands.
fn on_rebalance(
    consumer: &BaseConsumer<GroupContext>,
    tasks: &mut BTreeMap<i32, Task>,
    session: &mut Session<'_>,
    stats: &WorkerStats,
) -> Result<(), RuntimeError> {
    let events = consumer
        .context()
        .events
        .lock()
        .map(|mut e| std::mem::take(&mut *e))
        .unwrap_or_default();
    for event in events {
        match event {
            RebalanceEvent::Revoked(ps) => {
                // Best effort: the group may already have moved on, and at-least-once allows
                // the next owner to re-read what this commit would have covered.
                cycle(consumer, tasks, session, stats)?;
                for p in ps {
                    tasks.remove(&p);
                }
                stats.ready.store(false, Ordering::Relaxed);
            }
            RebalanceEvent::Assigned(ps) => {
                for p in ps {
                    if tasks.contains_key(&p) {
                        continue;
                    }
                    let task = restore_task(consumer, session, p)?;
                    tasks.insert(p, task);
                }
                stats.ready.store(true, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

fn restore_task(
    consumer: &BaseConsumer<GroupContext>,
    session: &Session<'_>,
    p: i32,
) -> Result<Task, RuntimeError> {
    let k = &session.config.kafka;
    let t0 = Instant::now();
    let (mut engine, meta, restored) = restore(
        k,
        &session.settings,
        session.mode,
        p,
        Duration::from_secs(120),
    )?;
    let start_clock = match session.config.clock.mode {
        ClockSource::Wall => Some(Utc::now()),
        ClockSource::Event => meta.clock,
    };
    engine.finish_restore(start_clock);
    // Resume exactly where the restored state stands, whatever offsets were committed: state
    // and input position must agree (see the module docs).
    for (input, next) in meta.next_offsets.iter().enumerate() {
        if let Some(next) = next {
            consumer
                .seek(
                    &session.inputs[input],
                    p,
                    Offset::Offset(*next),
                    Duration::from_secs(10),
                )
                .map_err(RuntimeError::Kafka)?;
        }
    }
    tracing::info!(
        partition = p,
        borrowers = restored.borrowers,
        records = restored.records,
        discarded = restored.discarded,
        ms = t0.elapsed().as_millis() as u64,
        "Restored task from the changelog"
    );
    let mut task = Task::new(p, session.inputs.clone(), engine, k.max_task_idle_ms);
    task.resume_from(meta.next_offsets);
    Ok(task)
}

/// A number unique to this process start, so that commit-cycle ids never repeat across
/// restarts (the runtime may read the wall clock; the engine never does).
fn process_nonce() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 40)
}

fn is_fatal(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::Fatal
                | RDKafkaErrorCode::SaslAuthenticationFailed
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::UnknownTopicOrPartition
        )
    )
}

fn send(
    producer: &TrackedProducer,
    record: BaseRecord<'_, [u8], [u8]>,
) -> Result<(), RuntimeError> {
    producer::send(producer, record).map_err(RuntimeError::Kafka)
}

/// The commit cycle: flush published messages → write and flush the changelog (borrowers,
/// then the task record vouching for them) → commit the input offsets.
fn cycle(
    consumer: &BaseConsumer<GroupContext>,
    tasks: &mut BTreeMap<i32, Task>,
    session: &mut Session<'_>,
    stats: &WorkerStats,
) -> Result<(), RuntimeError> {
    let k = &session.config.kafka;
    flush(&session.producer)?;
    session.cycles += 1;
    let cycle_id = session.cycle_base.wrapping_add(session.cycles);
    for (p, task) in tasks.iter_mut() {
        session.changelog.clear();
        task.take_changelog(cycle_id, &mut session.changelog);
        for (key, value) in &session.changelog {
            send(
                &session.producer,
                BaseRecord::to(&k.topics.changelog)
                    .partition(*p)
                    .key(key.as_bytes())
                    .payload(&value[..]),
            )?;
        }
    }
    flush(&session.producer)?;
    let mut tpl = TopicPartitionList::new();
    for (p, task) in tasks.iter() {
        for (input, next) in task.offsets() {
            tpl.add_partition_offset(&session.inputs[input], *p, Offset::Offset(next))
                .map_err(RuntimeError::Kafka)?;
        }
    }
    if tpl.count() > 0 {
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            // The changelog already records the position; a failed commit (e.g. during a
            // rebalance) costs at most some re-reading by the next owner.
            tracing::warn!(error = %e, "Offset commit failed; the changelog keeps the position");
        }
    }
    stats.commits.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn flush(producer: &TrackedProducer) -> Result<(), RuntimeError> {
    producer::flush(producer, Duration::from_secs(60))
        .map_err(|e| RuntimeError::Delivery(e.to_string()))
}

/// For tasks that are waiting on an empty input, checks whether that input partition has
/// anything left: caught up when the consumer's position has reached the high watermark that
/// librdkafka last saw in a fetch response (statistics, every 100 ms; no broker round trip).
fn mark_caught_up(
    consumer: &BaseConsumer<GroupContext>,
    tasks: &mut BTreeMap<i32, Task>,
    inputs: &[Arc<str>; INPUTS],
) {
    let blocked: Vec<(i32, usize)> = tasks
        .iter()
        .flat_map(|(p, t)| t.blocked_on().map(move |i| (*p, i)))
        .collect();
    if blocked.is_empty() {
        return;
    }
    let Ok(position) = consumer.position() else {
        return;
    };
    let Ok(high) = consumer.context().high_watermarks.lock().map(|h| h.clone()) else {
        return;
    };
    for (p, input) in blocked {
        let Some(pos) = position
            .find_partition(&inputs[input], p)
            .map(|e| e.offset())
        else {
            continue;
        };
        let Some(high) = high.get(&(inputs[input].to_string(), p)).copied() else {
            continue;
        };
        let at_end = match pos {
            Offset::Offset(pos) => pos >= high,
            // Nothing consumed yet: caught up only if the partition is empty.
            _ => high == 0,
        };
        if at_end {
            if let Some(t) = tasks.get_mut(&p) {
                t.mark_caught_up(input);
            }
        }
    }
}

/// Refuses to run when input topics are missing or not co-partitioned. Missing output and
/// changelog topics are created (inputs' partition count, broker-default replication, the
/// changelog compacted) when `create_topics` is set, and refused otherwise.
fn check_topics(
    consumer: &BaseConsumer<GroupContext>,
    config: &Config,
) -> Result<(), RuntimeError> {
    let k = &config.kafka;
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(30))
        .map_err(RuntimeError::Kafka)?;
    let count = |name: &str| {
        metadata
            .topics()
            .iter()
            .find(|t| t.name() == name && t.error().is_none())
            .map(|t| t.partitions().len())
    };
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
        create_topics(k, &missing, partitions)?;
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
fn create_topics(
    k: &crate::config::KafkaConfig,
    names: &[&str],
    partitions: usize,
) -> Result<(), RuntimeError> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        client_config(k).create().map_err(RuntimeError::Kafka)?;
    let partitions = i32::try_from(partitions).unwrap_or(i32::MAX);
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            let t = NewTopic::new(name, partitions, TopicReplication::Fixed(-1));
            if *name == k.topics.changelog {
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
            RuntimeError::Unsupported(format!("cannot start a runtime for topic creation: {e}"))
        })?;
    let results = runtime
        .block_on(admin.create_topics(topics.iter(), &opts))
        .map_err(RuntimeError::Kafka)?;
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
