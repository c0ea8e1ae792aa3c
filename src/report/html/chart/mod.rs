//! Charts as inline SVG, drawn with plotters' SVG backend (no fonts are read: plotters
//! estimates text widths and the SVG carries plain `<text>`, styled by the page's CSS).
//!
//! Parts: `axis` — category bands and round-tick value scales; `xy` — lines and stacked bars
//! over categories; `bars` — horizontal bars; `heatmap` — a grid of coloured cells. This
//! file holds what they share: the palette, text styles, the legend, and the cleaning of
//! values (non-finite → missing, huge → clamped).
//!
//! Colours: data marks are never grey, frame and grid always are — the page's tests tell
//! marks from frame by that.

mod axis;
mod bars;
mod heatmap;
mod xy;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::model::Chart;

/// A drawn chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Drawn {
    /// The `<svg>` element, or `None` when there was nothing to plot.
    pub svg: Option<String>,
    /// Values plotted (present and finite).
    pub points: usize,
}

/// What plotters reports when drawing fails (only an SVG backend error, which writes to a
/// `String`, or a layout too small to draw in).
pub(crate) type DrawError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The width every chart is drawn at; the page scales it to the column (viewBox).
pub(super) const WIDTH: u32 = 960;

/// Paul Tol's "muted" qualitative palette: nine colours told apart under the common colour
/// vision deficiencies, none of them grey; ordered so neighbouring layers contrast.
pub(super) const PALETTE: [RGBColor; 9] = [
    RGBColor(0x33, 0x22, 0x88), // indigo
    RGBColor(0xCC, 0x66, 0x77), // rose
    RGBColor(0x44, 0xAA, 0x99), // teal
    RGBColor(0xDD, 0xCC, 0x77), // sand
    RGBColor(0x88, 0x22, 0x55), // wine
    RGBColor(0x88, 0xCC, 0xEE), // cyan
    RGBColor(0x11, 0x77, 0x33), // green
    RGBColor(0x99, 0x99, 0x33), // olive
    RGBColor(0xAA, 0x44, 0x99), // purple
];

/// Text on the chart.
pub(super) const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Axis lines and tick marks.
pub(super) const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
/// Grid lines.
pub(super) const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
/// A heatmap cell without a value.
pub(super) const BLANK: RGBColor = RGBColor(0xF2, 0xF2, 0xF2);

/// The colour of series `index`; past nine the palette repeats (a legend still names each).
pub(super) fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Plotters' SVG backend writes a font's size divided by this.
const PLOTTERS_FONT_SCALE: f64 = 1.24;

/// Text of `px` CSS pixels; the family is a fallback, the page's CSS sets the real one. The
/// sizes used (11.5, 12, 12.5) come back exact from plotters' division; 13 would print as
/// `font-size="13.000000000000002"`.
pub(super) fn font(px: f64) -> TextStyle<'static> {
    ("sans-serif", px * PLOTTERS_FONT_SCALE)
        .into_font()
        .color(&INK)
}

/// Roughly how wide `chars` characters of `px`-pixel sans-serif text are (0.56 em on
/// average over digits, capitals and lower case), to size label areas.
pub(super) fn text_width(chars: usize, px: f64) -> u32 {
    (chars as f64 * px * 0.56).ceil() as u32
}

/// Draws `chart`; `None` as the SVG when it has no value to plot.
pub(crate) fn draw(chart: &Chart) -> Result<Drawn, DrawError> {
    let points = count_points(chart);
    if points == 0 {
        return Ok(Drawn { svg: None, points });
    }
    let svg = match chart {
        Chart::Lines {
            x_labels,
            series,
            y,
        } => xy::lines(x_labels, series, *y)?,
        Chart::StackedBars {
            x_labels,
            series,
            y,
        } => xy::stacked(x_labels, series, *y)?,
        Chart::HorizontalBars { labels, values, x } => bars::horizontal(labels, values, *x)?,
        Chart::Heatmap {
            rows,
            columns,
            values,
            scale,
        } => heatmap::grid(rows, columns, values, *scale)?,
    };
    Ok(Drawn {
        svg: Some(svg),
        points,
    })
}

/// Values present and finite: what the chart plots.
fn count_points(chart: &Chart) -> usize {
    match chart {
        Chart::Lines { series, .. } | Chart::StackedBars { series, .. } => series
            .iter()
            .flat_map(|s| &s.values)
            .filter(|v| clean(**v).is_some())
            .count(),
        Chart::HorizontalBars { values, .. } => {
            values.iter().filter(|v| clean(Some(**v)).is_some()).count()
        }
        Chart::Heatmap { values, .. } => values
            .iter()
            .flatten()
            .filter(|v| clean(**v).is_some())
            .count(),
    }
}

/// A value fit to draw: present, finite, within ±[`axis::LIMIT`].
pub(super) fn clean(value: Option<f64>) -> Option<f64> {
    value
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-axis::LIMIT, axis::LIMIT))
}

/// How a legend entry's swatch is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Swatch {
    /// A short thick line (line charts).
    Line,
    /// A filled square (bar charts).
    Block,
}

const LEGEND_FONT: f64 = 12.5;
const LEGEND_ROW: u32 = 22;
const LEGEND_NAME_CHARS: usize = 40;

/// Legend entries laid out left to right, wrapping: `(x, row)` of each, and the rows used.
fn legend_layout(names: &[String]) -> (Vec<(u32, u32)>, u32) {
    let mut placed = Vec::with_capacity(names.len());
    let (mut x, mut row) = (0u32, 0u32);
    for name in names {
        let chars = name.chars().count().min(LEGEND_NAME_CHARS);
        let width = 18 + text_width(chars, LEGEND_FONT) + 22;
        if x > 0 && x + width > WIDTH - 40 {
            x = 0;
            row += 1;
        }
        placed.push((x, row));
        x += width;
    }
    let rows = if names.is_empty() { 0 } else { row + 1 };
    (placed, rows)
}

/// The height a legend of `names` takes (0 for none).
pub(super) fn legend_height(names: &[String]) -> u32 {
    let (_, rows) = legend_layout(names);
    if rows == 0 {
        0
    } else {
        rows * LEGEND_ROW + 12
    }
}

/// Draws the legend of `names` (colours in palette order) into `area`.
pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[String],
    swatch: Swatch,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let (placed, _) = legend_layout(names);
    let label = font(LEGEND_FONT).pos(Pos::new(HPos::Left, VPos::Center));
    for (index, (name, (x, row))) in names.iter().zip(placed).enumerate() {
        let x = 24 + x as i32;
        let y = 6 + (row * LEGEND_ROW + LEGEND_ROW / 2) as i32;
        let colour = colour(index);
        match swatch {
            Swatch::Line => area.draw(&PathElement::new(
                vec![(x, y), (x + 14, y)],
                colour.stroke_width(3),
            ))?,
            Swatch::Block => area.draw(&Rectangle::new(
                [(x, y - 6), (x + 12, y + 6)],
                colour.filled(),
            ))?,
        }
        let text = super::format::shorten(name, LEGEND_NAME_CHARS);
        area.draw(&Text::new(text, (x + 18, y), label.clone()))?;
    }
    Ok(())
}
