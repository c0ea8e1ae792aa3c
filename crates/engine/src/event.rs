//! Typed input events, borrowed from the bytes they were decoded from.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::types::{SignalSet, SuppressionReason};

/// An ISO 4217 currency code: three ASCII capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Currency(pub [u8; 3]);

impl Currency {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals are ever stored (see `decode`), so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

/// One decoded input event: the common envelope and its type-specific body.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Producer-assigned id; a repeat for the same borrower is a duplicate.
    pub event_id: Cow<'a, str>,
    /// The borrower the event belongs to (also the Kafka key).
    pub borrower_id: Cow<'a, str>,
    /// Event time, normalised to UTC.
    pub occurred_at: DateTime<Utc>,
    /// Type-specific fields.
    pub body: Body<'a>,
    /// [`crate::canonical::payload_hash`] of the payload it was decoded from (computed as the
    /// decoder reads it): what tells a redelivery from a conflicting duplicate.
    pub payload_hash: u64,
}

/// Event types of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// `loan_opened`
    LoanOpened,
    /// `loan_closed`
    LoanClosed,
    /// `repayment`
    Repayment,
    /// `income`
    Income,
    /// `collateral_valuation`
    CollateralValuation,
    /// `alert_ack`
    AlertAck,
    /// `loan_modified` (contract v2)
    LoanModified,
    /// `suppression` (contract v2)
    Suppression,
}

impl EventType {
    /// Every type, in a stable order for summaries.
    pub const ALL: [EventType; 8] = [
        EventType::LoanOpened,
        EventType::LoanClosed,
        EventType::Repayment,
        EventType::Income,
        EventType::CollateralValuation,
        EventType::AlertAck,
        EventType::LoanModified,
        EventType::Suppression,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LoanOpened => "loan_opened",
            EventType::LoanClosed => "loan_closed",
            EventType::Repayment => "repayment",
            EventType::Income => "income",
            EventType::CollateralValuation => "collateral_valuation",
            EventType::AlertAck => "alert_ack",
            EventType::LoanModified => "loan_modified",
            EventType::Suppression => "suppression",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Type-specific fields.
#[derive(Debug, Clone)]
pub enum Body<'a> {
    /// A loan was disbursed.
    LoanOpened(LoanOpened<'a>),
    /// A loan left the portfolio.
    LoanClosed {
        /// The loan.
        loan_id: Cow<'a, str>,
        /// Why it closed.
        reason: CloseReason,
    },
    /// Money arrived, bounced or was taken back.
    Repayment(Repayment<'a>),
    /// A monthly income observation for the borrower.
    Income(Income),
    /// A new value for a loan's vehicle.
    CollateralValuation(Valuation<'a>),
    /// Collections acknowledged an alert.
    AlertAck {
        /// The acknowledged alert.
        alert_id: Cow<'a, str>,
        /// Who acknowledged it.
        acked_by: Cow<'a, str>,
        /// Their note, when given (at most 1,024 characters).
        note: Option<Cow<'a, str>>,
    },
    /// The bank changed a loan's terms.
    LoanModified(LoanModified<'a>),
    /// Contact must pause for some of the borrower's alerts.
    Suppression(Suppression<'a>),
}

impl Body<'_> {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Body::LoanOpened(_) => EventType::LoanOpened,
            Body::LoanClosed { .. } => EventType::LoanClosed,
            Body::Repayment(_) => EventType::Repayment,
            Body::Income(_) => EventType::Income,
            Body::CollateralValuation(_) => EventType::CollateralValuation,
            Body::AlertAck { .. } => EventType::AlertAck,
            Body::LoanModified(_) => EventType::LoanModified,
            Body::Suppression(_) => EventType::Suppression,
        }
    }
}

/// `loan_opened` fields.
#[derive(Debug, Clone)]
pub struct LoanOpened<'a> {
    /// The loan.
    pub loan_id: Cow<'a, str>,
    /// Amount lent, > 0.
    pub principal: Decimal,
    /// The loan's currency; every later event for it must match.
    pub currency: Currency,
    /// Annual rate as a fraction, 0 ≤ r < 1.
    pub annual_rate: Decimal,
    /// Number of monthly installments, 1–120.
    pub term_months: u32,
    /// Due date of installment 1.
    pub first_due_date: NaiveDate,
    /// Every installment's amount, > 0.
    pub installment_amount: Decimal,
    /// Vehicle value at origination; the first valuation.
    pub collateral_value: Decimal,
    /// Portfolio label.
    pub manager_id: Option<Cow<'a, str>>,
    /// Portfolio label.
    pub branch_id: Option<Cow<'a, str>>,
    /// Portfolio label.
    pub dealer_id: Option<Cow<'a, str>>,
}

/// Why a loan closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloseReason {
    /// Fully repaid.
    PaidOff,
    /// Written off.
    ChargedOff,
    /// Vehicle taken back.
    Repossessed,
    /// Replaced by another loan.
    Refinanced,
}

impl CloseReason {
    /// Every reason, in the contract's order.
    pub const ALL: [CloseReason; 4] = [
        CloseReason::PaidOff,
        CloseReason::ChargedOff,
        CloseReason::Repossessed,
        CloseReason::Refinanced,
    ];

