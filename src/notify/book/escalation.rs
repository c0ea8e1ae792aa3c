//! An escalation as a notice shows it and the state topic keeps it: the engine's
//! [`EscalationMessage`] (the one definition of the wire format, read by
//! [`postloan_engine::wire`]) reduced to what a notice needs, under the state topic's own field
//! names. Its serde layout is the state topic's format: records written by earlier builds must
//! read back, so it changes only with a migration.

use chrono::{DateTime, Utc};
use postloan_engine::output::EscalationMessage;
use postloan_engine::wire::{self, WireError};
use serde::{Deserialize, Serialize};

/// One escalation, as a notice shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    /// `escalation_id`.
    pub escalation_id: String,
    /// `alert_id`.
    pub alert_id: String,
    /// `level`.
    pub level: u8,
    /// `notify` (`team_lead`, `risk_head`).
    pub notify: String,
    /// `borrower_id`.
    pub borrower_id: String,
    /// `loan_id`.
    pub loan_id: Option<String>,
    /// `manager_id`.
    pub manager_id: Option<String>,
    /// `branch_id`.
    pub branch_id: Option<String>,
    /// `signal`, as published.
    pub signal: String,
    /// `severity`, as published.
    pub severity: String,
    /// `alert_opened_at`, as published.
    pub alert_opened_at: String,
    /// `event_time`: when it was due.
    #[serde(rename = "event_time")]
    pub at: DateTime<Utc>,
    /// `unacknowledged_hours`, as published (a JSON number).
    pub unacknowledged_hours: serde_json::Value,
    /// `reason`.
    pub reason: String,
    /// `cause_event_id` (`None`: a timer).
    #[serde(rename = "cause_event_id")]
    pub cause: Option<String>,
    /// `previously_acked_by`.
    #[serde(default)]
    pub previously_acked_by: Option<String>,
}

impl Escalation {
    /// Reads one `risk.escalations` record.
    pub fn from_json(payload: &[u8]) -> Result<Self, WireError> {
        Self::new(wire::escalation(payload)?)
    }

    /// The notice's view of a message.
    pub fn new(m: EscalationMessage) -> Result<Self, WireError> {
        // The number as published: its JSON text read as JSON, as the annotation shows it.
        let hours = serde_json::to_vec(&m.unacknowledged_hours)
            .and_then(|text| serde_json::from_slice(&text))
            .map_err(WireError::Json)?;
        Ok(Escalation {
            at: wire::instant(&m.event_time)?,
            escalation_id: m.escalation_id,
            alert_id: m.alert_id,
            level: m.level,
            notify: m.notify,
            borrower_id: m.borrower_id,
            loan_id: m.loan_id,
            manager_id: m.manager_id,
            branch_id: m.branch_id,
            signal: m.signal.as_str().to_owned(),
            severity: m.severity.as_str().to_owned(),
            alert_opened_at: m.alert_opened_at,
            unacknowledged_hours: hours,
            reason: m.reason,
            cause: m.cause_event_id,
            previously_acked_by: m.previously_acked_by,
        })
    }
}
