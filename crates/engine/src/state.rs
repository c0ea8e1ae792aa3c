//! Per-borrower state: open loans, observations, alert slots, remembered event ids.
//!
//! Kept small on purpose (a book has millions of borrowers): ids that only need comparing are
//! stored as 64-bit xxh3 hashes, histories are pruned to what a signal can still look at, and
//! portfolio labels are interned.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::bands::{AlertCount, Class, LoanCount};
use super::event::Currency;
use super::schedule::Terms;
use super::serde_forms::{date, dec, instant, opt_instant};
use super::settings::Classification;
use super::time::start_of_day;
use super::types::{Severity, Signal, SignalSet, SuppressionReason};

/// Stable 64-bit hash of an id (xxh3: a fixed algorithm, so hashes survive restarts and
/// upgrades). Two distinct ids of one borrower collide with probability ~n²/2^65.
pub fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// One applied event, remembered to recognise its redelivery: 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// [`id_hash`] of its `event_id`.
    pub id: u64,
    /// [`crate::canonical::payload_hash`] of its payload; [`Seen::UNKNOWN_PAYLOAD`] for an
    /// event remembered by a build that kept only ids (snapshot format 4 and before).
    pub payload: u64,
    /// Its `occurred_at`, in whole seconds since 1970 (how a conflicting duplicate names the
    /// event it conflicts with); `i64::MIN` when not known.
    pub at_secs: i64,
}

impl Seen {
    /// The payload hash of an event remembered without one: any redelivery of it counts as
    /// identical (the conflict cannot be told).
    pub const UNKNOWN_PAYLOAD: u64 = 0;

    /// An event applied now.
    pub fn new(id: u64, payload: u64, at: DateTime<Utc>) -> Self {
        Seen {
            id,
            // The one value that means "unknown" is never a real hash.
            payload: payload.max(1),
            at_secs: at.timestamp(),
        }
    }

    /// An event remembered by an older build: only its id is known.
    pub fn id_only(id: u64) -> Self {
        Seen {
            id,
            payload: Self::UNKNOWN_PAYLOAD,
            at_secs: i64::MIN,
        }
    }

    /// Whether a redelivery with payload hash `payload` differs from this event (never for an
    /// event remembered without its payload).
    pub fn conflicts_with(&self, payload: u64) -> bool {
        self.payload != Self::UNKNOWN_PAYLOAD && self.payload != payload.max(1)
    }

    /// Its `occurred_at`, when known.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        (self.at_secs != i64::MIN)
            .then(|| DateTime::from_timestamp(self.at_secs, 0))
            .flatten()
    }
}

/// Arrival-aware ordering of observations: by `occurred_at`, then by arrival within the borrower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamp {
    /// Event time.
    #[serde(with = "instant")]
    pub at: DateTime<Utc>,
    /// The borrower's arrival counter when it was applied.
    pub seq: u32,
}

/// A dated amount (income observation or collateral valuation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// When it was observed.
    pub stamp: Stamp,
    /// Its business date.
    #[serde(with = "date")]
    pub date: NaiveDate,
    /// The amount.
    #[serde(with = "dec")]
    pub value: Decimal,
}

/// Low-cardinality portfolio labels of a loan (interned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// Relationship manager.
    pub manager_id: Option<Arc<str>>,
    /// Branch.
    pub branch_id: Option<Arc<str>>,
    /// Dealer that sold the vehicle.
    pub dealer_id: Option<Arc<str>>,
}

/// A received payment, remembered so a reversal can take back its amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Hash of `payment_id`.
    pub id: u64,
    /// The amount received.
    #[serde(with = "dec")]
    pub amount: Decimal,
}

/// A failed debit that still counts (newer than the last received payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// When it happened.
    pub stamp: Stamp,
    /// The producer's reason, when given.
    pub reason: Option<Box<str>>,
}

