//! The loop against fakes: every notice reaches every Alertmanager and ends there; an
//! outage pauses consumption and retries with backoff, committing nothing meanwhile; a 4xx
//! is counted and dropped; a crash at any commit loses nothing and resolves nothing wrongly;
//! a partition moved to another worker brings its open notices along.

mod fakes;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use super::*;
use fakes::{Am, Counts, Kafka, Shared};
use postloan_engine::output::Output;
use postloan_engine::testkit::at;

/// The monitor's messages for three borrowers (b-1 and b-3 on partition 0, b-2 on 1): an
/// acknowledged escalation, a suppressed one, resolved ones and open ones.
fn cluster() -> Shared {
    let mut k = Kafka::default();
    for m in &crate::notify::scenario::messages() {
        let (topic, borrower) = match m {
            Output::Alert(a) => (Topic::Alerts, a.borrower_id.clone()),
            Output::Escalation(e) => (Topic::Escalations, e.borrower_id.clone()),
            Output::Rejected(_) => continue,
        };
        let partition = i32::from(borrower == "b-2");
        k.append(topic, partition, m.to_json().into_bytes());
    }
    Arc::new(Mutex::new(k))
}

struct Rig {
    kafka: Shared,
    mono: Arc<AtomicU64>,
    now: Arc<Mutex<DateTime<Utc>>>,
    counts: Arc<Counts>,
}

impl Rig {
    fn new() -> Self {
        Rig {
            kafka: cluster(),
            mono: Arc::new(AtomicU64::new(0)),
            now: Arc::new(Mutex::new(at("2026-06-01T01:00:00Z"))),
            counts: Arc::new(Counts::default()),
        }
    }

    fn am(&self, targets: usize) -> Am {
        Am::new(targets, Arc::clone(&self.mono), Arc::clone(&self.now))
    }

    fn worker(&self, owned: Vec<i32>, am: Am) -> Worker<fakes::Feed, Am> {
        let feed = fakes::Feed::new(Arc::clone(&self.kafka), Arc::clone(&self.mono), owned);
        let clock = fakes::Clock {
            mono: Arc::clone(&self.mono),
            now: Arc::clone(&self.now),
        };
        let settings = NotifySettings {
            resend_ms: 3_600_000,
            lease: Duration::minutes(10),
            backoff_ms: 500,
            max_backoff_ms: 8_000,
            per_request: 2,
            batch: 7,
            grace: Duration::hours(24),
            link_template: String::new(),
        };
        Worker::new(
            feed,
            am,
            Box::new(clock),
            self.counts.clone(),
            settings,
            CancellationToken::new(),
        )
    }

    /// The notices the monitor's order gives: escalation id → open.
    fn expected(&self) -> BTreeMap<String, bool> {
        let k = self.kafka.lock().unwrap();
        let mut book = Book::default();
        for ((topic, _), log) in &k.logs {
            if *topic == Topic::Escalations {
                for p in log {
                    book.escalation(Escalation::from_json(p).unwrap());
                }
            }
        }
        for ((topic, _), log) in &k.logs {
            if *topic == Topic::Alerts {
                for p in log {
                    book.alert(wire::alert(p).unwrap());
                }
            }
        }
        book.notices()
            .map(|n| (n.escalation.escalation_id.clone(), n.ended.is_none()))
            .collect()
    }
}

/// Steps until everything is read and delivered.
fn settle(w: &mut Worker<fakes::Feed, Am>) {
    for _ in 0..500 {
        w.step().unwrap();
        let read_all = {
            let f = w.feed_mut();
            let k = f.kafka.lock().unwrap();
            f.owned.iter().all(|p| {
                [Topic::Alerts, Topic::Escalations].iter().all(|t| {
                    let len = k.logs.get(&(*t, *p)).map_or(0, Vec::len) as i64;
                    k.committed.get(&(*t, *p)).copied().unwrap_or(0) == len
                })
            })
        };
        let pending: usize = w.books().values().map(|b| b.pending().len()).sum();
        if read_all && pending == 0 {
            return;
        }
    }
    panic!("the worker did not settle");
}

