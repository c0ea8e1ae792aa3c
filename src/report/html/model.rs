//! What a caller hands the renderer: a page of sections, each a chart over a table. Plain data,
//! no behaviour beyond checking its own shape; formatting lives in `format.rs`, drawing in
//! `chart/`, the document in `page.rs`.

use rust_decimal::Decimal;

use super::HtmlError;

/// One report: a header, a table of contents, sections and footnotes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// The document's title (`<title>` and the `<h1>`).
    pub title: String,
    /// One line under the title, e.g. the period covered.
    pub subtitle: String,
    /// The key–value box of the header (input file, period, zone, rules version, events, …),
    /// shown in the order given.
    pub facts: Vec<(String, String)>,
    /// The sections, in page order; each gets a line in the table of contents and a CSV file.
    pub sections: Vec<Section>,
    /// Footnotes at the end of the page: definitions of the figures.
    pub notes: Vec<String>,
}

/// One figure of the report: a title, a sentence on how it is computed, an optional chart and
/// the table of the same numbers beneath it.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The HTML anchor and the CSV file stem: 1–64 characters of `[a-z0-9_-]`, unique in the
    /// page.
    pub id: String,
    /// The heading (`<h2>`), also the table's caption.
    pub title: String,
    /// One or two sentences: what it shows and how it is computed.
    pub description: String,
    /// The chart above the table, if any.
    pub chart: Option<Chart>,
    /// The numbers; written to `<id>.csv` too.
    pub table: Table,
}

/// A table: named columns and rows of cells, each row as long as `columns`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The header row.
    pub columns: Vec<Column>,
    /// The body rows, in display order.
    pub rows: Vec<Vec<Cell>>,
}

/// A table column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The header text, also the CSV header.
    pub name: String,
    /// Right-aligned, in tabular figures.
    pub numeric: bool,
}

impl Column {
    /// A left-aligned text column.
    pub fn text(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            numeric: false,
        }
    }

    /// A right-aligned numeric column.
    pub fn numeric(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            numeric: true,
        }
    }
}

/// One table cell. The HTML shows it formatted for reading; the CSV keeps it exact.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text as given.
    Text(String),
    /// A count: HTML `12,345`; CSV `12345`.
    Count(u64),
    /// An amount: HTML with thousands separators and 2 decimals (half away from zero,
    /// `-1,234.50`); CSV the exact decimal as given.
    Money(Decimal),
    /// A fraction (0.0417 = 4.17 %): HTML a percentage with 2 decimals (`4.17 %`, half away
    /// from zero); CSV the fraction with 6 decimals, half away from zero (`0.041700`).
    /// `None` (undefined, e.g. a zero denominator): HTML `—`, CSV empty.
    Ratio(Option<Decimal>),
    /// A figure that is neither an amount nor a fraction (a rate per 1,000 loans, days):
    /// HTML grouped with 2 decimals, CSV rounded to 6 decimals (half away from zero).
    /// `None` (undefined): HTML `—`, CSV empty.
    Figure(Option<Decimal>),
    /// Nothing: empty in both.
    Empty,
}

/// What a chart's value axis measures, which decides its ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Fractions (0.05 = 5 %), ticks in percent; starts at 0.
    Percent,
    /// Counts, integer ticks with thousands separators; starts at 0.
    Count,
    /// Amounts, ticks abbreviated (`1.5 M`); includes 0.
    Money,
}

/// One named line or bar layer of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// One value per x label; `None` (and NaN or infinite) is a gap.
    pub values: Vec<Option<f64>>,
}

/// A chart drawn above a section's table, as inline SVG. Non-finite values are treated as
/// missing; lengths must agree with the labels (else [`HtmlError::ChartShape`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Lines over categories (months, months on book), one per series, gaps where a value is
    /// missing; a lone point between gaps shows as a dot.
    Lines {
        /// The categories along the x axis, in order.
        x_labels: Vec<String>,
        /// The lines; each has one value per x label.
        series: Vec<Series>,
        /// The value axis.
        y: Axis,
    },
    /// Vertical bars stacked per category, series in order from the bottom.
    StackedBars {
        /// The categories along the x axis, in order.
        x_labels: Vec<String>,
        /// The layers; each has one value per x label.
        series: Vec<Series>,
        /// The value axis.
        y: Axis,
    },
    /// Horizontal bars, the first label at the top.
    HorizontalBars {
        /// One label per bar.
        labels: Vec<String>,
        /// One value per label.
        values: Vec<f64>,
        /// The value axis (horizontal).
        x: Axis,
    },
    /// A grid of coloured cells, each showing its value (e.g. a flow-rate matrix).
    Heatmap {
        /// Row labels, top to bottom.
        rows: Vec<String>,
        /// Column labels, left to right.
        columns: Vec<String>,
        /// `values[row][column]`; `None` is a blank cell.
        values: Vec<Vec<Option<f64>>>,
        /// How values are shown and coloured: `Percent` on a fixed 0–100 % scale, the others
        /// from 0 (or the minimum, if negative) to the maximum.
        scale: Axis,
    },
}

/// Section ids become anchors and file names: keep them to a set that needs no escaping
/// anywhere and cannot climb out of the CSV directory.
pub(crate) fn check_id(id: &str) -> Result<(), HtmlError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(HtmlError::InvalidId { id: id.to_owned() })
    }
}

/// Everything about a page's shape that would otherwise surface as a broken table, a
/// misplaced point or two sections overwriting one CSV file.
pub(crate) fn check_page(page: &Page) -> Result<(), HtmlError> {
    let mut seen = std::collections::BTreeSet::new();
    for section in &page.sections {
        check_id(&section.id)?;
        if !seen.insert(section.id.as_str()) {
            return Err(HtmlError::DuplicateId {
                id: section.id.clone(),
            });
        }
        check_table(&section.id, &section.table)?;
        if let Some(chart) = &section.chart {
            check_chart(&section.id, chart)?;
        }
    }
    Ok(())
}

fn check_table(id: &str, table: &Table) -> Result<(), HtmlError> {
    let width = table.columns.len();
    for (index, row) in table.rows.iter().enumerate() {
        if row.len() != width {
            return Err(HtmlError::TableShape {
                section: id.to_owned(),
                row: index,
                cells: row.len(),
                columns: width,
            });
        }
    }
    Ok(())
}

fn check_chart(id: &str, chart: &Chart) -> Result<(), HtmlError> {
    let shape = |detail: String| HtmlError::ChartShape {
        section: id.to_owned(),
        detail,
    };
    match chart {
        Chart::Lines {
            x_labels, series, ..
        }
        | Chart::StackedBars {
            x_labels, series, ..
        } => {
            for s in series {
                if s.values.len() != x_labels.len() {
                    return Err(shape(format!(
                        "series {:?} has {} values for {} x labels",
                        s.name,
                        s.values.len(),
                        x_labels.len()
                    )));
                }
            }
        }
        Chart::HorizontalBars { labels, values, .. } => {
            if labels.len() != values.len() {
                return Err(shape(format!(
                    "{} values for {} labels",
                    values.len(),
                    labels.len()
                )));
            }
        }
        Chart::Heatmap {
            rows,
            columns,
            values,
            ..
        } => {
            if values.len() != rows.len() {
                return Err(shape(format!(
                    "{} value rows for {} row labels",
                    values.len(),
                    rows.len()
                )));
            }
            for (index, row) in values.iter().enumerate() {
                if row.len() != columns.len() {
                    return Err(shape(format!(
                        "row {index} has {} values for {} columns",
                        row.len(),
                        columns.len()
                    )));
                }
            }
        }
    }
    Ok(())
}
