//! The repayment schedule: due dates, days past due, amortisation.
//!
//! Everything here is a pure function of the loan's terms, what has been paid and the business
//! date, exactly as the contract defines it.

use chrono::{Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::round_half_away;
use super::serde_forms::{date, dec};

/// A loan's fixed terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Amount lent.
    #[serde(with = "dec")]
    pub principal: Decimal,
    /// Annual rate as a fraction.
    #[serde(with = "dec")]
    pub annual_rate: Decimal,
    /// Number of installments.
    pub term_months: u32,
    /// Due date of installment 1.
    #[serde(with = "date")]
    pub first_due_date: NaiveDate,
    /// Amount of every installment.
    #[serde(with = "dec")]
    pub installment: Decimal,
    /// Month offsets from deferrals, by the first installment they apply to (ascending, one
    /// entry per installment at most): installment k's offset o_k is the sum of the `months` of
    /// every entry with `from` ≤ k. Empty for a loan never deferred.
    pub deferrals: Vec<Shift>,
}

/// Part of a loan's deferral offsets: installments `from` and later are due `months` later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// The first installment (1-based) it moves.
    pub from: u32,
    /// Months it adds.
    pub months: u32,
}

/// The latest date a due date may move to: past it, date arithmetic would leave chrono's range
/// and the text form would need five-digit years.
pub const LAST_DUE_DATE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// A loan that is behind: the figures behind its DPD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delinquency {
    /// Days past due, ≥ 1.
    pub dpd: u32,
    /// The first unpaid installment (1-based).
    pub installment_no: u32,
    /// Its due date.
    pub due_date: NaiveDate,
    /// Amount due before today and not paid.
    pub arrears: Decimal,
}

impl Terms {
    /// Fresh terms, never deferred.
    pub fn new(
        principal: Decimal,
        annual_rate: Decimal,
        term_months: u32,
        first_due_date: NaiveDate,
        installment: Decimal,
    ) -> Self {
        Terms {
            principal,
            annual_rate,
            term_months,
            first_due_date,
            installment,
            deferrals: Vec::new(),
        }
    }

    /// Installment `k`'s deferral offset o_k, in months.
    pub fn offset(&self, k: u32) -> u32 {
        self.deferrals
            .iter()
            .take_while(|s| s.from <= k)
            .fold(0, |sum, s| sum.saturating_add(s.months))
    }

