//! Prometheus metrics: one struct over an explicit [`Registry`], with a method per event the
//! monitor reports. Names are `postloan_<what>_<unit>`, counters end in `_total`, and every label
//! takes its values from a closed set (event type, outcome, error kind, signal, severity,
//! status, level) — never a borrower, loan or alert id.
//!
//! The worker reports through [`Observer`]; [`Metrics`] is one observer, so the runtime never
//! touches this library. Pipeline series live here, the risk teams' portfolio series in
//! `portfolio`.

use std::sync::atomic::{AtomicBool, Ordering};

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

mod notify;
mod portfolio;

pub use notify::NotifyMetrics;

pub use portfolio::{OTHER, UNKNOWN};

use crate::runtime::observe::{Observer, Work};
use crate::runtime::restore::Restored;
use postloan_engine::event::EventType;
use postloan_engine::output::AlertStatus;
use postloan_engine::portfolio::Portfolio;
use postloan_engine::reject::ErrorKind;
use postloan_engine::types::{Severity, Signal};

/// Failures building the metrics (a programming error: a name or label set refused).
pub type MetricsError = prometheus::Error;

/// What the HTTP endpoint serves: a registry's exposition and a readiness flag (the monitor's
/// [`Metrics`] and `notify`'s [`NotifyMetrics`]).
pub trait Scrape: Send + Sync {
    /// The exposition, in the Prometheus text format.
    fn encode(&self) -> Result<String, MetricsError>;
    /// Whether the process is ready (`/readyz`).
    fn is_ready(&self) -> bool;
}

impl Scrape for Metrics {
    fn encode(&self) -> Result<String, MetricsError> {
        Metrics::encode(self)
    }
    fn is_ready(&self) -> bool {
        Metrics::is_ready(self)
    }
}

/// Every metric the monitor exports.
pub struct Metrics {
    registry: Registry,
    events: IntCounterVec,
    rejections: IntCounterVec,
    alerts: IntCounterVec,
    escalations: IntCounterVec,
    commits: IntCounter,
    aborts: IntCounter,
    commit_seconds: Histogram,
    restore_seconds: Histogram,
    restored_borrowers: IntCounter,
    partitions: IntGauge,
    ready_gauge: IntGauge,
    ready: AtomicBool,
    event_age: Histogram,
    latency: Histogram,
    lag: IntGaugeVec,
    last_event: Gauge,
    late_events: IntCounterVec,
    lateness: Histogram,
    /// Partitions with a lag series, so a partition that moves away drops its series.
    lagging: std::sync::Mutex<std::collections::BTreeSet<(String, i32)>>,
    portfolio: portfolio::PortfolioMetrics,
}

fn counter_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, MetricsError> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<prometheus::GaugeVec, MetricsError> {
    let g = prometheus::GaugeVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

fn counter(r: &Registry, name: &str, help: &str) -> Result<IntCounter, MetricsError> {
    let c = IntCounter::new(name, help)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(r: &Registry, name: &str, help: &str) -> Result<IntGauge, MetricsError> {
    let g = IntGauge::new(name, help)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

fn histogram(
    r: &Registry,
    name: &str,
    help: &str,
    buckets: &[f64],
) -> Result<Histogram, MetricsError> {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))?;
    r.register(Box::new(h.clone()))?;
    Ok(h)
}

/// Seconds, from 1 s to a year: how old events are when processed (backfills are old).
const AGE_BUCKETS: [f64; 12] = [
    1.0,
    5.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    21_600.0,
    86_400.0,
    604_800.0,
    2_592_000.0,
    31_536_000.0,
];

/// Seconds, from 5 ms to 30 s: receipt to commit.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Seconds, from 1 ms to 1 min: commit cycles and restores.
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 60.0,
];

