//! Movement between DPD buckets — the flow-rate matrix of the last month, forward roll rates
//! month by month, moves as they happened — and vintage curves.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::{num, text, txt};
use crate::report::figures::{ratio, Figures, From, Month, To, VintageCell};
use crate::report::html::{Axis, Cell, Chart, Section, Series, Table};
use postloan_engine::portfolio::DpdBucket;

pub(super) fn sections(f: &Figures) -> Vec<Section> {
    vec![matrix(f), rolls(f), history(f), moves(f), vintages(f)]
}

fn row_total(m: &Month, from: From) -> u64 {
    To::all()
        .map(|to| m.flows.get(&(from, to)).copied().unwrap_or(0))
        .sum()
}

fn share(n: u64, of: u64) -> Option<Decimal> {
    ratio(Decimal::from(n), Decimal::from(of))
}

fn matrix(f: &Figures) -> Section {
    let last = f.months.last();
    let rows: Vec<From> = From::all().collect();
    let cols: Vec<To> = To::all().collect();
    let mut values = Vec::new();
    let mut table = Vec::new();
    if let Some(m) = last {
        for from in &rows {
            let total = row_total(m, *from);
            let mut chart_row = Vec::new();
            let mut row = vec![text(from.as_str()), Cell::Count(total)];
            for to in &cols {
                let n = m.flows.get(&(*from, *to)).copied().unwrap_or(0);
                chart_row.push(super::as_f64(share(n, total)));
                row.push(Cell::Count(n));
            }
            for to in &cols {
                let n = m.flows.get(&(*from, *to)).copied().unwrap_or(0);
                row.push(Cell::Ratio(share(n, total)));
            }
            values.push(chart_row);
            table.push(row);
        }
    }
    let mut columns = vec![txt("from"), num("loans")];
    columns.extend(cols.iter().map(|to| num(&format!("to {}", to.as_str()))));
    columns.extend(cols.iter().map(|to| num(&format!("{} %", to.as_str()))));
    Section {
        id: "flow-matrix".to_owned(),
        title: format!(
            "Flow-rate matrix, {}",
            last.map_or_else(|| "—".to_owned(), Month::label)
        ),
        description: "Loans by DPD bucket at the previous month-end (rows; new = opened during the month) and where they are at this month-end: a bucket, or closed and how (columns). Each cell of the chart is the share of its row.".to_owned(),
        // No month-end yet, no matrix.
        chart: last.map(|_| Chart::Heatmap {
            rows: rows.iter().map(|r| r.as_str().to_owned()).collect(),
            columns: cols.iter().map(|c| c.as_str().to_owned()).collect(),
            values,
            scale: Axis::Percent,
        }),
        table: Table {
            columns,
            rows: table,
        },
    }
}

/// The forward rolls: from each delinquency bucket to the next one.
const ROLLS: [(DpdBucket, DpdBucket); 4] = [
    (DpdBucket::Current, DpdBucket::Dpd1To29),
    (DpdBucket::Dpd1To29, DpdBucket::Dpd30To59),
    (DpdBucket::Dpd30To59, DpdBucket::Dpd60To89),
    (DpdBucket::Dpd60To89, DpdBucket::Dpd90Plus),
];

fn roll_name(from: DpdBucket, to: DpdBucket) -> String {
    format!("{} → {}", from.as_str(), to.as_str())
}

fn rolls(f: &Figures) -> Section {
    let rate = |m: &Month, from: DpdBucket, to: DpdBucket| {
        let total = row_total(m, From::Bucket(from));
        let n = m
            .flows
            .get(&(From::Bucket(from), To::Bucket(to)))
            .copied()
            .unwrap_or(0);
        (n, total, share(n, total))
    };
    // The first month has no previous month-end: every loan is new.
    let months: Vec<&Month> = f.months.iter().skip(1).collect();
    let series = ROLLS
        .iter()
        .map(|(from, to)| Series {
            name: roll_name(*from, *to),
            values: months
                .iter()
                .map(|m| super::as_f64(rate(m, *from, *to).2))
                .collect(),
        })
        .collect();
    let mut rows = Vec::new();
    for m in &months {
        let mut row = vec![text(m.label())];
        for (from, to) in ROLLS {
            let (n, total, r) = rate(m, from, to);
            row.extend([Cell::Count(total), Cell::Count(n), Cell::Ratio(r)]);
        }
        rows.push(row);
    }
    let mut columns = vec![txt("month")];
    for (from, to) in ROLLS {
        columns.push(num(&format!("{} at previous month-end", from.as_str())));
        columns.push(num(&format!("rolled to {}", to.as_str())));
        columns.push(num(&format!("{} rate", roll_name(from, to))));
    }
    Section {
        id: "roll-rates".to_owned(),
        title: "Roll rates by month".to_owned(),
        description: "Of the loans in a bucket at the previous month-end, the share in the next bucket at this month-end (by count).".to_owned(),
        chart: Some(Chart::Lines {
            x_labels: months.iter().map(|m| m.label()).collect(),
            series,
            y: Axis::Percent,
        }),
        table: Table { columns, rows },
    }
}

