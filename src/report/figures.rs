//! What a report is made of: the book at every month-end and what happened in each month, the
//! vintages, the branches, dealers and managers at the last month-end, and the input's bad
//! lines. Built by `collect`, turned into a page by `sections`; amounts are exact decimals and
//! ratios are computed only when shown.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::replay::Summary;
// Every replay keeps its bad lines now; they stay nameable here, where a report lists them.
pub use crate::replay::{BadLine, MAX_BAD_LINES};
use postloan_engine::event::{CloseReason, Currency};
use postloan_engine::portfolio::{Class, DpdBucket};
use postloan_engine::types::Signal;

/// Open loans of one currency at a month-end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    /// Loans by class ([`Class::ALL`] order).
    pub loans: [u64; 5],
    /// Outstanding principal by class.
    pub principal: [Decimal; 5],
    /// Loans by DPD bucket ([`DpdBucket::ALL`] order).
    pub bucket_loans: [u64; 5],
    /// Outstanding principal by DPD bucket.
    pub bucket_principal: [Decimal; 5],
}

impl Book {
    /// Counts one open loan.
    pub fn add(&mut self, class: Class, bucket: DpdBucket, outstanding: Decimal) {
        let c = class.index();
        let b = bucket_index(bucket);
        self.loans[c] += 1;
        self.principal[c] = self.principal[c].saturating_add(outstanding);
        self.bucket_loans[b] += 1;
        self.bucket_principal[b] = self.bucket_principal[b].saturating_add(outstanding);
    }

    /// Open loans.
    pub fn total_loans(&self) -> u64 {
        self.loans.iter().sum()
    }

    /// Outstanding principal of every open loan.
    pub fn total(&self) -> Decimal {
        sum(&self.principal)
    }

    /// Outstanding principal of the non-performing loans (substandard, doubtful, loss).
    pub fn non_performing(&self) -> Decimal {
        sum(&self.principal[Class::Substandard.index()..])
    }

    /// Non-performing loans.
    pub fn non_performing_loans(&self) -> u64 {
        self.loans[Class::Substandard.index()..].iter().sum()
    }

    /// Outstanding principal 30 or more days past due.
    pub fn dpd30(&self) -> Decimal {
        sum(&self.bucket_principal[bucket_index(DpdBucket::Dpd30To59)..])
    }

    /// Outstanding principal 90 or more days past due.
    pub fn dpd90(&self) -> Decimal {
        self.bucket_principal[bucket_index(DpdBucket::Dpd90Plus)]
    }

    /// The NPL ratio by balance: non-performing over all outstanding principal; `None` for an
    /// empty book.
    pub fn npl_ratio(&self) -> Option<Decimal> {
        ratio(self.non_performing(), self.total())
    }
}

/// `part / whole`, `None` when `whole` is 0.
pub fn ratio(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        None
    } else {
        part.checked_div(whole)
    }
}

fn sum(xs: &[Decimal]) -> Decimal {
    xs.iter().fold(Decimal::ZERO, |a, b| a.saturating_add(*b))
}

/// Position of a bucket in [`DpdBucket::ALL`].
pub fn bucket_index(b: DpdBucket) -> usize {
    DpdBucket::ALL.iter().position(|x| *x == b).unwrap_or(0)
}

/// Where a loan was at the previous month-end: a bucket, or not yet on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum From {
    /// Opened during the month.
    New,
    /// In this bucket at the previous month-end.
    Bucket(DpdBucket),
}

/// Where a loan is at this month-end: a bucket, or closed during the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum To {
    /// In this bucket.
    Bucket(DpdBucket),
    /// Closed, for this reason.
    Closed(CloseReason),
}

impl From {
    /// Every row of a flow matrix, in order.
    pub fn all() -> impl Iterator<Item = From> {
        std::iter::once(From::New).chain(DpdBucket::ALL.into_iter().map(From::Bucket))
    }

    /// Its name in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            From::New => "new",
            From::Bucket(b) => b.as_str(),
        }
    }
}

impl To {
    /// Every column of a flow matrix, in order.
    pub fn all() -> impl Iterator<Item = To> {
        DpdBucket::ALL
            .into_iter()
            .map(To::Bucket)
            .chain(CloseReason::ALL.into_iter().map(To::Closed))
    }

    /// Its name in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            To::Bucket(b) => b.as_str(),
            To::Closed(r) => r.as_str(),
        }
    }
}

