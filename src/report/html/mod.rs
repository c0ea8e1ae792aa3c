//! The report's renderer: one self-contained HTML page (inline CSS and SVG, no script, no
//! external reference — a Content-Security-Policy forbids loading anything) and CSV files of
//! the same tables. It knows nothing about loans: the caller hands it a [`Page`] of sections,
//! each an optional [`Chart`] over a [`Table`].
//!
//! Parts:
//! - `model` — the [`Page`] a caller builds and the checks of its shape;
//! - `format` — numbers as text: cells for reading and for CSV, axis ticks;
//! - `chart` — charts drawn with plotters' SVG backend (`axis`, `xy`, `bars`, `heatmap`);
//! - `page` — the document, a minijinja template (`page.html.j2`) with `style.css` inlined;
//! - `csv` — one CSV file per section.
//!
//! The same page renders to the same bytes. Nothing that data can reach panics: non-finite
//! values are gaps, shapes that do not fit are [`HtmlError`]s.

mod chart;
mod csv;
mod format;
mod model;
mod page;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use model::{Axis, Cell, Chart, Column, Page, Section, Series, Table};

/// Why a page could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// A section id is empty, longer than 64 characters, or not all `[a-z0-9_-]` (it becomes
    /// an HTML anchor and a file name).
    #[error("section id {id:?} is not 1-64 characters of [a-z0-9_-]")]
    InvalidId {
        /// The offending id.
        id: String,
    },
    /// Two sections share an id (their anchors and CSV files would collide).
    #[error("section id {id:?} is used twice")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// A table row does not have one cell per column.
    #[error("section {section:?}: row {row} has {cells} cells for {columns} columns")]
    TableShape {
        /// The section's id.
        section: String,
        /// The row's index (from 0).
        row: usize,
        /// Cells in that row.
        cells: usize,
        /// Columns of the table.
        columns: usize,
    },
    /// A chart's values do not match its labels (one value per label, per series).
    #[error("section {section:?}: chart values do not match their labels: {detail}")]
    ChartShape {
        /// The section's id.
        section: String,
        /// Which lengths disagree.
        detail: String,
    },
    /// Plotters failed to draw a chart.
    #[error("section {section:?}: cannot draw the chart")]
    Chart {
        /// The section's id.
        section: String,
        /// Plotters' error.
        #[source]
        source: chart::DrawError,
    },
    /// The page template failed to render.
    #[error("cannot render the page template")]
    Template(#[from] minijinja::Error),
    /// Creating the CSV directory or a CSV file failed.
    #[error("cannot write {path}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a CSV record failed.
    #[error("cannot write CSV {path}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The CSV writer's error.
        #[source]
        source: ::csv::Error,
    },
}

/// The whole HTML document for `page`: header with facts, contents, one `<section id=…>` per
/// section (heading, description, `<figure class="chart" data-points="N">` with the inline
/// SVG or a "No data for this period" placeholder, then the table), and the notes.
pub fn render_page(page: &Page) -> Result<String, HtmlError> {
    page::render(page)
}

/// Writes `<section id>.csv` into `dir` (created if missing) for every section: a header row
/// of column names, then the rows with exact numbers (see [`Cell`]). Returns the paths in
/// section order.
pub fn write_csvs(dir: &Path, page: &Page) -> Result<Vec<PathBuf>, HtmlError> {
    csv::write_all(dir, page)
}