impl Metrics {
    /// Registers every metric in a registry of its own; branch and dealer labels take at most
    /// `max_label_values` distinct values each (`[http] max_label_values`).
    pub fn new(max_label_values: usize) -> Result<Self, MetricsError> {
        let r = Registry::new();
        let portfolio = portfolio::PortfolioMetrics::new(&r, max_label_values)?;
        let m = Metrics {
            events: counter_vec(
                &r,
                "postloan_events_total",
                "Input events taken from Kafka and committed, by event type and outcome (applied or duplicate; rejections are in postloan_rejections_total).",
                &["type", "outcome"],
            )?,
            rejections: counter_vec(
                &r,
                "postloan_rejections_total",
                "Input messages rejected and published to the rejected topic, by error kind.",
                &["error_kind"],
            )?,
            alerts: counter_vec(
                &r,
                "postloan_alerts_total",
                "Alert messages published, by signal, severity and lifecycle status.",
                &["signal", "severity", "status"],
            )?,
            escalations: counter_vec(
                &r,
                "postloan_escalations_total",
                "Escalation notices published to managers, by level.",
                &["level"],
            )?,
            commits: counter(
                &r,
                "postloan_commits_total",
                "Commit cycles completed (transactions committed under exactly-once).",
            )?,
            aborts: counter(
                &r,
                "postloan_transactions_aborted_total",
                "Transactions aborted; their work is redone from the last committed state.",
            )?,
            commit_seconds: histogram(
                &r,
                "postloan_commit_duration_seconds",
                "Time a commit cycle takes: flushing or committing outputs, state and offsets.",
                &DURATION_BUCKETS,
            )?,
            restore_seconds: histogram(
                &r,
                "postloan_restore_duration_seconds",
                "Time to restore one partition's state from the changelog.",
                &DURATION_BUCKETS,
            )?,
            restored_borrowers: counter(
                &r,
                "postloan_restored_borrowers_total",
                "Borrowers restored from the changelog, all restores together.",
            )?,
            partitions: gauge(
                &r,
                "postloan_assigned_partitions",
                "Input partition numbers this instance owns now.",
            )?,
            ready_gauge: gauge(
                &r,
                "postloan_ready",
                "1 when every owned partition is restored and processing, else 0.",
            )?,
            ready: AtomicBool::new(false),
            event_age: histogram(
                &r,
                "postloan_event_age_seconds",
                "How old input events are when processed: wall clock minus occurred_at (large for backfills).",
                &AGE_BUCKETS,
            )?,
            latency: histogram(
                &r,
                "postloan_processing_latency_seconds",
                "Time from receiving an input from Kafka to committing its effects (outputs visible).",
                &LATENCY_BUCKETS,
            )?,
            lag: {
                let g = IntGaugeVec::new(
                    Opts::new(
                        "postloan_consumer_lag_records",
                        "Records an owned input partition's committed position is behind its end.",
                    ),
                    &["topic", "partition"],
                )?;
                r.register(Box::new(g.clone()))?;
                g
            },
            last_event: {
                let g = Gauge::new(
                    "postloan_last_event_time_seconds",
                    "occurred_at of the latest applied event, Unix seconds.",
                )?;
                r.register(Box::new(g.clone()))?;
                g
            },
            late_events: counter_vec(
                &r,
                "postloan_late_events_total",
                "Events applied after a newer event of the same partition (the merge order degraded: a caught-up input delivered an older event after the idle wait).",
                &["topic"],
            )?,
            lateness: histogram(
                &r,
                "postloan_event_lateness_seconds",
                "How much older a late event was than the newest event applied before it.",
                &AGE_BUCKETS,
            )?,
            lagging: std::sync::Mutex::default(),
            portfolio,
            registry: r,
        };
        m.initialise();
        Ok(m)
    }

    /// Creates every series of the closed label sets at 0. A counter series that first appears
    /// at 1 loses that first increment to `rate()`/`increase()`, and an absent series makes a
    /// ratio or an alert on "no events" silently empty.
    fn initialise(&self) {
        for t in EventType::ALL {
            for outcome in ["applied", "duplicate"] {
                self.events.with_label_values(&[t.as_str(), outcome]);
            }
        }
        for k in ErrorKind::ALL {
            self.rejections.with_label_values(&[k.as_str()]);
        }
        for s in Signal::ALL {
            for sev in Severity::ALL {
                for st in AlertStatus::ALL {
                    self.alerts
                        .with_label_values(&[s.as_str(), sev.as_str(), st.as_str()]);
                }
            }
        }
        for level in ["1", "2"] {
            self.escalations.with_label_values(&[level]);
        }
        self.portfolio.initialise();
    }