/// Closings of one currency and reason in a month: loans and their outstanding principal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Closings {
    /// Loans closed.
    pub loans: u64,
    /// Their outstanding principal when they closed.
    pub principal: Decimal,
}

/// One month: the book at its end and what happened during it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// Its first day (business dates).
    pub first: NaiveDate,
    /// The instant its month-end snapshot stands just before: local midnight starting the next
    /// month.
    pub cut: DateTime<Utc>,
    /// Open loans by currency at the month-end.
    pub books: BTreeMap<Currency, Book>,
    /// Month-end to month-end: loans by where they were at the previous month-end and where
    /// they are now (or how they closed).
    pub flows: BTreeMap<(From, To), u64>,
    /// Bucket moves as they happened during the month, `[from][to]` — what
    /// `postloan_dpd_flows_total` counts.
    pub moves: [[u64; 5]; 5],
    /// Loans closed during the month, by currency and reason.
    pub closings: BTreeMap<(Currency, CloseReason), Closings>,
    /// Alerts opened (`firing`) during the month, by signal ([`Signal::index`]).
    pub alerts: [u64; Signal::ALL.len()],
    /// Escalations sent during the month, by signal and level (1, 2).
    pub escalations: [[u64; 2]; Signal::ALL.len()],
}

impl Month {
    /// `YYYY-MM`.
    pub fn label(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }

    /// Its last business date.
    pub fn last_day(&self) -> NaiveDate {
        next_month(self.first).pred_opt().unwrap_or(self.first)
    }
}

/// The first day of the month after the one starting `first`.
pub fn next_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX)
}

/// Open loans of one label value (a branch, dealer or manager) in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelBook {
    /// Open loans.
    pub loans: u64,
    /// Non-performing open loans.
    pub npl_loans: u64,
    /// Outstanding principal.
    pub principal: Decimal,
    /// Non-performing outstanding principal.
    pub npl_principal: Decimal,
}

/// Which portfolio label a ranking is by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label {
    /// `branch_id`.
    Branch,
    /// `dealer_id`.
    Dealer,
    /// `manager_id`.
    Manager,
}

impl Label {
    /// All three.
    pub const ALL: [Label; 3] = [Label::Branch, Label::Dealer, Label::Manager];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Branch => "branch",
            Label::Dealer => "dealer",
            Label::Manager => "manager",
        }
    }
}

/// One cohort's loans at one month-end: the cells vintage curves are summed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VintageCell {
    /// Cohort loans open at the month-end.
    pub open: u64,
    /// Of those, 30 or more days past due.
    pub open_dpd30: u64,
    /// Cohort loans closed by the month-end, whatever the reason.
    pub closed: u64,
    /// Of those, charged off or repossessed.
    pub lost: u64,
}

impl VintageCell {
    /// Loans of the cohort on the book at some point up to the month-end.
    pub fn loans(&self) -> u64 {
        self.open + self.closed
    }

    /// Loans counted bad: 30+ now, or written off or repossessed already.
    pub fn bad(&self) -> u64 {
        self.open_dpd30 + self.lost
    }
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The input's name.
    pub input: String,
    /// Business time zone.
    pub zone: chrono_tz::Tz,
    /// Fingerprint of the rules in force.
    pub rules_version: Arc<str>,
    /// The classification's DPD starts, best class first.
    pub class_starts: [u32; 5],
    /// Every month whose end the clock passed, in order.
    pub months: Vec<Month>,
    /// By label, label value and currency, at the last month-end.
    pub labels: BTreeMap<(Label, Arc<str>, Currency), LabelBook>,
    /// By cohort month (first day) and month-end (first day of that month).
    pub vintages: BTreeMap<(NaiveDate, NaiveDate), VintageCell>,
    /// Inputs read and what became of them, alerts and escalations by kind.
    pub summary: Summary,
    /// Rejected inputs, in order (at most [`MAX_BAD_LINES`]; `summary` counts them all).
    pub bad_lines: Vec<BadLine>,
    /// Month-ends the clock passed that the report leaves out, if any.
    pub withheld: Option<Withheld>,
}

/// Month-ends the clock passed after the book's last applied event (and after `--until`):
/// only rejected lines took it there, so they are left out rather than reported on a book
/// no accepted event speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    /// The first month left out (its first day).
    pub first: NaiveDate,
    /// The last month left out (its first day).
    pub last: NaiveDate,
    /// How many month-ends.
    pub months: usize,
    /// The last applied event's `occurred_at`, as far as the event clock tells (`None`: no
    /// input was applied).
    pub last_applied: Option<DateTime<Utc>>,
}
