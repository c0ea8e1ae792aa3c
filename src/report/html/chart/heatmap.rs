//! A grid of cells coloured by value on a sequential scale, each printing its value: a
//! matrix reads by its numbers, the colour only guides the eye.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{Bands, Scale};
use super::{clean, font, text_width, DrawError, AXIS, BLANK, INK, WIDTH};
use crate::report::html::format;
use crate::report::html::model::Axis;

const ROW: u32 = 34;
/// Space for the column labels on top and the margins.
const CHROME: u32 = 60;
const LABEL_CHARS: usize = 24;
const LABEL_FONT: f64 = 12.5;
const CELL_FONT: f64 = 12.5;

/// ColorBrewer's sequential "Blues": lightness carries the value, so it survives colour
/// blindness and greyscale printing; no stop is grey.
const BLUES: [RGBColor; 9] = [
    RGBColor(0xF7, 0xFB, 0xFF),
    RGBColor(0xDE, 0xEB, 0xF7),
    RGBColor(0xC6, 0xDB, 0xEF),
    RGBColor(0x9E, 0xCA, 0xE1),
    RGBColor(0x6B, 0xAE, 0xD6),
    RGBColor(0x42, 0x92, 0xC6),
    RGBColor(0x21, 0x71, 0xB5),
    RGBColor(0x08, 0x51, 0x9C),
    RGBColor(0x08, 0x30, 0x6B),
];

/// Past this share of the scale, cell text turns white to stay readable.
const DARK_FROM: f64 = 0.55;

/// The grid, `values[row][column]`; a missing value is a pale blank cell showing `—`.
pub(super) fn grid(
    rows: &[String],
    columns: &[String],
    values: &[Vec<Option<f64>>],
    axis: Axis,
) -> Result<String, DrawError> {
    let present = || values.iter().flatten().filter_map(|v| clean(*v));
    let scale = match axis {
        Axis::Percent => Scale::fixed(axis, 0.0, 1.0, 0.2),
        _ => {
            let (min, max) = present().fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
            Scale::fit(axis, min, max)
        }
    };
    let longest = rows
        .iter()
        .map(|l| l.chars().count().min(LABEL_CHARS))
        .max()
        .unwrap_or(1);
    let label_area = text_width(longest, LABEL_FONT) + 18;
    let height = ROW * rows.len().max(1) as u32 + CHROME;
    let cell_font = font(CELL_FONT).pos(Pos::new(HPos::Center, VPos::Center));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .set_label_area_size(LabelAreaPosition::Top, 34)
            .set_label_area_size(LabelAreaPosition::Left, label_area)
            .build_cartesian_2d(
                Bands::new(columns, LABEL_CHARS, false),
                Bands::new(rows, LABEL_CHARS, true),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(columns.len().max(1))
            .y_labels(rows.len().max(1))
            .axis_style(AXIS)
            .label_style(font(LABEL_FONT))
            .draw()?;
        let cells: Vec<(f64, f64, Option<f64>)> = values
            .iter()
            .enumerate()
            .flat_map(|(r, row)| {
                row.iter()
                    .enumerate()
                    .map(move |(c, v)| (c as f64, r as f64, clean(*v)))
            })
            .collect();
        chart.draw_series(cells.iter().map(|(c, r, v)| {
            let fill = match v {
                Some(v) => shade(scale.fraction(*v)),
                None => BLANK,
            };
            let mut cell = Rectangle::new([(c - 0.5, r - 0.5), (c + 0.5, r + 0.5)], fill.filled());
            cell.set_margin(1, 1, 1, 1);
            cell
        }))?;
        chart.draw_series(cells.iter().map(|(c, r, v)| {
            let (text, style) = match v {
                Some(v) if scale.fraction(*v) > DARK_FROM => {
                    (format::value_label(axis, *v), cell_font.color(&WHITE))
                }
                Some(v) => (format::value_label(axis, *v), cell_font.color(&INK)),
                None => (format::MISSING.to_owned(), cell_font.color(&INK)),
            };
            EmptyElement::at((*c, *r)) + Text::new(text, (0, 0), style)
        }))?;
        root.present()?;
    }
    Ok(svg)
}

/// The colour `t` of the way along [`BLUES`] (clamped to its ends).
fn shade(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let span = (BLUES.len() - 1) as f64;
    let at = t * span;
    let low = (at.floor() as usize).min(BLUES.len() - 2);
    let f = at - low as f64;
    let (a, b) = (BLUES[low], BLUES[low + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
