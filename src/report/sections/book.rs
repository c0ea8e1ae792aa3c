//! The book at each month-end: NPL ratio and 30+/90+ by balance, the class mix, closings.

use rust_decimal::Decimal;

use super::{as_f64, main_currency, num, text, txt};
use crate::report::figures::{ratio, Figures};
use crate::report::html::{Axis, Cell, Chart, Section, Series, Table};
use postloan_engine::event::CloseReason;
use postloan_engine::portfolio::Class;

pub(super) fn sections(f: &Figures) -> Vec<Section> {
    vec![npl(f), classes(f), closings(f)]
}

fn months(f: &Figures) -> Vec<String> {
    f.months.iter().map(|m| m.label()).collect()
}

fn npl(f: &Figures) -> Section {
    let currencies: std::collections::BTreeSet<_> = f
        .months
        .iter()
        .flat_map(|m| m.books.keys().copied())
        .collect();
    let mut series = Vec::new();
    for cur in &currencies {
        let by = |what: fn(&crate::report::figures::Book) -> Option<Decimal>| {
            f.months
                .iter()
                .map(|m| as_f64(m.books.get(cur).and_then(what)))
                .collect()
        };
        let c = cur.as_str();
        series.push(Series {
            name: format!("NPL ratio {c}"),
            values: by(|b| b.npl_ratio()),
        });
        series.push(Series {
            name: format!("30+ {c}"),
            values: by(|b| ratio(b.dpd30(), b.total())),
        });
        series.push(Series {
            name: format!("90+ {c}"),
            values: by(|b| ratio(b.dpd90(), b.total())),
        });
    }
    let mut rows = Vec::new();
    for m in &f.months {
        for (cur, b) in &m.books {
            rows.push(vec![
                text(m.label()),
                text(cur.as_str()),
                Cell::Count(b.total_loans()),
                Cell::Money(b.total()),
                Cell::Count(b.non_performing_loans()),
                Cell::Money(b.non_performing()),
                Cell::Ratio(b.npl_ratio()),
                Cell::Money(b.dpd30()),
                Cell::Ratio(ratio(b.dpd30(), b.total())),
                Cell::Money(b.dpd90()),
                Cell::Ratio(ratio(b.dpd90(), b.total())),
            ]);
        }
    }
    Section {
        id: "npl".to_owned(),
        title: "NPL ratio and 30+ / 90+ by balance".to_owned(),
        description: "At each month-end, per currency: non-performing (substandard, doubtful, loss) outstanding principal over all outstanding principal, and the share of outstanding principal 30 and 90 or more days past due.".to_owned(),
        chart: Some(Chart::Lines {
            x_labels: months(f),
            series,
            y: Axis::Percent,
        }),
        table: Table {
            columns: vec![
                txt("month"),
                txt("currency"),
                num("open loans"),
                num("outstanding principal"),
                num("non-performing loans"),
                num("non-performing principal"),
                num("NPL ratio"),
                num("30+ principal"),
                num("30+ ratio"),
                num("90+ principal"),
                num("90+ ratio"),
            ],
            rows,
        },
    }
}

fn classes(f: &Figures) -> Section {
    let main = main_currency(f);
    let series = Class::ALL
        .iter()
        .map(|class| Series {
            name: class.as_str().to_owned(),
            values: f
                .months
                .iter()
                .map(|m| {
                    let b = main.and_then(|c| m.books.get(&c))?;
                    as_f64(ratio(b.principal[class.index()], b.total()))
                })
                .collect(),
        })
        .collect();
    let mut columns = vec![txt("month"), txt("currency")];
    for class in Class::ALL {
        let c = class.as_str();
        columns.push(num(&format!("{c} loans")));
        columns.push(num(&format!("{c} principal")));
        columns.push(num(&format!("{c} share")));
    }
    let mut rows = Vec::new();
    for m in &f.months {
        for (cur, b) in &m.books {
            let mut row = vec![text(m.label()), text(cur.as_str())];
            for class in Class::ALL {
                let i = class.index();
                row.push(Cell::Count(b.loans[i]));
                row.push(Cell::Money(b.principal[i]));
                row.push(Cell::Ratio(ratio(b.principal[i], b.total())));
            }
            rows.push(row);
        }
    }
    Section {
        id: "classes".to_owned(),
        title: "Five-category classification".to_owned(),
        description: format!(
            "Outstanding principal by class at each month-end (the chart: share of the {} book; the table: every currency, loans and principal).",
            main.map_or_else(|| "main".to_owned(), |c| c.as_str().to_owned())
        ),
        chart: Some(Chart::StackedBars {
            x_labels: months(f),
            series,
            y: Axis::Percent,
        }),
        table: Table { columns, rows },
    }
}

fn closings(f: &Figures) -> Section {
    let main = main_currency(f);
    let series = [CloseReason::ChargedOff, CloseReason::Repossessed]
        .iter()
        .map(|reason| Series {
            name: reason.as_str().to_owned(),
            values: f
                .months
                .iter()
                .map(|m| {
                    let c = main?;
                    let n = m.closings.get(&(c, *reason)).map_or(0, |x| x.loans);
                    Some(n as f64)
                })
                .collect(),
        })
        .collect();
    let mut rows = Vec::new();
    for m in &f.months {
        for ((cur, reason), c) in &m.closings {
            rows.push(vec![
                text(m.label()),
                text(cur.as_str()),
                text(reason.as_str()),
                Cell::Count(c.loans),
                Cell::Money(c.principal),
            ]);
        }
    }
    Section {
        id: "closings".to_owned(),
        title: "Charge-offs, repossessions and other closings".to_owned(),
        description: "Loans that left the book in each month and their outstanding principal when they closed (for charge-offs, the principal written off). The chart counts charge-offs and repossessions of the main currency.".to_owned(),
        chart: Some(Chart::StackedBars {
            x_labels: months(f),
            series,
            y: Axis::Count,
        }),
        table: Table {
            columns: vec![
                txt("month"),
                txt("currency"),
                txt("reason"),
                num("loans"),
                num("outstanding principal at closing"),
            ],
            rows,
        },
    }
}
