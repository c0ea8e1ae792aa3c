//! Calendar and time-zone helpers shared by every borrower script.
//!
//! All instants are `i64` seconds since the Unix epoch (UTC); every event also carries the
//! UTC offset (seconds) of the business zone at that instant so it can be written without
//! another zone lookup.

use chrono::{Datelike, LocalResult, Months, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone};
use chrono_tz::Tz;

use super::options::{GenerateError, GenerateOptions};

/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;
/// Wall-clock window (seconds of the local day) inside which the per-day offset cache applies.
const FAST_FROM: u32 = 6 * 3600;
const FAST_UNTIL: u32 = 22 * 3600;

/// Days since 1970-01-01.
pub(crate) fn days(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) - EPOCH_DAYS_FROM_CE
}

/// The local date of UTC instant `t` at offset `off` (seconds east of UTC).
pub(crate) fn local_date(t: i64, off: i32) -> NaiveDate {
    let d = (t + i64::from(off)).div_euclid(86_400) + EPOCH_DAYS_FROM_CE;
    i32::try_from(d)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MAX)
}

/// `d` plus `m` calendar months, day clamped to the month's end (chrono semantics).
pub(crate) fn add_months(d: NaiveDate, m: u32) -> NaiveDate {
    d.checked_add_months(Months::new(m))
        .unwrap_or(NaiveDate::MAX)
}

/// `d` plus `n` days (saturating at the calendar's end).
pub(crate) fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(TimeDelta::days(n))
        .unwrap_or(NaiveDate::MAX)
}

/// A lower bound of every UTC instant whose local date (in any zone) is `d` or later.
/// Used as the planning key of a trigger whose events all fall on `d` or later.
pub(crate) fn key(d: NaiveDate) -> i64 {
    days(d) * 86_400 - 86_400
}

/// Key clamped to "never" when it lies past the book.
pub(crate) fn clamp_key(ctx: &Ctx, k: i64) -> i64 {
    if k >= ctx.end_utc {
        i64::MAX
    } else {
        k
    }
}

/// Per local day: UTC instant of local midnight, and the offset valid from 06:00 to 22:00
/// (`None` when the offset changes inside that window, which then goes through chrono).
#[derive(Debug, Clone, Copy)]
struct Day {
    midnight: i64,
    off: Option<i32>,
}

/// Read-only context of one generation run.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub tz: Tz,
    pub start: NaiveDate,
    pub months: u32,
    /// First local date that is no longer part of the book.
    pub end_date: NaiveDate,
    /// UTC instant of local midnight at `end_date`; events at or after it are not written.
    pub end_utc: i64,
    pub seed: u64,
    /// Zero-padded width of borrower numbers in ids (at least 6).
    pub id_width: usize,
    start_days: i64,
    table: Vec<Day>,
}

impl Ctx {
    pub(crate) fn new(opts: &GenerateOptions) -> Result<Ctx, GenerateError> {
        let end_date = opts
            .start
            .checked_add_months(Months::new(opts.months))
            .ok_or_else(|| {
                GenerateError::InvalidOptions("start + months is out of range".into())
            })?;
        let tz = opts.time_zone;
        let start_days = days(opts.start);
        let n = usize::try_from(days(end_date) - start_days + 1).unwrap_or(0);
        let mut table = Vec::with_capacity(n);
        let mut d = opts.start;
        for _ in 0..n {
            let midnight = resolve(tz, d, 0).map_or(days(d) * 86_400, |(t, _)| t);
            let a = resolve(tz, d, FAST_FROM);
            let b = resolve(tz, d, FAST_UNTIL - 1);
            let off = match (a, b) {
                (Some((ta, oa)), Some((tb, ob)))
                    if oa == ob
                        && ta == days(d) * 86_400 + i64::from(FAST_FROM) - i64::from(oa)
                        && tb == days(d) * 86_400 + i64::from(FAST_UNTIL - 1) - i64::from(ob) =>
                {
                    Some(oa)
                }
                _ => None,
            };
            table.push(Day { midnight, off });
            d = add_days(d, 1);
        }
        let end_utc = table.last().map_or(days(end_date) * 86_400, |x| x.midnight);
        let digits = opts.borrowers.to_string().len();
        Ok(Ctx {
            tz,
            start: opts.start,
            months: opts.months,
            end_date,
            end_utc,
            seed: opts.seed,
            id_width: digits.max(6),
            start_days,
            table,
        })
    }

