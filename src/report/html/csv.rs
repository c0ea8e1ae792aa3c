//! The tables as CSV files, one per section, with exact numbers (see [`Cell::csv`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use super::model::{check_page, Cell, Page, Table};
use super::HtmlError;

/// Writes `<dir>/<section id>.csv` for every section, creating `dir`; returns the paths in
/// section order.
pub(super) fn write_all(dir: &Path, page: &Page) -> Result<Vec<PathBuf>, HtmlError> {
    // Shape errors first: a half-written directory helps nobody.
    check_page(page)?;
    std::fs::create_dir_all(dir).map_err(|source| HtmlError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(page.sections.len());
    for section in &page.sections {
        let path = dir.join(format!("{}.csv", section.id));
        let file = File::create(&path).map_err(|source| HtmlError::Io {
            path: path.clone(),
            source,
        })?;
        write_table(file, &section.table).map_err(|source| HtmlError::Csv {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// The header row of column names, then one record per row.
pub(super) fn write_table<W: std::io::Write>(out: W, table: &Table) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(table.columns.iter().map(|c| c.name.as_str()))?;
    for row in &table.rows {
        writer.write_record(row.iter().map(Cell::csv))?;
    }
    writer.flush()?;
    Ok(())
}
