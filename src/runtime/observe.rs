//! What the worker reports about itself, as events: the metrics adapter turns them into
//! Prometheus series, [`WorkerStats`] into plain counters for progress lines and tests. The
//! runtime stays free of any metrics library.
//!
//! Work is reported when it is committed, never before: what an aborted transaction did is
//! redone later and must not be counted twice.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use postloan_engine::event::{CloseReason, Currency, EventType};
use postloan_engine::output::{AlertStatus, Fingerprint, Output};
use postloan_engine::portfolio::{DpdBucket, Note, Portfolio};
use postloan_engine::reject::ErrorKind;
use postloan_engine::types::{ModificationKind, Severity, Signal, SuppressionReason};
use rust_decimal::Decimal;

use postloan_engine::Outcome;

use super::restore::Restored;
use super::task::Processed;

/// Receives the worker's events. Implementations must be cheap: they run on the worker thread.
pub trait Observer: Send + Sync {
    /// A commit cycle made `work` durable (published and committed), in `took_ms`.
    fn committed(&self, work: &Work, took_ms: u64);
    /// A transaction was aborted; its work will be redone.
    fn aborted(&self);
    /// A task was restored from its changelog partition.
    fn restored(&self, partition: i32, restored: &Restored, took_ms: u64);
    /// The partition numbers owned now, and whether each is restored and processing.
    fn assignment(&self, partitions: &[i32], ready: bool);
    /// How far an owned input partition's committed position is behind its end, in records.
    fn lag(&self, topic: &str, partition: i32, records: i64);
    /// The book of every owned partition together, as committed.
    fn portfolio(&self, portfolio: &Portfolio);
}

impl<T: Observer + ?Sized> Observer for std::sync::Arc<T> {
    fn committed(&self, work: &Work, took_ms: u64) {
        (**self).committed(work, took_ms);
    }
    fn aborted(&self) {
        (**self).aborted();
    }
    fn restored(&self, partition: i32, restored: &Restored, took_ms: u64) {
        (**self).restored(partition, restored, took_ms);
    }
    fn assignment(&self, partitions: &[i32], ready: bool) {
        (**self).assignment(partitions, ready);
    }
    fn lag(&self, topic: &str, partition: i32, records: i64) {
        (**self).lag(topic, partition, records);
    }
    fn portfolio(&self, portfolio: &Portfolio) {
        (**self).portfolio(portfolio);
    }
}

/// Two observers told the same events (e.g. progress counters and metrics).
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn committed(&self, work: &Work, took_ms: u64) {
        self.0.committed(work, took_ms);
        self.1.committed(work, took_ms);
    }
    fn aborted(&self) {
        self.0.aborted();
        self.1.aborted();
    }
    fn restored(&self, partition: i32, restored: &Restored, took_ms: u64) {
        self.0.restored(partition, restored, took_ms);
        self.1.restored(partition, restored, took_ms);
    }
    fn assignment(&self, partitions: &[i32], ready: bool) {
        self.0.assignment(partitions, ready);
        self.1.assignment(partitions, ready);
    }
    fn lag(&self, topic: &str, partition: i32, records: i64) {
        self.0.lag(topic, partition, records);
        self.1.lag(topic, partition, records);
    }
    fn portfolio(&self, portfolio: &Portfolio) {
        self.0.portfolio(portfolio);
        self.1.portfolio(portfolio);
    }
}

/// (branch, dealer) of a loan that rolled from 30–59 to 60+ days past due.
pub type Rolled = (Option<Arc<str>>, Option<Arc<str>>);

/// Whether an input was applied or skipped as a duplicate (rejections count by kind).
const OUTCOMES: usize = 2;
const TYPES: usize = EventType::ALL.len();
const KINDS: usize = ErrorKind::ALL.len();
const SIGNALS: usize = Signal::ALL.len();
const SEVERITIES: usize = Severity::ALL.len();
/// firing, updated, resolved, acknowledged, suppressed, reinstated.
const STATUSES: usize = AlertStatus::ALL.len();
const BUCKETS: usize = DpdBucket::ALL.len();
const MODIFICATIONS: usize = ModificationKind::ALL.len();
const REASONS: usize = SuppressionReason::ALL.len();
/// Escalation levels 1 and 2.
const LEVELS: usize = 2;

