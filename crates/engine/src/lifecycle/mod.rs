//! Alert lifecycle (firing → updated → resolved; v2: acknowledged, suppressed, reinstated) and
//! escalation.
//!
//! `reconcile` compares what each signal should be ([`Desired`]) and whether its slot is
//! suppressed with the open alerts, and publishes only the differences; `acknowledge`
//! (`ack.rs`) applies an `alert_ack`; `escalate` (`escalation.rs`) sends the levels that have
//! come due.

mod ack;
mod escalation;

pub use ack::acknowledge;
pub use escalation::{escalate, next_escalation};

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::output::{AlertMessage, AlertMetrics, AlertStatus, Output, SuppressionFields};
use super::render;
use super::signals::{Desired, Facts, Figures};
use super::state::{AlertSlot, Borrower, Labels, OpenAlert, Suppression};
use super::time::format_instant;
use super::types::{Severity, Signal};
use super::Settings;

fn alert_id(borrower: &str, loan: Option<&str>, signal: Signal, n: u32) -> String {
    format!("{borrower}/{}/{}/{n}", loan.unwrap_or("-"), signal.as_str())
}

fn opt(s: &Option<Arc<str>>) -> Option<String> {
    s.as_deref().map(str::to_owned)
}

/// When a change happens, and the input that caused it (`None` when a timer did).
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    /// The instant: the event's effective instant, or a timer's deadline.
    pub at: DateTime<Utc>,
    /// The `event_id` of the input being applied.
    pub cause: Option<&'a str>,
}

/// A lifecycle message of an open alert, with the fields every status shares; `ack` and
/// `suppression` are left for the caller.
#[allow(clippy::too_many_arguments)]
fn message(
    borrower_id: &str,
    slot: (Option<&str>, Signal, u32),
    open: &OpenAlert,
    status: AlertStatus,
    reason: String,
    metrics: AlertMetrics,
    moment: Moment<'_>,
    s: &Settings,
) -> AlertMessage {
    let (loan_id, signal, n) = slot;
    let id = alert_id(borrower_id, loan_id, signal, n);
    AlertMessage {
        kind: "alert",
        message_id: format!("{id}#{}", open.messages),
        alert_id: id,
        status,
        signal,
        severity: open.severity,
        borrower_id: borrower_id.to_owned(),
        loan_id: loan_id.map(str::to_owned),
        manager_id: opt(&open.labels.manager_id),
        branch_id: opt(&open.labels.branch_id),
        dealer_id: opt(&open.labels.dealer_id),
        opened_at: format_instant(open.opened_at, s.tz),
        event_time: format_instant(moment.at, s.tz),
        reason,
        metrics,
        recommended_action: render::recommended_action(signal, status, open.severity),
        monitor_version: crate::VERSION,
        rules_version: Arc::clone(&s.rules_version),
        cause_event_id: moment.cause.map(str::to_owned),
        ack: None,
        suppression: None,
    }
}

/// Applies every desired state to the borrower's alerts, publishing the changes. A slot's
/// suppression is read from the borrower's suppressions in force (lapsed ones must already be
/// gone).
pub fn reconcile(
    b: &mut Borrower,
    desired: &[Desired],
    figures: &Figures,
    now: Moment<'_>,
    s: &Settings,
    out: &mut Vec<Output>,
) {
    for d in desired {
        let loan = d.loan.and_then(|i| b.loans.get(i));
        let loan_id = loan.map(|l| &*l.id);
        let open = b
            .slot_index(loan_id, d.signal)
            .and_then(|i| b.alerts[i].open.as_ref());
        let suppression = b.suppression_of(loan_id, d.signal);
        // The common case: nothing changed. Skip before building anything.
        let same_pause = match (open.and_then(|a| a.suppressed.as_deref()), suppression) {
            (None, None) => true,
            (Some(paused_by), Some(now_by)) => paused_by == &*now_by.id,
            _ => open.is_none(),
        };
        if open.map(|a| a.severity) == d.severity && same_pause {
            continue;
        }
        let suppression = suppression.cloned();
        let loan_id = loan.map(|l| l.id.clone());
        let owner = loan.or_else(|| b.loans.first());
        let currency = owner.map_or("", |l| l.currency.as_str()).to_owned();
        let labels = owner.map(|l| l.labels.clone()).unwrap_or_default();
        let facts = figures.facts(b, d);
        let change = Change {
            severity: d.severity,
            suppression: suppression.as_ref(),
            facts: &facts,
            currency: &currency,
        };
        transition(b, loan_id.as_deref(), d.signal, change, labels, now, s, out);
    }
}

/// Resolves every open alert of a loan that is closing, in signal order.
pub fn close_loan(
    b: &mut Borrower,
    loan_id: &str,
    facts: &Facts,
    currency: &str,
    now: Moment<'_>,
    s: &Settings,
    out: &mut Vec<Output>,
) {
    for signal in Signal::ALL {
        let change = Change {
            severity: None,
            suppression: None,
            facts,
            currency,
        };
        transition(
            b,
            Some(loan_id),
            signal,
            change,
            Labels::default(),
            now,
            s,
            out,
        );
    }
}

