//! The portfolio as risk teams see it: open loans and outstanding principal by DPD bucket,
//! class, branch, dealer and currency, and by class and account manager; LTV and early-warning
//! score distributions; open alerts by branch.
//!
//! Kept incrementally: every loan, alert slot and borrower remembers what it last added here
//! (fields the changelog does not store), and each evaluation replaces that contribution by the
//! new one. Reading the portfolio never scans borrowers, so a metrics scrape costs the size of
//! the aggregates (buckets × branches × dealers), not the size of the book. Amounts are summed
//! exactly, as decimals; rounding to a float happens only at exposition.
//!
//! Things that *happen* (a loan moving between DPD buckets, a loan closing, an alert being
//! acknowledged) are [`Note`]s: counted by whoever records them, when their work is committed.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::bands::LTV_LOWER;
pub use super::bands::{
    score_band, AlertCount, Class, DpdBucket, LoanCount, Standing, LTV_BANDS, SCORE_BANDS,
};
use super::event::{CloseReason, Currency};
use super::money::ge_product;
use super::settings::Classification;
use super::state::{Borrower, Loan, OpenAlert};
use super::types::{ModificationKind, Severity, Signal, SuppressionReason};

/// Band index of a loan's LTV (outstanding principal / latest valuation), compared exactly.
pub fn ltv_band(loan: &Loan) -> usize {
    let Some(value) = loan.valuations.last().map(|v| v.value) else {
        return 0;
    };
    // Upwards from the lowest bound: most loans sit low, so this usually stops after one or
    // two exact products.
    LTV_LOWER
        .iter()
        .position(|(m, s)| !ge_product(loan.outstanding, Decimal::new(*m, *s), value))
        .unwrap_or(LTV_LOWER.len())
}

/// Where a loan sits in the book.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BookKey {
    /// DPD bucket.
    pub bucket: DpdBucket,
    /// Class.
    pub class: Class,
    /// Branch, when the loan named one.
    pub branch: Option<Arc<str>>,
    /// Dealer, when the loan named one.
    pub dealer: Option<Arc<str>>,
    /// Currency of the amounts.
    pub currency: Currency,
}

/// Where a loan sits in its account manager's book.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ManagerKey {
    /// Class.
    pub class: Class,
    /// Account manager, when the loan named one.
    pub manager: Option<Arc<str>>,
    /// Currency of the amounts.
    pub currency: Currency,
}

/// Open loans and their outstanding principal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exposure {
    /// Open loans.
    pub loans: u64,
    /// Their outstanding principal, exact.
    pub outstanding: Decimal,
}

const SIGNALS: usize = Signal::ALL.len();
const SEVERITIES: usize = Severity::ALL.len();
const STANDINGS: usize = Standing::ALL.len();

/// Open alerts by signal ([`Signal::index`]), severity ([`Severity::ALL`] order) and
/// [`Standing`] ([`Standing::ALL`] order).
pub type AlertGrid = [[[u64; STANDINGS]; SEVERITIES]; SIGNALS];

/// The aggregates of one engine (one partition), or of several merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Portfolio {
    /// Borrowers with state (including those whose loans have all closed).
    pub borrowers: u64,
    /// Open loans and outstanding principal by bucket, class, branch, dealer and currency; a
    /// key leaves when its last loan does.
    pub book: FxHashMap<BookKey, Exposure>,
    /// The same by class, account manager and currency.
    pub managers: FxHashMap<ManagerKey, Exposure>,
    /// Open loans by LTV band ([`LTV_BANDS`]).
    pub ltv: [u64; LTV_BANDS.len()],
    /// Borrowers with an open loan, by early-warning score band ([`SCORE_BANDS`]).
    pub scores: [u64; SCORE_BANDS.len()],
    /// Open alerts by the branch their messages carry; a branch leaves when its last open
    /// alert closes.
    pub open_alerts: FxHashMap<Option<Arc<str>>, AlertGrid>,
}

/// Something that happened to the portfolio, for counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A loan moved from one DPD bucket to another (a new loan enters none: it starts current).
    Flowed {
        /// The bucket it left.
        from: DpdBucket,
        /// The bucket it entered.
        to: DpdBucket,
    },
    /// A loan closed: it left the book.
    Closed(Box<Closed>),
    /// A loan moved from 30–59 days past due to 60 or more: the roll rate risk teams watch.
    Rolled {
        /// Its branch.
        branch: Option<Arc<str>>,
        /// Its dealer.
        dealer: Option<Arc<str>>,
    },
    /// Collections acknowledged an open alert for the first time.
    Acked {
        /// The alert's signal.
        signal: Signal,
        /// Its severity then.
        severity: Severity,
        /// From the alert opening to the ack's `occurred_at`, seconds (0 if the ack is stamped
        /// earlier).
        after_s: i64,
    },
    /// A `loan_modified` was applied.
    Modified(ModificationKind),
    /// A `suppression` was applied (granted, replaced or revoked).
    Suppression(SuppressionReason),
    /// An evaluation found a loan at or above [`crate::Settings::watch_dpd`] days past due
    /// (only when that is set; every such evaluation, so the first per loan is when it got
    /// there).
    PastDue {
        /// Its borrower.
        borrower_id: Arc<str>,
        /// The loan.
        loan_id: Arc<str>,
        /// Its days past due.
        dpd: u32,
        /// The instant of the evaluation.
        at: DateTime<Utc>,
    },
}

