//! Outcomes, and how a run's episodes are scored against them.
//!
//! A loan's outcome is its first default: the first instant its DPD stood at or above
//! `--outcome-dpd`, or its closing as `charged_off` or `repossessed`, whichever came first.
//! Outcomes are facts of the book, measured by the baseline's engine (the candidate's
//! thresholds decide alerts, not what a default is).
//!
//! An episode covers its loan, or every loan of its borrower when it has none (a
//! borrower-scope signal). Against an outcome horizon `h`:
//! - an episode is a **hit** when a loan it covers defaults within `[opened, opened + h]`;
//! - it is **late** (not scored) when it is no hit and a loan it covers had already defaulted
//!   before it opened: no early warning was possible;
//! - it is **censored** (not scored) when it is no hit and `opened + h` is after the end of
//!   the data: its outcome is not known yet;
//! - otherwise it is a **miss** (a false alarm).
//!
//! Precision = hits / (hits + misses). Recall = outcomes caught / outcomes, an outcome at `t`
//! being caught when an episode covering its loan opened within `[t − h, t]`; its lead time is
//! `t` minus the earliest such opening.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;

use super::episodes::{Episode, Episodes};
use postloan_engine::portfolio::Note;
use postloan_engine::types::Signal;

/// Every loan's first default, from a run's notes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcomes {
    first: FxHashMap<(Arc<str>, Arc<str>), DateTime<Utc>>,
}

impl Outcomes {
    /// Takes in one note; `clock` is the engine's clock after the input that produced it
    /// (the instant a loan closed: a closing is always an input's own effect).
    pub fn note(&mut self, n: &Note, clock: Option<DateTime<Utc>>) {
        let (key, at) = match n {
            Note::PastDue {
                borrower_id,
                loan_id,
                at,
                ..
            } => ((Arc::clone(borrower_id), Arc::clone(loan_id)), *at),
            Note::Closed(c) if c.reason.is_loss() => match clock {
                Some(t) => ((Arc::clone(&c.borrower_id), Arc::clone(&c.loan_id)), t),
                None => return,
            },
            _ => return,
        };
        self.first
            .entry(key)
            .and_modify(|t| *t = (*t).min(at))
            .or_insert(at);
    }

    /// How many loans defaulted.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// Whether none did.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// The defaults by borrower: (loan, instant), in loan order.
    pub fn by_borrower(&self) -> FxHashMap<&str, Vec<(&str, DateTime<Utc>)>> {
        let mut out: FxHashMap<&str, Vec<(&str, DateTime<Utc>)>> = FxHashMap::default();
        for ((b, l), t) in &self.first {
            out.entry(&**b).or_default().push((&**l, *t));
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }
}

/// How an episode scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A covered loan defaulted within the horizon after it opened.
    Hit {
        /// The default.
        outcome_at: DateTime<Utc>,
    },
    /// No default followed within the horizon (a false alarm).
    Miss,
    /// A covered loan had already defaulted when it opened (not scored).
    Late,
    /// The horizon runs past the end of the data (not scored).
    Censored,
}

impl Verdict {
    /// The contract-style name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Hit { .. } => "hit",
            Verdict::Miss => "miss",
            Verdict::Late => "late",
            Verdict::Censored => "censored",
        }
    }
}

/// Scores episodes against the defaults of a book.
#[derive(Debug)]
pub struct Scorer<'a> {
    defaults: FxHashMap<&'a str, Vec<(&'a str, DateTime<Utc>)>>,
    horizon: Duration,
    end: DateTime<Utc>,
}

/// A run's scores, for one signal or all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    /// Episodes by verdict.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Late.
    pub late: u64,
    /// Censored.
    pub censored: u64,
    /// Outcomes in the book.
    pub outcomes: u64,
    /// Lead times in days of the outcomes caught, ascending.
    pub leads_days: Vec<f64>,
}

impl Score {
    /// Hits / (hits + misses); `None` when nothing was scored.
    pub fn precision(&self) -> Option<f64> {
        let scored = self.hits + self.misses;
        (scored > 0).then(|| self.hits as f64 / scored as f64)
    }

