//! Alert episodes and how two runs' episodes are matched.
//!
//! An episode is one alert of a slot (borrower, loan or none, signal) from `firing` to
//! `resolved`, or to the end of the run. Alert ids cannot be compared across two
//! configurations (a rule change shifts the numbering), so episodes are matched by slot and
//! time: two episodes match when their slots are equal and their open intervals overlap. Within
//! a slot, episodes are taken in opening order and each is matched to the first unmatched
//! episode of the other run that overlaps it, so every episode has at most one partner.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use postloan_engine::output::{AlertStatus, Output};
use postloan_engine::types::{Severity, Signal};

/// Where an alert lives: the contract's "at most one open alert per (borrower, loan or none,
/// signal)".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// `borrower_id`.
    pub borrower: Arc<str>,
    /// `loan_id`, `None` for a borrower-scope signal.
    pub loan: Option<Arc<str>>,
    /// The signal.
    pub signal: Signal,
}

/// One alert from `firing` to `resolved` (or the end of the run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// Its alert id in its own run.
    pub alert_id: String,
    /// Its slot.
    pub slot: Slot,
    /// When it fired.
    pub opened_at: DateTime<Utc>,
    /// When it resolved; `None` when still open at the end.
    pub closed_at: Option<DateTime<Utc>>,
    /// The highest severity it reached.
    pub peak: Severity,
    /// The highest escalation level sent for it (0: none).
    pub escalation: u8,
}

impl Episode {
    /// Whether the two episodes' open intervals overlap. An interval is closed at its start
    /// and open at its end (an open end is infinite), so an episode that resolves at the
    /// instant another fires does not overlap it; an episode that resolves at the instant it
    /// fires holds that one instant.
    pub fn overlaps(&self, other: &Episode) -> bool {
        let ends_after = |e: &Episode, t: DateTime<Utc>| {
            e.closed_at
                .is_none_or(|c| c > t || (c == e.opened_at && c == t))
        };
        ends_after(self, other.opened_at) && ends_after(other, self.opened_at)
    }
}

/// Why a message could not be read into an episode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpisodeError {
    /// An `event_time` that is not RFC 3339 (the engine never writes one).
    #[error("alert {alert_id}: event_time {value:?} is not an RFC 3339 instant")]
    Instant {
        /// The alert.
        alert_id: String,
        /// The text.
        value: String,
    },
}

/// Every episode of one run, built from its messages in order.
#[derive(Debug, Default)]
pub struct Episodes {
    /// By alert id.
    by_id: BTreeMap<String, Episode>,
}

pub(crate) fn instant(alert_id: &str, value: &str) -> Result<DateTime<Utc>, EpisodeError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| EpisodeError::Instant {
            alert_id: alert_id.to_owned(),
            value: value.to_owned(),
        })
}

impl Episodes {
    /// Takes in one published message (rejections are ignored).
    pub fn observe(&mut self, m: &Output) -> Result<(), EpisodeError> {
        match m {
            Output::Alert(a) => {
                let at = instant(&a.alert_id, &a.event_time)?;
                if a.status == AlertStatus::Firing {
                    self.by_id.insert(
                        a.alert_id.clone(),
                        Episode {
                            alert_id: a.alert_id.clone(),
                            slot: Slot {
                                borrower: Arc::from(a.borrower_id.as_str()),
                                loan: a.loan_id.as_deref().map(Arc::from),
                                signal: a.signal,
                            },
                            opened_at: at,
                            closed_at: None,
                            peak: a.severity,
                            escalation: 0,
                        },
                    );
                } else if let Some(e) = self.by_id.get_mut(&a.alert_id) {
                    e.peak = e.peak.max(a.severity);
                    if a.status == AlertStatus::Resolved {
                        e.closed_at = Some(at);
                    }
                }
            }
            Output::Escalation(x) => {
                if let Some(e) = self.by_id.get_mut(&x.alert_id) {
                    e.escalation = e.escalation.max(x.level);
                }
            }
            Output::Rejected(_) => {}
        }
        Ok(())
    }

    /// The episodes, by slot, each slot's in opening order.
    pub fn by_slot(&self) -> BTreeMap<&Slot, Vec<&Episode>> {
        let mut out: BTreeMap<&Slot, Vec<&Episode>> = BTreeMap::new();
        for e in self.by_id.values() {
            out.entry(&e.slot).or_default().push(e);
        }
        for v in out.values_mut() {
            v.sort_by(|a, b| (a.opened_at, &a.alert_id).cmp(&(b.opened_at, &b.alert_id)));
        }
        out
    }

    /// Every episode, in alert id order.
    pub fn iter(&self) -> impl Iterator<Item = &Episode> {
        self.by_id.values()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl FromIterator<Episode> for Episodes {
    fn from_iter<I: IntoIterator<Item = Episode>>(iter: I) -> Self {
        Episodes {
            by_id: iter.into_iter().map(|e| (e.alert_id.clone(), e)).collect(),
        }
    }
}

/// What became of an episode between the baseline (A) and the candidate (B).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    /// Only in B.
    Added(&'a Episode),
    /// Only in A.
    Removed(&'a Episode),
    /// In both, with a different first-fire time, peak severity or escalation level.
    Changed(&'a Episode, &'a Episode),
    /// In both, the same.
    Same(&'a Episode, &'a Episode),
}

/// Matches the episodes of A and B slot by slot, in opening order (see the module doc).
pub fn matched<'a>(a: &'a Episodes, b: &'a Episodes) -> Vec<Change<'a>> {
    let (a, b) = (a.by_slot(), b.by_slot());
    let mut slots: Vec<&Slot> = a.keys().chain(b.keys()).copied().collect();
    slots.sort();
    slots.dedup();
    let mut out = Vec::new();
    for slot in slots {
        let xs = a.get(slot).map_or(&[][..], Vec::as_slice);
        let ys = b.get(slot).map_or(&[][..], Vec::as_slice);
        let mut taken = vec![false; ys.len()];
        for x in xs {
            let partner = ys
                .iter()
                .enumerate()
                .find(|(i, y)| !taken[*i] && x.overlaps(y));
            match partner {
                Some((i, y)) => {
                    taken[i] = true;
                    let same =
                        (x.opened_at, x.peak, x.escalation) == (y.opened_at, y.peak, y.escalation);
                    out.push(if same {
                        Change::Same(x, y)
                    } else {
                        Change::Changed(x, y)
                    });
                }
                None => out.push(Change::Removed(x)),
            }
        }
        for (y, _) in ys.iter().zip(&taken).filter(|(_, t)| !**t) {
            out.push(Change::Added(y));
        }
    }
    out
}

#[cfg(test)]
mod tests;