impl Note {
    /// The note for an acknowledgement at `acked_at` of an alert opened at `opened_at`.
    pub fn acked(
        signal: Signal,
        severity: Severity,
        opened_at: DateTime<Utc>,
        acked_at: DateTime<Utc>,
    ) -> Self {
        Note::Acked {
            signal,
            severity,
            after_s: (acked_at - opened_at).num_seconds().max(0),
        }
    }
}

/// A loan that closed: who, why, and what it took off the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// Its borrower.
    pub borrower_id: Arc<str>,
    /// The loan.
    pub loan_id: Arc<str>,
    /// Why it closed.
    pub reason: CloseReason,
    /// Its currency.
    pub currency: Currency,
    /// Its outstanding principal when it closed (for a charge-off: what is written off).
    pub outstanding: Decimal,
    /// The business date it opened (its vintage).
    pub opened_date: NaiveDate,
}

/// Where an open alert stands with collections.
pub fn standing(a: &OpenAlert) -> Standing {
    if a.suppressed.is_some() {
        Standing::Suppressed
    } else if a.ack.is_some() {
        Standing::Acknowledged
    } else if a.previously_acked_by.is_some() {
        Standing::RisenAfterAck
    } else {
        Standing::Unacknowledged
    }
}

fn book_key(loan: &Loan, c: &LoanCount) -> BookKey {
    BookKey {
        bucket: c.bucket,
        class: c.class,
        branch: loan.labels.branch_id.clone(),
        dealer: loan.labels.dealer_id.clone(),
        currency: loan.currency,
    }
}

fn manager_key(loan: &Loan, class: Class) -> ManagerKey {
    ManagerKey {
        class,
        manager: loan.labels.manager_id.clone(),
        currency: loan.currency,
    }
}

/// Adds (`add`) or takes out one loan of `outstanding` at `key`, dropping a key left empty.
fn tally<K: Eq + std::hash::Hash>(
    map: &mut FxHashMap<K, Exposure>,
    key: K,
    outstanding: Decimal,
    add: bool,
) {
    if add {
        let e = map.entry(key).or_default();
        e.loans += 1;
        e.outstanding = e.outstanding.saturating_add(outstanding);
    } else if let Some(e) = map.get_mut(&key) {
        e.loans = e.loans.saturating_sub(1);
        e.outstanding = e.outstanding.saturating_sub(outstanding);
        if e.loans == 0 {
            map.remove(&key);
        }
    }
}

/// Moves one loan's principal at `key` from `old` to `new` (its count unchanged).
fn reprice<K: Eq + std::hash::Hash>(
    map: &mut FxHashMap<K, Exposure>,
    key: &K,
    old: Decimal,
    new: Decimal,
) {
    if let Some(e) = map.get_mut(key) {
        e.outstanding = e.outstanding.saturating_sub(old).saturating_add(new);
    }
}

