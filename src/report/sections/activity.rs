//! Who and what: branches, dealers and managers ranked by NPL ratio at the last month-end;
//! alerts and escalations per month by signal; the input's bad lines.

use super::{main_currency, num, text, txt};
use crate::replay::Summary;
use crate::report::figures::{ratio, BadLine, Figures, Label, LabelBook};
use crate::report::html::{Axis, Cell, Chart, Section, Series, Table};
use postloan_engine::types::Signal;

/// Open loans a branch, dealer or manager needs in a currency to be ranked: below it one
/// default swings the ratio by several points.
pub const MIN_LOANS_TO_RANK: u64 = 20;
/// Rows of a ranking.
const TOP: usize = 25;
/// Bars of a ranking's chart.
const TOP_CHART: usize = 10;
/// Bad lines listed on the page (every one is counted; `replay` lists them all).
const BAD_LINES_SHOWN: usize = crate::report::figures::MAX_BAD_LINES;

pub(super) fn sections(f: &Figures) -> Vec<Section> {
    let mut v: Vec<Section> = Label::ALL.iter().map(|l| ranking(f, *l)).collect();
    v.push(alerts(f));
    v.push(escalations(f));
    v.extend(rejected_input(&f.summary, &f.bad_lines));
    v
}

fn ranking(f: &Figures, label: Label) -> Section {
    let mut ranked: Vec<(&str, &str, &LabelBook)> = f
        .labels
        .iter()
        .filter(|((l, _, _), b)| *l == label && b.loans >= MIN_LOANS_TO_RANK)
        .map(|((_, value, cur), b)| (&**value, cur.as_str(), b))
        .collect();
    // Worst first; ties by the larger book, then by name, so the order is the same every run.
    ranked.sort_by(|a, b| {
        let ra = ratio(a.2.npl_principal, a.2.principal);
        let rb = ratio(b.2.npl_principal, b.2.principal);
        rb.cmp(&ra)
            .then(b.2.principal.cmp(&a.2.principal))
            .then(a.0.cmp(b.0))
            .then(a.1.cmp(b.1))
    });
    ranked.truncate(TOP);
    let main = main_currency(f);
    let chart: Vec<&(&str, &str, &LabelBook)> = ranked
        .iter()
        .filter(|r| main.is_some_and(|c| c.as_str() == r.1))
        .take(TOP_CHART)
        .collect();
    let name = label.as_str();
    Section {
        id: format!("{name}-npl"),
        title: format!("Top {} by NPL ratio", plural(label)),
        description: format!(
            "At the last month-end, the {TOP} {} with the highest NPL ratio by balance among those with at least {MIN_LOANS_TO_RANK} open loans in the currency (the chart: the main currency's top {TOP_CHART}).",
            plural(label)
        ),
        chart: Some(Chart::HorizontalBars {
            labels: chart.iter().map(|r| format!("{} ({})", r.0, r.1)).collect(),
            values: chart
                .iter()
                .map(|r| {
                    super::as_f64(ratio(r.2.npl_principal, r.2.principal)).unwrap_or(0.0)
                })
                .collect(),
            x: Axis::Percent,
        }),
        table: Table {
            columns: vec![
                txt(name),
                txt("currency"),
                num("open loans"),
                num("non-performing loans"),
                num("outstanding principal"),
                num("non-performing principal"),
                num("NPL ratio"),
            ],
            rows: ranked
                .iter()
                .map(|(value, cur, b)| {
                    vec![
                        text(*value),
                        text(*cur),
                        Cell::Count(b.loans),
                        Cell::Count(b.npl_loans),
                        Cell::Money(b.principal),
                        Cell::Money(b.npl_principal),
                        Cell::Ratio(ratio(b.npl_principal, b.principal)),
                    ]
                })
                .collect(),
        },
    }
}

fn plural(label: Label) -> &'static str {
    match label {
        Label::Branch => "branches",
        Label::Dealer => "dealers",
        Label::Manager => "account managers",
    }
}

