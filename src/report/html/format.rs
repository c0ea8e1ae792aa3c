//! Numbers as text: table cells for reading (HTML) and for machines (CSV), chart ticks and
//! heatmap cell labels. Decimals are rounded half away from zero, as a bank reads them.

use rust_decimal::{Decimal, RoundingStrategy};

use super::model::{Axis, Cell};

/// What the HTML shows for a missing ratio.
pub(crate) const MISSING: &str = "—";

const AWAY: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

impl Cell {
    /// The cell as the HTML table shows it (not yet HTML-escaped).
    pub fn display(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Count(n) => group_digits(&n.to_string()),
            Cell::Money(amount) | Cell::Figure(Some(amount)) => fixed(*amount, 2),
            Cell::Ratio(None) | Cell::Figure(None) => MISSING.to_owned(),
            Cell::Ratio(Some(fraction)) => match fraction.checked_mul(Decimal::ONE_HUNDRED) {
                Some(percent) => format!("{} %", fixed(percent, 2)),
                // Only a fraction near Decimal::MAX gets here; show it unscaled rather than
                // pretend.
                None => format!("{fraction} (fraction)"),
            },
            Cell::Empty => String::new(),
        }
    }

    /// The cell as the CSV file holds it: exact amounts, fractions to 6 decimals, no grouping.
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(amount) => amount.to_string(),
            Cell::Ratio(None) | Cell::Figure(None) | Cell::Empty => String::new(),
            Cell::Figure(Some(value)) => {
                let mut rounded = value.round_dp_with_strategy(6, AWAY);
                rounded.normalize_assign();
                unsigned_zero(rounded).to_string()
            }
            Cell::Ratio(Some(fraction)) => {
                let mut rounded = fraction.round_dp_with_strategy(6, AWAY);
                rounded.rescale(6);
                unsigned_zero(rounded).to_string()
            }
        }
    }
}

/// `value` rounded to exactly `dp` decimals, integer part grouped by thousands.
fn fixed(value: Decimal, dp: u32) -> String {
    let mut rounded = value.round_dp_with_strategy(dp, AWAY);
    rounded.rescale(dp);
    let text = unsigned_zero(rounded).to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let mut out = format!("{sign}{}", group_digits(int));
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A value that rounds to zero prints as `0.00`, never `-0.00`.
fn unsigned_zero(mut value: Decimal) -> Decimal {
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    value
}

/// `1234567` → `1,234,567`; expects ASCII digits only.
fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A finite float as text with at most `dp` decimals, trailing zeros dropped, grouped by
/// thousands: ticks 0, 2.5, 5 rather than 0.0, 2.5, 5.0.
fn trimmed(value: f64, dp: usize) -> String {
    let text = format!("{:.*}", dp, value);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    let text = if text == "-0" { "0".to_owned() } else { text };
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    match digits.split_once('.') {
        Some((int, frac)) => format!("{sign}{}.{frac}", group_digits(int)),
        None => format!("{sign}{}", group_digits(digits)),
    }
}

/// Decimals that tell ticks `step` apart: 0 for steps of 1 and more, 1 for 0.5, 2 for 0.05…
fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) || step >= 1.0 {
        return 0;
    }
    // A step is 1, 2 or 5 × 10^-k; k decimals show it (capped: past 10 the axis is noise).
    let k = (-step.log10()).ceil();
    if k.is_finite() {
        (k as usize).min(10)
    } else {
        0
    }
}

/// A tick label on an axis whose ticks are `step` apart.
pub(crate) fn tick(axis: Axis, value: f64, step: f64) -> String {
    match axis {
        Axis::Percent => format!("{} %", trimmed(value * 100.0, decimals_for(step * 100.0))),
        Axis::Count => trimmed(value, decimals_for(step)),
        Axis::Money => compact_money(value, step),
    }
}

/// Money ticks abbreviated past ten thousand: axes with 1,250,000 on them crowd the plot.
fn compact_money(value: f64, step: f64) -> String {
    let magnitude = value.abs().max(step.abs());
    let (divisor, suffix) = if magnitude >= 1e9 {
        (1e9, " B")
    } else if magnitude >= 1e6 {
        (1e6, " M")
    } else if magnitude >= 1e4 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    format!(
        "{}{suffix}",
        trimmed(value / divisor, decimals_for(step / divisor))
    )
}

/// A value printed inside a heatmap cell or at the end of a bar.
pub(crate) fn value_label(axis: Axis, value: f64) -> String {
    match axis {
        Axis::Percent => format!("{} %", trimmed(value * 100.0, 1)),
        Axis::Count => trimmed(value, 2),
        Axis::Money => compact_money(value, value.abs() / 100.0),
    }
}

/// At most `max` characters, the rest replaced by an ellipsis: long labels must not eat the
/// plot (the table beneath keeps them whole).
pub(crate) fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_owned();
    }
    let mut out: String = label.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