    fn day(&self, d: NaiveDate) -> Option<&Day> {
        let i = usize::try_from(days(d) - self.start_days).ok()?;
        self.table.get(i)
    }

    /// UTC instant and offset of local wall time `secs` (seconds after midnight, < 86400) on
    /// `date`; `None` when that lies outside the book (before start or at/after the end).
    /// Non-existent local times (DST gaps) move forward to the first valid quarter hour.
    pub(crate) fn at(&self, date: NaiveDate, secs: u32) -> Option<(i64, i32)> {
        if date >= self.end_date || date < self.start {
            return None;
        }
        let day = self.day(date)?;
        let (t, off) = match day.off {
            Some(off) if (FAST_FROM..FAST_UNTIL).contains(&secs) => {
                (days(date) * 86_400 + i64::from(secs) - i64::from(off), off)
            }
            _ => resolve(self.tz, date, secs)?,
        };
        (t < self.end_utc).then_some((t, off))
    }

    /// UTC instant of local midnight at the start of `date` (`i64::MAX` past the book's end).
    pub(crate) fn midnight(&self, date: NaiveDate) -> i64 {
        if date > self.end_date {
            return i64::MAX;
        }
        match self.day(date) {
            Some(d) => d.midnight,
            None => resolve(self.tz, date, 0).map_or(days(date) * 86_400, |(t, _)| t),
        }
    }
}

/// Resolves a local wall time with chrono; gaps move forward in 15-minute steps, ambiguous
/// times take the earlier instant.
fn resolve(tz: Tz, date: NaiveDate, secs: u32) -> Option<(i64, i32)> {
    let base = date.and_time(NaiveTime::MIN);
    let mut s = i64::from(secs);
    for _ in 0..200 {
        let ndt = base.checked_add_signed(TimeDelta::try_seconds(s)?)?;
        match tz.from_local_datetime(&ndt) {
            LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => {
                return Some((dt.timestamp(), dt.offset().fix().local_minus_utc()));
            }
            LocalResult::None => s += 900,
        }
    }
    None
}

/// Civil date (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_date_reads_the_offset() {
        // 2025-03-09T19:45:00-05:30 is 2025-03-10T01:15:00Z.
        let t = 1_741_569_300;
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or(NaiveDate::MIN);
        assert_eq!(local_date(t, -(5 * 3600 + 30 * 60)), d(2025, 3, 9));
        assert_eq!(local_date(t, 8 * 3600), d(2025, 3, 10));
        assert_eq!(local_date(t, 0), d(2025, 3, 10));
    }

    #[test]
    fn civil_matches_chrono() {
        let mut d = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap_or(NaiveDate::MIN);
        for _ in 0..20_000 {
            let (y, m, dd) = civil(days(d));
            assert_eq!((y, m, dd), (i64::from(d.year()), d.month(), d.day()));
            d = add_days(d, 1);
        }
    }

    #[test]
    fn fast_path_agrees_with_chrono_across_dst() {
        for tz in [
            chrono_tz::Europe::Berlin,
            chrono_tz::America::Santiago,
            chrono_tz::Asia::Shanghai,
        ] {
            let opts = GenerateOptions {
                borrowers: 1,
                months: 24,
                seed: 1,
                start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN),
                bad_ratio: 0.0,
                time_zone: tz,
            };
            let ctx = Ctx::new(&opts).unwrap_or_else(|e| panic!("{e}"));
            let mut d = opts.start;
            while d < ctx.end_date {
                for secs in [0, 3_600, 7_200, 9 * 3_600, 17 * 3_600 + 59] {
                    assert_eq!(ctx.at(d, secs), resolve(tz, d, secs), "{tz} {d} {secs}");
                }
                d = add_days(d, 1);
            }
        }
    }
}