/// An open loan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Loan {
    /// Its id.
    pub id: Arc<str>,
    /// Its currency.
    pub currency: Currency,
    /// Its schedule.
    pub terms: Terms,
    /// Business date it opened (for staleness of income when there is none).
    #[serde(with = "date")]
    pub opened_date: NaiveDate,
    /// Portfolio labels.
    pub labels: Labels,
    /// Cumulative received − reversed.
    #[serde(with = "dec")]
    pub paid: Decimal,
    /// Received payments by id hash.
    pub payments: Vec<Payment>,
    /// Id hashes of the received payments since reversed (rare, so kept apart).
    pub reversed: Vec<u64>,
    /// The latest received payment.
    pub last_received: Option<Stamp>,
    /// Failures newer than `last_received`, oldest first.
    pub failures: Vec<Failure>,
    /// Valuations (origination first), oldest first, pruned to the collateral-drop window.
    pub valuations: Vec<Observation>,
    /// Installments covered by `paid` when `outstanding` was computed.
    pub covered: u32,
    /// Outstanding principal after `covered` installments.
    #[serde(with = "dec")]
    pub outstanding: Decimal,
    /// Its latest restructure, if it had one.
    pub restructured: Option<Restructured>,
    /// What it last added to the engine's portfolio (not stored: recounted on restore).
    #[serde(skip)]
    pub counted: Option<LoanCount>,
}

/// What a loan remembers of its latest restructure: when, and the class floor the
/// classification's observation period keeps it at (the class it had just before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restructured {
    /// The restructure's `effective_date`.
    #[serde(with = "date")]
    pub effective_date: NaiveDate,
    /// The business date it was applied (of its effective instant): the observation period
    /// runs 12 months from here.
    #[serde(with = "date")]
    pub on: NaiveDate,
    /// The loan's DPD just before it was applied.
    pub dpd_before: u32,
    /// The DPD whose class is the floor: `dpd_before`, or the floor of an earlier restructure
    /// whose observation period was still running, whichever is worse.
    pub floor_dpd: u32,
    /// Whether an earlier restructure's observation period was still running (the loan was
    /// then at least special mention whatever its DPD).
    pub floor_watch: bool,
}

/// Months a restructured loan stays under observation (the contract fixes it).
pub const OBSERVATION_MONTHS: u32 = 12;

impl Restructured {
    /// Whether business date `date` is inside its observation period: from the date it was
    /// applied to the day before the same date `OBSERVATION_MONTHS` later (month-end clamped).
    pub fn observing(&self, date: NaiveDate) -> bool {
        date >= self.on && date < self.observed_until()
    }

    /// The first business date after its observation period.
    pub fn observed_until(&self) -> NaiveDate {
        self.on
            .checked_add_months(chrono::Months::new(OBSERVATION_MONTHS))
            .unwrap_or(NaiveDate::MAX)
    }
}

impl Loan {
    /// Its class on business date `today` when `dpd` days past due: by DPD, held during a
    /// restructure's observation period (see [`Classification::of_observed`]).
    pub fn class(&self, dpd: u32, today: NaiveDate, c: &Classification) -> Class {
        match &self.restructured {
            Some(r) if r.observing(today) => c.of_observed(dpd, r.floor_dpd, r.floor_watch),
            _ => c.of_dpd(dpd),
        }
    }
}

/// A suppression in force: contact about the alert slots it covers pauses until it lapses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `suppression_id`: a later suppression with the same id replaces it.
    pub id: Arc<str>,
    /// The loan it is limited to; `None`: borrower-scope slots and every loan's.
    pub loan_id: Option<Arc<str>>,
    /// The signals it covers.
    pub signals: SignalSet,
    /// The last business date it covers.
    #[serde(with = "date")]
    pub until: NaiveDate,
    /// Why.
    pub reason: SuppressionReason,
    /// Who granted it.
    pub granted_by: Arc<str>,
}

