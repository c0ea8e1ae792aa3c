//! An in-memory Kafka for the worker's tests, honouring what the embedded mock broker does not:
//! a record sent in a transaction becomes visible only when the transaction commits (an abort,
//! or a crash followed by a restart under the same transactional id, discards it); offsets sent
//! to a transaction are stored only when it commits; a newer client with the same transactional
//! id fences the older one. Also: partitioned input logs, eager rebalances decided by the test,
//! random fetch interleaving, and faults injected at the n-th call of any client method.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::client::{ChangelogSink, Client, ClientError, Lag, Polled, Position, Rebalance, Sink};
use super::task::{Record, INPUTS};
use super::RuntimeError;

/// A message sent to an output topic: (sink, key, payload).
pub type Sent = (Sink, Vec<u8>, Vec<u8>);

#[derive(Default)]
struct Txn {
    outputs: Vec<Sent>,
    changelog: Vec<(i32, Vec<u8>, Vec<u8>)>,
    offsets: Vec<Position>,
    /// An abortable error happened: only an abort may follow.
    doomed: bool,
}

#[derive(Default)]
struct Member {
    /// Producer epoch of the newest client of this member (transactional id).
    epoch: u64,
    assigned: Vec<i32>,
    positions: HashMap<(usize, i32), i64>,
    /// Each input partition's end as this member last learnt it (see [`Cluster::stale_ends`]).
    seen_ends: HashMap<(usize, i32), i64>,
    paused: std::collections::HashSet<(usize, i32)>,
    rebalances: Vec<Rebalance>,
    txn: Option<Txn>,
}

/// The cluster: every log, the group's offsets and its members.
pub struct Cluster {
    partitions: i32,
    inputs: Vec<Vec<Vec<Record>>>,
    /// Visible (committed) output messages, in commit order.
    pub outputs: Vec<Sent>,
    changelog: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
    committed: HashMap<(usize, i32), i64>,
    members: HashMap<usize, Member>,
    faults: HashMap<(&'static str, u64), ClientError>,
    /// Records a poll returns before one empty poll ends the worker's batch, as fetch
    /// boundaries would.
    fetch_batch: u64,
    /// Injected faults that fired.
    pub triggered: u64,
    /// Input partitions paused, all pauses together.
    pub pauses: u64,
    /// Every input partition (input, partition) that was paused at some point.
    pub paused_ever: std::collections::BTreeSet<(usize, i32)>,
    /// Members learn partition ends only on every n-th poll (0: always exactly), as a consumer
    /// learns them from statistics: until the first such poll after an assignment a partition's
    /// lag is unknown, and between them the end they know may be older than the log's.
    pub stale_ends: u64,
    calls: HashMap<&'static str, u64>,
    rng: ChaCha8Rng,
}

/// A shared handle on a cluster.
pub type Shared = Rc<RefCell<Cluster>>;

impl Cluster {
    /// An empty cluster; `seed` drives the fetch interleaving.
    pub fn new(partitions: i32, seed: u64) -> Shared {
        Rc::new(RefCell::new(Cluster {
            partitions,
            inputs: vec![vec![Vec::new(); partitions as usize]; INPUTS],
            outputs: Vec::new(),
            changelog: vec![Vec::new(); partitions as usize],
            committed: HashMap::new(),
            members: HashMap::new(),
            faults: HashMap::new(),
            fetch_batch: 37,
            triggered: 0,
            pauses: 0,
            paused_ever: Default::default(),
            stale_ends: 0,
            calls: HashMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }))
    }

    /// Appends an input record (as an upstream producer would).
    pub fn produce(&mut self, input: usize, partition: i32, key: &[u8], payload: &[u8]) {
        let log = &mut self.inputs[input][partition as usize];
        log.push(Record {
            received_ms: 0,
            offset: log.len() as i64,
            key: Some(key.to_vec()),
            payload: payload.to_vec(),
            full_size: None,
        });
    }

    /// Input records of one partition.
    pub fn input(&self, input: usize, partition: i32) -> &[Record] {
        &self.inputs[input][partition as usize]
    }

    /// The group's committed offset of an input partition.
    pub fn committed(&self, input: usize, partition: i32) -> Option<i64> {
        self.committed.get(&(input, partition)).copied()
    }

    /// Makes the `nth` call (1-based, counted over all clients) of `call` fail with `error`.
    pub fn fail(&mut self, call: &'static str, nth: u64, error: ClientError) {
        self.faults.insert((call, nth), error);
    }

    /// How many times `call` was made.
    pub fn calls(&self, call: &'static str) -> u64 {
        self.calls.get(call).copied().unwrap_or(0)
    }

