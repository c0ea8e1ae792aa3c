//! Messages the engine publishes, and their JSON.
//!
//! Field order is fixed (struct order) and numbers are written from their decimal text, so the
//! same input always gives byte-identical output.

mod json;

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

use super::reject::ErrorKind;
use super::types::{Severity, Signal, SuppressionReason};

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputKind {
    /// `risk.alerts`
    Alert,
    /// `risk.escalations`
    Escalation,
    /// `risk.rejected`
    Rejected,
}

/// One published message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Output {
    /// Alert lifecycle message.
    Alert(AlertMessage),
    /// Escalation notice.
    Escalation(EscalationMessage),
    /// Input that could not be applied.
    Rejected(RejectedMessage),
}

impl Output {
    /// Its topic.
    pub fn kind(&self) -> OutputKind {
        match self {
            Output::Alert(_) => OutputKind::Alert,
            Output::Escalation(_) => OutputKind::Escalation,
            Output::Rejected(_) => OutputKind::Rejected,
        }
    }

    /// The deterministic id a consumer deduplicates on.
    pub fn message_id(&self) -> &str {
        match self {
            Output::Alert(m) => &m.message_id,
            Output::Escalation(m) => &m.message_id,
            Output::Rejected(m) => &m.message_id,
        }
    }

    /// The Kafka key: the borrower, or the rejected input's original key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Output::Alert(m) => Some(&m.borrower_id),
            Output::Escalation(m) => Some(&m.borrower_id),
            Output::Rejected(m) => m.key.as_deref(),
        }
    }

    /// Appends the message's JSON (no newline).
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        // By hand (`json.rs`); the `Serialize` impls remain the reference it is tested against.
        json::write(self, buf);
    }

    /// The message's JSON.
    pub fn to_json(&self) -> String {
        let mut buf = Vec::with_capacity(512);
        self.write_json(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// An order-independent fingerprint of a set of published messages, per topic: how many, and
/// the wrapping sum of a 128-bit hash of each. Two runs published the same multiset of messages
/// exactly when their fingerprints are equal (up to a 2^-128 collision); the order in which the
/// messages were added does not matter, so a live run's fingerprint can be compared with
/// replay's although partitions interleave differently.
///
/// What is hashed is what must be equal between a live run and replay: the whole message for
/// alerts and escalations; for a rejection everything but `source` and `message_id`, which name
/// a Kafka offset live and a file line in replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// Messages per topic, in [`OutputKind`] order.
    pub counts: [u64; 3],
    sums: [u128; 3],
}

impl Fingerprint {
    /// Adds one message; `json` is its JSON as published.
    pub fn add(&mut self, msg: &Output, json: &[u8]) {
        let (i, h) = match msg {
            Output::Alert(_) => (0, xxhash_rust::xxh3::xxh3_128(json)),
            Output::Escalation(_) => (1, xxhash_rust::xxh3::xxh3_128(json)),
            Output::Rejected(r) => (2, r.identity_hash()),
        };
        self.counts[i] += 1;
        self.sums[i] = self.sums[i].wrapping_add(h);
    }

    /// Adds every message of another fingerprint.
    pub fn merge(&mut self, other: &Fingerprint) {
        for i in 0..3 {
            self.counts[i] += other.counts[i];
            self.sums[i] = self.sums[i].wrapping_add(other.sums[i]);
        }
    }

    /// Whether the messages of one topic are the same multiset in both.
    pub fn same(&self, other: &Fingerprint, kind: OutputKind) -> bool {
        let i = kind as usize;
        self.counts[i] == other.counts[i] && self.sums[i] == other.sums[i]
    }

    /// Messages of one topic.
    pub fn count(&self, kind: OutputKind) -> u64 {
        self.counts[kind as usize]
    }
}

/// Lifecycle status of an alert message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// The condition started.
    Firing,
    /// Its severity changed while open.
    Updated,
    /// It cleared.
    Resolved,
    /// (v2) An acknowledgement of it was applied: it now covers the alert up to this severity.
    Acknowledged,
    /// (v2) Its slot became suppressed: until the suppression lapses it publishes only
    /// `resolved` and `acknowledged`.
    Suppressed,
    /// (v2) The suppression lapsed (or was revoked) and its condition still holds.
    Reinstated,
}

