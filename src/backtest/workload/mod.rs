//! Collections workload: how many alerts need a collector's contact on each business date.
//!
//! An alert needs contact while it is open, not suppressed, not covered by an
//! acknowledgement (an ack covers it while its severity stays at or below the acknowledged
//! one) and at or above the contact severity (`--contact-severity`, default `medium`: below
//! it the recommended actions are automated reminders and document requests). A business date
//! counts every alert that needed contact at any instant of it, each once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;

use postloan_engine::output::{AlertStatus, Output};
use postloan_engine::time::business_date;
use postloan_engine::types::Severity;

/// One alert as collections see it.
#[derive(Debug)]
struct Alert {
    severity: Severity,
    open: bool,
    suppressed: bool,
    /// The severity its latest ack covers up to.
    acked: Option<Severity>,
    /// Since when it has needed contact, while it does.
    since: Option<DateTime<Utc>>,
    /// The last business date it was counted on.
    counted_to: Option<NaiveDate>,
}

impl Alert {
    fn needs_contact(&self, min: Severity) -> bool {
        self.open
            && !self.suppressed
            && self.severity >= min
            && self.acked.is_none_or(|s| self.severity > s)
    }
}

/// Builds the daily counts from a run's messages.
#[derive(Debug)]
pub struct Workload {
    tz: Tz,
    min: Severity,
    alerts: FxHashMap<String, Alert>,
    /// +1 on the first date of a counted stretch, −1 on the date after its last.
    steps: BTreeMap<NaiveDate, i64>,
}

/// Alerts needing contact per business date, from `first` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daily {
    /// The first business date.
    pub first: NaiveDate,
    /// One count per business date.
    pub counts: Vec<u64>,
}

impl Workload {
    /// Counts alerts at or above `min` in business time zone `tz`.
    pub fn new(tz: Tz, min: Severity) -> Self {
        Workload {
            tz,
            min,
            alerts: FxHashMap::default(),
            steps: BTreeMap::new(),
        }
    }

    /// Takes in one published message at instant `at` (its `event_time`).
    pub fn observe(&mut self, m: &Output, at: DateTime<Utc>) {
        let Output::Alert(a) = m else { return };
        let alert = self
            .alerts
            .entry(a.alert_id.clone())
            .or_insert_with(|| Alert {
                severity: a.severity,
                open: false,
                suppressed: false,
                acked: None,
                since: None,
                counted_to: None,
            });
        let before = alert.needs_contact(self.min);
        alert.severity = a.severity;
        match a.status {
            AlertStatus::Firing => {
                alert.open = true;
                alert.suppressed = false;
                alert.acked = None;
            }
            AlertStatus::Acknowledged => alert.acked = Some(a.severity),
            AlertStatus::Suppressed => alert.suppressed = true,
            AlertStatus::Reinstated => alert.suppressed = false,
            AlertStatus::Resolved => alert.open = false,
            AlertStatus::Updated => {}
        }
        let after = alert.needs_contact(self.min);
        if !before && after {
            alert.since = Some(at);
        } else if before && !after {
            let done = self.alerts.remove(&a.alert_id);
            if let Some(mut done) = done {
                self.count(&mut done, at);
                if done.open {
                    self.alerts.insert(a.alert_id.clone(), done);
                }
            }
        } else if !after && !alert.open {
            // Resolved without ever needing contact since: nothing more to learn about it.
            self.alerts.remove(&a.alert_id);
        }
    }

    /// Counts `alert`'s stretch of needing contact, ending (exclusively) at `end`.
    fn count(&mut self, alert: &mut Alert, end: DateTime<Utc>) {
        let Some(since) = alert.since.take() else {
            return;
        };
        if end <= since {
            return;
        }
        let mut from = business_date(since, self.tz);
        if let Some(last) = alert.counted_to {
            from = from.max(last + Duration::days(1));
        }
        let to = business_date(end - Duration::nanoseconds(1), self.tz);
        if from > to {
            return;
        }
        *self.steps.entry(from).or_default() += 1;
        *self.steps.entry(to + Duration::days(1)).or_default() -= 1;
        alert.counted_to = Some(to);
    }

    /// The counts from the business date of `first` to that of the instant before `end`
    /// (alerts still needing contact count to the end).
    pub fn finish(mut self, first: DateTime<Utc>, end: DateTime<Utc>) -> Daily {
        let mut alerts = std::mem::take(&mut self.alerts);
        for alert in alerts.values_mut() {
            self.count(alert, end);
        }
        let first_date = business_date(first, self.tz);
        let last_date = business_date(end - Duration::nanoseconds(1), self.tz).max(first_date);
        let days = (last_date - first_date).num_days() + 1;
        let mut counts = Vec::with_capacity(usize::try_from(days).unwrap_or(0));
        let mut level: i64 = 0;
        let mut steps = self.steps.into_iter().peekable();
        let mut date = first_date;
        while date <= last_date {
            while let Some((_, step)) = steps.next_if(|(d, _)| *d <= date) {
                level += step;
            }
            counts.push(u64::try_from(level).unwrap_or(0));
            date += Duration::days(1);
        }
        Daily {
            first: first_date,
            counts,
        }
    }
}

impl Daily {
    /// The `p`-th percentile (0 < p ≤ 100) by nearest rank: the smallest count that at least
    /// `p` % of the days do not exceed. 0 for no days.
    pub fn percentile(&self, p: u32) -> u64 {
        let mut sorted = self.counts.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        if n == 0 {
            return 0;
        }
        let rank = (n * p as usize).div_ceil(100).clamp(1, n);
        sorted[rank - 1]
    }

    /// The mean count per week (weeks start on Monday; the first and last may be partial),
    /// with each week's Monday.
    pub fn weekly_means(&self) -> Vec<(NaiveDate, f64)> {
        let mut weeks: Vec<(NaiveDate, u64, u32)> = Vec::new();
        for (i, n) in self.counts.iter().enumerate() {
            let date = self.first + Duration::days(i as i64);
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            match weeks.last_mut() {
                Some((m, sum, days)) if *m == monday => {
                    *sum += n;
                    *days += 1;
                }
                _ => weeks.push((monday, *n, 1)),
            }
        }
        weeks
            .into_iter()
            .map(|(m, sum, days)| (m, sum as f64 / f64::from(days)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