impl Suppression {
    /// Whether it covers the slot (loan or none, signal): it names the signal and has no loan
    /// or the slot's loan (borrower-scope slots only by one without a loan).
    pub fn covers(&self, loan_id: Option<&str>, signal: Signal) -> bool {
        self.signals.contains(signal)
            && match (&self.loan_id, loan_id) {
                (None, _) => true,
                (Some(own), Some(slot)) => &**own == slot,
                (Some(_), None) => false,
            }
    }

    /// The instant it lapses: the local midnight that starts the day after `until`.
    pub fn lapses_at(&self, tz: chrono_tz::Tz) -> DateTime<Utc> {
        match self.until.succ_opt() {
            Some(next) => start_of_day(next, tz),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }
}

/// An acknowledgement of an open alert (contract v2): who, their note, and the severity it
/// covers the alert up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// `acked_by`; empty for an acknowledgement restored from format 2, which did not keep it.
    pub by: Arc<str>,
    /// `note`, when given.
    pub note: Option<Arc<str>>,
    /// The alert's severity when acknowledged.
    pub severity: Severity,
}

/// An alert that is open now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAlert {
    /// Current severity.
    pub severity: Severity,
    /// Instant it fired.
    #[serde(with = "instant")]
    pub opened_at: DateTime<Utc>,
    /// Lifecycle messages published so far (the `k` of `message_id`).
    pub messages: u32,
    /// The acknowledgement that covers it: no escalation while its severity stays at or below
    /// the acknowledged one.
    pub ack: Option<Ack>,
    /// Who last acknowledged it, once that acknowledgement stopped covering it (its severity
    /// rose above the acknowledged one); shown on later escalations.
    pub previously_acked_by: Option<Arc<str>>,
    /// Instant an acknowledgement last stopped covering it: escalation counts from the latest
    /// of this and `high_since`.
    #[serde(with = "opt_instant")]
    pub uncovered_at: Option<DateTime<Utc>>,
    /// The suppression that paused it, while its slot is suppressed (its messages then are
    /// only `resolved` and `acknowledged`).
    pub suppressed: Option<Arc<str>>,
    /// Instant a suppression of its slot last lapsed: escalation counts from the latest of this,
    /// `uncovered_at` and `high_since`.
    #[serde(with = "opt_instant")]
    pub unsuppressed_at: Option<DateTime<Utc>>,
    /// Instant it last reached the escalation severity, while it stays there.
    #[serde(with = "opt_instant")]
    pub high_since: Option<DateTime<Utc>>,
    /// Escalation levels already sent (bit 0: level 1, bit 1: level 2).
    pub levels_sent: u8,
    /// Labels captured when it fired.
    pub labels: Labels,
}

/// One (loan or none, signal): how many alerts it ever opened, and the open one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertSlot {
    /// The loan for loan-scope signals.
    pub loan_id: Option<Arc<str>>,
    /// The signal.
    pub signal: Signal,
    /// Alerts ever opened here: the `n` of the latest alert id.
    pub opened: u32,
    /// The open alert (always number `opened`), boxed: most slots are closed most of the time,
    /// and inline it made every slot four times larger.
    pub open: Option<Box<OpenAlert>>,
    /// What the open alert last added to the engine's portfolio (not stored).
    #[serde(skip)]
    pub counted: Option<AlertCount>,
}

