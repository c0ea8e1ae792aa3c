//! The notices and what decides them, without I/O: records in, notices that need sending
//! out; time is an argument.
//!
//! An escalation notice is **open** from its escalation message until the first message of
//! its alert, after it in the monitor's order, that resolves the alert, acknowledges it (an ack
//! covers the alert at that instant) or suppresses it. A later `reinstated` or an ack that the
//! alert outgrows does not reopen it: the monitor escalates again, with the next level, when
//! its policy says so, and that is a new notice.
//!
//! The two topics are read independently, so an escalation can arrive after the ack that
//! ends it. The order is therefore decided from the messages themselves, not from arrival:
//! a message is after an escalation when its `event_time` is later. At one instant the
//! monitor publishes what timers caused first, then each event's effects in turn, an
//! escalation last in its own evaluation. So a message at the escalation's instant is after
//! it when the message has a cause and the escalation had none (timers first). When both have
//! causes, it is after when the causes differ and it comes later in the alert's numbering
//! than the escalation's own evaluation.
//!
//! Everything is kept per borrower (the topics' key), so one record per borrower on the
//! compacted state topic restores a partition's notices.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use postloan_engine::output::AlertStatus;
use postloan_engine::wire::AlertChange;

mod escalation;

pub use escalation::Escalation;

/// Whether an alert message with this status ends an escalation notice published before it:
/// the alert was resolved, an acknowledgement covers it, or contact was suppressed.
pub fn ends_notice(status: AlertStatus) -> bool {
    matches!(
        status,
        AlertStatus::Resolved | AlertStatus::Acknowledged | AlertStatus::Suppressed
    )
}

/// What Alertmanager was last told about a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Told {
    /// Nothing yet.
    Nothing,
    /// That it fires.
    Firing,
    /// That it ended.
    Ended,
}

/// Why and when a notice ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// The alert message's `event_time`.
    pub at: DateTime<Utc>,
    /// Its status (`resolved`, `acknowledged`, `suppressed`).
    pub status: AlertStatus,
}

/// One escalation notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The escalation message it shows.
    pub escalation: Escalation,
    /// When it ended, once it has.
    pub ended: Option<End>,
    /// What Alertmanager has accepted so far.
    pub told: Told,
}

impl Notice {
    /// What Alertmanager should know now.
    pub fn state(&self) -> Told {
        if self.ended.is_some() {
            Told::Ended
        } else {
            Told::Firing
        }
    }

    /// Whether Alertmanager still has to be told its state.
    pub fn pending(&self) -> bool {
        self.told != self.state()
    }
}

/// An alert message as remembered: enough to place it relative to an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Its number in the alert's lifecycle.
    pub k: u32,
    /// Its status.
    pub status: AlertStatus,
    /// Its `event_time`.
    pub at: DateTime<Utc>,
    /// Its `cause_event_id`.
    pub cause: Option<String>,
}

/// One alert: its messages so far and its notices by level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Its messages, by number.
    pub seen: Vec<Seen>,
    /// Its notices, by level.
    pub notices: BTreeMap<u8, Notice>,
}

impl AlertRecord {
    fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.seen
            .iter()
            .find(|s| s.status == AlertStatus::Resolved)
            .map(|s| s.at)
    }

    /// Whether `m` comes after escalation `e` in the monitor's order (see the module doc).
    fn after(&self, m: &Seen, e: &Escalation) -> bool {
        if m.at != e.at {
            return m.at > e.at;
        }
        match (&e.cause, &m.cause) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(x), Some(y)) if x == y => false,
            (Some(x), Some(_)) => self
                .seen
                .iter()
                .filter(|s| s.at == e.at && s.cause.as_ref() == Some(x))
                .map(|s| s.k)
                .max()
                .is_none_or(|own| m.k > own),
        }
    }

    /// The first message that ends `e`, if one has arrived.
    fn end_of(&self, e: &Escalation) -> Option<End> {
        self.seen
            .iter()
            .find(|s| ends_notice(s.status) && self.after(s, e))
            .map(|s| End {
                at: s.at,
                status: s.status,
            })
    }

    fn settle(&mut self) {
        let ends: Vec<(u8, End)> = self
            .notices
            .iter()
            .filter(|(_, n)| n.ended.is_none())
            .filter_map(|(level, n)| self.end_of(&n.escalation).map(|end| (*level, end)))
            .collect();
        for (level, end) in ends {
            if let Some(n) = self.notices.get_mut(&level) {
                n.ended = Some(end);
            }
        }
    }
}

/// One borrower's alerts (the unit stored on the state topic).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BorrowerRecord {
    /// By alert id.
    pub alerts: BTreeMap<String, AlertRecord>,
}

/// Every borrower of one partition (the service keeps a book per partition it owns, so a
/// revoked partition is dropped whole).
#[derive(Debug, Default)]
pub struct Book {
    borrowers: BTreeMap<String, BorrowerRecord>,
    /// Borrowers changed since [`Book::take_touched`].
    touched: std::collections::BTreeSet<String>,
    /// The latest escalation `event_time` seen: what "old" is measured against. Not the alerts
    /// topic's: the two topics are read independently, and on a catch-up the alerts can run
    /// days ahead of the escalations that precede them.
    watermark: Option<DateTime<Utc>>,
}

