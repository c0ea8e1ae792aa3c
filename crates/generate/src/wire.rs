//! The wire forms of the book's values: money, rates, dates, instants and ids, each a small
//! type that prints itself exactly as the contract writes it and serialises as that string.
//!
//! Printing goes through [`fmt::Display`] so that serde_json writes the text straight into the
//! line (`collect_str`), without a `String` per field.

use std::fmt;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::ctx::{civil, days};

/// Serialises a type as the JSON string its `Display` prints.
macro_rules! serialize_as_display {
    ($($t:ident),* $(,)?) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}

serialize_as_display!(
    Money,
    Rate,
    Date,
    Instant,
    Period,
    Numbered,
    Coded,
    Vin,
    BorrowerId,
    LoanId,
    EventId,
    PaymentId,
    AlertId,
    SuppressionId,
);

/// Cents as a decimal with two places, e.g. `4557.63`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Money(pub i64);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let c = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", c / 100, c % 100)
    }
}

/// An annual rate given in units of 0.0001 (< 1), e.g. `0.0588`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate(pub u32);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0.{:04}", self.0)
    }
}

/// `YYYY-MM-DD` of civil date parts (year as its absolute value, at least 4 digits).
fn date_parts(f: &mut fmt::Formatter<'_>, (y, m, d): (i64, u32, u32)) -> fmt::Result {
    write!(f, "{:04}-{:02}-{:02}", y.unsigned_abs(), m, d)
}

/// A business date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Date(pub NaiveDate);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        date_parts(f, civil(days(self.0)))
    }
}

/// A UTC instant (seconds) shown in RFC 3339 at an offset (seconds east of UTC), seconds
/// precision: `2025-03-10T09:15:00+08:00`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Instant {
    /// UTC seconds.
    pub t: i64,
    /// Offset of the business zone at `t`.
    pub off: i32,
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.t + i64::from(self.off);
        let (day, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        date_parts(f, civil(day))?;
        let sign = if self.off < 0 { '-' } else { '+' };
        let a = self.off.unsigned_abs() / 60;
        write!(
            f,
            "T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            a / 60,
            a % 60
        )
    }
}

/// An income period, `YYYY-MM`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Period(pub (i32, u32));

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m) = self.0;
        write!(f, "{:04}-{:02}", y.unsigned_abs(), m)
    }
}

/// A person: a role prefix and a two-digit number, e.g. `collector-07`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numbered(pub &'static str, pub u8);

impl fmt::Display for Numbered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}", self.0, self.1)
    }
}

/// An organisation code: a prefix and a number zero-padded to a width, e.g. `BR07`, `M012`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coded(pub &'static str, pub u8, pub usize);

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:0w$}", self.0, self.1, w = self.2)
    }
}

/// A vehicle identification number (17 ASCII characters).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vin(pub [u8; 17]);

impl fmt::Display for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .iter()
            .try_for_each(|c| fmt::Write::write_char(f, char::from(*c)))
    }
}

/// Borrower number `num` zero-padded to `width` (at least; larger numbers keep every digit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Padded {
    /// 1-based borrower number.
    pub num: u64,
    /// Zero-padded width of borrower numbers in this book.
    pub width: usize,
}

impl fmt::Display for Padded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0w$}", self.num, w = self.width)
    }
}

/// `B<N>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BorrowerId(pub Padded);

impl fmt::Display for BorrowerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B{}", self.0)
    }
}

/// `L<N>-<s>`: loan `s` (1-based) of borrower `N`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoanId(pub Padded, pub u8);

impl fmt::Display for LoanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}-{}", self.0, self.1)
    }
}

/// Which id an event is written with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EventId {
    /// `E-<N>-<k>`: the borrower's `k`-th written event.
    Good(Padded, u32),
    /// `X-<n>`: the `n`-th malformed line.
    Bad(u64),
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventId::Good(who, k) => write!(f, "E-{who}-{k}"),
            EventId::Bad(n) => write!(f, "X-{n}"),
        }
    }
}

/// `P-<loan id>-<k>`: the loan's `k`-th repayment attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaymentId(pub LoanId, pub u32);

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P-{}-{}", self.0, self.1)
    }
}

/// `B<N>/L<N>-<s>/dpd/<n>`: the loan's `n`-th DPD alert.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertId(pub LoanId, pub u32);

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LoanId(who, _) = self.0;
        write!(f, "{}/{}/dpd/{}", BorrowerId(who), self.0, self.1)
    }
}

/// `S-<N>-<k>`: the borrower's `k`-th suppression.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuppressionId(pub Padded, pub u16);

impl fmt::Display for SuppressionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-{}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times() {
        assert_eq!(Money(455_763).to_string(), "4557.63");
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(-120).to_string(), "-1.20");
        let p = |num, width| Padded { num, width }.to_string();
        assert_eq!(p(42, 6), "000042");
        assert_eq!(p(1_234_567, 6), "1234567");
        assert_eq!(Numbered("collector-", 0).to_string(), "collector-00");
        assert_eq!(Rate(588).to_string(), "0.0588");
        // 2025-03-10T01:15:00Z shown at +08:00.
        let t = 1_741_569_300;
        let at = |off| Instant { t, off }.to_string();
        assert_eq!(at(8 * 3600), "2025-03-10T09:15:00+08:00");
        assert_eq!(at(-(5 * 3600 + 30 * 60)), "2025-03-09T19:45:00-05:30");
        assert_eq!(at(0), "2025-03-10T01:15:00+00:00");
    }
}
