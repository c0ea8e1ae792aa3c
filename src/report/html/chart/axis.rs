//! The two kinds of axis every chart is built from, as plotters coordinate specs: labelled
//! categories in equal bands, and a value scale with round ticks. Plotters' own integer and
//! segmented axes divide by zero on a single category and choose fractional ticks for counts;
//! these never do.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

use super::super::format;
use super::super::model::Axis;

/// Categories `0..n` at integer positions, each the centre of a band one unit wide; labels
/// are thinned evenly when they do not all fit.
#[derive(Clone)]
pub(super) struct Bands {
    labels: Vec<String>,
    /// Draws the first category at the far end of the pixel range (top of a vertical axis).
    reversed: bool,
}

impl Bands {
    /// Bands for `labels`, each shortened to `max_chars`.
    pub(super) fn new(labels: &[String], max_chars: usize, reversed: bool) -> Self {
        Self {
            labels: labels
                .iter()
                .map(|l| format::shorten(l, max_chars))
                .collect(),
            reversed,
        }
    }

    fn len(&self) -> usize {
        self.labels.len().max(1)
    }
}

impl Ranged for Bands {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let mut t = (value + 0.5) / self.len() as f64;
        if self.reversed {
            t = 1.0 - t;
        }
        lerp(limit, t)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let max = hint.max_num_points();
        if max == 0 {
            return Vec::new();
        }
        let step = self.labels.len().div_ceil(max).max(1);
        (0..self.labels.len())
            .step_by(step)
            .map(|i| i as f64)
            .collect()
    }

    fn range(&self) -> Range<f64> {
        -0.5..self.len() as f64 - 0.5
    }
}

impl ValueFormatter<f64> for Bands {
    fn format(_: &f64) -> String {
        String::new()
    }

    fn format_ext(&self, value: &f64) -> String {
        let index = value.round();
        if index >= 0.0 && (index as usize) < self.labels.len() {
            self.labels[index as usize].clone()
        } else {
            String::new()
        }
    }
}

/// A value axis from `lo` to `hi` with ticks every `step`, both ends on a tick.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Scale {
    axis: Axis,
    lo: f64,
    hi: f64,
    step: f64,
}

/// Values beyond this are clamped before drawing: they are nonsense on a report axis, and
/// the span of two of them must stay finite.
pub(super) const LIMIT: f64 = 1e15;

/// Tick intervals aimed at: five lines read well on a 300-pixel plot.
const INTERVALS: f64 = 5.0;

impl Scale {
    /// A scale covering `min..=max` (finite, clamped data) and zero.
    pub(super) fn fit(axis: Axis, min: f64, max: f64) -> Self {
        let lo = min.min(0.0);
        let mut hi = max.max(0.0);
        if hi - lo <= 0.0 {
            // All zeros: an empty but honest axis.
            hi = match axis {
                Axis::Percent => 0.05,
                Axis::Count => 5.0,
                Axis::Money => 1000.0,
            };
        }
        let mut step = nice_step((hi - lo) / INTERVALS);
        if axis == Axis::Count {
            step = step.max(1.0);
        }
        Self {
            axis,
            // The slack keeps 0.03 / 0.01 = 3.0000000000000004 from adding a tick.
            lo: (lo / step + 1e-9).floor() * step,
            hi: (hi / step - 1e-9).ceil() * step,
            step,
        }
    }

    /// A fixed scale (heatmap colours of percentages are always 0–100 %).
    pub(super) fn fixed(axis: Axis, lo: f64, hi: f64, step: f64) -> Self {
        Self { axis, lo, hi, step }
    }

    /// The ticks, low to high.
    pub(super) fn ticks(&self) -> Vec<f64> {
        let count = ((self.hi - self.lo) / self.step).round();
        // `fit` makes about five intervals; the cap only guards against a bad fixed scale.
        let count = if count.is_finite() {
            count.min(50.0)
        } else {
            0.0
        } as usize;
        (0..=count)
            .map(|i| self.lo + i as f64 * self.step)
            .collect()
    }

    /// Where `value` lies between the ends, 0 at `lo` and 1 at `hi` (not clamped).
    pub(super) fn fraction(&self, value: f64) -> f64 {
        (value - self.lo) / (self.hi - self.lo)
    }

    /// The tick label for `value`.
    pub(super) fn label(&self, value: f64) -> String {
        format::tick(self.axis, value, self.step)
    }
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        lerp(limit, self.fraction(*value))
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let max = hint.max_num_points();
        let ticks = self.ticks();
        if max == 0 {
            return Vec::new();
        }
        let every = ticks.len().div_ceil(max).max(1);
        ticks.into_iter().step_by(every).collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Scale {
    fn format(value: &f64) -> String {
        value.to_string()
    }

    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// The pixel `t` of the way from `limit.0` to `limit.1`.
fn lerp(limit: (i32, i32), t: f64) -> i32 {
    let t = if t.is_finite() {
        t.clamp(-1.0, 2.0)
    } else {
        0.0
    };
    limit.0 + ((limit.1 - limit.0) as f64 * t).round() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_start_at_zero_and_end_on_a_round_tick() {
        let s = Scale::fit(Axis::Percent, 0.012, 0.0417);
        assert_eq!(s.ticks().first(), Some(&0.0));
        assert_eq!(s.label(*s.ticks().last().unwrap()), "5 %");
        let c = Scale::fit(Axis::Count, 0.0, 3.0);
        assert_eq!(c.ticks(), vec![0.0, 1.0, 2.0, 3.0]);
        let m = Scale::fit(Axis::Money, -1500.0, 4000.0);
        assert!(m.ticks()[0] <= -1500.0 && *m.ticks().last().unwrap() >= 4000.0);
        assert!(m.ticks().contains(&0.0));
    }

    #[test]
    fn degenerate_scales_still_have_ticks() {
        let z = Scale::fit(Axis::Count, 0.0, 0.0);
        assert_eq!(z.ticks().len(), 6);
        let big = Scale::fit(Axis::Money, -LIMIT, LIMIT);
        assert!(big.ticks().len() >= 2 && big.ticks().len() <= 12);
    }

    #[test]
    fn bands_thin_labels_and_survive_one_category() {
        let labels: Vec<String> = (0..24).map(|m| format!("m{m}")).collect();
        let b = Bands::new(&labels, 10, false);
        assert_eq!(b.key_points(6).len(), 6);
        assert_eq!(b.key_points(0).len(), 0);
        let one = Bands::new(&labels[..1], 10, false);
        assert_eq!(one.map(&0.0, (100, 300)), 200);
        assert_eq!(one.format_ext(&0.0), "m0");
        assert_eq!(one.format_ext(&7.0), "");
    }
}