impl Book {
    /// Takes in one alert message.
    pub fn alert(&mut self, m: AlertChange) {
        let rec = self.record(&m.borrower_id, &m.alert_id);
        match rec.seen.binary_search_by_key(&m.k, |s| s.k) {
            // A redelivery (after a restart or rebalance): already known.
            Ok(_) => return,
            Err(i) => rec.seen.insert(
                i,
                Seen {
                    k: m.k,
                    status: m.status,
                    at: m.at,
                    cause: m.cause,
                },
            ),
        }
        rec.settle();
    }

    /// Takes in one escalation message.
    pub fn escalation(&mut self, e: Escalation) {
        self.watermark = self.watermark.max(Some(e.at));
        let rec = self.record(&e.borrower_id.clone(), &e.alert_id.clone());
        if rec.notices.contains_key(&e.level) {
            return;
        }
        rec.notices.insert(
            e.level,
            Notice {
                escalation: e,
                ended: None,
                told: Told::Nothing,
            },
        );
        rec.settle();
    }

    fn record(&mut self, borrower: &str, alert: &str) -> &mut AlertRecord {
        self.touched.insert(borrower.to_owned());
        self.borrowers
            .entry(borrower.to_owned())
            .or_default()
            .alerts
            .entry(alert.to_owned())
            .or_default()
    }

    /// Notices Alertmanager has to be told about, with what.
    pub fn pending(&self) -> Vec<(&Notice, Told)> {
        self.notices()
            .filter(|n| n.pending())
            .map(|n| (n, n.state()))
            .collect()
    }

    /// Every notice.
    pub fn notices(&self) -> impl Iterator<Item = &Notice> {
        self.borrowers
            .values()
            .flat_map(|b| b.alerts.values())
            .flat_map(|a| a.notices.values())
    }

    /// The notice of `level` for `alert` of `borrower`.
    pub fn notice(&self, borrower: &str, alert: &str, level: u8) -> Option<&Notice> {
        self.borrowers
            .get(borrower)?
            .alerts
            .get(alert)?
            .notices
            .get(&level)
    }

    /// Open notices (what Alertmanager should show firing).
    pub fn open(&self) -> impl Iterator<Item = &Notice> {
        self.notices().filter(|n| n.ended.is_none())
    }

    /// Records that Alertmanager accepted `state` for the notice `escalation_id` of
    /// `borrower` (a later change of state stays pending).
    pub fn told(&mut self, borrower: &str, alert: &str, level: u8, state: Told) {
        let notice = self
            .borrowers
            .get_mut(borrower)
            .and_then(|b| b.alerts.get_mut(alert))
            .and_then(|a| a.notices.get_mut(&level));
        if let Some(n) = notice {
            n.told = state;
            self.touched.insert(borrower.to_owned());
        }
    }

    /// Forgets alerts resolved more than `grace` before the latest escalation seen whose
    /// notices have all ended and been delivered, and borrowers left with nothing. An
    /// escalation is published before its alert's resolution, and a partition's escalations
    /// come in the monitor's clock order: once one `grace` later than the resolution has been
    /// read, no escalation of that alert can still come (`grace` absorbs the clock's small
    /// disorder). Until the escalations move on, resolved alerts are kept.
    pub fn prune(&mut self, grace: Duration) {
        let Some(limit) = self.watermark.map(|w| w - grace) else {
            return;
        };
        for (id, b) in &mut self.borrowers {
            let before = b.alerts.len();
            b.alerts.retain(|_, a| {
                let done = a.notices.values().all(|n| n.told == Told::Ended);
                !(done && a.resolved_at().is_some_and(|t| t < limit))
            });
            if b.alerts.len() != before {
                self.touched.insert(id.clone());
            }
        }
        self.borrowers.retain(|_, b| !b.alerts.is_empty());
    }

    /// The borrowers changed since the last call, each with its record (`None`: forgotten,
    /// a tombstone on the state topic).
    pub fn take_touched(&mut self) -> Vec<(String, Option<&BorrowerRecord>)> {
        let touched = std::mem::take(&mut self.touched);
        touched
            .into_iter()
            .map(|id| {
                let rec = self.borrowers.get(&id);
                (id, rec)
            })
            .collect()
    }

    /// Restores one borrower from the state topic.
    pub fn restore(&mut self, borrower: String, rec: BorrowerRecord) {
        for n in rec.alerts.values().flat_map(|a| a.notices.values()) {
            self.watermark = self.watermark.max(Some(n.escalation.at));
        }
        self.borrowers.insert(borrower, rec);
    }

    /// How many borrowers are held.
    pub fn borrowers(&self) -> usize {
        self.borrowers.len()
    }
}

#[cfg(test)]
mod tests;