/// Counts of the work of one commit cycle, in fixed tables (bounded label sets by
/// construction).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Work {
    inputs: [[u64; OUTCOMES]; TYPES],
    rejected: [u64; KINDS],
    alerts: [[[u64; STATUSES]; SEVERITIES]; SIGNALS],
    escalations: [u64; LEVELS],
    /// Wall-clock age of each input when it was processed (now − occurred_at), seconds.
    ages_s: Vec<f64>,
    /// When each input was received (monotonic ms).
    received_ms: Vec<u64>,
    /// When this work was committed (monotonic ms), set by the worker before reporting it.
    committed_ms: u64,
    /// The latest `occurred_at` among the applied inputs.
    latest_event: Option<DateTime<Utc>>,
    /// Loans that rolled from 30–59 to 60+ days past due: (branch, dealer) of each.
    rolls: Vec<Rolled>,
    /// Loans that moved between DPD buckets: [from][to] in [`DpdBucket::ALL`] order.
    flows: [[u64; BUCKETS]; BUCKETS],
    /// Loans that closed: why, their currency and outstanding principal then.
    closed: Vec<(CloseReason, Currency, Decimal)>,
    /// First acknowledgements of open alerts: signal, severity, seconds since it opened.
    acks: Vec<(Signal, Severity, i64)>,
    /// `loan_modified` events applied, by kind.
    modifications: [u64; MODIFICATIONS],
    /// `suppression` events applied, by reason.
    suppressions: [u64; REASONS],
    /// Late events (applied with an `occurred_at` older than one applied before): input topic
    /// and lateness.
    late: Vec<(Arc<str>, chrono::Duration)>,
    /// The published messages, order-independent (compared with replay's by `demo`).
    fingerprint: Fingerprint,
}

fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

fn status_index(s: AlertStatus) -> usize {
    position(&AlertStatus::ALL, &s)
}

const STATUS_ALL: [AlertStatus; STATUSES] = AlertStatus::ALL;

impl Work {
    /// Counts one processed input, `now` being the wall clock when it was processed.
    pub fn processed(&mut self, p: &Processed, now: DateTime<Utc>) {
        self.outcome(p.outcome);
        if let Some(t) = p.occurred_at {
            self.ages_s
                .push((now - t).num_milliseconds() as f64 / 1000.0);
            if matches!(p.outcome, Outcome::Applied(_)) {
                self.latest_event = self.latest_event.max(Some(t));
            }
        }
        self.received_ms.push(p.received_ms);
    }

    /// Counts one portfolio note.
    pub fn note(&mut self, n: Note) {
        match n {
            Note::Rolled { branch, dealer } => self.rolls.push((branch, dealer)),
            Note::Flowed { from, to } => {
                self.flows[position(&DpdBucket::ALL, &from)][position(&DpdBucket::ALL, &to)] += 1;
            }
            Note::Closed(c) => self.closed.push((c.reason, c.currency, c.outstanding)),
            Note::Acked {
                signal,
                severity,
                after_s,
            } => self.acks.push((signal, severity, after_s)),
            Note::Modified(kind) => {
                self.modifications[position(&ModificationKind::ALL, &kind)] += 1;
            }
            Note::Suppression(reason) => {
                self.suppressions[position(&SuppressionReason::ALL, &reason)] += 1;
            }
            // A live run sets no watch (backtests only).
            Note::PastDue { .. } => {}
        }
    }