fn history(f: &Figures) -> Section {
    let rows = f
        .months
        .iter()
        .flat_map(|m| {
            m.flows.iter().map(|((from, to), n)| {
                vec![
                    text(m.label()),
                    text(from.as_str()),
                    text(to.as_str()),
                    Cell::Count(*n),
                ]
            })
        })
        .collect();
    Section {
        id: "flows".to_owned(),
        title: "Month-end flows, every month".to_owned(),
        description: "The flow-rate matrix of every month as a list: loans by their bucket at the previous month-end (new = opened during the month) and their bucket at this one, or how they closed.".to_owned(),
        chart: None,
        table: Table {
            columns: vec![txt("month"), txt("from"), txt("to"), num("loans")],
            rows,
        },
    }
}

fn moves(f: &Figures) -> Section {
    let mut rows = Vec::new();
    for m in &f.months {
        for (i, from) in DpdBucket::ALL.iter().enumerate() {
            for (j, to) in DpdBucket::ALL.iter().enumerate() {
                let n = m.moves[i][j];
                if n > 0 {
                    rows.push(vec![
                        text(m.label()),
                        text(from.as_str()),
                        text(to.as_str()),
                        Cell::Count(n),
                    ]);
                }
            }
        }
    }
    Section {
        id: "bucket-moves".to_owned(),
        title: "Bucket moves as they happened".to_owned(),
        description: "Every move of a loan between DPD buckets during the month, in either direction (a loan can pass several buckets in one month): what the metric postloan_dpd_flows_total counts.".to_owned(),
        chart: None,
        table: Table {
            columns: vec![txt("month"), txt("from"), txt("to"), num("moves")],
            rows,
        },
    }
}

fn quarter(month: NaiveDate) -> String {
    format!("{}Q{}", month.year(), month.month0() / 3 + 1)
}

fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month())
}

/// (cohort quarter, months on book) → summed cell, only where every month of the quarter
/// that opened loans has reached that many months on book.
fn curves(f: &Figures) -> BTreeMap<(String, i64), VintageCell> {
    let Some(last) = f.months.last().map(|m| m.first) else {
        return BTreeMap::new();
    };
    let mut reached: BTreeMap<String, i64> = BTreeMap::new();
    for (cohort, _) in f.vintages.keys() {
        let max = months_between(*cohort, last);
        let e = reached.entry(quarter(*cohort)).or_insert(max);
        *e = (*e).min(max);
    }
    let mut out: BTreeMap<(String, i64), VintageCell> = BTreeMap::new();
    for ((cohort, month), cell) in &f.vintages {
        let q = quarter(*cohort);
        let mob = months_between(*cohort, *month);
        if mob < 0 || reached.get(&q).is_some_and(|r| mob > *r) {
            continue;
        }
        let e = out.entry((q, mob)).or_default();
        e.open += cell.open;
        e.open_dpd30 += cell.open_dpd30;
        e.closed += cell.closed;
        e.lost += cell.lost;
    }
    out
}

fn vintages(f: &Figures) -> Section {
    let cells = curves(f);
    let max_mob = cells.keys().map(|(_, m)| *m).max().unwrap_or(-1);
    let quarters: std::collections::BTreeSet<&String> = cells.keys().map(|(q, _)| q).collect();
    let series = quarters
        .iter()
        .map(|q| Series {
            name: (*q).clone(),
            values: (0..=max_mob)
                .map(|mob| {
                    let c = cells.get(&((*q).clone(), mob))?;
                    super::as_f64(share(c.bad(), c.loans()))
                })
                .collect(),
        })
        .collect();
    let rows = cells
        .iter()
        .map(|((q, mob), c)| {
            vec![
                text(q.clone()),
                Cell::Count(*mob as u64),
                Cell::Count(c.loans()),
                Cell::Count(c.open_dpd30),
                Cell::Count(c.lost),
                Cell::Ratio(share(c.bad(), c.loans())),
            ]
        })
        .collect();
    Section {
        id: "vintages".to_owned(),
        title: "Vintage curves: 30+ by months on book".to_owned(),
        description: "For loans opened in each quarter, the share that are 30 or more days past due at the end of their n-th month on book (0 = the month they opened), counting loans already charged off or repossessed as bad. A point appears once every month of the quarter has reached it.".to_owned(),
        chart: Some(Chart::Lines {
            x_labels: (0..=max_mob).map(|m| m.to_string()).collect(),
            series,
            y: Axis::Percent,
        }),
        table: Table {
            columns: vec![
                txt("cohort"),
                num("months on book"),
                num("loans"),
                num("30+ now"),
                num("charged off or repossessed"),
                num("30+ or lost"),
            ],
            rows,
        },
    }
}