    /// Whether the loan left the book as a loss (charged off or repossessed): such a closing
    /// must never look like a cure.
    pub fn is_loss(self) -> bool {
        matches!(self, CloseReason::ChargedOff | CloseReason::Repossessed)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::PaidOff => "paid_off",
            CloseReason::ChargedOff => "charged_off",
            CloseReason::Repossessed => "repossessed",
            CloseReason::Refinanced => "refinanced",
        }
    }
}

/// Status of a repayment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepaymentStatus {
    /// Money arrived.
    Received,
    /// A debit bounced; no money.
    Failed,
    /// A received payment was taken back.
    Reversed,
}

/// `repayment` fields.
#[derive(Debug, Clone)]
pub struct Repayment<'a> {
    /// The loan.
    pub loan_id: Cow<'a, str>,
    /// The payment; a reversal names the payment it takes back.
    pub payment_id: Cow<'a, str>,
    /// Amount, > 0 (a reversal takes back the originally received amount instead).
    pub amount: Decimal,
    /// Must match the loan's.
    pub currency: Currency,
    /// What happened.
    pub status: RepaymentStatus,
    /// Why a debit failed, when given.
    pub failure_reason: Option<Cow<'a, str>>,
}

/// `income` fields.
#[derive(Debug, Clone)]
pub struct Income {
    /// Monthly income, ≥ 0.
    pub monthly_income: Decimal,
    /// Must match the borrower's open loans.
    pub currency: Currency,
}

/// `collateral_valuation` fields.
#[derive(Debug, Clone)]
pub struct Valuation<'a> {
    /// The loan whose vehicle was valued.
    pub loan_id: Cow<'a, str>,
    /// Value, > 0.
    pub value: Decimal,
    /// Must match the loan's.
    pub currency: Currency,
}

/// `loan_modified` fields.
#[derive(Debug, Clone)]
pub struct LoanModified<'a> {
    /// The loan.
    pub loan_id: Cow<'a, str>,
    /// The business date the change takes effect.
    pub effective_date: NaiveDate,
    /// What changed.
    pub change: Modification,
}

/// A deferral or a restructure, with its own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modification {
    /// A payment holiday of `months` (1–24): installments due on or after `effective_date`
    /// move that many months later.
    Deferral {
        /// Months added to each such installment's offset.
        months: u32,
    },
    /// New terms, validated as in `loan_opened`; `first_due_date` is after `effective_date`.
    Restructure(NewTerms),
}

/// The terms a restructure sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTerms {
    /// What is owed now (arrears capitalised), > 0.
    pub principal: Decimal,
    /// Annual rate as a fraction, 0 ≤ r < 1.
    pub annual_rate: Decimal,
    /// Number of monthly installments, 1–120.
    pub term_months: u32,
    /// Due date of the first installment under the new terms.
    pub first_due_date: NaiveDate,
    /// Every installment's amount, > 0.
    pub installment_amount: Decimal,
}

/// `suppression` fields.
#[derive(Debug, Clone)]
pub struct Suppression<'a> {
    /// Its id: a later suppression with the same id replaces it.
    pub suppression_id: Cow<'a, str>,
    /// The loan it is limited to; `None`: the borrower's borrower-scope signals and every loan.
    pub loan_id: Option<Cow<'a, str>>,
    /// The signals it pauses.
    pub signals: SignalSet,
    /// The last business date it covers.
    pub until: NaiveDate,
    /// Why.
    pub reason: SuppressionReason,
    /// Who granted it.
    pub granted_by: Cow<'a, str>,
}