    /// `loan_modified` events applied, by kind, non-zero only.
    pub fn modifications(&self) -> impl Iterator<Item = (ModificationKind, u64)> + '_ {
        ModificationKind::ALL
            .into_iter()
            .zip(self.modifications)
            .filter(|(_, n)| *n > 0)
    }

    /// `suppression` events applied, by reason, non-zero only.
    pub fn suppressions(&self) -> impl Iterator<Item = (SuppressionReason, u64)> + '_ {
        SuppressionReason::ALL
            .into_iter()
            .zip(self.suppressions)
            .filter(|(_, n)| *n > 0)
    }

    /// Loans that moved between DPD buckets, (from, to, how many), non-zero only.
    pub fn flows(&self) -> impl Iterator<Item = (DpdBucket, DpdBucket, u64)> + '_ {
        DpdBucket::ALL
            .into_iter()
            .enumerate()
            .flat_map(move |(i, from)| {
                DpdBucket::ALL
                    .into_iter()
                    .zip(self.flows[i])
                    .filter(|(_, n)| *n > 0)
                    .map(move |(to, n)| (from, to, n))
            })
    }

    /// Loans that closed: why, their currency and outstanding principal then.
    pub fn closed(&self) -> &[(CloseReason, Currency, Decimal)] {
        &self.closed
    }

    /// (branch, dealer) of each loan that rolled from 30–59 to 60+ days past due.
    pub fn rolls(&self) -> &[Rolled] {
        &self.rolls
    }

    /// First acknowledgements of open alerts: signal, severity, seconds since it opened.
    pub fn acks(&self) -> &[(Signal, Severity, i64)] {
        &self.acks
    }

    /// Marks the work committed at `mono_ms`.
    pub fn commit_at(&mut self, mono_ms: u64) {
        self.committed_ms = mono_ms;
    }

    /// Each input's age when processed (wall clock − occurred_at), seconds; negative for an
    /// event stamped ahead of the clock.
    pub fn ages_s(&self) -> &[f64] {
        &self.ages_s
    }

    /// Each input's time from being received to being committed, seconds.
    pub fn latencies_s(&self) -> impl Iterator<Item = f64> + '_ {
        self.received_ms
            .iter()
            .map(|r| self.committed_ms.saturating_sub(*r) as f64 / 1000.0)
    }

    /// The latest `occurred_at` among the applied inputs.
    pub fn latest_event(&self) -> Option<DateTime<Utc>> {
        self.latest_event
    }

    /// Counts one input's outcome.
    pub fn outcome(&mut self, o: Outcome) {
        match o {
            Outcome::Applied(t) => self.inputs[position(&EventType::ALL, &t)][0] += 1,
            Outcome::Duplicate(t) => self.inputs[position(&EventType::ALL, &t)][1] += 1,
            Outcome::Rejected(k) => self.rejected[position(&ErrorKind::ALL, &k)] += 1,
        }
    }

    /// Counts one late event of input topic `topic`.
    pub fn late(&mut self, topic: &Arc<str>, by: chrono::Duration) {
        self.late.push((Arc::clone(topic), by));
    }

    /// Late events: input topic and lateness.
    pub fn late_events(&self) -> &[(Arc<str>, chrono::Duration)] {
        &self.late
    }

    /// The published messages' fingerprint.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Counts one published message; `json` is the message as published.
    pub fn output(&mut self, o: &Output, json: &[u8]) {
        self.fingerprint.add(o, json);
        match o {
            Output::Alert(a) => {
                self.alerts[a.signal.index()][position(&Severity::ALL, &a.severity)]
                    [status_index(a.status)] += 1;
            }
            Output::Escalation(e) => {
                let level = usize::from(e.level.clamp(1, 2)) - 1;
                self.escalations[level] += 1;
            }
            // Counted through the input's outcome.
            Output::Rejected(_) => {}
        }
    }

    /// Applied (`true`) or duplicate (`false`) inputs by type, non-zero only.
    pub fn inputs(&self) -> impl Iterator<Item = (EventType, bool, u64)> + '_ {
        EventType::ALL.iter().enumerate().flat_map(move |(i, t)| {
            [
                (*t, true, self.inputs[i][0]),
                (*t, false, self.inputs[i][1]),
            ]
            .into_iter()
            .filter(|(_, _, n)| *n > 0)
        })
    }

    /// Rejected inputs by kind, non-zero only.
    pub fn rejections(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL
            .iter()
            .zip(self.rejected)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (*k, n))
    }

    /// Alert messages by signal, severity and status, non-zero only.
    pub fn alerts(&self) -> impl Iterator<Item = (Signal, Severity, AlertStatus, u64)> + '_ {
        Signal::ALL.iter().flat_map(move |s| {
            Severity::ALL.iter().enumerate().flat_map(move |(v, sev)| {
                STATUS_ALL.iter().filter_map(move |st| {
                    let n = self.alerts[s.index()][v][status_index(*st)];
                    (n > 0).then_some((*s, *sev, *st, n))
                })
            })
        })
    }

    /// Escalations by level (1, 2), non-zero only.
    pub fn escalations(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        [(1, self.escalations[0]), (2, self.escalations[1])]
            .into_iter()
            .filter(|(_, n)| *n > 0)
    }

    /// Messages published: alerts, escalations and one rejection per rejected input.
    pub fn published(&self) -> u64 {
        let alerts: u64 = self.alerts.iter().flatten().flatten().sum();
        alerts + self.escalations.iter().sum::<u64>() + self.rejected.iter().sum::<u64>()
    }
}

