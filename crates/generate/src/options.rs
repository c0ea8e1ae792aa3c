//! The public vocabulary of the crate: what `generate` is asked for, what it reports, how it
//! fails (re-exported by the crate root).

use std::collections::BTreeMap;

/// Options for `postloan-monitor generate`.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of borrowers (≥ 1).
    pub borrowers: u32,
    /// Length of the book in months from `start` (1–240).
    pub months: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// First day of the book (local date in `time_zone`).
    pub start: chrono::NaiveDate,
    /// Share (0.0..=1.0) of lines that are malformed; 0 = none.
    pub bad_ratio: f64,
    /// Business time zone; `occurred_at` is written with this zone's offset.
    pub time_zone: chrono_tz::Tz,
}

/// Summary returned after writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Lines written (valid and malformed).
    pub lines: u64,
    /// Valid events written, by `type` (every type of the contract, zero counts included).
    pub events_by_type: BTreeMap<String, u64>,
    /// Malformed lines written.
    pub bad_lines: u64,
    /// Borrowers in the book.
    pub borrowers: u32,
    /// `loan_opened` events written.
    pub loans: u64,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The options are out of range (`borrowers` 0, `months` 0 or > 240, `bad_ratio` outside
    /// 0..=1 or NaN, or `start + months` not representable).
    #[error("invalid generate options: {0}")]
    InvalidOptions(String),
    /// Writing the output failed.
    #[error("failed to write generated events: {0}")]
    Io(#[from] std::io::Error),
    /// An event could not be encoded as JSON (unreachable: every value is plain ASCII).
    #[error("failed to encode a generated event as JSON")]
    Encode(#[from] serde_json::Error),
}

/// Maximum book length in months.
pub const MAX_MONTHS: u32 = 240;

/// Checks the options' ranges (the calendar checks `start + months`).
pub(crate) fn validate(opts: &GenerateOptions) -> Result<(), GenerateError> {
    if opts.borrowers == 0 {
        return Err(GenerateError::InvalidOptions(
            "borrowers must be at least 1".into(),
        ));
    }
    if opts.months == 0 || opts.months > MAX_MONTHS {
        return Err(GenerateError::InvalidOptions(format!(
            "months must be between 1 and {MAX_MONTHS}, got {}",
            opts.months
        )));
    }
    if !(0.0..=1.0).contains(&opts.bad_ratio) {
        return Err(GenerateError::InvalidOptions(format!(
            "bad_ratio must be between 0 and 1, got {}",
            opts.bad_ratio
        )));
    }
    Ok(())
}
