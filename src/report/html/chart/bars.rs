//! Horizontal bars, one per label, the first at the top, each with its value at its end.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{Bands, Scale};
use super::{clean, colour, font, text_width, DrawError, AXIS, GRID, WIDTH};
use crate::report::html::format;
use crate::report::html::model::Axis;

const ROW: u32 = 30;
/// Space above and below the bars: margin and the value axis' labels.
const CHROME: u32 = 70;
/// Labels longer than this are shortened beside the bars (the table keeps them whole).
const LABEL_CHARS: usize = 32;
const LABEL_FONT: f64 = 12.5;
const TICK_FONT: f64 = 12.0;

/// One bar per label; a missing (non-finite) value leaves its row empty.
pub(super) fn horizontal(labels: &[String], values: &[f64], x: Axis) -> Result<String, DrawError> {
    let values: Vec<Option<f64>> = values.iter().map(|v| clean(Some(*v))).collect();
    let (min, max) = values
        .iter()
        .flatten()
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let scale = Scale::fit(x, min, max);
    let longest = labels
        .iter()
        .map(|l| l.chars().count().min(LABEL_CHARS))
        .max()
        .unwrap_or(1);
    let label_area = text_width(longest, LABEL_FONT) + 18;
    let height = ROW * labels.len().max(1) as u32 + CHROME;
    let value_font = font(LABEL_FONT - 1.0).pos(Pos::new(HPos::Left, VPos::Center));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(12)
            // Room for the value printed past the longest bar.
            .margin_right(80)
            .margin_left(8)
            .x_label_area_size(34)
            .y_label_area_size(label_area)
            .build_cartesian_2d(scale.clone(), Bands::new(labels, LABEL_CHARS, true))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(0)
            .x_labels(scale.ticks().len())
            .y_labels(labels.len().max(1))
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_label_style(font(TICK_FONT))
            .y_label_style(font(LABEL_FONT))
            .draw()?;
        let bars: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(row, v)| v.map(|v| (row as f64, v)))
            .collect();
        let base = 0.0;
        chart.draw_series(bars.iter().map(|(row, v)| {
            Rectangle::new([(base, row - 0.35), (*v, row + 0.35)], colour(0).filled())
        }))?;
        chart.draw_series(bars.iter().map(|(row, v)| {
            // Past the end of the bar, on the side it grows to.
            let at = if *v >= 0.0 { *v } else { base };
            EmptyElement::at((at, *row))
                + Text::new(format::value_label(x, *v), (6, 0), value_font.clone())
        }))?;
        root.present()?;
    }
    Ok(svg)
}
