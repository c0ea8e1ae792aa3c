//! `[kafka.topics]`: the contract's topic names.

use serde::{Deserialize, Serialize};

/// `[kafka.topics]`: every topic name of the contract.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Topics {
    /// `loan_opened`, `loan_closed` in. Default "loans.lifecycle".
    #[serde(default = "t_lifecycle")]
    pub lifecycle: String,
    /// `repayment` in. Default "loans.repayments".
    #[serde(default = "t_repayments")]
    pub repayments: String,
    /// `income` in. Default "borrowers.income".
    #[serde(default = "t_income")]
    pub income: String,
    /// `collateral_valuation` in. Default "collateral.valuations".
    #[serde(default = "t_valuations")]
    pub valuations: String,
    /// `alert_ack` in. Default "risk.alert-acks".
    #[serde(default = "t_acks")]
    pub acks: String,
    /// Alert lifecycle messages out. Default "risk.alerts".
    #[serde(default = "t_alerts")]
    pub alerts: String,
    /// Escalation notices out. Default "risk.escalations".
    #[serde(default = "t_escalations")]
    pub escalations: String,
    /// Rejected inputs out. Default "risk.rejected".
    #[serde(default = "t_rejected")]
    pub rejected: String,
    /// Compacted per-borrower state. Default "postloan-monitor.state-changelog".
    #[serde(default = "t_changelog")]
    pub changelog: String,
}

fn t_lifecycle() -> String {
    "loans.lifecycle".to_owned()
}
fn t_repayments() -> String {
    "loans.repayments".to_owned()
}
fn t_income() -> String {
    "borrowers.income".to_owned()
}
fn t_valuations() -> String {
    "collateral.valuations".to_owned()
}
fn t_acks() -> String {
    "risk.alert-acks".to_owned()
}
fn t_alerts() -> String {
    "risk.alerts".to_owned()
}
fn t_escalations() -> String {
    "risk.escalations".to_owned()
}
fn t_rejected() -> String {
    "risk.rejected".to_owned()
}
fn t_changelog() -> String {
    "postloan-monitor.state-changelog".to_owned()
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            lifecycle: t_lifecycle(),
            repayments: t_repayments(),
            income: t_income(),
            valuations: t_valuations(),
            acks: t_acks(),
            alerts: t_alerts(),
            escalations: t_escalations(),
            rejected: t_rejected(),
            changelog: t_changelog(),
        }
    }
}

impl Topics {
    /// Every topic named `{prefix}.{role}` (`{prefix}.lifecycle`, `{prefix}.alerts`, …): one
    /// set per test or benchmark run, so runs never share data.
    pub fn prefixed(prefix: &str) -> Topics {
        let t = |role: &str| format!("{prefix}.{role}");
        Topics {
            lifecycle: t("lifecycle"),
            repayments: t("repayments"),
            income: t("income"),
            valuations: t("valuations"),
            acks: t("acks"),
            alerts: t("alerts"),
            escalations: t("escalations"),
            rejected: t("rejected"),
            changelog: t("changelog"),
        }
    }

    /// Input topics in merge tie-break order.
    pub fn inputs(&self) -> [&str; 5] {
        [
            &self.lifecycle,
            &self.repayments,
            &self.income,
            &self.valuations,
            &self.acks,
        ]
    }

    /// Output topics.
    pub fn outputs(&self) -> [&str; 3] {
        [&self.alerts, &self.escalations, &self.rejected]
    }

    /// The input topic an event type belongs on.
    pub fn for_event(&self, t: postloan_engine::event::EventType) -> &str {
        use postloan_engine::event::EventType as T;
        match t {
            T::LoanOpened | T::LoanModified | T::LoanClosed => &self.lifecycle,
            T::Repayment => &self.repayments,
            T::Income => &self.income,
            T::CollateralValuation => &self.valuations,
            T::AlertAck | T::Suppression => &self.acks,
        }
    }
}