impl AlertStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [AlertStatus; 6] = [
        AlertStatus::Firing,
        AlertStatus::Updated,
        AlertStatus::Resolved,
        AlertStatus::Acknowledged,
        AlertStatus::Suppressed,
        AlertStatus::Reinstated,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Updated => "updated",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Suppressed => "suppressed",
            AlertStatus::Reinstated => "reinstated",
        }
    }
}

impl Serialize for ErrorKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `kind: "alert"` on `risk.alerts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertMessage {
    /// Always `"alert"`.
    pub kind: &'static str,
    /// `{alert_id}#{k}`.
    pub message_id: String,
    /// `{borrower_id}/{loan_id or -}/{signal}/{n}`.
    pub alert_id: String,
    /// firing / updated / resolved, and (v2) acknowledged / suppressed / reinstated.
    pub status: AlertStatus,
    /// The signal.
    pub signal: Signal,
    /// Severity now (the last one, on resolution).
    pub severity: Severity,
    /// The borrower.
    pub borrower_id: String,
    /// The loan; null for borrower scope.
    pub loan_id: Option<String>,
    /// Portfolio label, when known.
    pub manager_id: Option<String>,
    /// Portfolio label, when known.
    pub branch_id: Option<String>,
    /// Portfolio label, when known.
    pub dealer_id: Option<String>,
    /// When the alert fired.
    pub opened_at: String,
    /// When the condition changed.
    pub event_time: String,
    /// One sentence with the numbers.
    pub reason: String,
    /// The figures behind it.
    pub metrics: AlertMetrics,
    /// What collections should do.
    pub recommended_action: &'static str,
    /// The monitor's version.
    pub monitor_version: &'static str,
    /// Fingerprint of the rule and escalation settings that produced it
    /// ([`crate::settings::version`]).
    pub rules_version: Arc<str>,
    /// The `event_id` of the input whose application produced it; null when a timer did.
    pub cause_event_id: Option<String>,
    /// (v2) On `acknowledged` messages only: who acknowledged it and their note.
    #[serde(flatten)]
    pub ack: Option<AckFields>,
    /// (v2) On `suppressed` messages only: the suppression that paused it.
    #[serde(flatten)]
    pub suppression: Option<SuppressionFields>,
}

/// The fields a `suppressed` message carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressionFields {
    /// The covering suppression's `suppression_id`.
    pub suppression_id: String,
    /// Its `until`: the last business date it covers (`YYYY-MM-DD`).
    pub suppressed_until: String,
    /// Its `reason`.
    pub suppression_reason: SuppressionReason,
}

/// The fields an `acknowledged` message carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckFields {
    /// `acked_by` of the acknowledgement.
    pub acked_by: String,
    /// Its `note`; null when absent.
    pub note: Option<String>,
}

/// `kind: "escalation"` on `risk.escalations`. Read back with serde (the `wire` module reads a
/// record of the topic): what is written reads back equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationMessage {
    /// Always `"escalation"` (not read: the topic says what the message is).
    #[serde(skip_deserializing, default = "escalation_kind")]
    pub kind: &'static str,
    /// Same as `escalation_id`.
    pub message_id: String,
    /// `{alert_id}/L{level}`.
    pub escalation_id: String,
    /// The escalated alert.
    pub alert_id: String,
    /// 1 or 2.
    pub level: u8,
    /// Who to notify.
    pub notify: String,
    /// The borrower.
    pub borrower_id: String,
    /// The loan; null for borrower scope.
    pub loan_id: Option<String>,
    /// Portfolio label, when known.
    pub manager_id: Option<String>,
    /// Portfolio label, when known.
    pub branch_id: Option<String>,
    /// The alert's signal.
    pub signal: Signal,
    /// The alert's severity now.
    pub severity: Severity,
    /// When the alert fired.
    pub alert_opened_at: String,
    /// The deadline instant (or the instant it turned critical).
    pub event_time: String,
    /// Hours from the alert firing to `event_time`.
    #[serde(deserialize_with = "exact_number")]
    pub unacknowledged_hours: MetricValue,
    /// One sentence.
    pub reason: String,
    /// Fingerprint of the rule and escalation settings that produced it.
    pub rules_version: Arc<str>,
    /// The `event_id` of the input whose application produced it; null when a timer (an
    /// escalation deadline) did.
    pub cause_event_id: Option<String>,
    /// (v2) The last acknowledger, when an acknowledgement stopped covering the alert (its
    /// severity rose above the acknowledged one); otherwise null.
    pub previously_acked_by: Option<String>,
}

