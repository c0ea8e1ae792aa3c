//! Words and figures of alert messages: the `reason` sentence a collector reads, the `metrics`
//! behind it and the `recommended_action`.
//!
//! A message is described in two steps: what its reason says (`reason.rs`: which sentence,
//! with which figures; the metrics come from the same figures), then how it reads in English
//! (`english.rs`).

mod english;
mod reason;

use std::fmt::Write;

use english::English;
use reason::Reason;

use super::output::{AlertMetrics, AlertStatus};
use super::signals::Facts;
use super::state::Suppression;
use super::types::{Severity, Signal};
use crate::settings::rules::RulesConfig;

/// Room for most reasons at once; a suppressed message's longer one grows once.
const REASON_CAPACITY: usize = 128;

/// The alert a message is about, as far as its words depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The alert's signal.
    pub signal: Signal,
    /// The message's status.
    pub status: AlertStatus,
    /// The alert's severity now.
    pub severity: Severity,
    /// On a `suppressed` message: the suppression that paused it.
    pub suppressed_by: Option<&'a Suppression>,
    /// The loan's (or the borrower's first loan's) currency.
    pub currency: &'a str,
}

/// The reason sentence and metrics of one alert message.
pub fn describe(
    subject: Subject<'_>,
    facts: &Facts,
    rules: &RulesConfig,
) -> (String, AlertMetrics) {
    let reason = Reason::of(subject.signal, subject.severity, facts, rules);
    let english = English {
        status: subject.status,
        suppressed_by: subject.suppressed_by,
        reason: &reason,
        currency: subject.currency,
    };
    let mut text = String::with_capacity(REASON_CAPACITY);
    // Cannot fail: writing to a `String` never does, and no `Display` above reports an error
    // of its own.
    let _ = write!(text, "{english}");
    (text, reason.metrics())
}

/// What collections should do about a signal at a severity.
pub fn recommended_action(signal: Signal, status: AlertStatus, severity: Severity) -> &'static str {
    // Resolved: nothing to do; suppressed: contact is paused.
    if matches!(status, AlertStatus::Resolved | AlertStatus::Suppressed) {
        return "none";
    }
    match (signal, severity) {
        (Signal::Dpd, Severity::Info | Severity::Low) => "reminder_sms",
        (Signal::Dpd, Severity::Medium) => "phone_call",
        (Signal::Dpd, Severity::High) => "field_visit",
        (Signal::Dpd, Severity::Critical) => "repossession_review",
        (Signal::PaymentFailed, Severity::Info | Severity::Low | Severity::Medium) => {
            "reminder_sms"
        }
        (Signal::PaymentFailed, _) => "phone_call",
        (Signal::IncomeDrop | Signal::PaymentToIncome, _) => "restructure_review",
        (Signal::Ltv | Signal::CollateralDrop, Severity::High | Severity::Critical) => {
            "repossession_review"
        }
        (Signal::Ltv | Signal::CollateralDrop, _) => "collateral_review",
        (Signal::StaleIncome, _) => "request_income_proof",
        (Signal::StaleValuation, _) => "order_valuation",
        (Signal::EarlyWarning, Severity::Critical) => "field_visit",
        (Signal::EarlyWarning, _) => "phone_call",
    }
}