/// What one slot should become.
struct Change<'a> {
    /// The severity its condition has now; `None`: it does not hold.
    severity: Option<Severity>,
    /// The suppression in force that covers it, if any.
    suppression: Option<&'a Suppression>,
    /// The figures behind it.
    facts: &'a Facts,
    /// The loan's (or the borrower's first loan's) currency.
    currency: &'a str,
}

/// Moves one slot to what it should be and publishes the message that says so, if any:
/// - no open alert: a condition that holds fires, unless the slot is suppressed (then no alert
///   opens; if it still holds when the suppression lapses, it fires then);
/// - an open alert whose condition cleared resolves, suppressed or not;
/// - otherwise the alert takes the new severity (which may uncover an acknowledgement and
///   moves the escalation count), and publishes `suppressed` if its slot just became
///   suppressed, `reinstated` if it just stopped being, `updated` if only the severity
///   changed outside a suppression, and nothing while it stays suppressed.
#[allow(clippy::too_many_arguments)]
fn transition(
    b: &mut Borrower,
    loan_id: Option<&str>,
    signal: Signal,
    change: Change<'_>,
    labels: Labels,
    moment: Moment<'_>,
    s: &Settings,
    out: &mut Vec<Output>,
) {
    let now = moment.at;
    let opens = change.severity.is_some() && change.suppression.is_none();
    let idx = match b.slot_index(loan_id, signal) {
        Some(i) => i,
        None if opens => {
            b.alerts.push(AlertSlot {
                loan_id: loan_id.map(Into::into),
                signal,
                opened: 0,
                open: None,
                counted: None,
            });
            b.alerts.len() - 1
        }
        None => return,
    };
    let min = s.escalation.min_severity;
    let slot = &mut b.alerts[idx];
    let status = match (&mut slot.open, change.severity) {
        (None, Some(sev)) if opens => {
            slot.opened += 1;
            slot.open = Some(OpenAlert {
                severity: sev,
                opened_at: now,
                messages: 0,
                ack: None,
                previously_acked_by: None,
                uncovered_at: None,
                suppressed: None,
                unsuppressed_at: None,
                high_since: (sev >= min).then_some(now),
                levels_sent: 0,
                labels,
            });
            AlertStatus::Firing
        }
        (None, _) => return,
        (Some(_), None) => AlertStatus::Resolved,
        (Some(open), Some(sev)) => {
            let rose = open.severity != sev;
            if rose {
                take_severity(open, sev, min, now);
            }
            match (open.suppressed.is_some(), change.suppression) {
                (false, None) if rose => AlertStatus::Updated,
                (false, None) => return,
                (true, Some(by)) => {
                    // Still paused (perhaps now by another suppression): silent.
                    open.suppressed = Some(Arc::clone(&by.id));
                    return;
                }
                (false, Some(by)) => {
                    open.suppressed = Some(Arc::clone(&by.id));
                    AlertStatus::Suppressed
                }
                (true, None) => {
                    open.suppressed = None;
                    open.unsuppressed_at = Some(now);
                    AlertStatus::Reinstated
                }
            }
        }
    };
    let Some(open) = slot.open.as_mut() else {
        return;
    };
    open.messages += 1;
    let (sentence, metrics) = render::describe(
        signal,
        status,
        open.severity,
        change.facts,
        change.currency,
        &s.rules,
    );
    let reason = match (status, change.suppression) {
        (AlertStatus::Suppressed, Some(by)) => format!(
            "Suppressed by {} ({}, granted by {}) through {}: no contact and no escalation until it lapses; severity changes are not published meanwhile. {sentence}",
            by.id,
            by.reason.as_str(),
            by.granted_by,
            by.until
        ),
        (AlertStatus::Reinstated, _) => {
            format!("Reinstated: the suppression ended and the condition still holds. {sentence}")
        }
        _ => sentence,
    };
    let mut msg = message(
        &b.id,
        (loan_id, signal, slot.opened),
        open,
        status,
        reason,
        metrics,
        moment,
        s,
    );
    if let (AlertStatus::Suppressed, Some(by)) = (status, change.suppression) {
        msg.suppression = Some(SuppressionFields {
            suppression_id: by.id.to_string(),
            suppressed_until: by.until.to_string(),
            suppression_reason: by.reason,
        });
    }
    out.push(Output::Alert(msg));
    if status == AlertStatus::Resolved {
        slot.open = None;
    }
}

/// An open alert takes a new severity: an acknowledgement covers it only up to the severity it
/// was given at, and the escalation count restarts when it reaches the escalation severity and
/// stops when it drops below.
fn take_severity(open: &mut OpenAlert, sev: Severity, min: Severity, now: DateTime<Utc>) {
    open.severity = sev;
    if let Some(ack) = open.ack.take_if(|a| sev > a.severity) {
        open.previously_acked_by = Some(ack.by);
        open.uncovered_at = Some(now);
    }
    if sev < min {
        open.high_since = None;
    } else if open.high_since.is_none() {
        open.high_since = Some(now);
    }
}
