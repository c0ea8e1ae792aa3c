//! The buckets and bands the book is counted in (DPD buckets, the five-category classification,
//! LTV and score bands), and the record of what one loan or open alert last added to the portfolio — kept on the borrower's
//! state so that the next evaluation can replace it.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::types::Severity;

/// Days-past-due bucket of a loan, the industry's delinquency ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DpdBucket {
    /// Not past due.
    Current,
    /// 1–29 days past due.
    Dpd1To29,
    /// 30–59 days past due.
    Dpd30To59,
    /// 60–89 days past due.
    Dpd60To89,
    /// 90 days or more past due (non-performing in most regimes).
    Dpd90Plus,
}

impl DpdBucket {
    /// Every bucket, least delinquent first.
    pub const ALL: [DpdBucket; 5] = [
        DpdBucket::Current,
        DpdBucket::Dpd1To29,
        DpdBucket::Dpd30To59,
        DpdBucket::Dpd60To89,
        DpdBucket::Dpd90Plus,
    ];

    /// The days at which a loan enters the next bucket. The engine arms a timer at each, so a
    /// loan changes bucket at the business-day boundary even when no event arrives.
    pub const BOUNDARIES: [u32; 4] = [1, 30, 60, 90];

    /// The bucket of a loan `dpd` days past due.
    pub fn of(dpd: u32) -> Self {
        match dpd {
            0 => DpdBucket::Current,
            1..=29 => DpdBucket::Dpd1To29,
            30..=59 => DpdBucket::Dpd30To59,
            60..=89 => DpdBucket::Dpd60To89,
            _ => DpdBucket::Dpd90Plus,
        }
    }

    /// Its label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DpdBucket::Current => "current",
            DpdBucket::Dpd1To29 => "1-29",
            DpdBucket::Dpd30To59 => "30-59",
            DpdBucket::Dpd60To89 => "60-89",
            DpdBucket::Dpd90Plus => "90+",
        }
    }
}

/// Loan-to-value bands, lower bound inclusive: `[0, 0.6)`, `[0.6, 0.8)`, `[0.8, 1.0)`,
/// `[1.0, 1.2)`, `[1.2, ∞)`. Fixed (not taken from the LTV rule's thresholds) so that dashboards
/// and history stay comparable when the rule is tuned; 1.0 and 1.2 are the default rule's.
pub const LTV_BANDS: [&str; 5] = ["0-0.6", "0.6-0.8", "0.8-1.0", "1.0-1.2", "1.2+"];

/// Lower bounds of [`LTV_BANDS`] after the first, as (mantissa, scale) decimals.
pub(crate) const LTV_LOWER: [(i64, u32); 4] = [(6, 1), (8, 1), (10, 1), (12, 1)];

/// Early-warning score bands, bounds inclusive: below the default `high` threshold (50) in two
/// halves, then `high` and `critical` (75).
pub const SCORE_BANDS: [&str; 4] = ["0-24", "25-49", "50-74", "75-100"];

/// Band index of an early-warning score.
pub fn score_band(score: u32) -> usize {
    match score {
        0..=24 => 0,
        25..=49 => 1,
        50..=74 => 2,
        _ => 3,
    }
}

/// What one open loan last added to the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoanCount {
    /// Its DPD bucket.
    pub bucket: DpdBucket,
    /// Its class.
    pub class: Class,
    /// Its LTV band (index into [`LTV_BANDS`]).
    pub ltv_band: u8,
    /// Its outstanding principal.
    pub outstanding: Decimal,
}

/// Where an open alert stands with collections, for counting: the `status` label of
/// `postloan_open_alerts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    /// No acknowledgement covers it, none ever did, and it is not suppressed.
    Unacknowledged,
    /// An acknowledgement covers it at its severity now.
    Acknowledged,
    /// It was acknowledged, then its severity rose above the acknowledged one: it needs
    /// attention again.
    RisenAfterAck,
    /// Its slot is suppressed (whatever its acknowledgement).
    Suppressed,
}

impl Standing {
    /// Every standing, in label order.
    pub const ALL: [Standing; 4] = [
        Standing::Unacknowledged,
        Standing::Acknowledged,
        Standing::RisenAfterAck,
        Standing::Suppressed,
    ];

    /// Its label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Unacknowledged => "unacknowledged",
            Standing::Acknowledged => "acknowledged",
            Standing::RisenAfterAck => "risen_after_ack",
            Standing::Suppressed => "suppressed",
        }
    }
}

/// What an open alert last added: its severity, standing and branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCount {
    /// Its severity.
    pub severity: Severity,
    /// Where it stands with collections.
    pub standing: Standing,
    /// The branch its messages carry.
    pub branch: Option<Arc<str>>,
}

/// The bank's five-category loan classification (五级分类), best first: the order is the
/// order of risk, so `max` of two classes is the worse one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 正常: performing.
    Normal,
    /// 关注: special mention — past due, or restructured and under observation.
    SpecialMention,
    /// 次级: substandard (non-performing).
    Substandard,
    /// 可疑: doubtful (non-performing).
    Doubtful,
    /// 损失: loss (non-performing).
    Loss,
}

impl Class {
    /// Every class, best first.
    pub const ALL: [Class; 5] = [
        Class::Normal,
        Class::SpecialMention,
        Class::Substandard,
        Class::Doubtful,
        Class::Loss,
    ];

    /// Its label value (and configuration name).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Normal => "normal",
            Class::SpecialMention => "special_mention",
            Class::Substandard => "substandard",
            Class::Doubtful => "doubtful",
            Class::Loss => "loss",
        }
    }

    /// Whether it counts as non-performing (substandard, doubtful, loss).
    pub fn is_non_performing(self) -> bool {
        self >= Class::Substandard
    }

    /// Its position in [`Class::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}
