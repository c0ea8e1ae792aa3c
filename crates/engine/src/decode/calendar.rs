//! Dates, months and times of day in text, and why a text of the right shape is still not
//! one: a person fixing "2025-02-30" needs to hear that February has 28 days, not that the
//! text is not `YYYY-MM-DD` (it is).

use chrono::NaiveDate;

use super::{invalid, invalid_because, Field};
use crate::reject::Rejection;

/// Why a text was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Wrong {
    /// Not of the expected shape (letters, missing separators, wrong length, …): the caller
    /// says what shape it wants.
    Shape,
    /// The right shape but no real calendar value; the text says why, ready to follow the
    /// field name.
    Value(String),
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The number in `s[range]` when every byte there is an ASCII digit.
fn digits(s: &str, range: std::ops::Range<usize>) -> Option<u32> {
    let part = s.as_bytes().get(range)?;
    if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM` with a month that exists; `what` is "date" or "month", for the message.
fn year_month(s: &str, what: &str) -> Result<(i32, u32), Wrong> {
    let b = s.as_bytes();
    if b.len() < 7 || b[4] != b'-' {
        return Err(Wrong::Shape);
    }
    let (Some(year), Some(month)) = (digits(s, 0..4), digits(s, 5..7)) else {
        return Err(Wrong::Shape);
    };
    if !(1..=12).contains(&month) {
        return Err(Wrong::Value(format!(
            "{s} is not a {what} (there is no month {month})"
        )));
    }
    // Four digits: at most 9999, well inside i32.
    Ok((year as i32, month))
}

/// Exactly `YYYY-MM-DD`, a day that exists.
pub(super) fn date(s: &str) -> Result<NaiveDate, Wrong> {
    let b = s.as_bytes();
    let (10, b'-', Some(day)) = (b.len(), b.get(7).copied().unwrap_or(0), digits(s, 8..10)) else {
        return Err(Wrong::Shape);
    };
    let (year, month) = year_month(s, "date")?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let why = if day == 0 {
            "there is no day 0".to_owned()
        } else {
            format!(
                "{} {} has {} days",
                MONTH_NAMES[month as usize - 1],
                &s[..4],
                days_in_month(year, month)
            )
        };
        Wrong::Value(format!("{s} is not a date ({why})"))
    })
}

/// Exactly `YYYY-MM`, a month that exists.
pub(super) fn month(s: &str) -> Result<(), Wrong> {
    if s.len() != 7 {
        return Err(Wrong::Shape);
    }
    year_month(s, "month").map(|_| ())
}

/// Exactly `HH:MM:SS`, a time on a clock (second 60 is a leap second).
pub(super) fn time_of_day(s: &str) -> Result<(), Wrong> {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return Err(Wrong::Shape);
    }
    let (Some(h), Some(m), Some(sec)) = (digits(s, 0..2), digits(s, 3..5), digits(s, 6..8)) else {
        return Err(Wrong::Shape);
    };
    if h > 23 || m > 59 || sec > 60 {
        return Err(Wrong::Value(format!("{s} is not a time of day")));
    }
    Ok(())
}

/// Exactly `+HH:MM` or `-HH:MM`, an offset that a clock can have.
pub(super) fn utc_offset(s: &str) -> Result<(), Wrong> {
    let b = s.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return Err(Wrong::Shape);
    }
    let (Some(h), Some(m)) = (digits(s, 1..3), digits(s, 4..6)) else {
        return Err(Wrong::Shape);
    };
    if h > 23 || m > 59 {
        return Err(Wrong::Value(format!(
            "{s} is not a UTC offset (hours 00–23, minutes 00–59)"
        )));
    }
    Ok(())
}

/// Field `f` as a date `YYYY-MM-DD`.
pub(super) fn date_field(f: Field, s: &str) -> Result<NaiveDate, Rejection> {
    date(s).map_err(|wrong| refused(f, wrong, "a date YYYY-MM-DD", s))
}

/// Field `f` as a month `YYYY-MM`.
pub(super) fn month_field(f: Field, s: &str) -> Result<(), Rejection> {
    month(s).map_err(|wrong| refused(f, wrong, "a month YYYY-MM", s))
}

/// `s` quoted, at most 60 characters of it: a value may be megabytes long.
pub(super) fn quoted(s: &str) -> String {
    let head: String = s.chars().take(60).collect();
    let more = if head.len() < s.len() { "…" } else { "" };
    format!("{head:?}{more}")
}

fn refused(f: Field, wrong: Wrong, shape: &str, s: &str) -> Rejection {
    match wrong {
        Wrong::Shape => invalid(f, format_args!("must be {shape}, got {}", quoted(s))),
        Wrong::Value(why) => invalid_because(f, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(why: &str) -> Result<(), Wrong> {
        Err(Wrong::Value(why.to_owned()))
    }

    #[test]
    fn dates() {
        let cases: [(&str, Result<(), Wrong>); 14] = [
            ("2025-02-28", Ok(())),
            ("2024-02-29", Ok(())),
            ("2000-02-29", Ok(())),
            ("2025-12-31", Ok(())),
            (
                "2025-02-29",
                value("2025-02-29 is not a date (February 2025 has 28 days)"),
            ),
            (
                "1900-02-29",
                value("1900-02-29 is not a date (February 1900 has 28 days)"),
            ),
            (
                "2025-02-30",
                value("2025-02-30 is not a date (February 2025 has 28 days)"),
            ),
            (
                "2026-04-31",
                value("2026-04-31 is not a date (April 2026 has 30 days)"),
            ),
            (
                "2026-01-32",
                value("2026-01-32 is not a date (January 2026 has 31 days)"),
            ),
            (
                "2025-13-01",
                value("2025-13-01 is not a date (there is no month 13)"),
            ),
            (
                "2025-00-10",
                value("2025-00-10 is not a date (there is no month 0)"),
            ),
            (
                "2025-01-00",
                value("2025-01-00 is not a date (there is no day 0)"),
            ),
            ("2026-2-10", Err(Wrong::Shape)),
            ("+10000-01-01", Err(Wrong::Shape)),
        ];
        for (text, want) in cases {
            assert_eq!(date(text).map(|_| ()), want, "{text}");
        }
        for text in [
            "2026-02-1x",
            "2026/02/10",
            "２０２６-02-10",
            "",
            "2026-02-10 ",
        ] {
            assert_eq!(date(text), Err(Wrong::Shape), "{text}");
        }
    }

    #[test]
    fn months_times_and_offsets() {
        type Check = fn(&str) -> Result<(), Wrong>;
        let cases: [(Check, &str, Result<(), Wrong>); 15] = [
            (month, "2026-01", Ok(())),
            (month, "2026-12", Ok(())),
            (
                month,
                "2026-13",
                value("2026-13 is not a month (there is no month 13)"),
            ),
            (
                month,
                "2026-00",
                value("2026-00 is not a month (there is no month 0)"),
            ),
            (month, "202601", Err(Wrong::Shape)),
            (month, "2026-01-01", Err(Wrong::Shape)),
            (time_of_day, "23:59:59", Ok(())),
            (time_of_day, "23:59:60", Ok(())),
            (
                time_of_day,
                "25:00:00",
                value("25:00:00 is not a time of day"),
            ),
            (
                time_of_day,
                "10:60:00",
                value("10:60:00 is not a time of day"),
            ),
            (
                time_of_day,
                "10:00:61",
                value("10:00:61 is not a time of day"),
            ),
            (time_of_day, "10:00", Err(Wrong::Shape)),
            (utc_offset, "+08:00", Ok(())),
            (
                utc_offset,
                "+24:00",
                value("+24:00 is not a UTC offset (hours 00–23, minutes 00–59)"),
            ),
            (utc_offset, "+0800", Err(Wrong::Shape)),
        ];
        for (check, text, want) in cases {
            assert_eq!(check(text), want, "{text}");
        }
    }
}