fn severity_index(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

impl Portfolio {
    /// Open loans, all buckets together.
    pub fn open_loans(&self) -> u64 {
        self.book.values().map(|e| e.loans).sum()
    }

    /// Borrowers with at least one open loan.
    pub fn active_borrowers(&self) -> u64 {
        self.scores.iter().sum()
    }

    /// Adds another portfolio's figures to this one (summing partitions).
    pub fn merge(&mut self, other: &Portfolio) {
        self.borrowers += other.borrowers;
        for (k, e) in &other.book {
            let mine = self.book.entry(k.clone()).or_default();
            mine.loans += e.loans;
            mine.outstanding = mine.outstanding.saturating_add(e.outstanding);
        }
        for (k, e) in &other.managers {
            let mine = self.managers.entry(k.clone()).or_default();
            mine.loans += e.loans;
            mine.outstanding = mine.outstanding.saturating_add(e.outstanding);
        }
        for (a, b) in self.ltv.iter_mut().zip(other.ltv) {
            *a += b;
        }
        for (a, b) in self.scores.iter_mut().zip(other.scores) {
            *a += b;
        }
        for (branch, grid) in &other.open_alerts {
            let mine = self.open_alerts.entry(branch.clone()).or_default();
            for (a, b) in mine
                .iter_mut()
                .flatten()
                .flatten()
                .zip(grid.iter().flatten().flatten())
            {
                *a += b;
            }
        }
    }

    /// Open alerts of every branch together.
    pub fn open_alerts_total(&self) -> AlertGrid {
        let mut total = AlertGrid::default();
        for grid in self.open_alerts.values() {
            for (a, b) in total
                .iter_mut()
                .flatten()
                .flatten()
                .zip(grid.iter().flatten().flatten())
            {
                *a += b;
            }
        }
        total
    }

    /// Empties it, keeping its allocations.
    pub fn clear(&mut self) {
        self.borrowers = 0;
        self.book.clear();
        self.managers.clear();
        self.ltv = Default::default();
        self.scores = Default::default();
        self.open_alerts.clear();
    }

    fn loan(&mut self, loan: &Loan, c: &LoanCount, add: bool) {
        let band = &mut self.ltv[usize::from(c.ltv_band)];
        *band = if add {
            *band + 1
        } else {
            band.saturating_sub(1)
        };
        tally(&mut self.book, book_key(loan, c), c.outstanding, add);
        tally(
            &mut self.managers,
            manager_key(loan, c.class),
            c.outstanding,
            add,
        );
    }

    fn alert(&mut self, signal: Signal, c: &AlertCount, add: bool) {
        let grid = match self.open_alerts.get_mut(&c.branch) {
            Some(grid) => grid,
            None if add => self.open_alerts.entry(c.branch.clone()).or_default(),
            None => return,
        };
        let n = &mut grid[signal.index()][severity_index(c.severity)][c.standing as usize];
        if add {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
            if *n == 0 && grid.iter().flatten().flatten().all(|n| *n == 0) {
                self.open_alerts.remove(&c.branch);
            }
        }
    }

    fn score(&mut self, band: u8, add: bool) {
        let n = &mut self.scores[usize::from(band)];
        *n = if add { *n + 1 } else { n.saturating_sub(1) };
    }

    /// Replaces borrower `b`'s contribution by what it is now, from the figures of its
    /// evaluation on business date `today` just done: `dpd(i)` of its `i`-th loan and its
    /// early-warning `score`. A loan changing bucket is noted in `notes`.
    pub(super) fn recount(
        &mut self,
        b: &mut Borrower,
        today: NaiveDate,
        classes: &Classification,
        dpd: impl Fn(usize) -> u32,
        score: u32,
        notes: Option<&mut Vec<Note>>,
    ) {
        let mut notes = notes;
        for (i, loan) in b.loans.iter_mut().enumerate() {
            let days = dpd(i);
            let now = LoanCount {
                bucket: DpdBucket::of(days),
                class: loan.class(days, today, classes),
                ltv_band: ltv_band(loan) as u8,
                outstanding: loan.outstanding,
            };
            if loan.counted == Some(now) {
                continue;
            }
            if let Some(old) = loan.counted.filter(|o| {
                (o.bucket, o.class, o.ltv_band) == (now.bucket, now.class, now.ltv_band)
            }) {
                // The common case (a payment moved the principal): one lookup per map.
                reprice(
                    &mut self.book,
                    &book_key(loan, &old),
                    old.outstanding,
                    now.outstanding,
                );
                reprice(
                    &mut self.managers,
                    &manager_key(loan, old.class),
                    old.outstanding,
                    now.outstanding,
                );
                loan.counted = Some(now);
                continue;
            }
            if let Some(old) = loan.counted {
                self.loan(loan, &old, false);
                if let Some(notes) = notes.as_deref_mut().filter(|_| old.bucket != now.bucket) {
                    notes.push(Note::Flowed {
                        from: old.bucket,
                        to: now.bucket,
                    });
                    if old.bucket == DpdBucket::Dpd30To59 && now.bucket >= DpdBucket::Dpd60To89 {
                        notes.push(Note::Rolled {
                            branch: loan.labels.branch_id.clone(),
                            dealer: loan.labels.dealer_id.clone(),
                        });
                    }
                }
            }
            self.loan(loan, &now, true);
            loan.counted = Some(now);
        }
        for slot in &mut b.alerts {
            let now = slot.open.as_ref().map(|a| AlertCount {
                severity: a.severity,
                standing: standing(a),
                branch: a.labels.branch_id.clone(),
            });
            if slot.counted != now {
                if let Some(old) = slot.counted.take() {
                    self.alert(slot.signal, &old, false);
                }
                if let Some(now) = &now {
                    self.alert(slot.signal, now, true);
                }
                slot.counted = now;
            }
        }
        let score = (!b.loans.is_empty()).then(|| score_band(score) as u8);
        if b.counted_score != score {
            if let Some(old) = b.counted_score {
                self.score(old, false);
            }
            if let Some(now) = score {
                self.score(now, true);
            }
            b.counted_score = score;
        }
    }

    /// Takes out a loan that is leaving (closed) before it goes.
    pub(super) fn uncount_loan(&mut self, loan: &mut Loan) {
        if let Some(old) = loan.counted.take() {
            self.loan(loan, &old, false);
        }
    }

    /// Takes out everything borrower `b` added (its state is being replaced).
    pub(super) fn uncount_borrower(&mut self, b: &mut Borrower) {
        for loan in &mut b.loans {
            self.uncount_loan(loan);
        }
        for slot in &mut b.alerts {
            if let Some(old) = slot.counted.take() {
                self.alert(slot.signal, &old, false);
            }
        }
        if let Some(old) = b.counted_score.take() {
            self.score(old, false);
        }
    }
}

#[cfg(test)]
mod class_tests;
#[cfg(test)]
mod past_due_tests;
#[cfg(test)]
mod tests;