    /// Creates the per-input-topic series at 0 (the topics are configuration, not a closed
    /// set known here): a late-event rate or alert must not be empty before the first one.
    pub fn watch_inputs(&self, topics: &[&str]) {
        for t in topics {
            self.late_events.with_label_values(&[t]);
        }
    }

    /// An event of input topic `topic` was applied `seconds` after a newer one (committed).
    pub fn late_event(&self, topic: &str, seconds: f64) {
        self.late_events.with_label_values(&[topic]).inc();
        self.lateness.observe(seconds);
    }

    /// Input events of one type and outcome were committed.
    pub fn events_committed(&self, t: EventType, applied: bool, n: u64) {
        let outcome = if applied { "applied" } else { "duplicate" };
        self.events
            .with_label_values(&[t.as_str(), outcome])
            .inc_by(n);
    }

    /// Rejections of one kind were published.
    pub fn rejections_published(&self, kind: ErrorKind, n: u64) {
        self.rejections
            .with_label_values(&[kind.as_str()])
            .inc_by(n);
    }

    /// Alert messages were published.
    pub fn alert_published(&self, signal: Signal, severity: Severity, status: AlertStatus, n: u64) {
        self.alerts
            .with_label_values(&[signal.as_str(), severity.as_str(), status.as_str()])
            .inc_by(n);
    }

    /// Escalation notices of one level were published.
    pub fn escalation_published(&self, level: u8, n: u64) {
        self.escalations
            .with_label_values(&[&level.to_string()])
            .inc_by(n);
    }

    /// Whether every owned partition is restored and the consumer is in the group.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The exposition, in the Prometheus text format.
    pub fn encode(&self) -> Result<String, MetricsError> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

impl Observer for Metrics {
    fn committed(&self, work: &Work, took_ms: u64) {
        for (t, applied, n) in work.inputs() {
            self.events_committed(t, applied, n);
        }
        for (k, n) in work.rejections() {
            self.rejections_published(k, n);
        }
        for (s, sev, st, n) in work.alerts() {
            self.alert_published(s, sev, st, n);
        }
        for (level, n) in work.escalations() {
            self.escalation_published(level, n);
        }
        for age in work.ages_s() {
            self.event_age.observe(*age);
        }
        for latency in work.latencies_s() {
            self.latency.observe(latency);
        }
        for (topic, by) in work.late_events() {
            self.late_event(topic, by.num_milliseconds() as f64 / 1000.0);
        }
        if let Some(t) = work.latest_event() {
            let t = t.timestamp_millis() as f64 / 1000.0;
            if t > self.last_event.get() {
                self.last_event.set(t);
            }
        }
        self.portfolio.committed(work);
        self.commits.inc();
        self.commit_seconds.observe(took_ms as f64 / 1000.0);
    }

    fn aborted(&self) {
        self.aborts.inc();
    }

    fn restored(&self, _partition: i32, restored: &Restored, took_ms: u64) {
        self.restore_seconds.observe(took_ms as f64 / 1000.0);
        self.restored_borrowers.inc_by(restored.borrowers as u64);
    }

    fn assignment(&self, partitions: &[i32], ready: bool) {
        self.partitions
            .set(i64::try_from(partitions.len()).unwrap_or(i64::MAX));
        self.ready_gauge.set(i64::from(ready));
        self.ready.store(ready, Ordering::Relaxed);
        if let Ok(mut lagging) = self.lagging.lock() {
            lagging.retain(|(topic, p)| {
                let owned = partitions.contains(p);
                if !owned {
                    let _ = self.lag.remove_label_values(&[topic, &p.to_string()]);
                }
                owned
            });
        }
    }

    fn portfolio(&self, portfolio: &Portfolio) {
        self.portfolio.set(portfolio);
    }

    fn lag(&self, topic: &str, partition: i32, records: i64) {
        self.lag
            .with_label_values(&[topic, &partition.to_string()])
            .set(records);
        if let Ok(mut lagging) = self.lagging.lock() {
            lagging.insert((topic.to_owned(), partition));
        }
    }
}

#[cfg(test)]
mod tests;
