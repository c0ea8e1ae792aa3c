//! Business dates and the instants at which they begin.
//!
//! The engine's clock is a UTC instant; the contract's days (DPD, stale data) are business
//! dates in the configured IANA zone. A timer that fires "at the day boundary" fires at the
//! first instant of that business date.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The business date of an instant.
pub fn business_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    // One evaluation asks for the date of the same instant several times (the signals, the
    // timer), and a midnight's timers ask for it once per borrower: the last answer is kept
    // per thread (exact: the answer depends on nothing else).
    thread_local! {
        static LAST: std::cell::Cell<Option<(DateTime<Utc>, Tz, NaiveDate)>> =
            const { std::cell::Cell::new(None) };
    }
    LAST.with(|last| match last.get() {
        Some((t, z, d)) if t == instant && z == tz => d,
        _ => {
            let d = instant.with_timezone(&tz).date_naive();
            last.set(Some((instant, tz, d)));
            d
        }
    })
}

/// The first instant of a business date.
///
/// Where local midnight does not exist (a DST gap at midnight, as in some zones), the day
/// starts at the first local time that does; where it exists twice, at the earlier one.
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    // A zone lookup costs hundreds of instructions, and the timers ask for the same few days
    // again and again: remembered per thread, by date (exact: the answer depends on nothing
    // else).
    const SLOTS: usize = 64;
    type Memo = [Option<(NaiveDate, Tz, DateTime<Utc>)>; SLOTS];
    thread_local! {
        static MEMO: std::cell::RefCell<Memo> = const { std::cell::RefCell::new([None; SLOTS]) };
    }
    let slot = date.num_days_from_ce().rem_euclid(SLOTS as i32) as usize;
    MEMO.with_borrow_mut(|memo| match memo[slot] {
        Some((d, z, t)) if d == date && z == tz => t,
        _ => {
            let t = first_instant(date, tz);
            memo[slot] = Some((date, tz, t));
            t
        }
    })
}

fn first_instant(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        LocalResult::None => {
            // DST gaps are at most a few hours; step forward in minutes until local time exists.
            let mut probe = midnight;
            for _ in 0..(24 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            // Unreachable for real zones; fall back to midnight read as UTC minus nothing.
            Utc.from_utc_datetime(&midnight)
        }
    }
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Formats an instant as RFC 3339 in the business zone's offset, seconds unless finer is needed.
pub fn format_instant(instant: DateTime<Utc>, tz: Tz) -> String {
    instant
        .with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A whole number of hours as a duration.
pub fn hours(h: u32) -> chrono::Duration {
    chrono::Duration::hours(i64::from(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn late_evening_utc_is_the_next_business_day_in_shanghai() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let d = business_date(utc("2026-03-09T23:30:00Z"), tz);
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
        assert_eq!(
            business_date(utc("2026-03-09T15:59:59Z"), tz),
            NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()
        );
        assert_eq!(
            business_date(utc("2026-03-09T16:00:00Z"), tz),
            NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
        );
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(start_of_day(d, tz), utc("2026-03-09T16:00:00Z"));
        assert_eq!(
            format_instant(start_of_day(d, tz), tz),
            "2026-03-10T00:00:00+08:00"
        );
    }

    #[test]
    fn a_day_without_midnight_starts_at_its_first_instant() {
        // America/Santiago skipped 00:00–01:00 on 2022-09-11.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        let start = start_of_day(d, tz);
        assert_eq!(business_date(start, tz), d);
        assert_eq!(
            business_date(start - Duration::seconds(1), tz),
            d.pred_opt().unwrap()
        );
    }
}