/// `kind: "rejected"` on `risk.rejected`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedMessage {
    /// Always `"rejected"`.
    pub kind: &'static str,
    /// `rejected/{source}`.
    pub message_id: String,
    /// The contract's error kind.
    pub error_kind: ErrorKind,
    /// What was wrong, naming the field.
    pub error: String,
    /// `topic/partition/offset`, or `file/line` in replay.
    pub source: String,
    /// The original key.
    pub key: Option<String>,
    /// The original payload when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The original payload, base64, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_base64: Option<String>,
    /// The payload shown is only the first `limits.max_rejected_payload_bytes` of it (field
    /// present only when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub payload_truncated: bool,
    /// The whole payload's length, when it was truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_size_bytes: Option<usize>,
}

impl RejectedMessage {
    /// A hash of what a rejection says about its input, leaving out where the input was read
    /// (`source`, `message_id`) and its transport key, which differ between Kafka and a file.
    fn identity_hash(&self) -> u128 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in [
            self.error_kind.as_str(),
            &self.error,
            self.payload.as_deref().unwrap_or(""),
            self.payload_base64.as_deref().unwrap_or(""),
        ] {
            // Length-prefixed, so that no two different tuples hash the same bytes.
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update(&[u8::from(self.payload_truncated)]);
        h.update(&(self.payload_size_bytes.unwrap_or(0) as u64).to_le_bytes());
        h.digest128()
    }
}

/// A figure in an alert's `metrics` (named so as not to be confused with the application's
/// Prometheus metrics).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// An integer.
    Int(i64),
    /// A decimal written as a JSON number (ratios, scores).
    Num(Decimal),
    /// An amount written as a JSON string, exact (`"2500.00"`).
    Money(Decimal),
    /// Text (dates, reasons).
    Text(String),
    /// Absent figure.
    Null,
    /// Nested figures.
    Map(AlertMetrics),
}

/// An alert's `metrics`: named figures, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertMetrics(pub Vec<(&'static str, MetricValue)>);

impl AlertMetrics {
    /// Adds a figure.
    pub fn put(&mut self, name: &'static str, m: MetricValue) -> &mut Self {
        self.0.push((name, m));
        self
    }

    /// Looks a figure up.
    pub fn get(&self, name: &str) -> Option<&MetricValue> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, m)| m)
    }
}

impl Serialize for AlertMetrics {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for MetricValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MetricValue::Int(i) => s.serialize_i64(*i),
            MetricValue::Num(d) => {
                // Written from its decimal text, never via f64.
                let raw = serde_json::value::RawValue::from_string(d.normalize().to_string())
                    .map_err(serde::ser::Error::custom)?;
                raw.serialize(s)
            }
            MetricValue::Money(d) => {
                // Amounts always show cents: "10000.00", never "10000".
                let mut d = *d;
                if d.scale() < 2 {
                    d.rescale(2);
                }
                s.serialize_str(&d.to_string())
            }
            MetricValue::Text(t) => s.serialize_str(t),
            MetricValue::Null => s.serialize_unit(),
            MetricValue::Map(m) => m.serialize(s),
        }
    }
}

