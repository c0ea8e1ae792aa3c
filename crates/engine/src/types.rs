//! Vocabulary shared by every part of the engine: severities, signals, scopes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Alert severity, ordered `info < low < medium < high < critical` (the contract's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational only.
    Info,
    /// Watch.
    Low,
    /// Act within days.
    Medium,
    /// Act now; escalates when left unacknowledged.
    High,
    /// Act now; escalates to the risk head at once.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a signal is about one loan or about the borrower as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One alert per (borrower, loan).
    Loan,
    /// One alert per borrower; `loan_id` is null.
    Borrower,
}

/// The nine early-warning signals of the contract, in the contract's table order.
/// That order is also the order in which one evaluation publishes its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Days past due.
    Dpd,
    /// Bounced debits since the last received payment.
    PaymentFailed,
    /// Latest income well below the recent mean.
    IncomeDrop,
    /// Installments of open loans against monthly income.
    PaymentToIncome,
    /// Outstanding principal against the latest collateral value.
    Ltv,
    /// Latest valuation well below the recent peak.
    CollateralDrop,
    /// No income observation for too long.
    StaleIncome,
    /// No collateral valuation for too long.
    StaleValuation,
    /// Composite score over the other figures.
    EarlyWarning,
}

impl Signal {
    /// Every signal in table order.
    pub const ALL: [Signal; 9] = [
        Signal::Dpd,
        Signal::PaymentFailed,
        Signal::IncomeDrop,
        Signal::PaymentToIncome,
        Signal::Ltv,
        Signal::CollateralDrop,
        Signal::StaleIncome,
        Signal::StaleValuation,
        Signal::EarlyWarning,
    ];

    /// The wire name, also the signal's segment of an `alert_id`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Dpd => "dpd",
            Signal::PaymentFailed => "payment_failed",
            Signal::IncomeDrop => "income_drop",
            Signal::PaymentToIncome => "payment_to_income",
            Signal::Ltv => "ltv",
            Signal::CollateralDrop => "collateral_drop",
            Signal::StaleIncome => "stale_income",
            Signal::StaleValuation => "stale_valuation",
            Signal::EarlyWarning => "early_warning",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|sig| sig.as_str() == s)
    }

    /// Loan or borrower scope, fixed by the contract.
    pub fn scope(self) -> Scope {
        match self {
            Signal::Dpd
            | Signal::PaymentFailed
            | Signal::Ltv
            | Signal::CollateralDrop
            | Signal::StaleValuation => Scope::Loan,
            Signal::IncomeDrop
            | Signal::PaymentToIncome
            | Signal::StaleIncome
            | Signal::EarlyWarning => Scope::Borrower,
        }
    }

    /// Dense index for per-signal tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of signals (a suppression's `signals`), as one bit per signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignalSet(u16);

impl SignalSet {
    /// All nine signals (`["*"]` on the wire).
    pub const ALL: SignalSet = SignalSet((1 << Signal::ALL.len()) - 1);

    /// The set with `signal` added.
    pub fn with(self, signal: Signal) -> SignalSet {
        SignalSet(self.0 | 1 << signal.index())
    }

    /// Whether it holds `signal`.
    pub fn contains(self, signal: Signal) -> bool {
        self.0 & (1 << signal.index()) != 0
    }

    /// Whether it holds no signal.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Its signals in table order.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        Signal::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Its wire form: `*` for all nine, else the names joined by commas.
    pub fn describe(self) -> String {
        if self == SignalSet::ALL {
            return "*".to_owned();
        }
        self.iter()
            .map(Signal::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Why contact with a borrower is paused (a suppression's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// A hardship programme.
    Hardship,
    /// The borrower disputes the debt.
    Dispute,
    /// A natural disaster.
    Disaster,
    /// A court or regulator ordered a hold.
    LegalHold,
    /// The borrower died; the estate is being settled.
    Deceased,
    /// Anything else.
    Other,
}

impl SuppressionReason {
    /// Every reason, in wire order.
    pub const ALL: [SuppressionReason; 6] = [
        SuppressionReason::Hardship,
        SuppressionReason::Dispute,
        SuppressionReason::Disaster,
        SuppressionReason::LegalHold,
        SuppressionReason::Deceased,
        SuppressionReason::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::Hardship => "hardship",
            SuppressionReason::Dispute => "dispute",
            SuppressionReason::Disaster => "disaster",
            SuppressionReason::LegalHold => "legal_hold",
            SuppressionReason::Deceased => "deceased",
            SuppressionReason::Other => "other",
        }
    }
}

/// What a `loan_modified` changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModificationKind {
    /// A payment holiday: installments due from `effective_date` on move later.
    Deferral,
    /// New terms replace the old ones.
    Restructure,
}

impl ModificationKind {
    /// Every kind, in wire order.
    pub const ALL: [ModificationKind; 2] =
        [ModificationKind::Deferral, ModificationKind::Restructure];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModificationKind::Deferral => "deferral",
            ModificationKind::Restructure => "restructure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_is_the_contracts() {
        let mut sorted = Severity::ALL;
        sorted.sort();
        assert_eq!(sorted, Severity::ALL);
        assert!(Severity::Info < Severity::Low && Severity::High < Severity::Critical);
    }

    #[test]
    fn signal_names_round_trip_and_scopes_match_the_contract() {
        for s in Signal::ALL {
            assert_eq!(Signal::parse(s.as_str()), Some(s));
            // serde's name is the wire name too.
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(Signal::ALL[s.index()], s);
        }
        assert_eq!(Signal::parse("nope"), None);
        assert!(Signal::ALL.into_iter().all(|s| SignalSet::ALL.contains(s)));
        let set = SignalSet::default().with(Signal::Ltv).with(Signal::Dpd);
        assert_eq!(set.describe(), "dpd,ltv");
        assert!(!set.contains(Signal::EarlyWarning) && !set.is_empty());
        assert_eq!(SignalSet::ALL.describe(), "*");
        let loan: Vec<_> = Signal::ALL
            .into_iter()
            .filter(|s| s.scope() == Scope::Loan)
            .map(Signal::as_str)
            .collect();
        assert_eq!(
            loan,
            [
                "dpd",
                "payment_failed",
                "ltv",
                "collateral_drop",
                "stale_valuation"
            ]
        );
    }
}