/// What an Alertmanager shows: escalation id → firing.
fn shown(view: &fakes::View, now: DateTime<Utc>) -> BTreeMap<String, bool> {
    view.alerts
        .iter()
        .map(|(id, (_, ends))| {
            (
                id.clone(),
                DateTime::parse_from_rfc3339(ends).unwrap() > now,
            )
        })
        .collect()
}

#[test]
fn every_notice_reaches_every_alertmanager_and_ended_ones_end() {
    let rig = Rig::new();
    let expected = rig.expected();
    // b-1's ack, b-2's suppression and b-3's payment end notices; b-2's level 2 after the
    // lapse stays open.
    assert!(expected.values().any(|open| *open) && expected.values().any(|open| !*open));
    let mut w = rig.worker(vec![0, 1], rig.am(2));
    settle(&mut w);
    let now = *rig.now.lock().unwrap();
    for view in &w.deliver_mut().views {
        let shown = shown(view, now);
        // Ended before they were ever delivered: Alertmanager may never hear of those.
        let expected_shown: BTreeMap<_, _> = expected
            .iter()
            .filter(|(id, _)| shown.contains_key(*id) || expected[*id])
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        assert_eq!(shown, expected_shown);
        // Each notice posted at most once firing and once ended: no repeats.
        let mut posts: BTreeMap<&str, Vec<bool>> = BTreeMap::new();
        for (id, firing) in &view.posts {
            posts.entry(id).or_default().push(*firing);
        }
        for (id, p) in &posts {
            assert!(
                matches!(p.as_slice(), [true] | [false] | [true, false]),
                "{id}: {p:?}"
            );
        }
    }
    let sent: u64 = rig.counts.sent.lock().unwrap().values().sum();
    let ended: u64 = rig.counts.ended.lock().unwrap().values().sum();
    assert_eq!(ended as usize, expected.values().filter(|o| !**o).count());
    assert!(sent as usize >= expected.values().filter(|o| **o).count());
    assert_eq!(
        *rig.counts.queue.lock().unwrap(),
        (0, expected.values().filter(|o| **o).count())
    );
}

#[test]
fn an_outage_pauses_consumption_retries_with_capped_backoff_and_commits_after() {
    let rig = Rig::new();
    let mut am = rig.am(2);
    // The first Alertmanager is down for the first 30 s; the second is up.
    am.down_until[0] = 30_000;
    let mut w = rig.worker(vec![0, 1], am);
    settle(&mut w);
    let attempts: Vec<u64> = w
        .deliver_mut()
        .attempts
        .iter()
        .filter(|(t, _, _)| *t == 0)
        .map(|(_, at, _)| *at)
        .collect();
    // One body per attempt round for target 0 (the first batch's notices fit in one round):
    // the waits double from 500 ms and stop at 8 s.
    let first_ok = w
        .deliver_mut()
        .attempts
        .iter()
        .position(|(t, _, o)| *t == 0 && *o == "accepted")
        .unwrap();
    let gaps: Vec<u64> = attempts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0)
        .collect();
    assert!(
        gaps.starts_with(&[500, 1000, 2000, 4000, 8000, 8000]),
        "{gaps:?}"
    );
    let recovered = w.deliver_mut().attempts[first_ok].1;
    assert!(recovered >= 30_000);
    assert_eq!(w.feed_mut().pauses, 1);
    // Nothing was committed between the first failure and the recovery.
    let failed_first = attempts[0];
    assert!(
        w.feed_mut()
            .commits
            .iter()
            .all(|c| *c < failed_first || *c >= recovered),
        "{:?}",
        w.feed_mut().commits
    );
    assert_eq!(
        rig.counts.failed.lock().unwrap()["unreachable"] as usize,
        attempts.iter().filter(|t| **t < 30_000).count()
    );
    // The second Alertmanager got each change once, not once per retry round.
    for (id, p) in w.deliver_mut().views[1].posts.iter().fold(
        BTreeMap::<&str, Vec<bool>>::new(),
        |mut m, (id, f)| {
            m.entry(id).or_default().push(*f);
            m
        },
    ) {
        assert!(
            matches!(p.as_slice(), [true] | [false] | [true, false]),
            "{id}: {p:?}"
        );
    }
    // Both end up showing the same.
    let now = *rig.now.lock().unwrap();
    assert_eq!(
        shown(&w.deliver_mut().views[0], now),
        shown(&w.deliver_mut().views[1], now)
    );
}

