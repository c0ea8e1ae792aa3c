//! `[kafka]`: where the monitor reads and writes, and how it talks to the brokers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Problems;

/// A value that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for handing to librdkafka only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// How each effect is guaranteed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingGuarantee {
    /// Transactions: outputs, changelog and offsets commit together (EOS v2).
    ExactlyOnce,
    /// Offsets commit after their outputs are acknowledged; a crash may republish messages,
    /// each with the same `message_id`.
    AtLeastOnce,
}

/// `[kafka]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list. Default "127.0.0.1:9092".
    #[serde(default = "default_bootstrap")]
    pub bootstrap_servers: String,
    /// Consumer group (also the prefix of the transactional ids). Default "postloan-monitor".
    #[serde(default = "default_group")]
    pub group_id: String,
    /// `exactly_once` (default) or `at_least_once`.
    #[serde(default = "default_guarantee")]
    pub processing_guarantee: ProcessingGuarantee,
    /// How often the open transaction (or offset batch) commits. Default 100 ms.
    #[serde(default = "default_commit_interval_ms")]
    pub commit_interval_ms: u64,
    /// How long a task waits for an input partition that has nothing buffered and is not known
    /// to be caught up before processing the others (timestamp-synchronised merge). Waiting is
    /// cheap (a caught-up partition is reported at once) and makes the merge order independent
    /// of fetch timing. Default 1000 ms.
    #[serde(default = "default_max_task_idle_ms")]
    pub max_task_idle_ms: u64,
    /// This instance's name within the group, stable across its restarts (a StatefulSet pod
    /// name, a host name). Exactly-once uses `{group_id}-{instance_id}` as the transactional id:
    /// a restarted instance fences its previous incarnation and aborts its open transaction at
    /// once. Two live instances must never share it (the older is fenced and stops). Default
    /// empty: the host name.
    #[serde(default)]
    pub instance_id: String,
    /// Exactly-once: how long a transaction may stay open before the broker aborts it (bounds
    /// how long a crashed instance's open transaction can hold back `read_committed` readers);
    /// also the timeout of each transactional call. Default 10000 ms (Kafka Streams' EOS
    /// default).
    #[serde(default = "default_transaction_timeout_ms")]
    pub transaction_timeout_ms: u64,
    /// Consumer session timeout. Default 10000 ms.
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u64,
    /// Create missing output and changelog topics at start (the inputs' partition count,
    /// broker-default replication, the changelog compacted). Default false: a missing topic is a
    /// fatal error.
    #[serde(default)]
    pub create_topics: bool,
    /// `plaintext` (default), `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka
    /// `security.protocol`).
    #[serde(default = "default_security_protocol")]
    pub security_protocol: String,
    /// SASL mechanism, e.g. `SCRAM-SHA-512` (librdkafka `sasl.mechanism`). Default none.
    #[serde(default)]
    pub sasl_mechanism: Option<String>,
    /// SASL user name. Default none.
    #[serde(default)]
    pub sasl_username: Option<String>,
    /// SASL password; set it through `POSTLOAN__KAFKA__SASL_PASSWORD` rather than the file.
    /// Never logged or printed.
    #[serde(default)]
    pub sasl_password: Secret,
    /// CA certificate file for TLS (librdkafka `ssl.ca.location`). Default none.
    #[serde(default)]
    pub ssl_ca_location: Option<String>,
    /// Topic names.
    #[serde(default)]
    pub topics: Topics,
    /// Any other librdkafka property, passed through as is (e.g. `"compression.type" = "lz4"`).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

fn default_bootstrap() -> String {
    "127.0.0.1:9092".to_owned()
}

fn default_group() -> String {
    "postloan-monitor".to_owned()
}

fn default_guarantee() -> ProcessingGuarantee {
    ProcessingGuarantee::ExactlyOnce
}

fn default_commit_interval_ms() -> u64 {
    100
}

fn default_max_task_idle_ms() -> u64 {
    1000
}

