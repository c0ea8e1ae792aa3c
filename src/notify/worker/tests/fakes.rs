//! Fakes for the worker: a Kafka of in-memory logs shared by successive workers (so a crash
//! and restart can be played), Alertmanagers that go down and refuse on cue, a clock that
//! moves only when the feed waits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::super::*;

/// The cluster: topic logs, the state topic, committed offsets.
#[derive(Default)]
pub struct Kafka {
    pub logs: BTreeMap<(Topic, i32), Vec<Vec<u8>>>,
    pub state: BTreeMap<i32, Vec<StateEntry>>,
    pub committed: BTreeMap<(Topic, i32), i64>,
}

impl Kafka {
    pub fn append(&mut self, topic: Topic, partition: i32, payload: Vec<u8>) {
        self.logs
            .entry((topic, partition))
            .or_default()
            .push(payload);
    }
}

pub type Shared = Arc<Mutex<Kafka>>;

pub struct Feed {
    pub kafka: Shared,
    pub clock: Arc<AtomicU64>,
    pub owned: Vec<i32>,
    pub positions: BTreeMap<(Topic, i32), i64>,
    pub paused: bool,
    pub rebalances: Vec<Rebalance>,
    pub unflushed: Vec<(i32, String, Option<Vec<u8>>)>,
    /// Alternates topics when both have records (escalations first when set).
    pub turn: bool,
    /// Once this many records were polled, the next commit crashes the process: before it
    /// takes effect, or (with `crash_after_committing`) just after.
    pub crash_at_commit_after: Option<usize>,
    pub crash_after_committing: bool,
    pub polled: usize,
    pub pauses: usize,
    /// The clock at every commit.
    pub commits: Vec<u64>,
}

impl Feed {
    pub fn new(kafka: Shared, clock: Arc<AtomicU64>, owned: Vec<i32>) -> Self {
        let positions = {
            let k = kafka.lock().unwrap();
            owned
                .iter()
                .flat_map(|p| [(Topic::Alerts, *p), (Topic::Escalations, *p)])
                .map(|key| (key, k.committed.get(&key).copied().unwrap_or(0)))
                .collect()
        };
        Feed {
            kafka,
            clock,
            rebalances: vec![Rebalance::Assigned(owned.clone())],
            owned,
            positions,
            paused: false,
            unflushed: Vec::new(),
            turn: false,
            crash_at_commit_after: None,
            crash_after_committing: false,
            polled: 0,
            pauses: 0,
            commits: Vec::new(),
        }
    }
}

impl super::super::Feed for Feed {
    fn poll(&mut self, wait: StdDuration) -> Result<Option<Record>, NotifyError> {
        if !self.paused {
            let k = self.kafka.lock().unwrap();
            self.turn = !self.turn;
            let order = if self.turn {
                [Topic::Escalations, Topic::Alerts]
            } else {
                [Topic::Alerts, Topic::Escalations]
            };
            for topic in order {
                for p in &self.owned {
                    let at = self.positions[&(topic, *p)];
                    if let Some(payload) = k.logs.get(&(topic, *p)).and_then(|l| l.get(at as usize))
                    {
                        let r = Record {
                            input: topic,
                            partition: *p,
                            record: crate::stream::Record {
                                offset: at,
                                key: None,
                                payload: payload.clone(),
                                full_size: None,
                                received_ms: 0,
                            },
                        };
                        self.positions.insert((topic, *p), at + 1);
                        self.polled += 1;
                        return Ok(Some(r));
                    }
                }
            }
        }
        self.clock
            .fetch_add(wait.as_millis().max(1) as u64, Ordering::SeqCst);
        Ok(None)
    }

    fn rebalances(&mut self) -> Vec<Rebalance> {
        std::mem::take(&mut self.rebalances)
    }

    fn pause(&mut self) -> Result<(), NotifyError> {
        self.paused = true;
        self.pauses += 1;
        Ok(())
    }

    fn resume(&mut self) -> Result<(), NotifyError> {
        self.paused = false;
        Ok(())
    }

    fn restore(&mut self, partition: i32) -> Result<Vec<StateEntry>, NotifyError> {
        Ok(self
            .kafka
            .lock()
            .unwrap()
            .state
            .get(&partition)
            .cloned()
            .unwrap_or_default())
    }

    fn save(&mut self, partition: i32, key: &str, value: Option<&[u8]>) -> Result<(), NotifyError> {
        self.unflushed
            .push((partition, key.to_owned(), value.map(<[u8]>::to_vec)));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), NotifyError> {
        let mut k = self.kafka.lock().unwrap();
        for (p, key, value) in self.unflushed.drain(..) {
            k.state.entry(p).or_default().push((key, value));
        }
        Ok(())
    }

