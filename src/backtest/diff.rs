//! `diff.jsonl`: one line per added, removed or changed episode, with both sides' figures.
//!
//! ```json
//! {"change":"changed","signal":"dpd","borrower_id":"B1","loan_id":"L1","differs":["peak_severity"],
//!  "baseline":{"alert_id":"B1/L1/dpd/1","opened_at":"…","resolved_at":"…","peak_severity":"medium",
//!              "escalation_level":0,"outcome":"miss","outcome_at":null,"lead_days":null},
//!  "candidate":{…}}
//! ```
//!
//! `baseline` is null for an added episode, `candidate` for a removed one. Instants are in the
//! business time zone, as in the monitor's messages; `lead_days` is from the episode's opening
//! to its loan's default, for a hit.

use std::io::Write;

use chrono_tz::Tz;
use serde::Serialize;

use super::episodes::{matched, Change, Episode};
use super::outcome::{days, Scorer, Verdict};
use super::Backtest;
use postloan_engine::time::format_instant;

#[derive(Serialize)]
struct Line<'a> {
    change: &'static str,
    signal: &'static str,
    borrower_id: &'a str,
    loan_id: Option<&'a str>,
    differs: Vec<&'static str>,
    baseline: Option<SideView<'a>>,
    candidate: Option<SideView<'a>>,
}

#[derive(Serialize)]
struct SideView<'a> {
    alert_id: &'a str,
    opened_at: String,
    resolved_at: Option<String>,
    peak_severity: &'static str,
    escalation_level: u8,
    outcome: &'static str,
    outcome_at: Option<String>,
    lead_days: Option<f64>,
}

fn view<'a>(e: &'a Episode, scorer: &Scorer<'_>, tz: Tz) -> SideView<'a> {
    let verdict = scorer.verdict(e);
    let (outcome_at, lead_days) = match verdict {
        Verdict::Hit { outcome_at } => (
            Some(format_instant(outcome_at, tz)),
            Some((days(outcome_at - e.opened_at) * 100.0).round() / 100.0),
        ),
        _ => (None, None),
    };
    SideView {
        alert_id: &e.alert_id,
        opened_at: format_instant(e.opened_at, tz),
        resolved_at: e.closed_at.map(|t| format_instant(t, tz)),
        peak_severity: e.peak.as_str(),
        escalation_level: e.escalation,
        outcome: verdict.as_str(),
        outcome_at,
        lead_days,
    }
}

/// What differs between two matched episodes, by field name.
pub fn differs(a: &Episode, b: &Episode) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.opened_at != b.opened_at {
        out.push("opened_at");
    }
    if a.peak != b.peak {
        out.push("peak_severity");
    }
    if a.escalation != b.escalation {
        out.push("escalation_level");
    }
    out
}

/// Writes the lines (in slot order, each slot's in opening order) and returns how many.
pub fn write(bt: &Backtest, tz: Tz, out: &mut dyn Write) -> std::io::Result<u64> {
    let c = &bt.comparison;
    let scorer = Scorer::new(&bt.baseline.outcomes, c.horizon, c.end);
    let mut n = 0;
    for c in matched(&bt.baseline.episodes, &bt.candidate.episodes) {
        let (change, a, b) = match c {
            Change::Same(..) => continue,
            Change::Added(b) => ("added", None, Some(b)),
            Change::Removed(a) => ("removed", Some(a), None),
            Change::Changed(a, b) => ("changed", Some(a), Some(b)),
        };
        let Some(any) = a.or(b) else { continue };
        let line = Line {
            change,
            signal: any.slot.signal.as_str(),
            borrower_id: &any.slot.borrower,
            loan_id: any.slot.loan.as_deref(),
            differs: match (a, b) {
                (Some(a), Some(b)) => differs(a, b),
                _ => Vec::new(),
            },
            baseline: a.map(|e| view(e, &scorer, tz)),
            candidate: b.map(|e| view(e, &scorer, tz)),
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}
