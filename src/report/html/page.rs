//! The document: a view of the page with every number already formatted and every chart
//! drawn, rendered through the `page.html.j2` template with HTML autoescaping (the charts'
//! SVG is the one thing marked safe: plotters escapes the text it writes).

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::chart;
use super::model::{check_page, Page, Section};
use super::HtmlError;

const TEMPLATE_NAME: &str = "page.html.j2";
const TEMPLATE: &str = include_str!("page.html.j2");
const CSS: &str = include_str!("style.css");

#[derive(Serialize)]
struct PageView<'a> {
    title: &'a str,
    subtitle: &'a str,
    facts: &'a [(String, String)],
    sections: Vec<SectionView<'a>>,
    notes: &'a [String],
    css: &'static str,
}

#[derive(Serialize)]
struct SectionView<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    chart: Option<ChartView>,
    columns: Vec<ColumnView<'a>>,
    rows: Vec<Vec<CellView>>,
    /// The table's width, for the colspan of the "no rows" line.
    width: usize,
}

#[derive(Serialize)]
struct ChartView {
    svg: Option<String>,
    points: usize,
}

#[derive(Serialize)]
struct ColumnView<'a> {
    name: &'a str,
    numeric: bool,
}

#[derive(Serialize)]
struct CellView {
    text: String,
    numeric: bool,
}

/// The whole HTML document for `page`.
pub(super) fn render(page: &Page) -> Result<String, HtmlError> {
    check_page(page)?;
    let sections = page
        .sections
        .iter()
        .map(section_view)
        .collect::<Result<Vec<_>, _>>()?;
    let view = PageView {
        title: &page.title,
        subtitle: &page.subtitle,
        facts: &page.facts,
        sections,
        notes: &page.notes,
        css: CSS,
    };
    let mut env = Environment::new();
    // Whatever the template's name, its output is HTML: escape everything not marked safe.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    Ok(env.get_template(TEMPLATE_NAME)?.render(view)?)
}

fn section_view(section: &Section) -> Result<SectionView<'_>, HtmlError> {
    let chart = match &section.chart {
        None => None,
        Some(c) => {
            let drawn = chart::draw(c).map_err(|source| HtmlError::Chart {
                section: section.id.clone(),
                source,
            })?;
            Some(ChartView {
                svg: drawn.svg,
                points: drawn.points,
            })
        }
    };
    let columns = &section.table.columns;
    Ok(SectionView {
        id: &section.id,
        title: &section.title,
        description: &section.description,
        chart,
        columns: columns
            .iter()
            .map(|c| ColumnView {
                name: &c.name,
                numeric: c.numeric,
            })
            .collect(),
        rows: section
            .table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(columns)
                    .map(|(cell, column)| CellView {
                        text: cell.display(),
                        numeric: column.numeric,
                    })
                    .collect()
            })
            .collect(),
        width: columns.len().max(1),
    })
}
