//! Snapshot format 3 (acknowledgements of contract v2; before deferrals, restructures and
//! suppressions), frozen: the layout as it was written, and its migration to today's. Only what
//! changed since is copied here; the rest (observations, labels, payments, acknowledgements) is
//! shared with today's state until it changes too — then it must be copied here first (the
//! format-3 fixture test fails otherwise).
//!
//! Migration: nothing to decide. A format-3 loan was never deferred nor restructured, and a
//! format-3 borrower had no suppression, so none of its alerts is suppressed.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::event::Currency;
use crate::schedule;
use crate::serde_forms::{date, dec, instant, opt_instant};
use crate::state::{self, Ack, Failure, Labels, Observation, Payment, Stamp};
use crate::types::{Severity, Signal};

#[derive(Serialize, Deserialize)]
pub(super) struct Borrower {
    pub(super) id: Arc<str>,
    pub(super) created: u64,
    pub(super) seq: u32,
    pub(super) seen: Vec<u64>,
    pub(super) loans: Vec<Loan>,
    pub(super) incomes: Vec<Observation>,
    pub(super) alerts: Vec<AlertSlot>,
    #[serde(with = "opt_instant")]
    pub(super) last_event_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Terms {
    #[serde(with = "dec")]
    principal: Decimal,
    #[serde(with = "dec")]
    annual_rate: Decimal,
    term_months: u32,
    #[serde(with = "date")]
    first_due_date: NaiveDate,
    #[serde(with = "dec")]
    installment: Decimal,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Loan {
    id: Arc<str>,
    currency: Currency,
    terms: Terms,
    #[serde(with = "date")]
    opened_date: NaiveDate,
    labels: Labels,
    #[serde(with = "dec")]
    paid: Decimal,
    payments: Vec<Payment>,
    reversed: Vec<u64>,
    last_received: Option<Stamp>,
    failures: Vec<Failure>,
    valuations: Vec<Observation>,
    covered: u32,
    #[serde(with = "dec")]
    outstanding: Decimal,
}

#[derive(Serialize, Deserialize)]
pub(super) struct AlertSlot {
    pub(super) loan_id: Option<Arc<str>>,
    pub(super) signal: Signal,
    pub(super) opened: u32,
    pub(super) open: Option<OpenAlert>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct OpenAlert {
    pub(super) severity: Severity,
    #[serde(with = "instant")]
    pub(super) opened_at: DateTime<Utc>,
    pub(super) messages: u32,
    pub(super) ack: Option<Ack>,
    pub(super) previously_acked_by: Option<Arc<str>>,
    #[serde(with = "opt_instant")]
    pub(super) uncovered_at: Option<DateTime<Utc>>,
    #[serde(with = "opt_instant")]
    pub(super) high_since: Option<DateTime<Utc>>,
    pub(super) levels_sent: u8,
    pub(super) labels: Labels,
}

impl From<Loan> for state::Loan {
    fn from(old: Loan) -> Self {
        let t = old.terms;
        state::Loan {
            id: old.id,
            currency: old.currency,
            terms: schedule::Terms::new(
                t.principal,
                t.annual_rate,
                t.term_months,
                t.first_due_date,
                t.installment,
            ),
            opened_date: old.opened_date,
            labels: old.labels,
            paid: old.paid,
            payments: old.payments,
            reversed: old.reversed,
            last_received: old.last_received,
            failures: old.failures,
            valuations: old.valuations,
            covered: old.covered,
            outstanding: old.outstanding,
            restructured: None,
            counted: None,
        }
    }
}

impl From<Borrower> for state::Borrower {
    fn from(old: Borrower) -> Self {
        let mut b = state::Borrower::new(old.id, old.created);
        b.seq = old.seq;
        b.seen = old.seen.into_iter().map(state::Seen::id_only).collect();
        b.loans = old.loans.into_iter().map(state::Loan::from).collect();
        b.incomes = old.incomes;
        b.last_event_at = old.last_event_at;
        b.alerts = old
            .alerts
            .into_iter()
            .map(|slot| state::AlertSlot {
                loan_id: slot.loan_id,
                signal: slot.signal,
                opened: slot.opened,
                open: slot.open.map(|a| {
                    Box::new(state::OpenAlert {
                        severity: a.severity,
                        opened_at: a.opened_at,
                        messages: a.messages,
                        ack: a.ack,
                        previously_acked_by: a.previously_acked_by,
                        uncovered_at: a.uncovered_at,
                        suppressed: None,
                        unsuppressed_at: None,
                        high_since: a.high_since,
                        levels_sent: a.levels_sent,
                        labels: a.labels,
                    })
                }),
                counted: None,
            })
            .collect();
        b
    }
}
