//! `acknowledged`: an `alert_ack` applied to an open alert (contract v2).

use std::sync::Arc;

use super::{message, Context, Moment, SlotKey};
use crate::output::{AckFields, AlertMetrics, AlertStatus, MetricValue, Output};
use crate::portfolio::Note;
use crate::state::{Ack, Borrower};
use crate::Settings;

/// Applies an acknowledgement to the open alert of slot `idx`: unless an earlier one still
/// covers it (a repeat, which changes nothing), it now covers the alert up to its current
/// severity and an `acknowledged` message is published (suppressed or not). Returns the
/// time-to-ack note for the alert's first acknowledgement.
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
    let key = SlotKey {
        loan_id: slot.loan_id.as_deref(),
        signal: slot.signal,
    };
    let mut msg = message(
        &b.id,
        key,
        slot.opened,
        open,
        AlertStatus::Acknowledged,
        (reason, metrics),
        Context { moment, s },
    );
    msg.ack = Some(AckFields {
        acked_by: by.to_owned(),
        note: note.map(str::to_owned),
    });
    out.push(Output::Alert(msg));
    first.then(|| Note::acked(slot.signal, open.severity, open.opened_at, moment.at))
}
