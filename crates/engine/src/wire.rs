//! The read side of [`output`](crate::output)'s messages, for the monitor's own consumers
//! (`notify`): a record of `risk.escalations` reads back as the [`EscalationMessage`] that was
//! written, and a record of `risk.alerts` as the lifecycle step it announces
//! ([`AlertChange`]). Fields a consumer does not need are ignored, so a newer monitor's extra
//! fields pass.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::output::{AlertStatus, EscalationMessage};

/// Why a record of `risk.alerts` or `risk.escalations` could not be read. Such a record is
/// skipped by its reader: the monitor wrote it, so reading it again will not change it.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Not JSON, or a field missing or of the wrong type.
    #[error("not an alert or escalation message")]
    Json(#[source] serde_json::Error),
    /// `message_id` is not `{alert_id}#{k}`.
    #[error("message_id {0:?} is not {{alert_id}}#{{k}}")]
    MessageId(String),
    /// `event_time` is not RFC 3339.
    #[error("event_time {0:?} is not an RFC 3339 instant")]
    Instant(String),
}

/// One message of `risk.alerts`, as a step of its alert's lifecycle: what a consumer needs to
/// place it relative to the alert's other messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertChange {
    /// `alert_id`.
    pub alert_id: String,
    /// `borrower_id`.
    pub borrower_id: String,
    /// Its number in the alert's lifecycle (`message_id` = `{alert_id}#{k}`).
    pub k: u32,
    /// `status`.
    pub status: AlertStatus,
    /// `event_time`.
    pub at: DateTime<Utc>,
    /// `cause_event_id` (`None`: a timer).
    pub cause: Option<String>,
}

/// The fields of an [`AlertMessage`](crate::output::AlertMessage) an [`AlertChange`] is read
/// from, under their wire names.
#[derive(Deserialize)]
struct AlertFields {
    alert_id: String,
    message_id: String,
    borrower_id: String,
    status: AlertStatus,
    event_time: String,
    #[serde(default)]
    cause_event_id: Option<String>,
}

/// An RFC 3339 instant as the monitor writes it (`event_time`, `opened_at`).
pub fn instant(s: &str) -> Result<DateTime<Utc>, WireError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| WireError::Instant(s.to_owned()))
}

/// Reads one `risk.alerts` record.
pub fn alert(payload: &[u8]) -> Result<AlertChange, WireError> {
    let raw: AlertFields = serde_json::from_slice(payload).map_err(WireError::Json)?;
    let k = raw
        .message_id
        .strip_prefix(raw.alert_id.as_str())
        .and_then(|rest| rest.strip_prefix('#'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| WireError::MessageId(raw.message_id.clone()))?;
    Ok(AlertChange {
        at: instant(&raw.event_time)?,
        alert_id: raw.alert_id,
        borrower_id: raw.borrower_id,
        k,
        status: raw.status,
        cause: raw.cause_event_id,
    })
}

/// Reads one `risk.escalations` record.
pub fn escalation(payload: &[u8]) -> Result<EscalationMessage, WireError> {
    serde_json::from_slice(payload).map_err(WireError::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Output;
    use crate::testkit::{self, Kit};

    /// Two loans never paid, one acknowledged: alerts that fire, update, are acknowledged and
    /// escalate, up to level 2.
    fn messages() -> Vec<Output> {
        let mut k = Kit::new();
        k.send(testkit::loan(
            "b-1",
            "l-1",
            "2026-01-01T00:00:00Z",
            "2026-02-10",
        ));
        k.send(testkit::loan(
            "b-2",
            "l-2",
            "2026-01-01T00:00:00Z",
            "2026-02-12",
        ));
        k.advance("2026-03-14T01:00:00Z");
        k.send(testkit::ack("b-1", "2026-03-14T02:00:00Z", "b-1/l-1/dpd/1"));
        k.advance("2026-06-01T00:00:00Z");
        std::mem::take(&mut k.out)
    }

    #[test]
    fn every_escalation_written_reads_back_equal() {
        let escalations: Vec<_> = messages()
            .into_iter()
            .filter_map(|m| match m {
                Output::Escalation(e) => Some(e),
                _ => None,
            })
            .collect();
        assert!(escalations.len() >= 2, "{}", escalations.len());
        assert!(escalations.iter().any(|e| e.level == 2));
        for e in escalations {
            let json = Output::Escalation(e.clone()).to_json();
            let read = escalation(json.as_bytes()).expect("reads");
            assert_eq!(read, e);
            // And writes the same bytes again.
            assert_eq!(Output::Escalation(read).to_json(), json);
        }
    }

    #[test]
    fn every_alert_written_reads_back_as_its_lifecycle_step() {
        let alerts: Vec<_> = messages()
            .into_iter()
            .filter_map(|m| match m {
                Output::Alert(a) => Some(a),
                _ => None,
            })
            .collect();
        assert!(alerts.iter().any(|a| a.status == AlertStatus::Acknowledged));
        for a in alerts {
            let json = Output::Alert(a.clone()).to_json();
            let read = alert(json.as_bytes()).expect("reads");
            assert_eq!(read.alert_id, a.alert_id);
            assert_eq!(read.borrower_id, a.borrower_id);
            assert_eq!(format!("{}#{}", read.alert_id, read.k), a.message_id);
            assert_eq!(read.status, a.status);
            assert_eq!(read.at, instant(&a.event_time).expect("instant"));
            assert_eq!(read.cause, a.cause_event_id);
        }
    }

    #[test]
    fn what_was_not_written_by_the_monitor_is_refused_with_its_reason() {
        assert!(matches!(alert(b"not json"), Err(WireError::Json(_))));
        let bad_id = br#"{"alert_id":"a","message_id":"b#1","borrower_id":"x","status":"firing","event_time":"2026-01-01T00:00:00Z"}"#;
        assert!(matches!(alert(bad_id), Err(WireError::MessageId(_))));
        let bad_time = br#"{"alert_id":"a","message_id":"a#1","borrower_id":"x","status":"firing","event_time":"yesterday"}"#;
        assert!(matches!(alert(bad_time), Err(WireError::Instant(_))));
        assert!(matches!(escalation(b"{}"), Err(WireError::Json(_))));
    }
}
