//! `occurred_at`: the one rule for reading it, used by the decoder and, ahead of decoding, by
//! the runtime's merge.

use chrono::{DateTime, Datelike, Utc};

use super::{invalid, Field, YEAR_RANGE};
use crate::reject::Rejection;

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
/// [`YEAR_RANGE`].
pub(super) fn parse_occurred_at(text: &str) -> Result<DateTime<Utc>, Rejection> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .filter(|t| YEAR_RANGE.contains(&t.year()))
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            invalid(
                Field::OccurredAt,
                format_args!(
                    "must be an RFC 3339 timestamp with offset in years {}–{}, got {:?}",
                    YEAR_RANGE.start(),
                    YEAR_RANGE.end(),
                    text.chars().take(60).collect::<String>()
                ),
            )
        })
}