#[test]
fn a_refusal_is_counted_and_not_retried() {
    let rig = Rig::new();
    let mut am = rig.am(1);
    am.refuse[0] = 1;
    let mut w = rig.worker(vec![0, 1], am);
    settle(&mut w);
    assert_eq!(rig.counts.failed.lock().unwrap().get("rejected"), Some(&1));
    let rejected = w
        .deliver_mut()
        .attempts
        .iter()
        .filter(|(_, _, o)| *o == "rejected")
        .count();
    assert_eq!(rejected, 1);
    assert_eq!(w.feed_mut().pauses, 0);
}

#[test]
fn a_crash_at_any_commit_loses_no_notice_and_resolves_none_wrongly() {
    let reference = {
        let rig = Rig::new();
        let mut w = rig.worker(vec![0, 1], rig.am(1));
        settle(&mut w);
        let now = *rig.now.lock().unwrap();
        shown(&w.deliver_mut().views[0], now)
    };
    let total: usize = cluster().lock().unwrap().logs.values().map(Vec::len).sum();
    for (crash_after, after_committing) in (1..=total).flat_map(|n| [(n, false), (n, true)]) {
        let rig = Rig::new();
        let expected = rig.expected();
        let mut first = rig.worker(vec![0, 1], rig.am(1));
        first.feed_mut().crash_at_commit_after = Some(crash_after);
        first.feed_mut().crash_after_committing = after_committing;
        let mut crashed = false;
        for _ in 0..200 {
            if first.step().is_err() {
                crashed = true;
                break;
            }
        }
        assert!(crashed, "no crash after {crash_after}");
        let (_, am) = first.into_parts();
        let mut second = rig.worker(vec![0, 1], am);
        settle(&mut second);
        let now = *rig.now.lock().unwrap();
        let view = &second.deliver_mut().views[0];
        assert_eq!(
            shown(view, now),
            reference,
            "crash after {crash_after} records"
        );
        // Nothing open was ever shown ended.
        for (id, firing) in &view.posts {
            assert!(
                *firing || !expected[id],
                "{id} shown ended (crash after {crash_after})"
            );
        }
    }
}

#[test]
fn a_partition_moved_to_another_worker_brings_its_open_notices() {
    let rig = Rig::new();
    let mut a = rig.worker(vec![0, 1], rig.am(1));
    settle(&mut a);
    let open_on_1 = a.books()[&1].open().count();
    assert!(open_on_1 > 0);
    a.feed_mut().rebalances.push(Rebalance::Revoked(vec![1]));
    a.feed_mut().owned = vec![0];
    a.step().unwrap();
    assert!(!a.books().contains_key(&1));
    // A second worker (its own Alertmanager view, to see what it sends) takes partition 1:
    // it restores the notices from the state topic and sends the open ones at once.
    let mut b = rig.worker(vec![1], rig.am(1));
    b.step().unwrap();
    assert_eq!(b.books()[&1].open().count(), open_on_1);
    let now = *rig.now.lock().unwrap();
    let shown = shown(&b.deliver_mut().views[0], now);
    assert_eq!(shown.values().filter(|f| **f).count(), open_on_1);
}