    fn commit(&mut self, offsets: &[(Topic, i32, i64)]) -> Result<(), NotifyError> {
        let crash = self.crash_at_commit_after.is_some_and(|n| self.polled >= n);
        if crash && !self.crash_after_committing {
            return Err(NotifyError::Kafka(ClientError::fatal("crash (test)")));
        }
        self.commits.push(self.clock.load(Ordering::SeqCst));
        let mut k = self.kafka.lock().unwrap();
        for (t, p, o) in offsets {
            k.committed.insert((*t, *p), *o);
        }
        if crash {
            return Err(NotifyError::Kafka(ClientError::fatal("crash (test)")));
        }
        Ok(())
    }
}

/// What one Alertmanager holds: by escalation_id, (startsAt, endsAt) as last posted, and how
/// many times each was posted with a changed endsAt kind (firing ↔ ended).
#[derive(Default, Debug)]
pub struct View {
    pub alerts: BTreeMap<String, (String, String)>,
    /// Every post of a notice as (escalation_id, firing?), in order.
    pub posts: Vec<(String, bool)>,
}

pub struct Am {
    pub clock: Arc<AtomicU64>,
    /// Per target: unreachable while the clock is below this.
    pub down_until: Vec<u64>,
    /// Per target: refuse (400) this many more posts.
    pub refuse: Vec<usize>,
    pub views: Vec<View>,
    /// (target, clock, outcome) of every attempt.
    pub attempts: Vec<(usize, u64, &'static str)>,
    pub now: Arc<Mutex<DateTime<Utc>>>,
}

impl Am {
    pub fn new(targets: usize, clock: Arc<AtomicU64>, now: Arc<Mutex<DateTime<Utc>>>) -> Self {
        Am {
            clock,
            down_until: vec![0; targets],
            refuse: vec![0; targets],
            views: (0..targets).map(|_| View::default()).collect(),
            attempts: Vec::new(),
            now,
        }
    }
}

impl Deliver for Am {
    fn targets(&self) -> usize {
        self.views.len()
    }

    fn post(&mut self, target: usize, body: &[u8]) -> Posted {
        let t = self.clock.load(Ordering::SeqCst);
        if t < self.down_until[target] {
            self.attempts.push((target, t, "unreachable"));
            return Posted::Retry("unreachable");
        }
        if self.refuse[target] > 0 {
            self.refuse[target] -= 1;
            self.attempts.push((target, t, "rejected"));
            return Posted::Rejected {
                status: 400,
                body: "bad".to_owned(),
            };
        }
        self.attempts.push((target, t, "accepted"));
        let now = *self.now.lock().unwrap();
        let alerts: Vec<serde_json::Value> = serde_json::from_slice(body).unwrap();
        for a in alerts {
            let id = a["labels"]["escalation_id"].as_str().unwrap().to_owned();
            let ends = a["endsAt"].as_str().unwrap().to_owned();
            let firing = DateTime::parse_from_rfc3339(&ends).unwrap() > now;
            self.views[target].posts.push((id.clone(), firing));
            self.views[target]
                .alerts
                .insert(id, (a["startsAt"].as_str().unwrap().to_owned(), ends));
        }
        Posted::Accepted
    }
}

pub struct Clock {
    pub mono: Arc<AtomicU64>,
    pub now: Arc<Mutex<DateTime<Utc>>>,
}

impl super::super::Clock for Clock {
    fn now(&self) -> crate::stream::Now {
        crate::stream::Now {
            mono_ms: self.mono.load(Ordering::SeqCst),
            utc: *self.now.lock().unwrap(),
        }
    }
}

/// Counts what the worker reports.
#[derive(Default)]
pub struct Counts {
    pub sent: Mutex<BTreeMap<u8, u64>>,
    pub ended: Mutex<BTreeMap<AlertStatus, u64>>,
    pub failed: Mutex<BTreeMap<String, u64>>,
    pub bad: Mutex<u64>,
    pub delivered: Mutex<u64>,
    pub queue: Mutex<(usize, usize)>,
}

impl NotifyObserver for Counts {
    fn notice_sent(&self, level: u8) {
        *self.sent.lock().unwrap().entry(level).or_default() += 1;
    }
    fn notice_ended(&self, status: AlertStatus) {
        *self.ended.lock().unwrap().entry(status).or_default() += 1;
    }
    fn delivery_failed(&self, reason: &str) {
        *self
            .failed
            .lock()
            .unwrap()
            .entry(reason.to_owned())
            .or_default() += 1;
    }
    fn delivered(&self, _: DateTime<Utc>) {
        *self.delivered.lock().unwrap() += 1;
    }
    fn queue(&self, pending: usize, open: usize) {
        *self.queue.lock().unwrap() = (pending, open);
    }
    fn bad_record(&self, _: Topic) {
        *self.bad.lock().unwrap() += 1;
    }
    fn ready(&self, _: bool) {}
}
