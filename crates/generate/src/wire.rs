//! The wire forms of the book's values: money, rates, dates, instants and ids, each a small
//! type that writes itself exactly as the contract prints it and serialises as that string.
//!
//! Each value is written as ASCII into a [`Text`] on the stack, then handed to serde as one
//! `&str` (or to `Display`): no `String` per field, no formatting machinery per digit.

use std::fmt;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::ctx::{civil, days};

/// Longest wire value: an alert id with two ten-digit borrower numbers is under 50 bytes.
const TEXT_CAP: usize = 80;

/// A short ASCII text built on the stack.
pub(crate) struct Text {
    bytes: [u8; TEXT_CAP],
    len: usize,
}

impl Text {
    fn new() -> Text {
        Text {
            bytes: [0; TEXT_CAP],
            len: 0,
        }
    }

    /// Appends one ASCII byte (dropped past the capacity, which no wire value reaches).
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_str(&mut self, s: &str) {
        s.bytes().for_each(|b| self.push(b));
    }

    fn push_u64(&mut self, mut n: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        tmp[i..].iter().for_each(|b| self.push(*b));
    }

    /// `n` zero-padded to at least `width` digits.
    fn push_padded(&mut self, n: u64, width: usize) {
        let digits = n.checked_ilog10().map_or(1, |d| d as usize + 1);
        (digits..width).for_each(|_| self.push(b'0'));
        self.push_u64(n);
    }

    /// `YYYY-MM-DD` of civil date parts (year as its absolute value, at least 4 digits).
    fn push_date(&mut self, (y, m, d): (i64, u32, u32)) {
        self.push_padded(y.unsigned_abs(), 4);
        self.push(b'-');
        self.push_padded(u64::from(m), 2);
        self.push(b'-');
        self.push_padded(u64::from(d), 2);
    }

    /// The text (ASCII by construction, so never an error in practice).
    fn as_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.bytes[..self.len])
    }
}

/// A value with a wire form.
trait Wire {
    /// Appends the wire form.
    fn write(&self, t: &mut Text);
}

/// Serialises a [`Wire`] type as the JSON string of its wire form, and displays it.
macro_rules! wire_string {
    ($($t:ident),* $(,)?) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut t = Text::new();
                self.write(&mut t);
                s.serialize_str(t.as_str().map_err(serde::ser::Error::custom)?)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut t = Text::new();
                self.write(&mut t);
                f.write_str(t.as_str().map_err(|_| fmt::Error)?)
            }
        }
    )*};
}

wire_string!(
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

impl Wire for Money {
    fn write(&self, t: &mut Text) {
        if self.0 < 0 {
            t.push(b'-');
        }
        let c = self.0.unsigned_abs();
        t.push_u64(c / 100);
        t.push(b'.');
        t.push_padded(c % 100, 2);
    }
}

/// An annual rate given in units of 0.0001 (< 1), e.g. `0.0588`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate(pub u32);

impl Wire for Rate {
    fn write(&self, t: &mut Text) {
        t.push_str("0.");
        t.push_padded(u64::from(self.0), 4);
    }
}

/// A business date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Date(pub NaiveDate);

impl Wire for Date {
    fn write(&self, t: &mut Text) {
        t.push_date(civil(days(self.0)));
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

impl Wire for Instant {
    fn write(&self, t: &mut Text) {
        let local = self.t + i64::from(self.off);
        let (day, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400) as u64);
        t.push_date(civil(day));
        t.push(b'T');
        t.push_padded(secs / 3600, 2);
        t.push(b':');
        t.push_padded(secs / 60 % 60, 2);
        t.push(b':');
        t.push_padded(secs % 60, 2);
        t.push(if self.off < 0 { b'-' } else { b'+' });
        let a = u64::from(self.off.unsigned_abs() / 60);
        t.push_padded(a / 60, 2);
        t.push(b':');
        t.push_padded(a % 60, 2);
    }
}

/// An income period, `YYYY-MM`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Period(pub (i32, u32));

impl Wire for Period {
    fn write(&self, t: &mut Text) {
        let (y, m) = self.0;
        t.push_padded(u64::from(y.unsigned_abs()), 4);
        t.push(b'-');
        t.push_padded(u64::from(m), 2);
    }
}

/// A person: a role prefix and a two-digit number, e.g. `collector-07`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numbered(pub &'static str, pub u8);

impl Wire for Numbered {
    fn write(&self, t: &mut Text) {
        t.push_str(self.0);
        t.push_padded(u64::from(self.1), 2);
    }
}

/// An organisation code: a prefix and a number zero-padded to a width, e.g. `BR07`, `M012`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coded(pub &'static str, pub u8, pub usize);

impl Wire for Coded {
    fn write(&self, t: &mut Text) {
        t.push_str(self.0);
        t.push_padded(u64::from(self.1), self.2);
    }
}

/// A vehicle identification number (17 ASCII characters).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vin(pub [u8; 17]);

impl Wire for Vin {
    fn write(&self, t: &mut Text) {
        self.0.iter().for_each(|c| t.push(*c));
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

impl Wire for Padded {
    fn write(&self, t: &mut Text) {
        t.push_padded(self.num, self.width);
    }
}

/// `B<N>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BorrowerId(pub Padded);

impl Wire for BorrowerId {
    fn write(&self, t: &mut Text) {
        t.push(b'B');
        self.0.write(t);
    }
}

/// `L<N>-<s>`: loan `s` (1-based) of borrower `N`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoanId(pub Padded, pub u8);

impl Wire for LoanId {
    fn write(&self, t: &mut Text) {
        t.push(b'L');
        self.0.write(t);
        t.push(b'-');
        t.push_u64(u64::from(self.1));
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

impl Wire for EventId {
    fn write(&self, t: &mut Text) {
        match self {
            EventId::Good(who, k) => {
                t.push_str("E-");
                who.write(t);
                t.push(b'-');
                t.push_u64(u64::from(*k));
            }
            EventId::Bad(n) => {
                t.push_str("X-");
                t.push_u64(*n);
            }
        }
    }
}

/// `P-<loan id>-<k>`: the loan's `k`-th repayment attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaymentId(pub LoanId, pub u32);

impl Wire for PaymentId {
    fn write(&self, t: &mut Text) {
        t.push_str("P-");
        self.0.write(t);
        t.push(b'-');
        t.push_u64(u64::from(self.1));
    }
}

/// `B<N>/L<N>-<s>/dpd/<n>`: the loan's `n`-th DPD alert.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertId(pub LoanId, pub u32);

impl Wire for AlertId {
    fn write(&self, t: &mut Text) {
        let LoanId(who, _) = self.0;
        BorrowerId(who).write(t);
        t.push(b'/');
        self.0.write(t);
        t.push_str("/dpd/");
        t.push_u64(u64::from(self.1));
    }
}

/// `S-<N>-<k>`: the borrower's `k`-th suppression.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuppressionId(pub Padded, pub u16);

impl Wire for SuppressionId {
    fn write(&self, t: &mut Text) {
        t.push_str("S-");
        self.0.write(t);
        t.push(b'-');
        t.push_u64(u64::from(self.1));
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
        let p = |num, width| BorrowerId(Padded { num, width }).to_string();
        assert_eq!(p(42, 6), "B000042");
        assert_eq!(p(1_234_567, 6), "B1234567");
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