/// Everything the monitor knows about one borrower.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Borrower {
    /// Its id.
    pub id: Arc<str>,
    /// Order in which the engine first saw it; breaks ties between timers due at one instant.
    pub created: u64,
    /// Arrival counter for [`Stamp`]s.
    pub seq: u32,
    /// Applied event ids, oldest first, at most `limits.max_event_ids_per_borrower`.
    pub seen: Vec<Seen>,
    /// Open loans, in the order they opened.
    pub loans: Vec<Loan>,
    /// Latest income observations, oldest first (at most the window + 1).
    pub incomes: Vec<Observation>,
    /// Alert slots, in the order they were first used.
    pub alerts: Vec<AlertSlot>,
    /// Suppressions in force, in the order they were granted (a replacement keeps its place).
    pub suppressions: Vec<Suppression>,
    /// The engine's clock when its latest event was applied (how long a borrower without
    /// loans is kept counts from here).
    #[serde(with = "opt_instant")]
    pub last_event_at: Option<DateTime<Utc>>,
    /// When its timer is due, if it has one (mirrors the engine's timer set; re-armed on
    /// restore, not stored).
    #[serde(skip)]
    pub next_wake: Option<DateTime<Utc>>,
    /// When it is to be forgotten, while it has no open loan (mirrors the engine's set of
    /// such borrowers; re-filed on restore, not stored).
    #[serde(skip)]
    pub forget_at: Option<DateTime<Utc>>,
    /// Changed since its state was last taken for the changelog (not stored).
    #[serde(skip)]
    pub dirty: bool,
    /// Score band it last added to the engine's portfolio, while it has open loans (not
    /// stored).
    #[serde(skip)]
    pub counted_score: Option<u8>,
}

impl Borrower {
    /// A borrower with nothing known yet.
    pub fn new(id: Arc<str>, created: u64) -> Self {
        Borrower {
            id,
            created,
            seq: 0,
            seen: Vec::new(),
            loans: Vec::new(),
            incomes: Vec::new(),
            alerts: Vec::new(),
            suppressions: Vec::new(),
            last_event_at: None,
            next_wake: None,
            forget_at: None,
            dirty: false,
            counted_score: None,
        }
    }

    /// The applied event with this id hash, if it is among the remembered ones.
    pub fn seen_as(&self, id: u64) -> Option<&Seen> {
        // A linear scan: a borrower has a few hundred events in a loan's life, and arrival
        // order is what lets the oldest be forgotten at the cap.
        self.seen.iter().find(|s| s.id == id)
    }

    /// Was this event id applied before (among the remembered ones)?
    pub fn has_seen(&self, id: u64) -> bool {
        self.seen_as(id).is_some()
    }

    /// Remembers an applied event, forgetting the oldest beyond `max` (at least 1).
    pub fn remember(&mut self, seen: Seen, max: usize) {
        if self.has_seen(seen.id) {
            return;
        }
        if self.seen.len() >= max.max(1) {
            let excess = self.seen.len() + 1 - max.max(1);
            self.seen.drain(..excess);
        } else {
            reserve_compact(&mut self.seen);
        }
        self.seen.push(seen);
    }

    /// The next arrival stamp, taken.
    pub fn stamp(&mut self, at: DateTime<Utc>) -> Stamp {
        let s = self.next_stamp(at);
        self.seq = s.seq;
        s
    }

    /// The next arrival stamp, not yet taken (for an event that may still be rejected: set
    /// `seq` to its `seq` once it is applied).
    pub fn next_stamp(&self, at: DateTime<Utc>) -> Stamp {
        Stamp {
            at,
            seq: self.seq.wrapping_add(1),
        }
    }

    /// Index of an open loan.
    pub fn loan_index(&self, loan_id: &str) -> Option<usize> {
        self.loans.iter().position(|l| &*l.id == loan_id)
    }

    /// The suppression in force that covers a slot, if any (of several, the one that lapses
    /// last; the earliest granted among those).
    pub fn suppression_of(&self, loan_id: Option<&str>, signal: Signal) -> Option<&Suppression> {
        self.suppressions
            .iter()
            .filter(|s| s.covers(loan_id, signal))
            .fold(None, |best: Option<&Suppression>, s| match best {
                Some(b) if b.until >= s.until => Some(b),
                _ => Some(s),
            })
    }

    /// Index of an alert slot.
    pub fn slot_index(&self, loan_id: Option<&str>, signal: Signal) -> Option<usize> {
        self.alerts
            .iter()
            .position(|s| s.signal == signal && s.loan_id.as_deref() == loan_id)
    }
}

/// Grows a long-lived per-borrower list by about an eighth instead of doubling: millions of
/// borrowers each holding half-empty vectors is most of the memory otherwise.
pub fn reserve_compact<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 8).max(4));
    }
}