    /// Due date of installment `k` (1-based): the first due date plus k − 1 + o_k calendar
    /// months, clamped to the month's last day (Jan 31 → Feb 28/29 → Mar 31). Offsets only grow
    /// with k, so due dates strictly increase.
    pub fn due_date(&self, k: u32) -> NaiveDate {
        let months = k.saturating_sub(1).saturating_add(self.offset(k));
        // Adding months only fails past year 262143; deferrals stop at LAST_DUE_DATE.
        self.first_due_date
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The first installment due on or after `date` as scheduled now, if any.
    pub fn first_due_on_or_after(&self, date: NaiveDate) -> Option<u32> {
        // Due dates increase with k: the first one not before `date`.
        (1..=self.term_months).find(|&k| self.due_date(k) >= date)
    }

    /// A payment holiday: adds `months` to the offset of every installment due on or after
    /// `effective` as scheduled just before it (installments due earlier stay due). Returns the
    /// first installment moved (`None`: none is due that late, nothing changes), or `Err` with
    /// the last due date it would give when that is past [`LAST_DUE_DATE`] (nothing changes).
    pub fn defer(&mut self, effective: NaiveDate, months: u32) -> Result<Option<u32>, NaiveDate> {
        let Some(from) = self.first_due_on_or_after(effective) else {
            return Ok(None);
        };
        let mut after = self.clone();
        match after.deferrals.binary_search_by_key(&from, |s| s.from) {
            Ok(i) => after.deferrals[i].months = after.deferrals[i].months.saturating_add(months),
            Err(i) => after.deferrals.insert(i, Shift { from, months }),
        }
        let last = after.due_date(after.term_months);
        if last > LAST_DUE_DATE {
            return Err(last);
        }
        *self = after;
        Ok(Some(from))
    }

    /// Installments fully covered by `paid + tolerance`: the largest k ≤ term with
    /// k × installment ≤ paid + tolerance.
    pub fn covered(&self, paid: Decimal, tolerance: Decimal) -> u32 {
        let budget = paid.saturating_add(tolerance);
        if budget < self.installment {
            return 0;
        }
        // Division may round in the 28th digit; settle the floor exactly with multiplication.
        let approx = budget.checked_div(self.installment).map(|q| q.floor());
        let mut k = approx
            .and_then(|q| q.to_u32())
            .unwrap_or(u32::MAX)
            .min(self.term_months);
        let k_times = |k: u32| Decimal::from(k).checked_mul(self.installment);
        while k < self.term_months && k_times(k + 1).is_some_and(|due| due <= budget) {
            k += 1;
        }
        while k > 0 && k_times(k).is_none_or(|due| due > budget) {
            k -= 1;
        }
        k
    }

    /// The loan's delinquency on business date `today`, or `None` when it is current.
    ///
    /// The first installment whose cumulative due exceeds paid + tolerance — installment
    /// `covered + 1`, with `covered` from [`Terms::covered`] — sets DPD = today − its due date
    /// when that date is before today.
    pub fn delinquency(
        &self,
        paid: Decimal,
        covered: u32,
        today: NaiveDate,
    ) -> Option<Delinquency> {
        let k = covered + 1;
        if k > self.term_months {
            return None;
        }
        let due_date = self.due_date(k);
        if due_date >= today {
            return None;
        }
        let mut due_before_today = k;
        while due_before_today < self.term_months && self.due_date(due_before_today + 1) < today {
            due_before_today += 1;
        }
        let arrears = Decimal::from(due_before_today)
            .saturating_mul(self.installment)
            .saturating_sub(paid)
            .max(Decimal::ZERO);
        Some(Delinquency {
            dpd: u32::try_from((today - due_date).num_days()).unwrap_or(u32::MAX),
            installment_no: k,
            due_date,
            arrears,
        })
    }

    /// Due date of the first installment not covered, if any: where DPD would start counting.
    pub fn first_uncovered_due(&self, covered: u32) -> Option<NaiveDate> {
        let k = covered + 1;
        (k <= self.term_months).then(|| self.due_date(k))
    }

    /// Outstanding principal after `covered` installments: annuity amortisation at
    /// annual_rate / 12 a month, each month's interest rounded to 0.01 half away from zero,
    /// never below 0.
    pub fn outstanding_after(&self, covered: u32) -> Decimal {
        let mut balance = self.principal;
        for _ in 0..covered.min(self.term_months) {
            if balance.is_zero() {
                break;
            }
            balance = self.amortize_month(balance);
        }
        balance
    }

    /// The balance after one more installment.
    pub fn amortize_month(&self, balance: Decimal) -> Decimal {
        // (balance × rate) / 12, not balance × (rate / 12): the latter rounds the monthly rate
        // first and can land on the wrong side of a half cent.
        // balance × rate cannot overflow: rate < 1.
        let interest = round_half_away(balance * self.annual_rate / Decimal::from(12), 2);
        balance
            .saturating_sub(self.installment.saturating_sub(interest))
            .max(Decimal::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn terms(first_due: &str, term: u32, installment: &str) -> Terms {
        Terms::new(
            d("100000"),
            d("0.06"),
            term,
            date(first_due),
            d(installment),
        )
    }

    fn dues(t: &Terms) -> Vec<String> {
        (1..=t.term_months)
            .map(|k| t.due_date(k).to_string())
            .collect()
    }

    #[test]
    fn a_deferral_moves_the_installments_due_from_its_effective_date() {
        let mut t = terms("2026-01-10", 4, "1000");
        // Effective Feb 11: installment 2 (Feb 10) stays, 3 and 4 move 2 months.
        assert_eq!(t.defer(date("2026-02-11"), 2), Ok(Some(3)));
        assert_eq!(
            dues(&t),
            ["2026-01-10", "2026-02-10", "2026-05-10", "2026-06-10"]
        );
        // A due date on the effective date itself moves; deferrals accumulate.
        assert_eq!(t.defer(date("2026-02-10"), 1), Ok(Some(2)));
        assert_eq!(
            dues(&t),
            ["2026-01-10", "2026-03-10", "2026-06-10", "2026-07-10"]
        );
        assert_eq!((t.offset(1), t.offset(2), t.offset(4)), (0, 1, 3));
        // After the last due date: nothing moves.
        let before = t.clone();
        assert_eq!(t.defer(date("2026-07-11"), 3), Ok(None));
        assert_eq!(t, before);
    }

    #[test]
    fn a_deferred_month_end_clamps_from_the_first_due_date() {
        // Jan 31 + 1 month = Feb 28 (2027 is not a leap year); installment 2 (Feb 28) + 1 month
        // = first due + 2 months = Mar 31, not Mar 28.
        let mut t = terms("2027-01-31", 3, "1000");
        assert_eq!(t.defer(date("2027-01-01"), 1), Ok(Some(1)));
        assert_eq!(dues(&t), ["2027-02-28", "2027-03-31", "2027-04-30"]);
    }

    #[test]
    fn a_deferral_past_year_9999_is_refused_and_changes_nothing() {
        let mut t = terms("9998-06-30", 12, "1000");
        let before = t.clone();
        // Installment 12: 9998-06-30 + (11 + 24) months.
        assert_eq!(
            t.defer(date("9998-01-01"), 24),
            Err(NaiveDate::from_ymd_opt(10001, 5, 30).unwrap())
        );
        assert_eq!(t, before);
        assert_eq!(t.defer(date("9998-01-01"), 6), Ok(Some(1)));
        assert_eq!(t.due_date(12).to_string(), "9999-11-30");
    }

    #[test]
    fn month_end_due_dates_clamp_and_recover() {
        let t = terms("2024-01-31", 14, "1000");
        let got: Vec<String> = (1..=5).map(|k| t.due_date(k).to_string()).collect();
        // 2024 is a leap year: Feb 29; then back to the 31st.
        assert_eq!(
            got,
            [
                "2024-01-31",
                "2024-02-29",
                "2024-03-31",
                "2024-04-30",
                "2024-05-31"
            ]
        );
        assert_eq!(t.due_date(14).to_string(), "2025-02-28");
        let t = terms("2023-01-30", 3, "1000");
        assert_eq!(t.due_date(2).to_string(), "2023-02-28");
        assert_eq!(t.due_date(3).to_string(), "2023-03-30");
    }

    #[test]
    fn covered_counts_installments_within_tolerance() {
        let t = terms("2025-01-10", 12, "2500.00");
        for (paid, tol, want) in [
            ("0", "1.00", 0),
            ("2498.99", "1.00", 0),
            ("2499.00", "1.00", 1),
            ("2500.00", "0", 1),
            ("4999.00", "1.00", 2),
            ("4998.99", "1.00", 1),
            ("1000000", "1.00", 12),
        ] {
            assert_eq!(t.covered(d(paid), d(tol)), want, "paid {paid} tol {tol}");
        }
        // A quotient that a 28-digit division would round up to an integer.
        let t = terms("2025-01-10", 120, "3");
        assert_eq!(
            t.covered(d("5.9999999999999999999999999999"), Decimal::ZERO),
            1
        );
    }

    #[test]
    fn dpd_counts_from_the_first_uncovered_due_date() {
        let t = terms("2026-03-10", 12, "2500.00");
        let tol = d("1.00");
        // On the due date itself nothing is past due.
        assert_eq!(
            t.delinquency(d("0"), t.covered(d("0"), tol), date("2026-03-10")),
            None
        );
        let x = t
            .delinquency(d("0"), t.covered(d("0"), tol), date("2026-03-11"))
            .unwrap();
        assert_eq!((x.dpd, x.installment_no, x.arrears), (1, 1, d("2500.00")));
        // Thirty-one days later installment 2 is due too: arrears double, DPD keeps counting from 1.
        let x = t
            .delinquency(d("0"), t.covered(d("0"), tol), date("2026-04-11"))
            .unwrap();
        assert_eq!((x.dpd, x.arrears), (32, d("5000.00")));
        // A partial payment short by more than the tolerance does not cure.
        let x = t
            .delinquency(
                d("2498.99"),
                t.covered(d("2498.99"), tol),
                date("2026-03-20"),
            )
            .unwrap();
        assert_eq!((x.dpd, x.arrears), (10, d("1.01")));
        assert_eq!(
            t.delinquency(
                d("2499.00"),
                t.covered(d("2499.00"), tol),
                date("2026-03-20")
            ),
            None
        );
        // Fully paid: never past due.
        assert_eq!(
            t.delinquency(d("30000"), t.covered(d("30000"), tol), date("2030-01-01")),
            None
        );
    }

    #[test]
    fn outstanding_follows_the_annuity_with_rounded_interest() {
        // 12,000 at 12%/year, 1,066.19 a month (standard annuity payment).
        let t = Terms::new(d("12000"), d("0.12"), 12, date("2025-02-01"), d("1066.19"));
        assert_eq!(t.outstanding_after(0), d("12000"));
        // Month 1: interest 120.00, principal 946.19.
        assert_eq!(t.outstanding_after(1), d("11053.81"));
        // Month 2: interest round(110.5381) = 110.54, principal 955.65.
        assert_eq!(t.outstanding_after(2), d("10098.16"));
        // The last balance is the rounding residue, never negative.
        assert!(t.outstanding_after(12) >= Decimal::ZERO && t.outstanding_after(12) < d("1"));
    }

    #[test]
    fn interest_rounds_half_cents_away_from_zero_on_the_exact_product() {
        // 1,000.50 × 0.06 / 12 = 5.0025 → 5.00; 1,001.00 × 0.06 / 12 = 5.005 → 5.01.
        let mut t = terms("2025-02-01", 1, "100");
        t.principal = d("1001.00");
        assert_eq!(
            t.outstanding_after(1),
            d("1001.00") - (d("100") - d("5.01"))
        );
        t.principal = d("1000.50");
        assert_eq!(
            t.outstanding_after(1),
            d("1000.50") - (d("100") - d("5.00"))
        );
    }

    #[test]
    fn extreme_amounts_do_not_overflow() {
        let t = Terms::new(
            Decimal::MAX,
            d("0.9999"),
            120,
            date("2025-02-01"),
            d("0.0000000000000000000000000001"),
        );
        assert_eq!(t.covered(Decimal::MAX, d("1")), 120);
        assert!(t
            .delinquency(Decimal::ZERO, 0, date("2035-01-01"))
            .is_some());
        let _ = t.outstanding_after(120);
        let t = Terms {
            installment: Decimal::MAX,
            ..t
        };
        assert_eq!(t.covered(Decimal::MAX, d("1")), 1);
        let x = t.delinquency(Decimal::ZERO, 0, date("2035-01-01")).unwrap();
        assert_eq!(x.arrears, Decimal::MAX);
    }

    #[test]
    fn zero_rate_amortises_straight_and_never_goes_negative() {
        let t = Terms::new(d("1000"), Decimal::ZERO, 3, date("2025-02-01"), d("400"));
        assert_eq!(t.outstanding_after(1), d("600"));
        assert_eq!(t.outstanding_after(3), Decimal::ZERO);
    }
}
