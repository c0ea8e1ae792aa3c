//! Figures → the page: one section per figure, each a chart over the table of its numbers.
//!
//! Ratios are by balance and per currency wherever money is involved (never summed across
//! currencies); charts that can show one currency only show the main one (the largest book at
//! the last month-end) while their tables list every currency. Flow matrices and vintages
//! count loans, which needs no currency.
//!
//! Parts: `book` (NPL, 30+/90+, class mix, closings), `flows` (flow-rate matrix, roll rates,
//! bucket moves, vintages), `activity` (rankings by branch, dealer and manager; alerts and
//! escalations per month; bad lines).

mod activity;
mod book;
mod flows;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::figures::Figures;
use super::html::{Cell, Column, Page};
use postloan_engine::event::Currency;
use postloan_engine::portfolio::Class;

pub use activity::rejected_input;

/// The page of a report.
pub fn page(f: &Figures) -> Page {
    let mut sections = Vec::new();
    sections.extend(book::sections(f));
    sections.extend(flows::sections(f));
    sections.extend(activity::sections(f));
    Page {
        title: "Post-loan risk report".to_owned(),
        subtitle: subtitle(f),
        facts: facts(f),
        sections,
        notes: notes(f),
    }
}

fn subtitle(f: &Figures) -> String {
    match (f.months.first(), f.months.last()) {
        (Some(a), Some(b)) => format!(
            "Month-ends {} to {} ({} months), {}",
            a.label(),
            b.label(),
            f.months.len(),
            f.input
        ),
        _ => format!("{}: the clock passed no month-end", f.input),
    }
}

fn facts(f: &Figures) -> Vec<(String, String)> {
    let s = &f.summary;
    let clock = s
        .clock
        .map(|t| postloan_engine::time::format_instant(t, f.zone))
        .unwrap_or_else(|| "—".to_owned());
    let last = f
        .months
        .last()
        .map(|m| format!("{} (end of business day {})", m.label(), m.last_day()))
        .unwrap_or_else(|| "—".to_owned());
    let alerts: u64 = s
        .alerts
        .iter()
        .filter(|((_, _, st), _)| *st == postloan_engine::output::AlertStatus::Firing)
        .map(|(_, n)| n)
        .sum();
    let mut v = vec![
        ("Input".to_owned(), f.input.clone()),
        ("Last month-end".to_owned(), last),
        ("Clock at the end".to_owned(), clock),
        ("Business time zone".to_owned(), f.zone.name().to_owned()),
        (
            "Events".to_owned(),
            format!(
                "{} read: {} applied, {} duplicates, {} rejected",
                thousands(s.events()),
                thousands(total(&s.applied)),
                thousands(total(&s.duplicates)),
                thousands(total(&s.rejected)),
            ),
        ),
        (
            "Alerts opened / escalations".to_owned(),
            format!(
                "{} / {}",
                thousands(alerts),
                thousands(total(&s.escalations))
            ),
        ),
        ("Classification (from DPD)".to_owned(), classes(f)),
        ("rules_version".to_owned(), f.rules_version.to_string()),
        (
            "Made by".to_owned(),
            format!("postloan-monitor {}", crate::VERSION),
        ),
    ];
    // The headline a manager reads first: the last month-end's NPL ratio, per currency.
    if let Some(m) = f.months.last() {
        for (cur, b) in &m.books {
            let pct = |r| super::html::Cell::Ratio(r).display();
            v.insert(
                2,
                (
                    format!("{} at {}", cur.as_str(), m.label()),
                    format!(
                        "NPL {} · 30+ {} · 90+ {} of {} outstanding",
                        pct(b.npl_ratio()),
                        pct(super::figures::ratio(b.dpd30(), b.total())),
                        pct(super::figures::ratio(b.dpd90(), b.total())),
                        super::html::Cell::Money(b.total()).display()
                    ),
                ),
            );
        }
    }
    v
}

fn classes(f: &Figures) -> String {
    let mut parts = Vec::new();
    for (i, class) in Class::ALL.iter().enumerate() {
        let from = f.class_starts[i];
        let part = match f.class_starts.get(i + 1) {
            Some(next) if *next == from + 1 => format!("{} {from}", class.as_str()),
            Some(next) => format!("{} {from}–{}", class.as_str(), next - 1),
            None => format!("{} ≥ {from}", class.as_str()),
        };
        parts.push(part);
    }
    parts.join(", ")
}

fn notes(f: &Figures) -> Vec<String> {
    vec![
        format!(
            "Month-end: the book as it stood at the end of the month's last business date in {} — every event with an earlier occurred_at that had arrived by then and every timer due before local midnight. An event that arrives after a month-end is counted in the month it arrives in, as a bank's books post late entries.",
            f.zone
        ),
        "Classification: from days past due with the configured bands; a restructured loan stays at least special mention, and never better than its class just before the restructure, for 12 months. Non-performing = substandard + doubtful + loss. NPL ratio = non-performing outstanding principal / all outstanding principal, per currency.".to_owned(),
        "Outstanding principal: annuity amortisation after the installments fully covered by payments, as in the contract; 30+ and 90+ are the outstanding principal of loans 30 or more (90 or more) days past due.".to_owned(),
        "Loans closed charged_off or repossessed leave the book and are counted in the closings and in the vintages as bad, so a write-off never looks like a cure.".to_owned(),
        "Ratios are shown rounded to 0.01 %; the CSV files keep 6 decimals, and amounts exactly.".to_owned(),
    ]
}

/// The currency with the most outstanding principal at the last month-end.
fn main_currency(f: &Figures) -> Option<Currency> {
    let last = f.months.last()?;
    last.books
        .iter()
        .max_by(|a, b| a.1.total().cmp(&b.1.total()).then(b.0.cmp(a.0)))
        .map(|(c, _)| *c)
}

fn total<K>(m: &std::collections::BTreeMap<K, u64>) -> u64 {
    m.values().sum()
}

fn thousands(n: u64) -> String {
    super::html::Cell::Count(n).display()
}

fn as_f64(d: Option<Decimal>) -> Option<f64> {
    d.and_then(|d| d.to_f64())
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn num(name: &str) -> Column {
    Column::numeric(name)
}

fn txt(name: &str) -> Column {
    Column::text(name)
}