/// Plain live counters of a worker, for progress lines, summaries and tests.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Inputs applied.
    pub applied: AtomicU64,
    /// Inputs skipped as duplicates.
    pub duplicates: AtomicU64,
    /// Inputs rejected.
    pub rejected: AtomicU64,
    /// Messages published.
    pub published: AtomicU64,
    /// Alert messages published, by signal (in [`Signal::ALL`] order).
    pub alerts_by_signal: [AtomicU64; SIGNALS],
    /// Escalations published.
    pub escalations: AtomicU64,
    /// Commit cycles completed.
    pub commits: AtomicU64,
    /// Transactions aborted (exactly-once).
    pub aborts: AtomicU64,
    /// Tasks restored from the changelog.
    pub restores: AtomicU64,
    /// Borrowers restored from the changelog, all restores together.
    pub restored_borrowers: AtomicU64,
    /// Time spent restoring, all restores together.
    pub restore_ms: AtomicU64,
    /// Partition numbers owned now.
    pub tasks: AtomicU64,
    /// Every owned partition is restored and the consumer is in the group.
    pub ready: AtomicBool,
    /// Late events applied (see [`Work::late_events`]).
    pub late: AtomicU64,
    /// Every message published (committed), order-independent.
    pub fingerprint: std::sync::Mutex<Fingerprint>,
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

fn add(c: &AtomicU64, n: u64) {
    if n > 0 {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

impl Observer for WorkerStats {
    fn committed(&self, work: &Work, _took_ms: u64) {
        for (_, applied, n) in work.inputs() {
            add(
                if applied {
                    &self.applied
                } else {
                    &self.duplicates
                },
                n,
            );
        }
        add(&self.rejected, work.rejected.iter().sum());
        add(&self.published, work.published());
        for (s, _, _, n) in work.alerts() {
            add(&self.alerts_by_signal[s.index()], n);
        }
        add(&self.escalations, work.escalations.iter().sum());
        add(&self.late, work.late.len() as u64);
        if let Ok(mut f) = self.fingerprint.lock() {
            f.merge(&work.fingerprint);
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    fn aborted(&self) {
        self.aborts.fetch_add(1, Ordering::Relaxed);
    }

    fn restored(&self, _partition: i32, restored: &Restored, took_ms: u64) {
        self.restores.fetch_add(1, Ordering::Relaxed);
        add(&self.restored_borrowers, restored.borrowers as u64);
        add(&self.restore_ms, took_ms);
    }

    fn assignment(&self, partitions: &[i32], ready: bool) {
        self.tasks.store(partitions.len() as u64, Ordering::Relaxed);
        self.ready.store(ready, Ordering::Relaxed);
    }

    fn lag(&self, _topic: &str, _partition: i32, _records: i64) {}

    fn portfolio(&self, _portfolio: &Portfolio) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use postloan_engine::testkit::{self, Kit};

    /// The tables count what the engine said, by label, and the totals agree.
    #[test]
    fn work_counts_outcomes_and_messages_by_label() {
        let mut h = Kit::new();
        let mut work = Work::default();
        work.outcome(h.send(testkit::loan(
            "b-1",
            "l-1",
            "2026-01-01T00:00:00Z",
            "2026-02-01",
        )));
        work.outcome(h.raw(b"not json"));
        let mut dup = testkit::loan("b-1", "l-1", "2026-01-01T00:00:00Z", "2026-02-01");
        dup["event_id"] = "auto-1".into();
        work.outcome(h.send(dup));
        h.advance("2026-02-11T00:00:00Z");
        for o in &h.out {
            work.output(o, o.to_json().as_bytes());
        }
        let inputs: Vec<_> = work.inputs().collect();
        assert_eq!(
            inputs,
            vec![
                (EventType::LoanOpened, true, 1),
                (EventType::LoanOpened, false, 1)
            ]
        );
        assert_eq!(
            work.rejections().collect::<Vec<_>>(),
            vec![(ErrorKind::MalformedJson, 1)]
        );
        let dpd: Vec<_> = work
            .alerts()
            .filter(|(s, _, _, _)| *s == Signal::Dpd)
            .collect();
        assert!(!dpd.is_empty(), "a DPD alert fired");
        let counted: u64 = work.inputs().map(|(_, _, n)| n).sum::<u64>()
            + work.rejections().map(|(_, n)| n).sum::<u64>();
        assert_eq!(counted, 3);
        let messages = h.out.len() as u64;
        assert_eq!(work.published(), messages);

        let stats = WorkerStats::default();
        stats.committed(&work, 1);
        assert_eq!(stats.inputs(), 3);
        assert_eq!(stats.published.load(Ordering::Relaxed), messages);
        assert_eq!(
            stats.alerts(Signal::Dpd),
            dpd.iter().map(|d| d.3).sum::<u64>()
        );
    }
}
