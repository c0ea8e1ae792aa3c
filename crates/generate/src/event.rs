//! In-memory form of one generated event (rendered to JSON only when written).

use std::cmp::Ordering;

use chrono::NaiveDate;
use postloan_engine::event::{CloseReason, EventType};
use postloan_engine::types::SuppressionReason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayStatus {
    Received,
    /// Failed debit, with an index into [`FAILURE_REASONS`].
    Failed(u8),
    Reversed,
}

pub(crate) const FAILURE_REASONS: [&str; 3] = [
    "insufficient_funds",
    "account_frozen",
    "debit_limit_exceeded",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncomeSource {
    Payroll,
    BankStatement,
    TaxRecord,
}

impl IncomeSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IncomeSource::Payroll => "payroll",
            IncomeSource::BankStatement => "bank_statement",
            IncomeSource::TaxRecord => "tax_record",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValSource {
    MarketIndex,
    Appraisal,
    Auction,
    DealerQuote,
}

impl ValSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ValSource::MarketIndex => "market_index",
            ValSource::Appraisal => "appraisal",
            ValSource::Auction => "auction",
            ValSource::DealerQuote => "dealer_quote",
        }
    }
}

/// Vehicle catalogue (make, model); ASCII only.
pub(crate) const CARS: &[(&str, &str)] = &[
    ("BYD", "Qin PLUS"),
    ("BYD", "Song PLUS"),
    ("BYD", "Han"),
    ("Geely", "Emgrand"),
    ("Geely", "Boyue"),
    ("Changan", "CS75 PLUS"),
    ("Toyota", "Camry"),
    ("Toyota", "Corolla"),
    ("Honda", "Accord"),
    ("Honda", "CR-V"),
    ("Volkswagen", "Lavida"),
    ("Volkswagen", "Passat"),
    ("Nissan", "Sylphy"),
    ("Buick", "GL8"),
    ("Tesla", "Model 3"),
    ("Tesla", "Model Y"),
    ("Li Auto", "L7"),
    ("NIO", "ET5"),
    ("Haval", "H6"),
    ("Chery", "Tiggo 8"),
    ("BMW", "3 Series"),
    ("Mercedes-Benz", "C-Class"),
    ("Audi", "A4L"),
    ("XPeng", "P7"),
];

/// Prefix of `granted_by` for a reason.
pub(crate) fn granter_role(reason: SuppressionReason) -> &'static str {
    match reason {
        SuppressionReason::Hardship => "hardship-desk-",
        SuppressionReason::Dispute => "complaints-desk-",
        SuppressionReason::LegalHold => "legal-",
        SuppressionReason::Disaster => "risk-ops-",
        SuppressionReason::Deceased | SuppressionReason::Other => "collections-lead-",
    }
}

pub(crate) const ACK_NOTES: [&str; 8] = [
    "called borrower, promised to pay this week",
    "left voicemail, will retry tomorrow",
    "borrower reports job loss, restructure review requested",
    "field visit scheduled",
    "spoke to guarantor, payment expected after payday",
    "borrower disputes the late fee; escalated to complaints desk",
    "SMS reminder sent twice, no answer; next call in 48h",
    "hardship application form sent by email",
];

/// `reason` of a deferral (payment holiday).
pub(crate) const DEFERRAL_REASONS: [&str; 4] = [
    "payment holiday: temporary loss of income",
    "payment holiday: medical leave",
    "payment holiday: business downturn",
    "payment holiday: family emergency",
];

/// `reason` of a restructure.
pub(crate) const RESTRUCTURE_REASONS: [&str; 3] = [
    "restructure: arrears capitalised, term extended",
    "restructure after hardship review",
    "restructure agreed in collections settlement",
];

/// The signals a suppression names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SuppSignals {
    /// `["*"]`: all nine.
    All,
    /// `["dpd","payment_failed"]`.
    DpdAndFailed,
    /// `["dpd"]`.
    Dpd,
}

