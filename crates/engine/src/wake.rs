//! When a borrower next needs the clock: the earliest future instant at which a DPD band (of a
//! signal, bucket or class), a staleness deadline, an escalation level, a suppression's lapse
//! or the end of a restructure's observation period can change something. The
//! engine arms one timer per borrower at that instant; nothing scans the book at midnight.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::lifecycle;
use crate::settings::Settings;
use crate::state::Borrower;
use crate::time::{business_date, start_of_day};

/// The borrower's next timer: the earliest future instant at which a DPD band, a staleness
/// deadline, an escalation level or a suppression's lapse can change something.
pub fn next_wake(b: &Borrower, now: DateTime<Utc>, s: &Settings) -> Option<DateTime<Utc>> {
    let today = business_date(now, s.tz);
    let mut next: Option<DateTime<Utc>> = None;
    let mut consider = |t: DateTime<Utc>| {
        if t > now && next.is_none_or(|n| t < n) {
            next = Some(t);
        }
    };
    // Day boundaries begin later days, and later days begin later: only the earliest needs
    // the zone's rules (hundreds of instructions a lookup). Should it not be after `now` (a
    // zone whose clocks go back across midnight), every day is looked up as before.
    let mut first_day: Option<NaiveDate> = None;
    days(b, today, s, &mut |day| {
        if first_day.is_none_or(|d| day < d) {
            first_day = Some(day);
        }
    });
    if let Some(day) = first_day {
        let t = start_of_day(day, s.tz);
        if t > now {
            consider(t);
        } else {
            days(b, today, s, &mut |day| consider(start_of_day(day, s.tz)));
        }
    }
    for suppression in &b.suppressions {
        consider(suppression.lapses_at(s.tz));
    }
    for slot in &b.alerts {
        if let Some(t) = slot
            .open
            .as_ref()
            .and_then(|a| lifecycle::next_escalation(a, s))
        {
            consider(t);
        }
    }
    next
}

/// The business days at whose start something may change: a DPD band, a restructure's hold
/// ending, a staleness deadline.
fn days(b: &Borrower, today: NaiveDate, s: &Settings, day: &mut dyn FnMut(NaiveDate)) {
    for loan in &b.loans {
        if let Some(due) = loan.terms.first_uncovered_due(loan.covered) {
            let dpd = (today - due).num_days();
            if let Some(days) = s.dpd_boundaries.iter().find(|d| i64::from(**d) > dpd) {
                if let Some(d) = due.checked_add_signed(Duration::days(i64::from(*days))) {
                    day(d);
                }
            }
        }
        if let Some(r) = loan.restructured.filter(|r| r.observing(today)) {
            // The class's hold ends: the loan may be classed better from that midnight.
            day(r.observed_until());
        }
        if s.rules.stale_valuation.enabled {
            let since = loan.valuations.last().map_or(loan.opened_date, |v| v.date);
            let at = since + Duration::days(i64::from(s.rules.stale_valuation.after_days));
            if at > today {
                day(at);
            }
        }
    }
    if s.rules.stale_income.enabled && !b.loans.is_empty() {
        let since = b
            .incomes
            .last()
            .map(|o| o.date)
            .or_else(|| b.loans.iter().map(|l| l.opened_date).min());
        if let Some(since) = since {
            let at = since + Duration::days(i64::from(s.rules.stale_income.after_days));
            if at > today {
                day(at);
            }
        }
    }
}