/// Inserts an observation in stamp order and keeps at most `keep` newest.
pub fn insert_observation(list: &mut Vec<Observation>, obs: Observation, keep: usize) {
    let pos = list.partition_point(|o| o.stamp <= obs.stamp);
    if list.len() < keep {
        reserve_compact(list);
    }
    list.insert(pos, obs);
    if list.len() > keep {
        let excess = list.len() - keep;
        list.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(secs: i64, seq: u32, v: i64) -> Observation {
        let at = DateTime::from_timestamp(secs, 0).unwrap();
        Observation {
            stamp: Stamp { at, seq },
            date: at.date_naive(),
            value: Decimal::from(v),
        }
    }

    #[test]
    fn observations_stay_in_event_time_order_and_keep_the_newest() {
        let mut list = Vec::new();
        insert_observation(&mut list, obs(300, 1, 3), 3);
        insert_observation(&mut list, obs(100, 2, 1), 3);
        insert_observation(&mut list, obs(200, 3, 2), 3);
        // A tie in time goes after the earlier arrival.
        insert_observation(&mut list, obs(300, 4, 4), 3);
        let values: Vec<i64> = list.iter().map(|o| o.value.try_into().unwrap()).collect();
        assert_eq!(values, [2, 3, 4]);
    }

    #[test]
    fn event_ids_are_remembered_once() {
        let mut b = Borrower::new("B1".into(), 0);
        let h = id_hash("E1");
        assert!(!b.has_seen(h));
        b.remember(Seen::id_only(h), 10);
        b.remember(Seen::id_only(h), 10);
        assert!(b.has_seen(h));
        assert_eq!(b.seen.len(), 1);
        assert_ne!(id_hash("E1"), id_hash("E2"));
    }

    #[test]
    fn a_payload_conflicts_only_when_known_and_different() {
        let at = DateTime::from_timestamp(1_740_000_000, 0).unwrap();
        let seen = Seen::new(1, 42, at);
        assert!(!seen.conflicts_with(42));
        assert!(seen.conflicts_with(43));
        assert_eq!(seen.at(), Some(at));
        // A hash of 0 would read as "unknown": it is kept as 1 on both sides.
        assert!(!Seen::new(1, 0, at).conflicts_with(0));
        assert!(!Seen::id_only(1).conflicts_with(43));
        assert_eq!(Seen::id_only(1).at(), None);
    }

    #[test]
    fn at_the_cap_the_oldest_event_id_is_forgotten() {
        let mut b = Borrower::new("B1".into(), 0);
        for i in 0..5 {
            b.remember(Seen::id_only(id_hash(&format!("E{i}"))), 3);
        }
        assert_eq!(b.seen.len(), 3);
        assert!(!b.has_seen(id_hash("E1")));
        assert!(b.has_seen(id_hash("E2")) && b.has_seen(id_hash("E4")));
        // A lowered cap (a restart with a smaller limit) trims at the next event.
        b.remember(Seen::id_only(id_hash("E5")), 2);
        let ids: Vec<u64> = b.seen.iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![id_hash("E4"), id_hash("E5")]);
    }
}
#[cfg(test)]
mod sizes {
    /// The per-borrower structs stay within their budget: a book holds millions of them, and
    /// a closed alert slot used to carry its whole open alert inline (224 bytes where 56 do).
    #[test]
    fn per_borrower_structs_stay_within_budget() {
        use std::mem::size_of;
        assert!(
            size_of::<super::AlertSlot>() <= 56,
            "{}",
            size_of::<super::AlertSlot>()
        );
        assert!(
            size_of::<super::Seen>() <= 24,
            "{}",
            size_of::<super::Seen>()
        );
        assert!(
            size_of::<super::Borrower>() <= 192,
            "{}",
            size_of::<super::Borrower>()
        );
        assert!(
            size_of::<super::Loan>() <= 344,
            "{}",
            size_of::<super::Loan>()
        );
    }
}