impl SuppSignals {
    /// The names written in `signals`.
    pub(crate) fn names(self) -> &'static [&'static str] {
        match self {
            SuppSignals::All => &["*"],
            SuppSignals::DpdAndFailed => &["dpd", "payment_failed"],
            SuppSignals::Dpd => &["dpd"],
        }
    }

    /// Whether it names the `dpd` signal (every variant does; kept explicit for the mirror).
    pub(crate) fn covers_dpd(self) -> bool {
        matches!(
            self,
            SuppSignals::All | SuppSignals::DpdAndFailed | SuppSignals::Dpd
        )
    }
}

/// The terms a restructure sets (money in cents, rate in units of 0.0001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NewTerms {
    pub principal: i64,
    pub rate_bp: u32,
    pub term: u32,
    pub first_due: NaiveDate,
    pub inst: i64,
}

/// What a `loan_modified` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Deferral {
        months: u8,
    },
    /// To the loan's `restructure` terms (a loan is restructured at most once; keeping the
    /// terms there keeps every queued event small).
    Restructure,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    LoanOpened,
    Repayment {
        pay_no: u32,
        amount: i64,
        status: PayStatus,
    },
    Income {
        amount: i64,
        source: IncomeSource,
        /// Period year and month.
        period: (i32, u32),
    },
    Valuation {
        value: i64,
        source: ValSource,
        mileage: u32,
    },
    Closed {
        reason: CloseReason,
    },
    /// Planned acknowledgement of the loan's open DPD alert; becomes [`Kind::Ack`] when the
    /// mirror confirms the alert is open at that instant, otherwise it is dropped. A `repeat`
    /// is written only if the alert is still the one the loan's previous ack addressed.
    AckCandidate {
        collector: u8,
        note: Option<u8>,
        repeat: bool,
    },
    Ack {
        episode: u32,
        collector: u8,
        note: Option<u8>,
    },
    /// `loan_modified`, effective on `effective`; `reason` indexes the kind's reason table.
    Modified {
        effective: NaiveDate,
        change: Change,
        reason: u8,
        approver: u8,
    },
    /// `suppression` number `no` of the borrower (`S-<N>-<no>`); with `loan_scoped` it names
    /// the event's loan. A `follow_up` (revocation or extension) repeats an earlier id and is
    /// written only while that one is in force.
    Suppression {
        no: u16,
        loan_scoped: bool,
        signals: SuppSignals,
        until: NaiveDate,
        reason: SuppressionReason,
        granter: u8,
        follow_up: bool,
    },
}

impl Kind {
    /// The contract's event type.
    pub(crate) fn event_type(&self) -> EventType {
        match self {
            Kind::LoanOpened => EventType::LoanOpened,
            Kind::Repayment { .. } => EventType::Repayment,
            Kind::Income { .. } => EventType::Income,
            Kind::Valuation { .. } => EventType::CollateralValuation,
            Kind::Closed { .. } => EventType::LoanClosed,
            Kind::AckCandidate { .. } | Kind::Ack { .. } => EventType::AlertAck,
            Kind::Modified { .. } => EventType::LoanModified,
            Kind::Suppression { .. } => EventType::Suppression,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    /// UTC seconds.
    pub t: i64,
    /// Offset of the business zone at `t`, seconds east of UTC.
    pub off: i32,
    /// Planning sequence within the borrower (tie-break for equal `t`).
    pub seq: u32,
    /// Index of the loan within the borrower (ignored for income).
    pub loan: u8,
    /// Event-id sequence within the borrower, assigned when the event is released.
    pub eid: u32,
    pub kind: Kind,
}

/// Heap entry ordered by (t, seq) only.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Queued(pub Event);

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.0.t, self.0.seq) == (other.0.t, other.0.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0.t, self.0.seq).cmp(&(other.0.t, other.0.seq))
    }
}
