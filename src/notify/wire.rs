//! The two topics `notify` reads, as it reads them: the fields of alert and escalation
//! messages it needs (everything else is ignored, so a newer monitor's extra fields pass).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a record on `risk.alerts` or `risk.escalations` could not be read. Such a record is
/// counted and skipped (never retried): the monitor wrote it, so it will not change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not JSON, or a field missing or of the wrong type.
    #[error("not an alert or escalation message: {0}")]
    Json(String),
    /// `message_id` is not `{alert_id}#{k}`.
    #[error("message_id {0:?} is not {{alert_id}}#{{k}}")]
    MessageId(String),
    /// `event_time` is not RFC 3339.
    #[error("event_time {0:?} is not an RFC 3339 instant")]
    Instant(String),
}

/// An alert's lifecycle status, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `firing`
    Firing,
    /// `updated`
    Updated,
    /// `acknowledged`
    Acknowledged,
    /// `suppressed`
    Suppressed,
    /// `reinstated`
    Reinstated,
    /// `resolved`
    Resolved,
}

impl Status {
    /// Whether it ends an escalation notice published before it: the alert was resolved, an
    /// acknowledgement covers it, or contact was suppressed.
    pub fn ends_notice(self) -> bool {
        matches!(
            self,
            Status::Resolved | Status::Acknowledged | Status::Suppressed
        )
    }
}

/// One message of `risk.alerts`, reduced to what decides notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertMsg {
    /// `alert_id`.
    pub alert_id: String,
    /// `borrower_id`.
    pub borrower_id: String,
    /// Its number in the alert's lifecycle (`message_id` = `{alert_id}#{k}`).
    pub k: u32,
    /// `status`.
    pub status: Status,
    /// `event_time`.
    pub at: DateTime<Utc>,
    /// `cause_event_id` (`None`: a timer).
    pub cause: Option<String>,
}

/// One message of `risk.escalations`: what a notice shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationMsg {
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
    /// `signal`.
    pub signal: String,
    /// `severity`.
    pub severity: String,
    /// `alert_opened_at`, as published.
    pub alert_opened_at: String,
    /// `event_time`: when it was due.
    #[serde(rename = "event_time")]
    pub at: DateTime<Utc>,
    /// `unacknowledged_hours`.
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

#[derive(Deserialize)]
struct RawAlert {
    alert_id: String,
    message_id: String,
    borrower_id: String,
    status: Status,
    event_time: String,
    #[serde(default)]
    cause_event_id: Option<String>,
}

fn instant(s: &str) -> Result<DateTime<Utc>, WireError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| WireError::Instant(s.to_owned()))
}

/// Reads one `risk.alerts` record.
pub fn alert(payload: &[u8]) -> Result<AlertMsg, WireError> {
    let raw: RawAlert =
        serde_json::from_slice(payload).map_err(|e| WireError::Json(e.to_string()))?;
    let k = raw
        .message_id
        .strip_prefix(raw.alert_id.as_str())
        .and_then(|rest| rest.strip_prefix('#'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| WireError::MessageId(raw.message_id.clone()))?;
    Ok(AlertMsg {
        at: instant(&raw.event_time)?,
        alert_id: raw.alert_id,
        borrower_id: raw.borrower_id,
        k,
        status: raw.status,
        cause: raw.cause_event_id,
    })
}

/// Reads one `risk.escalations` record.
pub fn escalation(payload: &[u8]) -> Result<EscalationMsg, WireError> {
    serde_json::from_slice(payload).map_err(|e| WireError::Json(e.to_string()))
}
