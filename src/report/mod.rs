//! The monthly risk report (`postloan-monitor report`): the engine over a JSONL book with the
//! event clock, the book read at every month-end, and one self-contained HTML page (plus CSV
//! files of the same tables) of the figures a bank grades its book on — the five-category
//! classification and NPL ratio by balance, 30+/90+ by balance, flow rates between DPD
//! buckets, vintage curves, the worst branches, dealers and managers, and alerts and
//! escalations per month.
//!
//! Parts:
//! - `figures` — what a report is made of (exact amounts, counts);
//! - `collect` — the replay's visitor, stopping before every month-end, that fills it;
//! - `sections` — figures → the page's sections (tables and charts);
//! - [`html`] — the renderer: charts (SVG) and the page template, knowing nothing of loans.

mod collect;
pub mod figures;
pub mod html;
mod sections;

use std::io::BufRead;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use collect::collect;
pub use figures::Figures;
pub use sections::{page, rejected_input};

use crate::replay::ReadError;
use postloan_engine::Settings;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input could not be read (the file itself, not a bad line).
    #[error("cannot read input {name}: {source}")]
    Read {
        /// Input name.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The page or its CSV files could not be rendered or written.
    #[error(transparent)]
    Html(#[from] html::HtmlError),
}

impl From<ReadError> for ReportError {
    fn from(e: ReadError) -> Self {
        ReportError::Read {
            name: e.name,
            source: e.source,
        }
    }
}

/// Collects the figures of `input` and renders them: the HTML page and the page (for CSVs).
pub fn report(
    settings: Arc<Settings>,
    input: &mut dyn BufRead,
    name: &str,
    until: Option<DateTime<Utc>>,
    on_progress: &mut dyn FnMut(u64),
) -> Result<(Figures, html::Page, String), ReportError> {
    let figures = collect(settings, input, name, until, on_progress)?;
    let page = page(&figures);
    let text = html::render_page(&page)?;
    Ok((figures, page, text))
}
