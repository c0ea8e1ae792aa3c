//! Snapshot format 2 (contract v1), frozen: the layout as it was written, and its migration to
//! format 3 (which `format3.rs` migrates to today's). Only what changed in format 3 is copied
//! here; loans are format 3's, and observations and labels are shared with today's state until
//! they change too — then they must be copied first (the format-2 fixture test fails
//! otherwise).
//!
//! Migration: a v1 acknowledgement covered its alert for good and kept neither who gave it nor
//! the severity it was given at. It becomes an acknowledgement covering the alert up to its
//! severity at the migration, by an unknown acknowledger (empty `by`): escalation stays stopped
//! while the alert stays at or below that severity, as under v1, and re-arms if it rises, as
//! v2 says.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
#[cfg(test)]
use serde::Serialize;

use super::format3::{self, Loan};
use crate::serde_forms::{instant, opt_instant};
use crate::state::{self, Labels, Observation};
use crate::types::{Severity, Signal};

#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(super) struct Borrower {
    id: Arc<str>,
    created: u64,
    seq: u32,
    seen: Vec<u64>,
    loans: Vec<Loan>,
    incomes: Vec<Observation>,
    alerts: Vec<AlertSlot>,
    #[serde(with = "opt_instant")]
    last_event_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct AlertSlot {
    loan_id: Option<Arc<str>>,
    signal: Signal,
    opened: u32,
    open: Option<OpenAlert>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct OpenAlert {
    severity: Severity,
    #[serde(with = "instant")]
    opened_at: DateTime<Utc>,
    messages: u32,
    acked: bool,
    #[serde(with = "opt_instant")]
    high_since: Option<DateTime<Utc>>,
    levels_sent: u8,
    labels: Labels,
}

impl From<Borrower> for format3::Borrower {
    fn from(old: Borrower) -> Self {
        format3::Borrower {
            id: old.id,
            created: old.created,
            seq: old.seq,
            seen: old.seen,
            loans: old.loans,
            incomes: old.incomes,
            last_event_at: old.last_event_at,
            alerts: old
                .alerts
                .into_iter()
                .map(format3::AlertSlot::from)
                .collect(),
        }
    }
}

impl From<AlertSlot> for format3::AlertSlot {
    fn from(slot: AlertSlot) -> Self {
        format3::AlertSlot {
            loan_id: slot.loan_id,
            signal: slot.signal,
            opened: slot.opened,
            open: slot.open.map(|a| format3::OpenAlert {
                severity: a.severity,
                opened_at: a.opened_at,
                messages: a.messages,
                ack: a.acked.then(|| state::Ack {
                    by: Arc::from(""),
                    note: None,
                    severity: a.severity,
                }),
                previously_acked_by: None,
                uncovered_at: None,
                high_since: a.high_since,
                levels_sent: a.levels_sent,
                labels: a.labels,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::decode;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A format-2 borrower with one acknowledged and one unacknowledged open alert, as the
    /// format-2 build wrote it.
    fn written_by_format_2() -> Vec<u8> {
        let open = |severity, acked| OpenAlert {
            severity,
            opened_at: at("2026-03-11T00:00:00+08:00"),
            messages: 3,
            acked,
            high_since: Some(at("2026-04-09T00:00:00+08:00")),
            levels_sent: 1,
            labels: Labels::default(),
        };
        let b = Borrower {
            id: Arc::from("B1"),
            created: 7,
            seq: 12,
            seen: vec![1, 2, 3],
            loans: Vec::new(),
            incomes: Vec::new(),
            alerts: vec![
                AlertSlot {
                    loan_id: Some(Arc::from("L1")),
                    signal: Signal::Dpd,
                    opened: 2,
                    open: Some(open(Severity::High, true)),
                },
                AlertSlot {
                    loan_id: None,
                    signal: Signal::EarlyWarning,
                    opened: 1,
                    open: Some(open(Severity::Critical, false)),
                },
            ],
            last_event_at: Some(at("2026-04-10T09:00:00+08:00")),
        };
        let mut bytes = vec![2];
        bytes.extend(postcard::to_stdvec(&b).unwrap());
        bytes
    }

    #[test]
    fn a_format_2_snapshot_migrates_on_read() {
        let b = decode(&written_by_format_2()).unwrap();
        assert_eq!((&*b.id, b.created, b.seq, b.seen.len()), ("B1", 7, 12, 3));
        assert_eq!(b.last_event_at, Some(at("2026-04-10T09:00:00+08:00")));
        let acked = b.alerts[0].open.as_ref().unwrap();
        // The v1 ack covers the alert up to its severity now, acknowledger unknown.
        assert_eq!(
            acked.ack,
            Some(state::Ack {
                by: Arc::from(""),
                note: None,
                severity: Severity::High,
            })
        );
        assert_eq!((acked.messages, acked.levels_sent), (3, 1));
        assert_eq!(acked.high_since, Some(at("2026-04-09T00:00:00+08:00")));
        assert_eq!(acked.previously_acked_by, None);
        assert_eq!(acked.uncovered_at, None);
        let open = b.alerts[1].open.as_ref().unwrap();
        assert_eq!(open.ack, None);
        assert_eq!(b.alerts[1].opened, 1);
        // Written again, it is today's format.
        assert_eq!(
            crate::snapshot::encode(&b)[0],
            crate::snapshot::FORMAT_VERSION
        );
    }
}
