//! `notify`'s metrics, in a registry of their own (it runs as its own process): notices
//! delivered and ended, delivery failures by reason, the queue, the last success.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use prometheus::{Encoder, Gauge, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use super::{MetricsError, Scrape};
use crate::notify::worker::{NotifyObserver, Topic};
use postloan_engine::output::AlertStatus;

/// Every metric `notify` exports.
pub struct NotifyMetrics {
    registry: Registry,
    sent: IntCounterVec,
    resolved: IntCounterVec,
    failures: IntCounterVec,
    bad_records: IntCounterVec,
    queue: IntGauge,
    open: IntGauge,
    last_success: Gauge,
    ready: AtomicBool,
}

impl NotifyMetrics {
    /// Registers every metric, each label's values initialised.
    pub fn new() -> Result<Self, MetricsError> {
        let r = Registry::new();
        let counter =
            |name: &str, help: &str, label: &str| -> Result<IntCounterVec, MetricsError> {
                let c = IntCounterVec::new(Opts::new(name, help), &[label])?;
                r.register(Box::new(c.clone()))?;
                Ok(c)
            };
        let sent = counter(
            "postloan_notify_notices_sent_total",
            "Escalation notices delivered firing to every Alertmanager, by level.",
            "level",
        )?;
        let resolved = counter(
            "postloan_notify_notices_resolved_total",
            "Escalation notices delivered as ended, by why they ended (resolved, acknowledged, suppressed).",
            "reason",
        )?;
        let failures = counter(
            "postloan_notify_delivery_failures_total",
            "Failed delivery attempts to one Alertmanager, by reason (unreachable, timeout, server_error: retried; rejected: a 4xx, dropped).",
            "reason",
        )?;
        let bad_records = counter(
            "postloan_notify_bad_records_total",
            "Records skipped because they are not a message of their topic, by topic.",
            "topic",
        )?;
        for l in ["1", "2"] {
            sent.with_label_values(&[l]);
        }
        for s in ["resolved", "acknowledged", "suppressed"] {
            resolved.with_label_values(&[s]);
        }
        for f in ["unreachable", "timeout", "server_error", "rejected"] {
            failures.with_label_values(&[f]);
        }
        for t in [Topic::Alerts, Topic::Escalations] {
            bad_records.with_label_values(&[t.as_str()]);
        }
        let queue = IntGauge::new(
            "postloan_notify_queue_depth",
            "Notices whose latest state (firing or ended) Alertmanager has not accepted yet.",
        )?;
        let open = IntGauge::new(
            "postloan_notify_open_notices",
            "Notices open (shown firing) in the partitions this process owns.",
        )?;
        let last_success = Gauge::new(
            "postloan_notify_last_success_timestamp_seconds",
            "When every Alertmanager last accepted a delivery (Unix time; 0: never).",
        )?;
        for g in [&queue, &open] {
            r.register(Box::new(g.clone()))?;
        }
        r.register(Box::new(last_success.clone()))?;
        Ok(NotifyMetrics {
            registry: r,
            sent,
            resolved,
            failures,
            bad_records,
            queue,
            open,
            last_success,
            ready: AtomicBool::new(false),
        })
    }
}

impl Scrape for NotifyMetrics {
    fn encode(&self) -> Result<String, MetricsError> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

fn status_label(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Acknowledged => "acknowledged",
        AlertStatus::Suppressed => "suppressed",
        _ => "resolved",
    }
}

impl NotifyObserver for NotifyMetrics {
    fn notice_sent(&self, level: u8) {
        self.sent.with_label_values(&[&level.to_string()]).inc();
    }

    fn notice_ended(&self, status: AlertStatus) {
        self.resolved
            .with_label_values(&[status_label(status)])
            .inc();
    }

    fn delivery_failed(&self, reason: &str) {
        self.failures.with_label_values(&[reason]).inc();
    }

    fn delivered(&self, at: DateTime<Utc>) {
        self.last_success.set(at.timestamp_millis() as f64 / 1000.0);
    }

    fn queue(&self, pending: usize, open: usize) {
        self.queue.set(i64::try_from(pending).unwrap_or(i64::MAX));
        self.open.set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    fn bad_record(&self, topic: Topic) {
        self.bad_records.with_label_values(&[topic.as_str()]).inc();
    }

    fn ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}
