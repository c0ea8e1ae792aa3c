//! Escalation: an open alert, not suppressed and not covered by an acknowledgement, that stays
//! at the escalation severity goes to the team lead after `level1_after_hours` and to the risk
//! head after `level2_after_hours`, counted from the latest of the instant it reached that
//! severity, the instant an acknowledgement stopped covering it and the instant a suppression
//! of its slot lapsed; a critical one goes to level 2 at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{alert_id, opt, Moment};
use crate::output::{EscalationMessage, MetricValue, Output};
use crate::state::{Borrower, OpenAlert};
use crate::time::format_instant;
use crate::Settings;

const LEVEL1: u8 = 1;
const LEVEL2: u8 = 2;

/// The instant escalation hours count from: the latest of the instant the alert last reached
/// the escalation severity, the instant an acknowledgement stopped covering it and the instant
/// a suppression of its slot lapsed; `None` while it is below that severity.
fn escalation_start(a: &OpenAlert) -> Option<DateTime<Utc>> {
    let high = a.high_since?;
    Some(
        high.max(a.uncovered_at.unwrap_or(high))
            .max(a.unsuppressed_at.unwrap_or(high)),
    )
}

/// Whether nothing holds its escalation back: not covered by an acknowledgement, not
/// suppressed.
fn exposed(a: &OpenAlert) -> bool {
    a.ack.is_none() && a.suppressed.is_none()
}

/// An acknowledger's name, unless unknown (empty: restored from snapshot format 2).
fn known(by: &Option<Arc<str>>) -> Option<String> {
    by.as_deref().filter(|b| !b.is_empty()).map(str::to_owned)
}

/// When the alert's next escalation level comes due, if one can.
pub fn next_escalation(a: &OpenAlert, s: &Settings) -> Option<DateTime<Utc>> {
    if !s.escalation.enabled || !exposed(a) {
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
        if !exposed(open) {
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
            let hours = crate::money::round_half_away(hours, 2);
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
