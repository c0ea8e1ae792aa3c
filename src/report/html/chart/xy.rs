//! Lines and stacked bars over labelled categories (months, months on book).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Bands, Scale};
use super::{clean, colour, draw_legend, font, legend_height, text_width, DrawError, Swatch};
use super::{AXIS, GRID, WIDTH};
use crate::report::html::model::{Axis, Series};

/// The height of the plot itself; a legend adds to it.
const PLOT_HEIGHT: u32 = 380;
/// X labels longer than this are shortened on the axis.
const X_LABEL_CHARS: usize = 16;
const TICK_FONT: f64 = 12.0;
/// Dots on every point while there are this few categories; past it only on lone points.
const MARKERS_UP_TO: usize = 36;

/// One line per series; a gap where a value is missing.
pub(super) fn lines(x_labels: &[String], series: &[Series], y: Axis) -> Result<String, DrawError> {
    let values = cleaned(series);
    let (min, max) = extent(values.iter().flatten().flatten().copied());
    let scale = Scale::fit(y, min, max);
    let names = legend_names(series);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, PLOT_HEIGHT + legend_height(&names)))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let (plot, legend) = root.split_vertically(PLOT_HEIGHT);
        let mut chart = framed(&plot, x_labels, &scale)?;
        for (index, values) in values.iter().enumerate() {
            let colour = colour(index);
            for run in runs(values) {
                let lone = run.len() == 1;
                if !lone {
                    chart.draw_series(std::iter::once(PathElement::new(
                        run.clone(),
                        colour.stroke_width(2),
                    )))?;
                }
                if lone || x_labels.len() <= MARKERS_UP_TO {
                    chart
                        .draw_series(run.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
                }
            }
        }
        draw_legend(&legend, &names, Swatch::Line)?;
        root.present()?;
    }
    Ok(svg)
}

/// Bars stacked per category, the first series at the bottom; negative values stack
/// downwards from zero.
pub(super) fn stacked(
    x_labels: &[String],
    series: &[Series],
    y: Axis,
) -> Result<String, DrawError> {
    let values = cleaned(series);
    // Each bar segment as (series, category, from, to).
    let mut segments = Vec::new();
    let (mut min, mut max) = (0.0f64, 0.0f64);
    for category in 0..x_labels.len() {
        let (mut up, mut down) = (0.0f64, 0.0f64);
        for (index, values) in values.iter().enumerate() {
            let Some(value) = values.get(category).copied().flatten() else {
                continue;
            };
            let base = if value >= 0.0 { &mut up } else { &mut down };
            segments.push((index, category, *base, *base + value));
            *base += value;
        }
        min = min.min(down);
        max = max.max(up);
    }
    let scale = Scale::fit(y, min, max);
    let names = legend_names(series);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, PLOT_HEIGHT + legend_height(&names)))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let (plot, legend) = root.split_vertically(PLOT_HEIGHT);
        let mut chart = framed(&plot, x_labels, &scale)?;
        chart.draw_series(segments.into_iter().map(|(index, category, from, to)| {
            let x = category as f64;
            Rectangle::new([(x - 0.4, from), (x + 0.4, to)], colour(index).filled())
        }))?;
        draw_legend(&legend, &names, Swatch::Block)?;
        root.present()?;
    }
    Ok(svg)
}

type Frame<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Bands, Scale>>;

/// The plot with its axes, horizontal grid lines and tick labels drawn.
fn framed<'a, 'b>(
    area: &DrawingArea<SVGBackend<'b>, Shift>,
    x_labels: &[String],
    scale: &Scale,
) -> Result<Frame<'a, 'b>, DrawError>
where
    'b: 'a,
{
    let y_label_width = scale
        .ticks()
        .iter()
        .map(|t| scale.label(*t).chars().count())
        .max()
        .unwrap_or(1);
    let y_area = text_width(y_label_width, TICK_FONT) + 18;
    let longest = x_labels
        .iter()
        .map(|l| l.chars().count().min(X_LABEL_CHARS))
        .max()
        .unwrap_or(1);
    let plot_width = WIDTH.saturating_sub(y_area + 40);
    let fits = (plot_width / (text_width(longest, TICK_FONT) + 14)).max(1) as usize;
    let mut chart = ChartBuilder::on(area)
        .margin_top(16)
        .margin_right(28)
        .margin_left(8)
        .x_label_area_size(34)
        .y_label_area_size(y_area)
        .build_cartesian_2d(Bands::new(x_labels, X_LABEL_CHARS, false), scale.clone())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .x_labels(fits)
        .y_labels(scale.ticks().len())
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(font(TICK_FONT))
        .draw()?;
    Ok(chart)
}

/// Legend entries: only when there is more than one series to tell apart.
fn legend_names(series: &[Series]) -> Vec<String> {
    if series.len() > 1 {
        series.iter().map(|s| s.name.clone()).collect()
    } else {
        Vec::new()
    }
}

fn cleaned(series: &[Series]) -> Vec<Vec<Option<f64>>> {
    series
        .iter()
        .map(|s| s.values.iter().map(|v| clean(*v)).collect())
        .collect()
}

/// Smallest and largest of `values`, (0, 0) when there are none.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Runs of consecutive present values as (category, value) points.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for (index, value) in values.iter().enumerate() {
        match value {
            Some(v) => run.push((index as f64, *v)),
            None if !run.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}