fn escalation_kind() -> &'static str {
    "escalation"
}

/// Reads a JSON number as written by [`MetricValue::Num`]: from its exact text (the read side
/// of "written from its decimal text, never via f64"). Reads JSON only.
fn exact_number<'de, D: Deserializer<'de>>(d: D) -> Result<MetricValue, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
    let text = raw.get().trim();
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(text))
        .map(MetricValue::Num)
        .map_err(|_| serde::de::Error::custom(format!("{text} is not a decimal number")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, Kit};

    /// The messages of a loan that goes 40 days past due, and two rejections.
    fn messages(source: &str) -> Vec<Output> {
        let mut k = Kit::new();
        k.send(testkit::loan(
            "B1",
            "L1",
            "2026-01-01T00:00:00Z",
            "2026-02-01",
        ));
        k.advance("2026-03-13T00:00:00Z");
        reject(&mut k, b"not json", source);
        reject(&mut k, b"{\"type\":\"income\"}", &format!("{source}-2"));
        std::mem::take(&mut k.out)
    }

    /// Applies a payload that is rejected, read from `source`.
    fn reject(k: &mut Kit, payload: &[u8], source: &str) {
        let input = crate::Input {
            payload,
            source,
            key: Some(b"B1"),
            full_size: None,
            occurred_at: None,
        };
        k.engine.apply(input, &mut k.out);
    }

    fn fingerprint(msgs: &[Output]) -> Fingerprint {
        let mut f = Fingerprint::default();
        for m in msgs {
            f.add(m, m.to_json().as_bytes());
        }
        f
    }

    #[test]
    fn a_fingerprint_ignores_order_and_where_a_rejected_input_was_read() {
        let msgs = messages("loans.lifecycle/0/17");
        assert!(msgs.len() > 4, "{}", msgs.len());
        let mut reversed = messages("book.jsonl/3");
        reversed.reverse();
        let (a, b) = (fingerprint(&msgs), fingerprint(&reversed));
        for kind in [
            OutputKind::Alert,
            OutputKind::Escalation,
            OutputKind::Rejected,
        ] {
            assert!(a.same(&b, kind), "{kind:?}");
        }
        assert_eq!(a.count(OutputKind::Rejected), 2);
        assert_eq!(
            a.count(OutputKind::Alert) + a.count(OutputKind::Escalation),
            msgs.len() as u64 - 2
        );
        // Merged halves give the whole.
        let (x, y) = msgs.split_at(3);
        let mut merged = fingerprint(x);
        merged.merge(&fingerprint(y));
        assert_eq!(merged, a);
    }

    #[test]
    fn a_missing_repeated_or_changed_message_changes_the_fingerprint() {
        let msgs = messages("s");
        let whole = fingerprint(&msgs);
        let alert = msgs
            .iter()
            .position(|m| m.kind() == OutputKind::Alert)
            .unwrap_or(0);
        let mut missing = msgs.clone();
        missing.remove(alert);
        assert!(!fingerprint(&missing).same(&whole, OutputKind::Alert));
        let mut repeated = msgs.clone();
        repeated.push(msgs[alert].clone());
        assert!(!fingerprint(&repeated).same(&whole, OutputKind::Alert));
        let mut changed = msgs.clone();
        if let Output::Alert(a) = &mut changed[alert] {
            a.reason.push('.');
        }
        let f = fingerprint(&changed);
        assert_eq!(f.count(OutputKind::Alert), whole.count(OutputKind::Alert));
        assert!(!f.same(&whole, OutputKind::Alert));
        // A rejection of other bytes is another rejection.
        let mut k = Kit::new();
        reject(&mut k, b"not json!", "s");
        reject(&mut k, b"{\"type\":\"income\"}", "s-2");
        let mut other = msgs.clone();
        other.retain(|m| m.kind() != OutputKind::Rejected);
        other.extend(std::mem::take(&mut k.out));
        assert!(!fingerprint(&other).same(&whole, OutputKind::Rejected));
    }
}