fn default_transaction_timeout_ms() -> u64 {
    10_000
}

fn default_session_timeout_ms() -> u64 {
    10_000
}

fn default_security_protocol() -> String {
    "plaintext".to_owned()
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap_servers: default_bootstrap(),
            group_id: default_group(),
            processing_guarantee: default_guarantee(),
            commit_interval_ms: default_commit_interval_ms(),
            max_task_idle_ms: default_max_task_idle_ms(),
            instance_id: String::new(),
            transaction_timeout_ms: default_transaction_timeout_ms(),
            session_timeout_ms: default_session_timeout_ms(),
            create_topics: false,
            security_protocol: default_security_protocol(),
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: Secret::default(),
            ssl_ca_location: None,
            topics: Topics::default(),
            properties: BTreeMap::new(),
        }
    }
}

/// `[kafka.topics]`: every topic name of the contract.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Topics {
    /// `loan_opened`, `loan_closed` in. Default "loans.lifecycle".
    #[serde(default = "t_lifecycle")]
    pub lifecycle: String,
    /// `repayment` in. Default "loans.repayments".
    #[serde(default = "t_repayments")]
    pub repayments: String,
    /// `income` in. Default "borrowers.income".
    #[serde(default = "t_income")]
    pub income: String,
    /// `collateral_valuation` in. Default "collateral.valuations".
    #[serde(default = "t_valuations")]
    pub valuations: String,
    /// `alert_ack` in. Default "risk.alert-acks".
    #[serde(default = "t_acks")]
    pub acks: String,
    /// Alert lifecycle messages out. Default "risk.alerts".
    #[serde(default = "t_alerts")]
    pub alerts: String,
    /// Escalation notices out. Default "risk.escalations".
    #[serde(default = "t_escalations")]
    pub escalations: String,
    /// Rejected inputs out. Default "risk.rejected".
    #[serde(default = "t_rejected")]
    pub rejected: String,
    /// Compacted per-borrower state. Default "postloan-monitor.state-changelog".
    #[serde(default = "t_changelog")]
    pub changelog: String,
}

fn t_lifecycle() -> String {
    "loans.lifecycle".to_owned()
}
fn t_repayments() -> String {
    "loans.repayments".to_owned()
}
fn t_income() -> String {
    "borrowers.income".to_owned()
}
fn t_valuations() -> String {
    "collateral.valuations".to_owned()
}
fn t_acks() -> String {
    "risk.alert-acks".to_owned()
}
fn t_alerts() -> String {
    "risk.alerts".to_owned()
}
fn t_escalations() -> String {
    "risk.escalations".to_owned()
}
fn t_rejected() -> String {
    "risk.rejected".to_owned()
}
fn t_changelog() -> String {
    "postloan-monitor.state-changelog".to_owned()
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            lifecycle: t_lifecycle(),
            repayments: t_repayments(),
            income: t_income(),
            valuations: t_valuations(),
            acks: t_acks(),
            alerts: t_alerts(),
            escalations: t_escalations(),
            rejected: t_rejected(),
            changelog: t_changelog(),
        }
    }
}

impl Topics {
    /// Every topic named `{prefix}.{role}` (`{prefix}.lifecycle`, `{prefix}.alerts`, …): one
    /// set per test or benchmark run, so runs never share data.
    pub fn prefixed(prefix: &str) -> Topics {
        let t = |role: &str| format!("{prefix}.{role}");
        Topics {
            lifecycle: t("lifecycle"),
            repayments: t("repayments"),
            income: t("income"),
            valuations: t("valuations"),
            acks: t("acks"),
            alerts: t("alerts"),
            escalations: t("escalations"),
            rejected: t("rejected"),
            changelog: t("changelog"),
        }
    }

    /// Input topics in merge tie-break order.
    pub fn inputs(&self) -> [&str; 5] {
        [
            &self.lifecycle,
            &self.repayments,
            &self.income,
            &self.valuations,
            &self.acks,
        ]
    }

