//! The backtest as one HTML page, in the monthly report's style and through its renderer:
//! volume and quality by signal, workload per week, lead times, the changed episodes and the
//! rejected input.

use rust_decimal::Decimal;

use super::compare::{increase_pct, Comparison, Figures};
use super::diff::differs;
use super::episodes::{matched, Change, Episode};
use super::Backtest;
use crate::report::html::{Axis, Cell, Chart, Column, Page, Section, Series, Table};
use crate::report::rejected_input;
use postloan_engine::time::format_instant;
use postloan_engine::types::Signal;

/// Changed episodes listed on the page (`--output` writes every one).
pub const CHANGES_SHOWN: usize = 1_000;

/// What the page names besides the figures.
#[derive(Debug, Clone)]
pub struct Context {
    /// The input's name.
    pub input: String,
    /// The baseline configuration's file and rules_version.
    pub baseline: (String, String),
    /// The candidate's.
    pub candidate: (String, String),
    /// The lowest severity that needs contact.
    pub contact_severity: &'static str,
    /// The business time zone (of the baseline).
    pub tz: chrono_tz::Tz,
}

fn figure(x: Option<f64>) -> Cell {
    Cell::Figure(x.and_then(|v| Decimal::try_from(v).ok()))
}

fn ratio(x: Option<f64>) -> Cell {
    Cell::Ratio(x.and_then(|v| Decimal::try_from(v).ok()))
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn rows_by_signal(row: impl Fn(Option<Signal>) -> Vec<Cell>) -> Vec<Vec<Cell>> {
    Signal::ALL
        .into_iter()
        .map(Some)
        .chain([None])
        .map(|s| {
            let mut r = vec![text(s.map_or("all signals", Signal::as_str))];
            r.extend(row(s));
            r
        })
        .collect()
}

fn volume(c: &Comparison) -> Section {
    let rows = rows_by_signal(|s| {
        let (a, b, ch) = c.of(s);
        let pct = increase_pct(a.episodes, b.episodes);
        vec![
            Cell::Count(a.episodes),
            Cell::Count(b.episodes),
            figure(c.per_thousand(a.episodes)),
            figure(c.per_thousand(b.episodes)),
            figure(pct.is_finite().then_some(pct)),
            Cell::Count(a.escalations),
            Cell::Count(b.escalations),
            figure(c.per_thousand(a.escalations)),
            figure(c.per_thousand(b.escalations)),
            Cell::Count(ch.added),
            Cell::Count(ch.removed),
            Cell::Count(ch.changed),
        ]
    });
    let mut columns = vec![Column::text("signal")];
    for name in [
        "episodes A",
        "episodes B",
        "per 1,000 loans A",
        "per 1,000 loans B",
        "change %",
        "escalations A",
        "escalations B",
        "escalations per 1,000 A",
        "escalations per 1,000 B",
        "added",
        "removed",
        "changed",
    ] {
        columns.push(Column::numeric(name));
    }
    Section {
        id: "volume".to_owned(),
        title: "Episodes and escalations by signal".to_owned(),
        description: format!(
            "A = baseline, B = candidate, over {} loans. An episode is one alert from firing to resolved (or the end); episodes match when their (borrower, loan, signal) is equal and their open intervals overlap. Changed = matched with a different first-fire time, peak severity or escalation level. The change % is empty when A has none.",
            Cell::Count(c.loans).display()
        ),
        chart: None,
        table: Table { columns, rows },
    }
}

fn quality(c: &Comparison) -> Section {
    let rows = rows_by_signal(|s| {
        let (a, b, _) = c.of(s);
        let side = |f: &Figures| {
            vec![
                Cell::Count(f.score.hits),
                Cell::Count(f.score.misses),
                ratio(f.score.precision()),
                Cell::Count(f.score.leads_days.len() as u64),
                ratio(f.score.recall()),
                figure(f.score.median_lead_days()),
            ]
        };
        let mut r = side(a);
        r.extend(side(b));
        r
    });
    let mut columns = vec![Column::text("signal")];
    for side in ["A", "B"] {
        for name in [
            "hits",
            "misses",
            "precision",
            "defaults caught",
            "recall",
            "median lead days",
        ] {
            columns.push(Column::numeric(format!("{name} {side}")));
        }
    }
    Section {
        id: "quality".to_owned(),
        title: "Against the outcome: precision, recall and lead time".to_owned(),
        description: format!(
            "{} loans defaulted (DPD ≥ {} or closed charged_off/repossessed). A hit is an episode whose loan (any of the borrower's loans, for a borrower-scope signal) defaulted within {} days after it opened; a miss is one with no default in that window. Episodes opened after their loan had defaulted, or whose window runs past the end of the data, are not scored. Recall is the share of defaults with an episode opened within the window before them; lead time is from the earliest such opening to the default.",
            c.outcomes,
            c.outcome_dpd,
            c.horizon.num_days()
        ),
        chart: None,
        table: Table { columns, rows },
    }
}

/// A line chart of A and B over `x`, and the table of the same values (one row per x).
fn a_vs_b(
    x: Vec<String>,
    [a, b]: [Vec<Option<f64>>; 2],
    y: Axis,
    columns: [&str; 3],
    cell: fn(Option<f64>) -> Cell,
) -> (Chart, Table) {
    let rows = x
        .iter()
        .zip(a.iter().zip(&b))
        .map(|(x, (a, b))| vec![text(x.clone()), cell(*a), cell(*b)])
        .collect();
    let [first, ca, cb] = columns;
    let table = Table {
        columns: vec![
            Column::text(first),
            Column::numeric(ca),
            Column::numeric(cb),
        ],
        rows,
    };
    let series = |name: &str, values| Series {
        name: name.to_owned(),
        values,
    };
    let chart = Chart::Lines {
        x_labels: x,
        series: vec![series("A (baseline)", a), series("B (candidate)", b)],
        y,
    };
    (chart, table)
}

fn workload(bt: &Backtest) -> Section {
    let (a, b) = (
        bt.baseline.workload.weekly_means(),
        bt.candidate.workload.weekly_means(),
    );
    let weeks: Vec<String> = a.iter().map(|(m, _)| m.to_string()).collect();
    let values = |v: &[(chrono::NaiveDate, f64)]| v.iter().map(|(_, x)| Some(*x)).collect();
    let (chart, table) = a_vs_b(
        weeks,
        [values(&a), values(&b)],
        Axis::Count,
        ["week of", "alerts per day A", "alerts per day B"],
        figure,
    );
    let c = &bt.comparison;
    Section {
        id: "workload".to_owned(),
        title: "Collections workload per week".to_owned(),
        description: format!(
            "Alerts needing a collector's contact per business date (open, not suppressed, not covered by an acknowledgement, at or above the contact severity), averaged per week starting Monday. Per day: median {} (A) vs {} (B), 95th percentile {} vs {}.",
            c.baseline.workload_p50, c.candidate.workload_p50, c.baseline.workload_p95, c.candidate.workload_p95
        ),
        chart: Some(chart),
        table,
    }
}

/// Share of all defaults flagged at least `d` days ahead.
fn flagged_ahead(f: &Figures, d: f64) -> Option<f64> {
    let s = &f.score;
    (s.outcomes > 0)
        .then(|| s.leads_days.iter().filter(|l| **l >= d).count() as f64 / s.outcomes as f64)
}

fn lead_times(c: &Comparison) -> Section {
    let horizon = c.horizon.num_days().max(1);
    let step = (horizon / 12).max(1);
    let marks: Vec<i64> = (0..=horizon).step_by(step as usize).collect();
    let values = |f: &Figures| marks.iter().map(|d| flagged_ahead(f, *d as f64)).collect();
    let (chart, table) = a_vs_b(
        marks.iter().map(|d| format!("≥ {d} d")).collect(),
        [values(&c.baseline.total), values(&c.candidate.total)],
        Axis::Percent,
        ["days ahead", "defaults flagged A", "defaults flagged B"],
        ratio,
    );
    Section {
        id: "lead-times".to_owned(),
        title: "How far ahead defaults were flagged".to_owned(),
        description: "The share of all defaults with an episode (any signal) opened at least this many days before them, within the horizon. At 0 days it is the recall.".to_owned(),
        chart: Some(chart),
        table,
    }
}

fn changes(bt: &Backtest, tz: chrono_tz::Tz) -> Section {
    let when =
        |e: Option<&Episode>| e.map_or(Cell::Empty, |e| text(format_instant(e.opened_at, tz)));
    let peak = |e: Option<&Episode>| e.map_or(Cell::Empty, |e| text(e.peak.as_str()));
    let level =
        |e: Option<&Episode>| e.map_or(Cell::Empty, |e| Cell::Count(u64::from(e.escalation)));
    let all: Vec<Change<'_>> = matched(&bt.baseline.episodes, &bt.candidate.episodes)
        .into_iter()
        .filter(|c| !matches!(c, Change::Same(..)))
        .collect();
    let rows = all
        .iter()
        .take(CHANGES_SHOWN)
        .map(|c| {
            let (kind, a, b) = match c {
                Change::Added(b) => ("added", None, Some(*b)),
                Change::Removed(a) => ("removed", Some(*a), None),
                Change::Changed(a, b) | Change::Same(a, b) => ("changed", Some(*a), Some(*b)),
            };
            let any = a.or(b);
            vec![
                text(kind),
                any.map_or(Cell::Empty, |e| text(e.slot.signal.as_str())),
                any.map_or(Cell::Empty, |e| text(&*e.slot.borrower)),
                any.and_then(|e| e.slot.loan.as_deref())
                    .map_or(Cell::Empty, text),
                match (a, b) {
                    (Some(a), Some(b)) => text(differs(a, b).join(", ")),
                    _ => Cell::Empty,
                },
                when(a),
                when(b),
                peak(a),
                peak(b),
                level(a),
                level(b),
            ]
        })
        .collect();
    let mut columns: Vec<Column> = ["change", "signal", "borrower", "loan", "differs"]
        .into_iter()
        .map(Column::text)
        .collect();
    columns.extend(["opened A", "opened B", "peak A", "peak B"].map(Column::text));
    columns.extend(["level A", "level B"].map(Column::numeric));
    Section {
        id: "changes".to_owned(),
        title: "Episodes added, removed or changed".to_owned(),
        description: format!(
            "The first {} of {} in slot order (`--output diff.jsonl` has every one, with the outcome of each side).",
            all.len().min(CHANGES_SHOWN),
            all.len()
        ),
        chart: None,
        table: Table { columns, rows },
    }
}

/// The page of a backtest.
pub fn page(bt: &Backtest, ctx: &Context) -> Page {
    let c = &bt.comparison;
    let mut sections = vec![
        volume(c),
        quality(c),
        workload(bt),
        lead_times(c),
        changes(bt, ctx.tz),
    ];
    sections.extend(rejected_input(&bt.baseline.summary, &bt.baseline.bad_lines));
    let mut notes = vec![
        "Both configurations ran over the same lines with the engine `replay` runs; alert ids are their own in each run, so episodes are matched by slot and time.".to_owned(),
        format!(
            "Defaults are measured by the baseline's engine; lead times are in days (to the second); the horizon is {} × 24 h.",
            c.horizon.num_days()
        ),
    ];
    if c.outcomes_differ {
        notes.push("The candidate counts days past due differently (arrears tolerance or time zone): its own defaults differ from the baseline's, which are the ones used here.".to_owned());
    }
    Page {
        title: "Backtest: baseline vs candidate".to_owned(),
        subtitle: format!("{} — {} vs {}", ctx.input, ctx.baseline.0, ctx.candidate.0),
        facts: vec![
            ("Input".to_owned(), ctx.input.clone()),
            (
                "Baseline (A)".to_owned(),
                format!("{} (rules_version {})", ctx.baseline.0, ctx.baseline.1),
            ),
            (
                "Candidate (B)".to_owned(),
                format!("{} (rules_version {})", ctx.candidate.0, ctx.candidate.1),
            ),
            ("Loans".to_owned(), c.loans.to_string()),
            (
                "Defaults".to_owned(),
                format!("{} (DPD ≥ {} or a loss closing)", c.outcomes, c.outcome_dpd),
            ),
            (
                "Horizon".to_owned(),
                format!("{} days", c.horizon.num_days()),
            ),
            ("Contact from".to_owned(), ctx.contact_severity.to_owned()),
            (
                "Runs took".to_owned(),
                format!("{:.1} s", bt.elapsed.as_secs_f64()),
            ),
        ],
        sections,
        notes,
    }
}