    /// An eager rebalance: each listed member has its partitions revoked (if any) and is then
    /// assigned the given ones.
    pub fn rebalance(&mut self, assignment: &[(usize, Vec<i32>)]) {
        for (id, ps) in assignment {
            let m = self.members.entry(*id).or_default();
            if !m.assigned.is_empty() {
                let old = std::mem::take(&mut m.assigned);
                m.rebalances.push(Rebalance::Revoked(old));
            }
            m.positions.clear();
            m.seen_ends.clear();
            for p in ps {
                for input in 0..INPUTS {
                    let at = self.committed.get(&(input, *p)).copied().unwrap_or(0);
                    m.positions.insert((input, *p), at);
                }
            }
            m.assigned = ps.clone();
            m.rebalances.push(Rebalance::Assigned(ps.clone()));
        }
    }

    /// Whether every member has read every input partition it owns to the end, and every
    /// partition is owned by someone.
    pub fn consumed(&self) -> bool {
        let mut owned = vec![false; self.partitions as usize];
        for m in self.members.values() {
            for p in &m.assigned {
                owned[*p as usize] = true;
                for input in 0..INPUTS {
                    let at = m.positions.get(&(input, *p)).copied().unwrap_or(0);
                    if (at as usize) < self.inputs[input][*p as usize].len() {
                        return false;
                    }
                }
            }
        }
        owned.iter().all(|o| *o)
    }

    fn count(&mut self, call: &'static str) -> Result<(), ClientError> {
        let n = self.calls.entry(call).or_insert(0);
        *n += 1;
        match self.faults.remove(&(call, *n)) {
            Some(e) => {
                self.triggered += 1;
                Err(e)
            }
            None => Ok(()),
        }
    }
}

/// A client of one member; connecting again under the same member id fences older clients and
/// aborts their open transaction (as `init_transactions` does).
pub struct FakeClient {
    cluster: Shared,
    member: usize,
    epoch: u64,
    eos: bool,
}

impl FakeClient {
    /// Connects member `member` (a fresh member state: no partitions until a rebalance).
    pub fn connect(cluster: &Shared, member: usize, eos: bool) -> Self {
        let mut c = cluster.borrow_mut();
        let m = c.members.entry(member).or_default();
        let epoch = m.epoch + 1;
        *m = Member {
            epoch,
            ..Member::default()
        };
        FakeClient {
            cluster: Rc::clone(cluster),
            member,
            epoch,
            eos,
        }
    }

    /// Runs `f` on this client's member after counting the call and checking fencing.
    fn with<T>(
        &mut self,
        call: &'static str,
        f: impl FnOnce(&mut Member, &mut Cluster) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let mut c = self.cluster.borrow_mut();
        let fault = c.count(call);
        let mut m = c.members.remove(&self.member).unwrap_or_default();
        let result = if m.epoch != self.epoch {
            Err(ClientError::fatal(format!(
                "{call}: producer fenced by a newer instance"
            )))
        } else {
            match fault {
                Err(e) => {
                    if let (ClientError::Abortable(_), Some(t)) = (&e, m.txn.as_mut()) {
                        t.doomed = true;
                    }
                    Err(e)
                }
                Ok(()) => f(&mut m, &mut c),
            }
        };
        c.members.insert(self.member, m);
        result
    }

    fn txn<'a>(m: &'a mut Member, call: &str) -> Result<&'a mut Txn, ClientError> {
        let t = m
            .txn
            .as_mut()
            .ok_or_else(|| ClientError::fatal(format!("{call} outside a transaction")))?;
        if t.doomed {
            return Err(ClientError::abortable(format!(
                "{call}: transaction failed"
            )));
        }
        Ok(t)
    }
}

impl Client for FakeClient {
    fn poll(&mut self, _wait: Duration) -> Result<Option<Polled>, ClientError> {
        self.with("poll", |m, c| {
            let polls = c.calls.get("poll").copied().unwrap_or(0);
            if c.stale_ends == 0 || polls % c.stale_ends == 0 {
                for p in &m.assigned {
                    for i in 0..INPUTS {
                        let end = c.inputs[i][*p as usize].len() as i64;
                        m.seen_ends.insert((i, *p), end);
                    }
                }
            }
            let ready: Vec<(usize, i32)> = m
                .assigned
                .iter()
                .flat_map(|p| (0..INPUTS).map(move |i| (i, *p)))
                .filter(|(i, p)| {
                    if m.paused.contains(&(*i, *p)) {
                        return false;
                    }
                    let at = m.positions.get(&(*i, *p)).copied().unwrap_or(0);
                    (at as usize) < c.inputs[*i][*p as usize].len()
                })
                .collect();
            if ready.is_empty() || c.calls.get("poll").is_some_and(|n| n % c.fetch_batch == 0) {
                return Ok(None);
            }
            let (input, partition) = ready[c.rng.gen_range(0..ready.len())];
            let at = m.positions.entry((input, partition)).or_insert(0);
            let record = c.inputs[input][partition as usize][*at as usize].clone();
            *at += 1;
            Ok(Some(Polled {
                input,
                partition,
                record,
            }))
        })
    }

