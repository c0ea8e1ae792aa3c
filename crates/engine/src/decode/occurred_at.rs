//! `occurred_at`: the one rule for reading it, used by the decoder and, ahead of decoding, by
//! the runtime's merge.

use chrono::{DateTime, Datelike, Utc};

use super::calendar::{self, Wrong};
use super::slots::Slots;
use super::{invalid, invalid_because, scan, Field, YEAR_RANGE};
use crate::reject::{ErrorKind, Rejection};

/// An event's `occurred_at`, read ahead of decoding with the decoder's own rule
/// ([`peek_occurred_at`]) — the runtime's merge orders records by it — and handed back to
/// [`decode_with`] so that the timestamp of a record is parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OccurredAt(pub(super) DateTime<Utc>);

impl OccurredAt {
    /// The instant.
    pub fn instant(self) -> DateTime<Utc> {
        self.0
    }
}

/// The `occurred_at` of a payload without decoding the rest, by the rule [`decode`] applies;
/// `None` when it is missing, not a plain string or not a valid timestamp (the decoder then
/// says why).
pub fn peek_occurred_at(payload: &[u8]) -> Option<OccurredAt> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        occurred_at: Option<&'a str>,
    }
    // The scanner's slots when it reads the payload and no field appears twice (serde would
    // refuse a repeated `occurred_at`); otherwise serde_json's reading, as always.
    let text = std::str::from_utf8(payload).ok();
    let mut slots = Slots::empty();
    let raw = match text {
        Some(text) if scan::object(text, &mut slots).is_some() && slots.repeated.is_none() => {
            match slots.get(Field::OccurredAt) {
                Some(raw) => Some(raw.strip_prefix('"')?.strip_suffix('"')?),
                None => None,
            }
        }
        _ => {
            serde_json::from_slice::<Head<'_>>(payload)
                .ok()?
                .occurred_at
        }
    };
    parse_occurred_at(raw?).ok().map(OccurredAt)
}

#[cfg(test)]
mod tests;

/// The one rule for `occurred_at`: an RFC 3339 timestamp with an offset, in years
/// [`YEAR_RANGE`]. A year outside is `implausible_time` (a typo such as 0202 or 3025, not a
/// time this monitor could act on); anything else refused is `invalid_value`, saying which
/// part is wrong.
pub(super) fn parse_occurred_at(text: &str) -> Result<DateTime<Utc>, Rejection> {
    if let Some(t) = fast_rfc3339(text) {
        return Ok(t);
    }
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) if YEAR_RANGE.contains(&t.year()) => Ok(t.with_timezone(&Utc)),
        Ok(t) => {
            let why = if t.year() < *YEAR_RANGE.start() {
                format!(
                    "is before {:04}-01-01, the earliest time the contract accepts",
                    YEAR_RANGE.start()
                )
            } else {
                format!(
                    "is after {:04}-12-31, the latest time the contract accepts",
                    YEAR_RANGE.end()
                )
            };
            Err(Rejection::new(
                ErrorKind::ImplausibleTime,
                format!("field `occurred_at`: {} {why}", head(text)),
            ))
        }
        Err(_) => Err(why_not(text)),
    }
}

/// The common shapes, `2025-03-01T10:00:00+08:00`, `…Z` and either with a fraction of 1–9
/// digits, read by hand when every part is in range and the local year is in [`YEAR_RANGE`];
/// `None` sends the text to chrono (a leap second, a lower-case `t`, an offset of 24 hours, a
/// year out of range, anything malformed), so the answer is always chrono's. Events carry
/// one timestamp each, and chrono's general parser is a tenth of a decode.
fn fast_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = num(0, 4)? as i32;
    if !YEAR_RANGE.contains(&year) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(year, num(5, 2)?, num(8, 2)?)?;
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0;
    if b[at] == b'.' {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = num(at + 1, digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let offset_secs = match (b.get(at)?, b.len() - at) {
        (b'Z', 1) => 0,
        (sign @ (b'+' | b'-'), 6) if b[at + 3] == b':' => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i64;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let local = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    let utc = local.checked_sub_signed(chrono::Duration::seconds(offset_secs))?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
}

/// At most 60 characters of `text`, so that a long fraction of a second is not echoed whole.
fn head(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(60).collect::<String>())
    }
}

/// Why chrono refused `text`: the first part (date, time of day, offset) that has its shape
/// but is not a real value, or that the offset is missing; otherwise the shape wanted.
fn why_not(text: &str) -> Rejection {
    let shape = || {
        invalid(
            Field::OccurredAt,
            format_args!(
                "must be an RFC 3339 timestamp with a UTC offset, such as \
                 2025-03-01T10:00:00+08:00, got {}",
                calendar::quoted(text)
            ),
        )
    };
    let value = |wrong: Wrong| match wrong {
        Wrong::Shape => shape(),
        Wrong::Value(why) => invalid_because(Field::OccurredAt, why),
    };
    let (Some(date), Some(rest)) = (text.get(..10), text.get(10..)) else {
        return shape();
    };
    if let Err(wrong) = calendar::date(date) {
        return value(wrong);
    }
    // chrono takes a space or a small `t` as well as `T`.
    let Some(rest) = rest.strip_prefix(['T', 't', ' ']) else {
        return shape();
    };
    let (Some(time), Some(mut rest)) = (rest.get(..8), rest.get(8..)) else {
        return shape();
    };
    if let Err(wrong) = calendar::time_of_day(time) {
        return value(wrong);
    }
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return shape();
        }
        rest = &fraction[n..];
    }
    if rest.is_empty() {
        return invalid_because(
            Field::OccurredAt,
            format!(
                "{} has no UTC offset (end it with Z or an offset such as +08:00)",
                head(text)
            ),
        );
    }
    match calendar::utc_offset(rest) {
        Err(wrong) => value(wrong),
        Ok(()) => shape(),
    }
}