    /// Output topics.
    pub fn outputs(&self) -> [&str; 3] {
        [&self.alerts, &self.escalations, &self.rejected]
    }

    /// The input topic an event type belongs on.
    pub fn for_event(&self, t: crate::engine::event::EventType) -> &str {
        use crate::engine::event::EventType as T;
        match t {
            T::LoanOpened | T::LoanClosed => &self.lifecycle,
            T::Repayment => &self.repayments,
            T::Income => &self.income,
            T::CollateralValuation => &self.valuations,
            T::AlertAck => &self.acks,
        }
    }
}

const PROTOCOLS: [&str; 4] = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];

impl KafkaConfig {
    /// Adds every impossible value to `p`.
    pub fn validate(&self, p: &mut Problems) {
        if self.bootstrap_servers.trim().is_empty() {
            p.push("kafka.bootstrap_servers", "must not be empty");
        }
        if self.group_id.trim().is_empty() {
            p.push("kafka.group_id", "must not be empty");
        }
        if self.commit_interval_ms == 0 {
            p.push("kafka.commit_interval_ms", "must be at least 1");
        }
        if self.transaction_timeout_ms < 1000 {
            p.push("kafka.transaction_timeout_ms", "must be at least 1000");
        } else if self.transaction_timeout_ms <= self.commit_interval_ms {
            p.push(
                "kafka.transaction_timeout_ms",
                "must be longer than commit_interval_ms (a transaction stays open that long)",
            );
        }
        if !self
            .instance_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            p.push(
                "kafka.instance_id",
                "may contain only ASCII letters, digits, '.', '_' and '-'",
            );
        }
        if !PROTOCOLS.contains(&self.security_protocol.to_ascii_lowercase().as_str()) {
            p.push(
                "kafka.security_protocol",
                format!(
                    "must be one of {}, got {:?}",
                    PROTOCOLS.join(", "),
                    self.security_protocol
                ),
            );
        }
        let sasl = self
            .security_protocol
            .to_ascii_lowercase()
            .starts_with("sasl");
        if sasl && self.sasl_mechanism.is_none() {
            p.push(
                "kafka.sasl_mechanism",
                "is required with a sasl_* security_protocol",
            );
        }
        let mut names: Vec<&str> = self
            .topics
            .inputs()
            .into_iter()
            .chain(self.topics.outputs())
            .collect();
        names.push(&self.topics.changelog);
        for n in &names {
            if n.is_empty()
                || n.len() > 249
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                p.push(
                    "kafka.topics",
                    format!("{n:?} is not a valid Kafka topic name"),
                );
            }
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        for w in sorted.windows(2) {
            if w[0] == w[1] {
                p.push("kafka.topics", format!("{:?} is used for two roles", w[0]));
            }
        }
        for key in [
            "bootstrap.servers",
            "group.id",
            "transactional.id",
            "enable.auto.commit",
            "isolation.level",
            "sasl.password",
        ] {
            if self.properties.contains_key(key) {
                p.push(
                    "kafka.properties",
                    format!("{key:?} is set by the monitor itself; use the [kafka] key for it"),
                );
            }
        }
    }

    /// librdkafka properties common to every client: servers, security, pass-through.
    pub fn client_properties(&self) -> Vec<(String, String)> {
        let mut props = vec![
            (
                "bootstrap.servers".to_owned(),
                self.bootstrap_servers.clone(),
            ),
            (
                "security.protocol".to_owned(),
                self.security_protocol.to_ascii_lowercase(),
            ),
        ];
        let mut opt = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                props.push((k.to_owned(), v.clone()));
            }
        };
        opt("sasl.mechanism", &self.sasl_mechanism);
        opt("sasl.username", &self.sasl_username);
        opt("ssl.ca.location", &self.ssl_ca_location);
        if !self.sasl_password.is_empty() {
            props.push((
                "sasl.password".to_owned(),
                self.sasl_password.expose().to_owned(),
            ));
        }
        props.extend(self.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
        props
    }
}