    /// Outcomes caught / outcomes; `None` without outcomes.
    pub fn recall(&self) -> Option<f64> {
        (self.outcomes > 0).then(|| self.leads_days.len() as f64 / self.outcomes as f64)
    }

    /// The median lead time in days of the outcomes caught (the mean of the middle two for
    /// an even count); `None` when none was.
    pub fn median_lead_days(&self) -> Option<f64> {
        let v = &self.leads_days;
        let n = v.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(v[n / 2]),
            _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
        }
    }
}

/// Days as a fraction (lead times are exact to the second).
pub fn days(d: Duration) -> f64 {
    d.num_seconds() as f64 / 86_400.0
}

impl<'a> Scorer<'a> {
    /// Scores against `outcomes` with horizon `horizon`, the data ending at `end`.
    pub fn new(outcomes: &'a Outcomes, horizon: Duration, end: DateTime<Utc>) -> Self {
        Scorer {
            defaults: outcomes.by_borrower(),
            horizon,
            end,
        }
    }

    fn covered<'e>(&'e self, e: &'e Episode) -> impl Iterator<Item = DateTime<Utc>> + 'e {
        self.defaults
            .get(&*e.slot.borrower)
            .into_iter()
            .flatten()
            .filter(move |(loan, _)| e.slot.loan.as_deref().is_none_or(|l| l == *loan))
            .map(|(_, t)| *t)
    }

    /// The verdict on one episode.
    pub fn verdict(&self, e: &Episode) -> Verdict {
        let window_end = e.opened_at + self.horizon;
        let mut late = false;
        let mut hit: Option<DateTime<Utc>> = None;
        for t in self.covered(e) {
            if t >= e.opened_at && t <= window_end {
                hit = Some(hit.map_or(t, |h| h.min(t)));
            } else if t < e.opened_at {
                late = true;
            }
        }
        match hit {
            Some(outcome_at) => Verdict::Hit { outcome_at },
            None if late => Verdict::Late,
            None if window_end > self.end => Verdict::Censored,
            None => Verdict::Miss,
        }
    }

    /// Per signal (by [`Signal::index`]) and in total.
    pub fn score(&self, episodes: &Episodes) -> ([Score; Signal::ALL.len()], Score) {
        let mut per: [Score; Signal::ALL.len()] = Default::default();
        let mut total = Score::default();
        let mut by_borrower: FxHashMap<&str, Vec<&Episode>> = FxHashMap::default();
        for e in episodes.iter() {
            by_borrower.entry(&*e.slot.borrower).or_default().push(e);
            let s = &mut per[e.slot.signal.index()];
            for score in [s, &mut total] {
                match self.verdict(e) {
                    Verdict::Hit { .. } => score.hits += 1,
                    Verdict::Miss => score.misses += 1,
                    Verdict::Late => score.late += 1,
                    Verdict::Censored => score.censored += 1,
                }
            }
        }
        for (borrower, loans) in &self.defaults {
            let eps = by_borrower.get(borrower).map_or(&[][..], Vec::as_slice);
            for (loan, t) in loans {
                let mut earliest: [Option<DateTime<Utc>>; Signal::ALL.len()] = Default::default();
                for e in eps.iter().filter(|e| {
                    e.slot.loan.as_deref().is_none_or(|l| l == *loan)
                        && e.opened_at <= *t
                        && e.opened_at >= *t - self.horizon
                }) {
                    let slot = &mut earliest[e.slot.signal.index()];
                    *slot = Some(slot.map_or(e.opened_at, |o| o.min(e.opened_at)));
                }
                for (s, first) in per.iter_mut().zip(&earliest) {
                    s.outcomes += 1;
                    if let Some(o) = first {
                        s.leads_days.push(days(*t - *o));
                    }
                }
                total.outcomes += 1;
                if let Some(o) = earliest.iter().flatten().min() {
                    total.leads_days.push(days(*t - *o));
                }
            }
        }
        for s in per.iter_mut().chain([&mut total]) {
            s.leads_days.sort_by(f64::total_cmp);
        }
        (per, total)
    }
}

#[cfg(test)]
mod tests;
