//! The English words of an alert's reason: what its status says first, then one sentence per
//! [`Reason`] variant. A table in all but form: another language would be another file like
//! this one over the same [`Reason`].
//!
//! Everything is written straight into the message's `reason` through `Display`, so amounts,
//! percentages and the score's parts make no string of their own beyond what
//! [`format_money`] and [`format_percent`] return.

use std::fmt::{self, Display, Formatter};

use rust_decimal::Decimal;

use super::reason::{Failures, Reason};
use crate::money::{format_money, format_percent, round_half_away};
use crate::output::AlertStatus;
use crate::signals::SCORE_PARTS;
use crate::state::Suppression;
use crate::types::Signal;

/// Where a figure is too large for a decimal.
const OUT_OF_RANGE: &str = "beyond the decimal range";

/// An alert message's `reason` in English.
pub struct English<'a> {
    /// The message's status (resolved, suppressed and reinstated messages say so first).
    pub status: AlertStatus,
    /// On a `suppressed` message: the suppression that paused it.
    pub suppressed_by: Option<&'a Suppression>,
    /// What the sentence says.
    pub reason: &'a Reason<'a>,
    /// The currency amounts are in.
    pub currency: &'a str,
}

impl Display for English<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        status_prefix(f, self.status, self.suppressed_by)?;
        sentence(f, self.reason, self.currency)
    }
}

/// What a resolved, suppressed or reinstated message says before its sentence.
fn status_prefix(
    f: &mut Formatter<'_>,
    status: AlertStatus,
    suppressed_by: Option<&Suppression>,
) -> fmt::Result {
    match (status, suppressed_by) {
        (AlertStatus::Resolved, _) => f.write_str("Resolved: "),
        (AlertStatus::Suppressed, Some(by)) => write!(
            f,
            "Suppressed by {} ({}, granted by {}) through {}: no contact and no escalation until it lapses; severity changes are not published meanwhile. ",
            by.id,
            by.reason.as_str(),
            by.granted_by,
            by.until
        ),
        (AlertStatus::Reinstated, _) => {
            f.write_str("Reinstated: the suppression ended and the condition still holds. ")
        }
        _ => Ok(()),
    }
}

/// The sentence of a reason, with its figures.
fn sentence(f: &mut Formatter<'_>, reason: &Reason<'_>, currency: &str) -> fmt::Result {
    let money = |d: Decimal| Money(d, currency);
    match *reason {
        Reason::LoanClosed(r) => write!(f, "Loan closed ({}).", r.as_str()),
        Reason::NoOpenLoans => f.write_str("The borrower has no open loan left."),
        Reason::Overdue(d) => write!(
            f,
            "DPD {} (≥ {}): {} overdue since {} (installment {}).",
            d.dpd,
            Threshold(d.threshold),
            money(d.arrears),
            d.due_date,
            d.installment_no
        ),
        Reason::Current { paid } => write!(
            f,
            "Loan is current: {} paid, nothing past due.",
            money(paid)
        ),
        Reason::FailuresCleared(_) => {
            f.write_str("A payment was received after the failed debits.")
        }
        Reason::FailedDebits(Failures {
            consecutive: n,
            last_reason: Some(r),
        }) => write!(
            f,
            "{n} failed debit{} since the last received payment (latest: {r}).",
            plural(n)
        ),
        Reason::FailedDebits(Failures {
            consecutive: n,
            last_reason: None,
        }) => write!(
            f,
            "{n} failed debit{} since the last received payment.",
            plural(n)
        ),
        Reason::IncomeMeanZero(i) => write!(
            f,
            "Monthly income {}; the previous {} observations averaged 0, so there is no drop to measure.",
            money(i.latest),
            i.previous
        ),
        Reason::IncomeDrop(i) => write!(
            f,
            "Monthly income {} is {} below the mean of the previous {} observations ({}).",
            money(i.latest),
            Percent(i.ratio),
            i.previous,
            money(i.mean)
        ),
        Reason::TooFewIncomes => f.write_str("Too few income observations to judge a drop."),
        Reason::ZeroIncome(p) => write!(
            f,
            "Installments of {} against a reported monthly income of 0.",
            money(p.installments)
        ),
        Reason::PaymentToIncome(p) => write!(
            f,
            "Installments of {} are {} of monthly income {}.",
            money(p.installments),
            Percent(p.ratio),
            money(p.income)
        ),
        Reason::NoIncome => f.write_str("No income observation to compare installments with."),
        Reason::Ltv(l) => write!(
            f,
            "LTV {} (outstanding principal {} against collateral value {}).",
            Hundredths(l.ratio),
            money(l.outstanding),
            money(l.value)
        ),
        Reason::CollateralDrop(d) => write!(
            f,
            "Collateral value {} is {} below the {}-day peak of {}.",
            money(d.latest),
            Percent(d.ratio),
            d.window_days,
            money(d.peak)
        ),
        Reason::NoEarlierValuation => {
            f.write_str("No earlier valuation in the window to compare with.")
        }
        Reason::Stale(s) => write!(
            f,
            "Latest {} is {} days old (from {}).",
            missing(s.signal),
            s.days,
            s.since
        ),
        Reason::NeverObserved(s) => write!(
            f,
            "No {} in the {} days since the loan opened on {}.",
            missing(s.signal),
            s.days,
            s.since
        ),
        Reason::Score { score, parts } => {
            write!(f, "Early-warning score {score}: {}.", Contributions(parts))
        }
    }
}

/// What a staleness signal finds missing.
fn missing(signal: Signal) -> &'static str {
    if signal == Signal::StaleIncome {
        "income observation"
    } else {
        "collateral valuation"
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// An amount with its currency: `2,500.00 CNY`.
struct Money<'a>(Decimal, &'a str);

impl Display for Money<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_money(self.0), self.1)
    }
}

/// A ratio as a percentage to one decimal: `53.5%`.
struct Percent(Option<Decimal>);

impl Display for Percent {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(r) => f.write_str(&format_percent(r)),
            None => f.write_str(OUT_OF_RANGE),
        }
    }
}

/// A ratio to two decimals: `1.06`.
struct Hundredths(Option<Decimal>);

impl Display for Hundredths {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(r) => write!(f, "{}", round_half_away(r, 2)),
            None => f.write_str(OUT_OF_RANGE),
        }
    }
}

/// A severity's threshold; nothing when that severity has none.
struct Threshold(Option<u32>);

impl Display for Threshold {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(t) => write!(f, "{t}"),
            None => Ok(()),
        }
    }
}

/// The score's parts that count: `dpd 30 + failures 10`, or `no risk factor`.
struct Contributions<'a>(&'a [u32; 6]);

impl Display for Contributions<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut counted = SCORE_PARTS.iter().zip(self.0).filter(|(_, pts)| **pts > 0);
        let Some((name, pts)) = counted.next() else {
            return f.write_str("no risk factor");
        };
        write!(f, "{name} {pts}")?;
        for (name, pts) in counted {
            write!(f, " + {name} {pts}")?;
        }
        Ok(())
    }
}
