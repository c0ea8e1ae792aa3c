//! Notices as Alertmanager API v2 alerts (`POST /api/v2/alerts`).
//!
//! Labels identify a notice and route it: `alertname="PostloanEscalation"`, `escalation_id`,
//! `alert_id`, `level`, `notify`, `signal`, `severity`, `borrower_id`, and `branch_id` /
//! `manager_id` when the escalation names them. Alertmanager deduplicates by the label set, so
//! sending a notice again (a resend, a redelivery after a restart) changes nothing it shows.
//! `startsAt` is the escalation's deadline; `endsAt` is `max(now, startsAt) + lease` while the
//! notice is open, and once it ended the end's instant (not after now, not before the start).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use super::book::{Notice, Told};

/// The `alertname` of every notice.
pub const ALERTNAME: &str = "PostloanEscalation";

/// Everything but unreserved URL characters is encoded in a filled-in link.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Serialize)]
struct PostableAlert<'a> {
    labels: BTreeMap<&'static str, &'a str>,
    annotations: BTreeMap<&'static str, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    generator_url: Option<String>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `template` with its placeholders filled in from `n` (unknown ones were refused at load;
/// a missing loan id fills in as empty).
pub fn link(template: &str, n: &Notice) -> Option<String> {
    if template.is_empty() {
        return None;
    }
    let e = &n.escalation;
    let mut out = template.to_owned();
    for (name, value) in [
        ("borrower_id", e.borrower_id.as_str()),
        ("loan_id", e.loan_id.as_deref().unwrap_or("")),
        ("alert_id", e.alert_id.as_str()),
        ("escalation_id", e.escalation_id.as_str()),
    ] {
        out = out.replace(
            &format!("{{{name}}}"),
            &utf8_percent_encode(value, ENCODE).to_string(),
        );
    }
    Some(out)
}

/// The request body for `notices`, each to be shown as `state`, at `now`.
pub fn body(
    notices: &[(&Notice, Told)],
    now: DateTime<Utc>,
    lease: Duration,
    link_template: &str,
) -> Vec<u8> {
    let level_text: Vec<String> = notices
        .iter()
        .map(|(n, _)| n.escalation.level.to_string())
        .collect();
    let alerts: Vec<PostableAlert<'_>> = notices
        .iter()
        .zip(&level_text)
        .map(|((n, state), level)| {
            let e = &n.escalation;
            let mut labels = BTreeMap::from([
                ("alertname", ALERTNAME),
                ("escalation_id", e.escalation_id.as_str()),
                ("alert_id", e.alert_id.as_str()),
                ("level", level.as_str()),
                ("notify", e.notify.as_str()),
                ("signal", e.signal.as_str()),
                ("severity", e.severity.as_str()),
                ("borrower_id", e.borrower_id.as_str()),
            ]);
            if let Some(b) = &e.branch_id {
                labels.insert("branch_id", b);
            }
            if let Some(m) = &e.manager_id {
                labels.insert("manager_id", m);
            }
            let link = link(link_template, n);
            let mut annotations = BTreeMap::from([
                (
                    "summary",
                    format!(
                        "Level {} escalation: {} alert {} ({}) unacknowledged",
                        e.level, e.signal, e.alert_id, e.severity
                    ),
                ),
                ("reason", e.reason.clone()),
                ("borrower_id", e.borrower_id.clone()),
                ("alert_opened_at", e.alert_opened_at.clone()),
                ("unacknowledged_hours", e.unacknowledged_hours.to_string()),
            ]);
            if let Some(l) = &e.loan_id {
                annotations.insert("loan_id", l.clone());
            }
            if let Some(by) = &e.previously_acked_by {
                annotations.insert("previously_acked_by", by.clone());
            }
            if let Some(l) = &link {
                annotations.insert("link", l.clone());
            }
            // Alertmanager refuses an end before the start, and shows an alert firing until
            // its end. A replayed book's instants can be ahead of the wall clock: a firing
            // notice then lasts a lease past its start, an ended one ends now (or at its start,
            // if that is later still).
            let ends_at = match (state, &n.ended) {
                (Told::Ended, Some(end)) => end.at.min(now).max(e.at),
                _ => now.max(e.at) + lease,
            };
            PostableAlert {
                labels,
                annotations,
                starts_at: rfc3339(e.at),
                ends_at: rfc3339(ends_at),
                generator_url: link,
            }
        })
        .collect();
    // Serialising plain strings and maps cannot fail.
    serde_json::to_vec(&alerts).unwrap_or_default()
}

#[cfg(test)]
mod tests;