fn per_signal(
    f: &Figures,
    count: impl Fn(&crate::report::figures::Month, Signal) -> u64,
) -> Vec<Series> {
    Signal::ALL
        .iter()
        .map(|s| Series {
            name: s.as_str().to_owned(),
            values: f.months.iter().map(|m| Some(count(m, *s) as f64)).collect(),
        })
        .collect()
}

fn alerts(f: &Figures) -> Section {
    let mut columns = vec![txt("month")];
    columns.extend(Signal::ALL.iter().map(|s| num(s.as_str())));
    columns.push(num("all signals"));
    let rows = f
        .months
        .iter()
        .map(|m| {
            let mut row = vec![text(m.label())];
            row.extend(m.alerts.iter().map(|n| Cell::Count(*n)));
            row.push(Cell::Count(m.alerts.iter().sum()));
            row
        })
        .collect();
    Section {
        id: "alerts".to_owned(),
        title: "Alerts opened per month by signal".to_owned(),
        description: "Alerts that started firing in each month (by their event_time), by signal — what the collections team received.".to_owned(),
        chart: Some(Chart::StackedBars {
            x_labels: f.months.iter().map(|m| m.label()).collect(),
            series: per_signal(f, |m, s| m.alerts[s.index()]),
            y: Axis::Count,
        }),
        table: Table { columns, rows },
    }
}

fn escalations(f: &Figures) -> Section {
    let mut columns = vec![txt("month"), num("level 1"), num("level 2")];
    columns.extend(Signal::ALL.iter().map(|s| num(s.as_str())));
    let rows = f
        .months
        .iter()
        .map(|m| {
            let level = |l: usize| m.escalations.iter().map(|s| s[l]).sum::<u64>();
            let mut row = vec![
                text(m.label()),
                Cell::Count(level(0)),
                Cell::Count(level(1)),
            ];
            row.extend(m.escalations.iter().map(|s| Cell::Count(s[0] + s[1])));
            row
        })
        .collect();
    Section {
        id: "escalations".to_owned(),
        title: "Escalations per month by signal".to_owned(),
        description: "Escalation notices sent to managers in each month, by level and by the signal of the alert escalated.".to_owned(),
        chart: Some(Chart::StackedBars {
            x_labels: f.months.iter().map(|m| m.label()).collect(),
            series: per_signal(f, |m, s| {
                let e = m.escalations[s.index()];
                e[0] + e[1]
            }),
            y: Axis::Count,
        }),
        table: Table { columns, rows },
    }
}

/// The input's rejected lines: counted by error kind, and the first ones listed (a backtest
/// shows them too).
pub fn rejected_input(summary: &Summary, bad_lines: &[BadLine]) -> [Section; 2] {
    [rejections(summary), listed(summary, bad_lines)]
}

fn rejections(summary: &Summary) -> Section {
    let rows = summary
        .rejected
        .iter()
        .map(|(kind, n)| vec![text(kind.as_str()), Cell::Count(*n)])
        .collect();
    Section {
        id: "rejections".to_owned(),
        title: "Rejected input by error kind".to_owned(),
        description: "Lines that could not be applied, counted by the contract's error_kind; each would be published on risk.rejected.".to_owned(),
        chart: None,
        table: Table {
            columns: vec![txt("error_kind"), num("lines")],
            rows,
        },
    }
}

fn listed(summary: &Summary, bad_lines: &[BadLine]) -> Section {
    let total: u64 = summary.rejected.values().sum();
    let shown = bad_lines.len().min(BAD_LINES_SHOWN);
    Section {
        id: "bad-lines".to_owned(),
        title: "Rejected lines".to_owned(),
        description: format!(
            "The first {shown} of {total} rejected lines with the precise reason, in input order (`postloan-monitor replay` lists every one)."
        ),
        chart: None,
        table: Table {
            columns: vec![txt("line"), txt("error_kind"), txt("error")],
            rows: bad_lines
                .iter()
                .take(BAD_LINES_SHOWN)
                .map(|b| vec![text(b.source.clone()), text(b.error_kind), text(b.error.clone())])
                .collect(),
        },
    }
}
