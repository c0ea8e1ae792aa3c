//! Alert lifecycle (firing → updated → resolved) and escalation.
//!
//! `reconcile` compares what each signal should be ([`Desired`]) with the open alerts and
//! publishes only the differences; `escalate` sends the levels that have come due.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::output::{
    AckFields, AlertMessage, AlertMetrics, AlertStatus, EscalationMessage, MetricValue, Output,
};
use super::portfolio::Note;
use super::render;
use super::signals::{Desired, Facts, Figures};
use super::state::{Ack, AlertSlot, Borrower, Labels, OpenAlert};
use super::time::format_instant;
use super::types::{Severity, Signal};
use super::Settings;

const LEVEL1: u8 = 1;
const LEVEL2: u8 = 2;

fn alert_id(borrower: &str, loan: Option<&str>, signal: Signal, n: u32) -> String {
    format!("{borrower}/{}/{}/{n}", loan.unwrap_or("-"), signal.as_str())
}

fn opt(s: &Option<std::sync::Arc<str>>) -> Option<String> {
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

/// Applies every desired state to the borrower's alerts, publishing the changes.
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
        let current = b
            .slot_index(loan.map(|l| &*l.id), d.signal)
            .and_then(|i| b.alerts[i].open.as_ref())
            .map(|a| a.severity);
        // The common case: nothing changed. Skip before building anything.
        if current == d.severity {
            continue;
        }
        let loan_id = loan.map(|l| l.id.clone());
        let owner = loan.or_else(|| b.loans.first());
        let currency = owner.map_or("", |l| l.currency.as_str()).to_owned();
        let labels = owner.map(|l| l.labels.clone()).unwrap_or_default();
        let facts = figures.facts(b, d);
        transition(
            b,
            loan_id.as_deref(),
            d.signal,
            d.severity,
            &facts,
            &currency,
            labels,
            now,
            s,
            out,
        );
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
        transition(
            b,
            Some(loan_id),
            signal,
            None,
            facts,
            currency,
            Labels::default(),
            now,
            s,
            out,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn transition(
    b: &mut Borrower,
    loan_id: Option<&str>,
    signal: Signal,
    severity: Option<Severity>,
    facts: &Facts,
    currency: &str,
    labels: Labels,
    moment: Moment<'_>,
    s: &Settings,
    out: &mut Vec<Output>,
) {
    let now = moment.at;
    let idx = match (b.slot_index(loan_id, signal), severity) {
        (Some(i), _) => i,
        (None, Some(_)) => {
            b.alerts.push(AlertSlot {
                loan_id: loan_id.map(Into::into),
                signal,
                opened: 0,
                open: None,
                counted: None,
            });
            b.alerts.len() - 1
        }
        (None, None) => return,
    };
    let min = s.escalation.min_severity;
    let slot = &mut b.alerts[idx];
    let status = match (&mut slot.open, severity) {
        (None, Some(sev)) => {
            slot.opened += 1;
            slot.open = Some(OpenAlert {
                severity: sev,
                opened_at: now,
                messages: 0,
                ack: None,
                previously_acked_by: None,
                uncovered_at: None,
                high_since: (sev >= min).then_some(now),
                levels_sent: 0,
                labels,
            });
            AlertStatus::Firing
        }
        (Some(open), Some(sev)) if open.severity != sev => {
            open.severity = sev;
            // An acknowledgement covers the alert only up to the severity it was given at.
            if let Some(ack) = open.ack.take_if(|a| sev > a.severity) {
                open.previously_acked_by = Some(ack.by);
                open.uncovered_at = Some(now);
            }
            if sev < min {
                open.high_since = None;
            } else if open.high_since.is_none() {
                open.high_since = Some(now);
            }
            AlertStatus::Updated
        }
        (Some(_), None) => AlertStatus::Resolved,
        _ => return,
    };
    let Some(open) = slot.open.as_mut() else {
        return;
    };
    open.messages += 1;
    let id = alert_id(&b.id, loan_id, signal, slot.opened);
    let (reason, metrics) =
        render::describe(signal, status, open.severity, facts, currency, &s.rules);
    out.push(Output::Alert(AlertMessage {
        kind: "alert",
        message_id: format!("{id}#{}", open.messages),
        alert_id: id,
        status,
        signal,
        severity: open.severity,
        borrower_id: b.id.to_string(),
        loan_id: loan_id.map(str::to_owned),
        manager_id: opt(&open.labels.manager_id),
        branch_id: opt(&open.labels.branch_id),
        dealer_id: opt(&open.labels.dealer_id),
        opened_at: format_instant(open.opened_at, s.tz),
        event_time: format_instant(now, s.tz),
        reason,
        metrics,
        recommended_action: render::recommended_action(signal, status, open.severity),
        monitor_version: crate::VERSION,
        rules_version: Arc::clone(&s.rules_version),
        cause_event_id: moment.cause.map(str::to_owned),
        ack: None,
    }));
    if status == AlertStatus::Resolved {
        slot.open = None;
    }
}

/// The instant escalation hours count from: the latest of the instant the alert last reached
/// the escalation severity and the instant an acknowledgement stopped covering it; `None`
/// while it is below that severity.
fn escalation_start(a: &OpenAlert) -> Option<DateTime<Utc>> {
    let high = a.high_since?;
    Some(a.uncovered_at.map_or(high, |u| u.max(high)))
}

/// An acknowledger's name, unless unknown (empty: restored from snapshot format 2).
fn known(by: &Option<Arc<str>>) -> Option<String> {
    by.as_deref().filter(|b| !b.is_empty()).map(str::to_owned)
}

/// Applies an acknowledgement to the open alert of slot `idx`: unless an earlier one still
/// covers it (a repeat, which changes nothing), it now covers the alert up to its current
/// severity and an `acknowledged` message is published. Returns the time-to-ack note for the
/// alert's first acknowledgement.
pub fn acknowledge(
    b: &mut Borrower,
    idx: usize,
    by: &str,
    note: Option<&str>,
    moment: Moment<'_>,
    s: &Settings,
    out: &mut Vec<Output>,
) -> Option<Note> {
    let slot = &mut b.alerts[idx];
    let open = slot.open.as_mut()?;
    if open.ack.is_some() {
        return None;
    }
    let first = open.previously_acked_by.is_none();
    open.ack = Some(Ack {
        by: Arc::from(by),
        note: note.map(Arc::from),
        severity: open.severity,
    });
    open.messages += 1;
    let id = alert_id(&b.id, slot.loan_id.as_deref(), slot.signal, slot.opened);
    let mut metrics = AlertMetrics::default();
    metrics.put(
        "acknowledged_severity",
        MetricValue::Text(open.severity.as_str().to_owned()),
    );
    let reason = match note {
        Some(n) => format!(
            "Acknowledged by {by} at {}: covers the alert while it stays at or below {}. Note: {n}",
            open.severity, open.severity
        ),
        None => format!(
            "Acknowledged by {by} at {}: covers the alert while it stays at or below {}.",
            open.severity, open.severity
        ),
    };
    out.push(Output::Alert(AlertMessage {
        kind: "alert",
        message_id: format!("{id}#{}", open.messages),
        alert_id: id,
        status: AlertStatus::Acknowledged,
        signal: slot.signal,
        severity: open.severity,
        borrower_id: b.id.to_string(),
        loan_id: slot.loan_id.as_deref().map(str::to_owned),
        manager_id: opt(&open.labels.manager_id),
        branch_id: opt(&open.labels.branch_id),
        dealer_id: opt(&open.labels.dealer_id),
        opened_at: format_instant(open.opened_at, s.tz),
        event_time: format_instant(moment.at, s.tz),
        reason,
        metrics,
        recommended_action: render::recommended_action(
            slot.signal,
            AlertStatus::Acknowledged,
            open.severity,
        ),
        monitor_version: crate::VERSION,
        rules_version: Arc::clone(&s.rules_version),
        cause_event_id: moment.cause.map(str::to_owned),
        ack: Some(AckFields {
            acked_by: by.to_owned(),
            note: note.map(str::to_owned),
        }),
    }));
    first.then(|| Note::acked(slot.signal, open.severity, open.opened_at, moment.at))
}

/// When the alert's next escalation level comes due, if one can.
pub fn next_escalation(a: &OpenAlert, s: &Settings) -> Option<DateTime<Utc>> {
    if !s.escalation.enabled || a.ack.is_some() {
        return None;
    }
    let since = escalation_start(a)?;
    if a.levels_sent & (LEVEL1 | LEVEL2) == 0 {
        Some(since + s.level1_after)
    } else if a.levels_sent & LEVEL2 == 0 {
        Some(since + s.level2_after)
    } else {
        None
    }
}

/// Sends every escalation level due at `now`, in slot order.
pub fn escalate(b: &mut Borrower, moment: Moment<'_>, s: &Settings, out: &mut Vec<Output>) {
    let now = moment.at;
    if !s.escalation.enabled {
        return;
    }
    let esc = &s.escalation;
    for slot in &mut b.alerts {
        let Some(open) = slot.open.as_mut() else {
            continue;
        };
        if open.ack.is_some() {
            continue;
        }
        let mut due: Vec<(u8, DateTime<Utc>)> = Vec::new();
        if open.severity >= esc.immediate_level2_severity {
            if open.levels_sent & LEVEL2 == 0 {
                due.push((2, now));
            }
        } else if let Some(since) = escalation_start(open) {
            if open.levels_sent & (LEVEL1 | LEVEL2) == 0 && since + s.level1_after <= now {
                due.push((1, since + s.level1_after));
            }
            if open.levels_sent & LEVEL2 == 0 && since + s.level2_after <= now {
                due.push((2, since + s.level2_after));
            }
        }
        for (level, at) in due {
            open.levels_sent |= if level == 1 { LEVEL1 } else { LEVEL2 };
            let id = alert_id(&b.id, slot.loan_id.as_deref(), slot.signal, slot.opened);
            let notify = if level == 1 {
                &esc.level1_notify
            } else {
                &esc.level2_notify
            };
            let hours = Decimal::from((at - open.opened_at).num_seconds()) / Decimal::from(3600);
            let hours = super::money::round_half_away(hours, 2);
            let why = if level == 2 && open.severity >= esc.immediate_level2_severity {
                format!("reached {} and is escalated at once", open.severity)
            } else {
                let after = if level == 1 {
                    esc.level1_after_hours
                } else {
                    esc.level2_after_hours
                };
                format!(
                    "has stayed at {} or above for {after} h without acknowledgement",
                    esc.min_severity
                )
            };
            out.push(Output::Escalation(EscalationMessage {
                kind: "escalation",
                message_id: format!("{id}/L{level}"),
                escalation_id: format!("{id}/L{level}"),
                alert_id: id.clone(),
                level,
                notify: notify.clone(),
                borrower_id: b.id.to_string(),
                loan_id: slot.loan_id.as_deref().map(str::to_owned),
                manager_id: opt(&open.labels.manager_id),
                branch_id: opt(&open.labels.branch_id),
                signal: slot.signal,
                severity: open.severity,
                alert_opened_at: format_instant(open.opened_at, s.tz),
                event_time: format_instant(at, s.tz),
                unacknowledged_hours: MetricValue::Num(hours),
                reason: format!(
                    "{} alert {id} ({}) {why}: level {level}, notify {notify}.",
                    slot.signal, open.severity
                ),
                rules_version: Arc::clone(&s.rules_version),
                // A deadline is a timer's doing; a level sent at once is the input's.
                cause_event_id: moment.cause.filter(|_| at == now).map(str::to_owned),
                previously_acked_by: known(&open.previously_acked_by),
            }));
        }
    }
}
