//! What every replay counts and keeps, whatever its visitor: the [`Summary`] table and the
//! first rejected lines.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use postloan_engine::event::EventType;
use postloan_engine::output::{AlertStatus, Fingerprint, Output};
use postloan_engine::reject::ErrorKind;
use postloan_engine::types::{Severity, Signal};
use postloan_engine::Outcome;

/// Counts of one replay, for the summary table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Events applied, by type.
    pub applied: BTreeMap<EventType, u64>,
    /// Duplicates skipped, by type.
    pub duplicates: BTreeMap<EventType, u64>,
    /// Rejections by kind.
    pub rejected: BTreeMap<ErrorKind, u64>,
    /// Alert messages by (signal, severity, status).
    pub alerts: BTreeMap<(Signal, Severity, AlertStatus), u64>,
    /// Escalations by level.
    pub escalations: BTreeMap<u8, u64>,
    /// Messages written.
    pub messages: u64,
    /// The messages written, order-independent (what `demo` compares a live run with).
    pub fingerprint: Fingerprint,
    /// Borrowers tracked at the end.
    pub borrowers: u64,
    /// Open loans at the end.
    pub open_loans: u64,
    /// The clock at the end.
    pub clock: Option<DateTime<Utc>>,
    /// Wall time spent.
    pub elapsed: Duration,
}

impl Summary {
    /// Counts one published message.
    pub fn count_output(&mut self, o: &Output) {
        self.messages += 1;
        match o {
            Output::Alert(a) => {
                *self
                    .alerts
                    .entry((a.signal, a.severity, a.status))
                    .or_default() += 1
            }
            Output::Escalation(e) => *self.escalations.entry(e.level).or_default() += 1,
            Output::Rejected(_) => {}
        }
    }

    /// Counts one input's outcome.
    pub fn count_outcome(&mut self, o: Outcome) {
        match o {
            Outcome::Applied(t) => *self.applied.entry(t).or_default() += 1,
            Outcome::Duplicate(t) => *self.duplicates.entry(t).or_default() += 1,
            Outcome::Rejected(k) => *self.rejected.entry(k).or_default() += 1,
        }
    }

    /// Events (non-blank lines) processed.
    pub fn events(&self) -> u64 {
        self.lines - self.blank_lines
    }
}

/// A rejected input, as replay would publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// `file/line`.
    pub source: String,
    /// The contract's `error_kind`.
    pub error_kind: &'static str,
    /// The precise message.
    pub error: String,
}

/// Rejected inputs a replay keeps as [`BadLine`]s (the report and the backtest list them); the
/// rest are only counted (`replay` itself writes every one).
pub const MAX_BAD_LINES: usize = 1_000;
