//! In-memory form of one generated event (rendered to JSON only when written).

use std::cmp::Ordering;

use postloan_engine::event::{CloseReason, EventType};

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

pub(crate) const ACK_NOTES: [&str; 4] = [
    "called borrower, promised to pay this week",
    "left voicemail, will retry tomorrow",
    "borrower reports job loss, restructure review requested",
    "field visit scheduled",
];

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
    /// mirror confirms the alert is open at that instant, otherwise it is dropped.
    AckCandidate {
        collector: u8,
        note: u8,
    },
    Ack {
        episode: u32,
        collector: u8,
        note: u8,
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