    fn take_rebalances(&mut self) -> Vec<Rebalance> {
        self.with("take_rebalances", |m, _| {
            Ok(std::mem::take(&mut m.rebalances))
        })
        .unwrap_or_default()
    }

    fn lag(&mut self, input: usize, partition: i32) -> Lag {
        self.with("lag", |m, c| {
            let end = if c.stale_ends == 0 {
                c.inputs[input][partition as usize].len() as i64
            } else {
                match m.seen_ends.get(&(input, partition)) {
                    Some(end) => *end,
                    None => return Ok(Lag::Unknown),
                }
            };
            let at = m.positions.get(&(input, partition)).copied().unwrap_or(0);
            Ok(if at >= end {
                Lag::CaughtUp
            } else {
                Lag::Behind
            })
        })
        .unwrap_or(Lag::Unknown)
    }

    fn pause(&mut self, input: usize, partition: i32, paused: bool) -> Result<(), ClientError> {
        self.with("pause", |m, c| {
            c.pauses += u64::from(paused);
            if paused {
                c.paused_ever.insert((input, partition));
                m.paused.insert((input, partition));
            } else {
                m.paused.remove(&(input, partition));
            }
            Ok(())
        })
    }

    fn seek(
        &mut self,
        input: usize,
        partition: i32,
        offset: Option<i64>,
    ) -> Result<(), ClientError> {
        self.with("seek", |m, c| {
            if !m.assigned.contains(&partition) {
                return Err(ClientError::fatal(format!(
                    "seek on unassigned partition {partition}"
                )));
            }
            let to = offset
                .unwrap_or_else(|| c.committed.get(&(input, partition)).copied().unwrap_or(0));
            m.positions.insert((input, partition), to);
            Ok(())
        })
    }

    fn read_changelog(
        &mut self,
        partition: i32,
        each: &mut ChangelogSink<'_>,
    ) -> Result<(), RuntimeError> {
        let records = self.cluster.borrow().changelog[partition as usize].clone();
        for (offset, (k, v)) in records.iter().enumerate() {
            each(offset as i64, k, v).map_err(RuntimeError::Restore)?;
        }
        Ok(())
    }

    fn send(&mut self, sink: Sink, key: &[u8], payload: &[u8]) -> Result<(), ClientError> {
        let eos = self.eos;
        self.with("send", |m, c| {
            let msg = (sink, key.to_vec(), payload.to_vec());
            if eos {
                Self::txn(m, "send")?.outputs.push(msg);
            } else {
                c.outputs.push(msg);
            }
            Ok(())
        })
    }

    fn send_changelog(
        &mut self,
        partition: i32,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), ClientError> {
        let eos = self.eos;
        self.with("send_changelog", |m, c| {
            if eos {
                Self::txn(m, "send_changelog")?.changelog.push((
                    partition,
                    key.to_vec(),
                    value.to_vec(),
                ));
            } else {
                c.changelog[partition as usize].push((key.to_vec(), value.to_vec()));
            }
            Ok(())
        })
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        self.with("flush", |_, _| Ok(()))
    }

    fn commit_offsets(&mut self, positions: &[Position]) -> Result<(), ClientError> {
        self.with("commit_offsets", |_, c| {
            for (input, p, next) in positions {
                c.committed.insert((*input, *p), *next);
            }
            Ok(())
        })
    }

    fn begin_transaction(&mut self) -> Result<(), ClientError> {
        self.with("begin_transaction", |m, _| {
            if m.txn.is_some() {
                return Err(ClientError::fatal("a transaction is already open"));
            }
            m.txn = Some(Txn::default());
            Ok(())
        })
    }

    fn send_offsets_to_transaction(&mut self, positions: &[Position]) -> Result<(), ClientError> {
        self.with("send_offsets_to_transaction", |m, _| {
            let t = Self::txn(m, "send_offsets_to_transaction")?;
            t.offsets.extend_from_slice(positions);
            Ok(())
        })
    }

    fn commit_transaction(&mut self) -> Result<(), ClientError> {
        self.with("commit_transaction", |m, c| {
            Self::txn(m, "commit_transaction")?;
            let Some(t) = m.txn.take() else {
                return Err(ClientError::fatal("no transaction"));
            };
            c.outputs.extend(t.outputs);
            for (p, k, v) in t.changelog {
                c.changelog[p as usize].push((k, v));
            }
            for (input, p, next) in t.offsets {
                c.committed.insert((input, p), next);
            }
            Ok(())
        })
    }

    fn lag_behind(&mut self, positions: &[Position]) -> Vec<Position> {
        let c = self.cluster.borrow();
        positions
            .iter()
            .map(|(input, p, next)| {
                let end = c.inputs[*input][*p as usize].len() as i64;
                (*input, *p, end - next)
            })
            .collect()
    }

    fn abort_transaction(&mut self) -> Result<(), ClientError> {
        self.with("abort_transaction", |m, _| {
            m.txn = None;
            Ok(())
        })
    }
}
