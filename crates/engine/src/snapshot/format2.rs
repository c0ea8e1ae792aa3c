//! Snapshot format 2 (contract v1), frozen: the layout as it was written, and its migration to
//! today's. Only what changed since is copied here; the rest (loans, observations, labels) is
//! shared with today's state until it changes too — then it must be copied here first (the
//! format-2 fixture test fails otherwise).
//!
//! Migration: a v1 acknowledgement covered its alert for good and kept neither who gave it nor
//! the severity it was given at. It becomes an acknowledgement covering the alert up to its
//! severity at the migration, by an unknown acknowledger (empty `by`): escalation stays stopped
//! while the alert stays at or below that severity, as under v1, and re-arms if it rises, as
//! v2 says.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::serde_forms::{instant, opt_instant};
use crate::state::{self, Labels, Loan, Observation};
use crate::types::{Severity, Signal};

#[derive(Deserialize)]
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
struct AlertSlot {
    loan_id: Option<Arc<str>>,
    signal: Signal,
    opened: u32,
    open: Option<OpenAlert>,
}

#[derive(Deserialize)]
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

impl From<Borrower> for state::Borrower {
    fn from(old: Borrower) -> Self {
        let mut b = state::Borrower::new(old.id, old.created);
        b.seq = old.seq;
        b.seen = old.seen;
        b.loans = old.loans;
        b.incomes = old.incomes;
        b.last_event_at = old.last_event_at;
        b.alerts = old
            .alerts
            .into_iter()
            .map(|slot| state::AlertSlot {
                loan_id: slot.loan_id,
                signal: slot.signal,
                opened: slot.opened,
                open: slot.open.map(|a| state::OpenAlert {
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
                counted: None,
            })
            .collect();
        b
    }
}
