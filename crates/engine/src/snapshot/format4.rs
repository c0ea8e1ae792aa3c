//! Snapshot format 4 (contract v2: deferrals, restructures, suppressions; before conflicting
//! duplicates), frozen: the layout as it was written, and its migration to today's. Only the
//! borrower's own record changed since (its event ids gained a payload hash and a time); the rest
//! is shared with today's state until it changes too — then it must be copied here first (the
//! format-4 fixture test fails otherwise).
//!
//! Migration: a format-4 borrower remembered only the hashes of its event ids. They stay
//! remembered, without payloads: a redelivery of one of those events is still skipped as a
//! duplicate, but one with a different payload cannot be told from it and is skipped too
//! (docs/contract.md says so). Events applied after the upgrade are remembered whole.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::serde_forms::opt_instant;
use crate::state::{self, AlertSlot, Loan, Observation, Seen, Suppression};

#[derive(Deserialize)]
pub(super) struct Borrower {
    id: Arc<str>,
    created: u64,
    seq: u32,
    seen: Vec<u64>,
    loans: Vec<Loan>,
    incomes: Vec<Observation>,
    alerts: Vec<AlertSlot>,
    suppressions: Vec<Suppression>,
    #[serde(with = "opt_instant")]
    last_event_at: Option<DateTime<Utc>>,
}

impl From<Borrower> for state::Borrower {
    fn from(old: Borrower) -> Self {
        let mut b = state::Borrower::new(old.id, old.created);
        b.seq = old.seq;
        b.seen = old.seen.into_iter().map(Seen::id_only).collect();
        b.loans = old.loans;
        b.incomes = old.incomes;
        b.alerts = old.alerts;
        b.suppressions = old.suppressions;
        b.last_event_at = old.last_event_at;
        b
    }
}
