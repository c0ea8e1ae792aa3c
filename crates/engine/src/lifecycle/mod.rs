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

/// Which slot a change is about: a loan's (`None`: the borrower's) alert of one signal.
#[derive(Debug, Clone, Copy)]
struct SlotKey<'a> {
    /// The loan; `None` for borrower scope.
    loan_id: Option<&'a str>,
    /// The signal.
    signal: Signal,
}

/// When and under which settings a change is made: what all its messages share.
#[derive(Debug, Clone, Copy)]
struct Context<'a> {
    /// The instant and the input that caused it.
    moment: Moment<'a>,
    /// The settings in force.
    s: &'a Settings,
}

/// A lifecycle message of an open alert (the `n`-th of its slot), with the fields every status
/// shares; `ack` and `suppression` are left for the caller.
fn message(
    borrower_id: &str,
    key: SlotKey<'_>,
    n: u32,
    open: &OpenAlert,
    status: AlertStatus,
    (reason, metrics): (String, AlertMetrics),
    cx: Context<'_>,
) -> AlertMessage {
    let SlotKey { loan_id, signal } = key;
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
        opened_at: format_instant(open.opened_at, cx.s.tz),
        event_time: format_instant(cx.moment.at, cx.s.tz),
        reason,
        metrics,
        recommended_action: render::recommended_action(signal, status, open.severity),
        monitor_version: crate::VERSION,
        rules_version: Arc::clone(&cx.s.rules_version),
        cause_event_id: cx.moment.cause.map(str::to_owned),
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
    let cx = Context { moment: now, s };
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
        // Owned: the borrower is changed below.
        let suppression = suppression.cloned();
        let loan_id = loan.map(|l| l.id.clone());
        let owner = loan.or_else(|| b.loans.first());
        let currency = owner.map_or("", |l| l.currency.as_str()).to_owned();
        let labels = owner.map(|l| l.labels.clone()).unwrap_or_default();
        let facts = figures.facts(b, d);
        let key = SlotKey {
            loan_id: loan_id.as_deref(),
            signal: d.signal,
        };
        let change = Change {
            severity: d.severity,
            suppression: suppression.as_ref(),
            facts: &facts,
            currency: &currency,
            labels,
        };
        transition(b, key, change, cx, out);
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
    let cx = Context { moment: now, s };
    for signal in Signal::ALL {
        let key = SlotKey {
            loan_id: Some(loan_id),
            signal,
        };
        let change = Change {
            severity: None,
            suppression: None,
            facts,
            currency,
            labels: Labels::default(),
        };
        transition(b, key, change, cx, out);
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
    /// The portfolio labels an alert that opens now carries.
    labels: Labels,
}

/// Moves one slot to what it should be and publishes the message that says so, if any (see
/// [`next_status`]). A resolved alert leaves its slot.
fn transition(
    b: &mut Borrower,
    key: SlotKey<'_>,
    mut change: Change<'_>,
    cx: Context<'_>,
    out: &mut Vec<Output>,
) {
    let opens = change.severity.is_some() && change.suppression.is_none();
    let Some(idx) = slot_for(b, key, opens) else {
        return;
    };
    let slot = &mut b.alerts[idx];
    let Some(status) = next_status(slot, &mut change, cx) else {
        return;
    };
    publish(&b.id, key, slot, status, &change, cx, out);
    if status == AlertStatus::Resolved {
        slot.open = None;
    }
}

/// The index of the key's slot; a new, empty one if it has none yet and an alert opens.
fn slot_for(b: &mut Borrower, key: SlotKey<'_>, opens: bool) -> Option<usize> {
    if let Some(i) = b.slot_index(key.loan_id, key.signal) {
        return Some(i);
    }
    if !opens {
        return None;
    }
    b.alerts.push(AlertSlot {
        loan_id: key.loan_id.map(Into::into),
        signal: key.signal,
        opened: 0,
        open: None,
        counted: None,
    });
    Some(b.alerts.len() - 1)
}

/// Changes the slot's alert as `change` says and returns the status to publish, if any:
/// - no open alert: a condition that holds fires, unless the slot is suppressed (then no alert
///   opens; if it still holds when the suppression lapses, it fires then);
/// - an open alert whose condition cleared resolves, suppressed or not;
/// - otherwise, see [`follow`].
fn next_status(
    slot: &mut AlertSlot,
    change: &mut Change<'_>,
    cx: Context<'_>,
) -> Option<AlertStatus> {
    let min = cx.s.escalation.min_severity;
    let now = cx.moment.at;
    match (slot.open.as_mut(), change.severity) {
        (Some(open), Some(sev)) => follow(open, sev, change.suppression, min, now),
        (Some(_), None) => Some(AlertStatus::Resolved),
        (None, Some(sev)) if change.suppression.is_none() => {
            let labels = std::mem::take(&mut change.labels);
            fire(slot, sev, labels, min, now);
            Some(AlertStatus::Firing)
        }
        (None, _) => None,
    }
}

/// Opens the slot's next alert at `sev`.
fn fire(slot: &mut AlertSlot, sev: Severity, labels: Labels, min: Severity, now: DateTime<Utc>) {
    slot.opened += 1;
    slot.open = Some(Box::new(OpenAlert {
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
    }));
}

/// An open alert whose condition still holds takes the new severity (which may uncover an
/// acknowledgement and moves the escalation count) and its slot's suppression, and says
/// `suppressed` if its slot just became suppressed, `reinstated` if it just stopped being,
/// `updated` if only the severity changed outside a suppression, and nothing while it stays
/// suppressed.
fn follow(
    open: &mut OpenAlert,
    sev: Severity,
    suppression: Option<&Suppression>,
    min: Severity,
    now: DateTime<Utc>,
) -> Option<AlertStatus> {
    let changed = open.severity != sev;
    if changed {
        take_severity(open, sev, min, now);
    }
    match (open.suppressed.is_some(), suppression) {
        (false, None) => changed.then_some(AlertStatus::Updated),
        (true, Some(by)) => {
            // Still paused (perhaps now by another suppression): silent.
            open.suppressed = Some(Arc::clone(&by.id));
            None
        }
        (false, Some(by)) => {
            open.suppressed = Some(Arc::clone(&by.id));
            Some(AlertStatus::Suppressed)
        }
        (true, None) => {
            open.suppressed = None;
            open.unsuppressed_at = Some(now);
            Some(AlertStatus::Reinstated)
        }
    }
}

/// Publishes the slot's `status` message, counting it on its open alert.
fn publish(
    borrower_id: &str,
    key: SlotKey<'_>,
    slot: &mut AlertSlot,
    status: AlertStatus,
    change: &Change<'_>,
    cx: Context<'_>,
    out: &mut Vec<Output>,
) {
    let Some(open) = slot.open.as_mut() else {
        return;
    };
    open.messages += 1;
    let suppressed_by = change
        .suppression
        .filter(|_| status == AlertStatus::Suppressed);
    let subject = render::Subject {
        signal: key.signal,
        status,
        severity: open.severity,
        suppressed_by,
        currency: change.currency,
    };
    let words = render::describe(subject, change.facts, &cx.s.rules);
    let mut msg = message(borrower_id, key, slot.opened, open, status, words, cx);
    msg.suppression = suppressed_by.map(|by| SuppressionFields {
        suppression_id: by.id.to_string(),
        suppressed_until: by.until.to_string(),
        suppression_reason: by.reason,
    });
    out.push(Output::Alert(msg));
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
