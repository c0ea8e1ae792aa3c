//! `occurred_at`: the one rule for reading it, used by the decoder and, ahead of decoding, by
//! the runtime's merge.

use chrono::{DateTime, Datelike, Utc};

use super::calendar::{self, Wrong};
use super::{invalid, invalid_because, Field, YEAR_RANGE};
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
    let head: Head<'_> = serde_json::from_slice(payload).ok()?;
    parse_occurred_at(head.occurred_at?).ok().map(OccurredAt)
}

/// The one rule for `occurred_at`: an RFC 3339 timestamp with an offset, in years
/// [`YEAR_RANGE`]. A year outside is `implausible_time` (a typo such as 0202 or 3025, not a
/// time this monitor could act on); anything else refused is `invalid_value`, saying which
/// part is wrong.
pub(super) fn parse_occurred_at(text: &str) -> Result<DateTime<Utc>, Rejection> {
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
