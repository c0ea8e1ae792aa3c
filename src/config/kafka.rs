//! `[kafka]`: where the monitor reads and writes, and how it talks to the brokers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Problems;

/// A value that must never be printed: `Debug`, `Display` and `Serialize` show `***` (an empty
/// one shows as empty, so "not set" stays visible). Deserializing accepts only a string, and a
/// value of another type is refused without echoing it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

/// What a set secret shows as.
pub const REDACTED: &str = "***";

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for handing to librdkafka only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn shown(&self) -> &'static str {
        if self.0.is_empty() {
            ""
        } else {
            REDACTED
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.shown())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown())
    }
}

/// Serializes as `***`: printing or dumping a configuration never reveals it (a dumped
/// configuration does not round-trip its secrets).
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.shown())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_string(SecretVisitor)
    }
}

/// Takes strings; refuses anything else without naming the value (serde's default message
/// quotes it: "invalid type: integer `1234`").
struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: serde::de::Error>(what: &str) -> E {
        E::custom(format_args!(
            "expected a string, got {what} (the value is not shown: it is a secret)"
        ))
    }
}

impl serde::de::Visitor<'_> for SecretVisitor {
    type Value = Secret;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret(v.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(Self::refuse("a boolean"))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(Self::refuse("an integer"))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(Self::refuse("an integer"))
    }
    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<Secret, E> {
        Err(Self::refuse("an integer"))
    }
    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<Secret, E> {
        Err(Self::refuse("an integer"))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(Self::refuse("a number"))
    }
    fn visit_char<E: serde::de::Error>(self, v: char) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Secret, E> {
        Err(Self::refuse("bytes"))
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
    /// How long a task waits for an input partition that has nothing buffered and is caught up
    /// (everything the broker held has been read; its producer may still write) before applying
    /// older records of its other inputs. A partition known to hold unread records, or whose
    /// end is not known yet, is always waited for, however long: this setting never lets a
    /// task run ahead of input it knows about (Kafka Streams' KIP-695). The default, 0 (Kafka
    /// Streams' too), waits for nothing that is not known to exist; a larger value absorbs that
    /// much producer skew between topics at the cost of as much latency whenever an input runs
    /// dry (measured in the README). Default 0 ms.
    #[serde(default = "default_max_task_idle_ms")]
    pub max_task_idle_ms: u64,
    /// Bytes (payloads and keys) the merge may hold for one input partition before the
    /// monitor stops fetching it; fetching resumes once half of that is applied. Bounds the
    /// memory one fast input can take while the merge waits for a slow one (with librdkafka's
    /// own prefetch, `queued.max.messages.kbytes`, on top). Default 4194304 (4 MiB).
    #[serde(default = "default_max_buffered_bytes_per_partition")]
    pub max_buffered_bytes_per_partition: usize,
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
    /// `security.protocol`). `ssl` and `sasl_ssl` encrypt the connection (TLS, OpenSSL);
    /// `sasl_*` authenticate with `sasl_mechanism`.
    #[serde(default = "default_security_protocol")]
    pub security_protocol: String,
    /// SASL mechanism: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (librdkafka
    /// `sasl.mechanism`, case-sensitive). Required with a `sasl_*` protocol; `PLAIN` only with
    /// `sasl_ssl` (it sends the password itself). Default none.
    #[serde(default)]
    pub sasl_mechanism: Option<String>,
    /// SASL user name (librdkafka `sasl.username`). Required with a `sasl_*` protocol. Default
    /// none.
    #[serde(default)]
    pub sasl_username: Option<String>,
    /// SASL password (librdkafka `sasl.password`). Required with a `sasl_*` protocol, refused
    /// with any other. Give it as `POSTLOAN__KAFKA__SASL_PASSWORD` rather than in the file.
    /// Never logged or printed. Default empty (not set).
    #[serde(default)]
    pub sasl_password: Secret,
    /// TLS: CA certificate file or directory (PEM) the brokers' certificates are verified
    /// against (librdkafka `ssl.ca.location`). Only with `ssl`/`sasl_ssl`. Default none:
    /// OpenSSL's default store (the system's CA certificates, `ca-certificates` on Debian).
    #[serde(default)]
    pub ssl_ca_location: Option<String>,
    /// TLS client certificate file (PEM), for brokers that authenticate clients by certificate
    /// (librdkafka `ssl.certificate.location`). Only with `ssl`/`sasl_ssl`, and together with
    /// `ssl_key_location`. Default none.
    #[serde(default)]
    pub ssl_certificate_location: Option<String>,
    /// TLS client private key file (PEM) of `ssl_certificate_location` (librdkafka
    /// `ssl.key.location`). Only with `ssl`/`sasl_ssl`. Default none.
    #[serde(default)]
    pub ssl_key_location: Option<String>,
    /// Passphrase of an encrypted `ssl_key_location` (librdkafka `ssl.key.password`). Give it
    /// as `POSTLOAN__KAFKA__SSL_KEY_PASSWORD`. Never logged or printed. Default empty (the key
    /// is not encrypted).
    #[serde(default)]
    pub ssl_key_password: Secret,
    /// TLS: check that the broker's certificate names the host connected to (librdkafka
    /// `ssl.endpoint.identification.algorithm` = `https`; false: `none`). Turning it off lets
    /// anyone with a certificate from the same CA impersonate a broker. Default true.
    #[serde(default = "default_ssl_endpoint_identification")]
    pub ssl_endpoint_identification: bool,
    /// Topic names.
    #[serde(default)]
    pub topics: Topics,
    /// Any other librdkafka property, passed through as is (e.g. `"compression.type" = "lz4"`).
    /// Refused: keys a `[kafka]` field owns (see [`OWNED_PROPERTIES`]) and keys that carry a
    /// secret (see [`is_secret_property`]): a pass-through value is not redacted.
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

fn default_max_buffered_bytes_per_partition() -> usize {
    4 * 1024 * 1024
}

fn default_max_task_idle_ms() -> u64 {
    0
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

fn default_ssl_endpoint_identification() -> bool {
    true
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap_servers: default_bootstrap(),
            group_id: default_group(),
            processing_guarantee: default_guarantee(),
            commit_interval_ms: default_commit_interval_ms(),
            max_task_idle_ms: default_max_task_idle_ms(),
            max_buffered_bytes_per_partition: default_max_buffered_bytes_per_partition(),
            instance_id: String::new(),
            transaction_timeout_ms: default_transaction_timeout_ms(),
            session_timeout_ms: default_session_timeout_ms(),
            create_topics: false,
            security_protocol: default_security_protocol(),
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: Secret::default(),
            ssl_ca_location: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_key_password: Secret::default(),
            ssl_endpoint_identification: default_ssl_endpoint_identification(),
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
    pub fn for_event(&self, t: postloan_engine::event::EventType) -> &str {
        use postloan_engine::event::EventType as T;
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

/// The SASL mechanisms this build supports. `GSSAPI` (Kerberos) needs librdkafka built with
/// Cyrus SASL (rdkafka's `gssapi` feature), which this build leaves out; `OAUTHBEARER` needs a
/// token callback the monitor does not have.
pub const SASL_MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// librdkafka properties the monitor sets itself, from the `[kafka]` field named beside each:
/// refused in `properties` (one place for each setting).
pub const OWNED_PROPERTIES: [(&str, &str); 15] = [
    ("bootstrap.servers", "kafka.bootstrap_servers"),
    ("group.id", "kafka.group_id"),
    ("transactional.id", "kafka.group_id and kafka.instance_id"),
    ("enable.auto.commit", "kafka.processing_guarantee"),
    ("isolation.level", "kafka.processing_guarantee"),
    ("security.protocol", "kafka.security_protocol"),
    ("sasl.mechanism", "kafka.sasl_mechanism"),
    ("sasl.mechanisms", "kafka.sasl_mechanism"),
    ("sasl.username", "kafka.sasl_username"),
    ("sasl.password", "kafka.sasl_password"),
    ("ssl.ca.location", "kafka.ssl_ca_location"),
    ("ssl.certificate.location", "kafka.ssl_certificate_location"),
    ("ssl.key.location", "kafka.ssl_key_location"),
    ("ssl.key.password", "kafka.ssl_key_password"),
    (
        "ssl.endpoint.identification.algorithm",
        "kafka.ssl_endpoint_identification",
    ),
];

/// Whether a librdkafka property (lower-cased) carries a secret, so may not be passed through
/// `properties`: its name contains `password`, `passphrase` or `secret`, it is an in-line PEM
/// (`*.pem`: `ssl.key.pem`, and for simplicity `ssl.certificate.pem` and `ssl.ca.pem` too — use
/// the `*_location` fields), or it is `sasl.oauthbearer.config` or `ssl_key` (which librdkafka
/// itself treats as sensitive).
pub fn is_secret_property(key: &str) -> bool {
    ["password", "passphrase", "secret"]
        .iter()
        .any(|w| key.contains(w))
        || key.ends_with(".pem")
        || key == "sasl.oauthbearer.config"
        || key == "ssl_key"
}

/// Pass-through properties validation does not hand to librdkafka: setting
/// `plugin.library.paths` loads the plugins, which `check-config` must not do.
const PROBE_SKIPPED: [&str; 1] = ["plugin.library.paths"];

impl KafkaConfig {
    /// Adds every impossible value to `p`.
    pub fn validate(&self, p: &mut Problems) {
        if self.bootstrap_servers.trim().is_empty() {
            p.push("kafka.bootstrap_servers", "must not be empty");
        }
        if self.group_id.trim().is_empty() {
            p.push("kafka.group_id", "must not be empty");
        }
        if self.max_buffered_bytes_per_partition == 0 {
            p.push(
                "kafka.max_buffered_bytes_per_partition",
                "must be at least 1",
            );
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
        self.validate_security(p);
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
        self.validate_properties(p);
    }

    /// The protocol, lower-cased, when it is one librdkafka knows.
    fn protocol(&self) -> Option<&'static str> {
        let given = self.security_protocol.to_ascii_lowercase();
        PROTOCOLS.into_iter().find(|p| *p == given)
    }

    /// Whether the connection is encrypted (`ssl`, `sasl_ssl`).
    pub fn uses_tls(&self) -> bool {
        self.protocol().is_some_and(|p| p.ends_with("ssl"))
    }

    /// Whether the client authenticates with SASL (`sasl_plaintext`, `sasl_ssl`).
    pub fn uses_sasl(&self) -> bool {
        self.protocol().is_some_and(|p| p.starts_with("sasl"))
    }

    /// TLS and SASL settings: each needs the others it works with, and nothing is set that the
    /// protocol would silently ignore. No message quotes a secret.
    fn validate_security(&self, p: &mut Problems) {
        let Some(protocol) = self.protocol() else {
            p.push(
                "kafka.security_protocol",
                format!(
                    "must be one of {}, got {:?}",
                    PROTOCOLS.join(", "),
                    self.security_protocol
                ),
            );
            return;
        };
        if let Some(m) = &self.sasl_mechanism {
            if !SASL_MECHANISMS.contains(&m.as_str()) {
                p.push(
                    "kafka.sasl_mechanism",
                    format!("must be one of {}, got {m:?}", SASL_MECHANISMS.join(", ")),
                );
            }
        }
        for (path, value) in [
            ("kafka.ssl_ca_location", &self.ssl_ca_location),
            (
                "kafka.ssl_certificate_location",
                &self.ssl_certificate_location,
            ),
            ("kafka.ssl_key_location", &self.ssl_key_location),
            ("kafka.sasl_username", &self.sasl_username),
            ("kafka.sasl_mechanism", &self.sasl_mechanism),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                p.push(path, "must not be empty (leave it out instead)");
            }
        }
        for (path, secret) in [
            ("kafka.sasl_password", &self.sasl_password),
            ("kafka.ssl_key_password", &self.ssl_key_password),
        ] {
            if secret.expose().contains('\0') {
                p.push(path, "must not contain a NUL character");
            }
        }
        if self.uses_sasl() {
            if self.sasl_mechanism.is_none() {
                p.push(
                    "kafka.sasl_mechanism",
                    format!("is required with security_protocol {protocol:?}"),
                );
            }
            if self.sasl_username.is_none() {
                p.push(
                    "kafka.sasl_username",
                    format!("is required with security_protocol {protocol:?}"),
                );
            }
            if self.sasl_password.is_empty() {
                p.push(
                    "kafka.sasl_password",
                    format!(
                        "is required with security_protocol {protocol:?} \
                         (set POSTLOAN__KAFKA__SASL_PASSWORD)"
                    ),
                );
            }
            if !self.uses_tls() && self.sasl_mechanism.as_deref() == Some("PLAIN") {
                p.push(
                    "kafka.sasl_mechanism",
                    "PLAIN sends the password itself, in clear over sasl_plaintext: \
                     use sasl_ssl, or a SCRAM mechanism",
                );
            }
        } else if !self.sasl_password.is_empty() {
            let clear = if self.uses_tls() {
                ""
            } else {
                ", and the connection is not encrypted"
            };
            p.push(
                "kafka.sasl_password",
                format!(
                    "is set but security_protocol {protocol:?} does not authenticate with SASL \
                     (the password would not be used){clear}: use sasl_ssl"
                ),
            );
        }
        if !self.uses_tls() {
            for (path, set) in [
                ("kafka.ssl_ca_location", self.ssl_ca_location.is_some()),
                (
                    "kafka.ssl_certificate_location",
                    self.ssl_certificate_location.is_some(),
                ),
                ("kafka.ssl_key_location", self.ssl_key_location.is_some()),
                ("kafka.ssl_key_password", !self.ssl_key_password.is_empty()),
            ] {
                if set {
                    p.push(
                        path,
                        format!(
                            "is set but security_protocol {protocol:?} does not use TLS \
                             (use ssl or sasl_ssl)"
                        ),
                    );
                }
            }
        }
        match (&self.ssl_certificate_location, &self.ssl_key_location) {
            (Some(_), None) => p.push(
                "kafka.ssl_key_location",
                "is required with ssl_certificate_location (the certificate's private key)",
            ),
            (None, Some(_)) => p.push(
                "kafka.ssl_certificate_location",
                "is required with ssl_key_location (the key's certificate)",
            ),
            _ => {}
        }
        if !self.ssl_key_password.is_empty() && self.ssl_key_location.is_none() {
            p.push(
                "kafka.ssl_key_password",
                "is set but there is no ssl_key_location to decrypt",
            );
        }
    }

    /// Pass-through properties: none a field owns, none carrying a secret, and each one
    /// librdkafka accepts. Values are never quoted for refused keys.
    fn validate_properties(&self, p: &mut Problems) {
        for (key, value) in &self.properties {
            let lower = key.to_ascii_lowercase();
            if let Some((_, field)) = OWNED_PROPERTIES.iter().find(|(k, _)| *k == lower) {
                p.push(
                    "kafka.properties",
                    format!("{key:?} is set by the monitor itself; use {field}"),
                );
            } else if is_secret_property(&lower) {
                p.push(
                    "kafka.properties",
                    format!(
                        "{key:?} carries a secret, and pass-through values are not redacted: \
                         secrets go only in kafka.sasl_password and kafka.ssl_key_password"
                    ),
                );
            } else if !PROBE_SKIPPED.contains(&key.as_str()) {
                // librdkafka checks the name and the value as client creation would; one
                // property at a time, so every bad one is reported. Its message may quote the
                // value: only keys without secrets get here.
                match rdkafka::ClientConfig::new()
                    .set(key.as_str(), value.as_str())
                    .create_native_config()
                {
                    Ok(_) => {}
                    Err(rdkafka::error::KafkaError::ClientConfig(_, desc, _, _)) => {
                        let desc = desc.trim_end_matches('.');
                        // An alias is reported under its canonical name: name both.
                        if desc.contains(&format!("{key:?}")) {
                            p.push("kafka.properties", desc.to_owned());
                        } else {
                            p.push("kafka.properties", format!("{key:?}: {desc}"));
                        }
                    }
                    Err(other) => p.push("kafka.properties", format!("{key:?}: {other}")),
                }
            }
        }
    }

    /// librdkafka properties common to every client: servers, security, pass-through. The
    /// result holds the secrets in clear: hand it to librdkafka, never print it (rdkafka's
    /// `ClientConfig` `Debug` leaves the secret keys out).
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
        opt("ssl.certificate.location", &self.ssl_certificate_location);
        opt("ssl.key.location", &self.ssl_key_location);
        for (k, secret) in [
            ("sasl.password", &self.sasl_password),
            ("ssl.key.password", &self.ssl_key_password),
        ] {
            if !secret.is_empty() {
                props.push((k.to_owned(), secret.expose().to_owned()));
            }
        }
        if self.uses_tls() {
            let algorithm = if self.ssl_endpoint_identification {
                "https"
            } else {
                "none"
            };
            props.push((
                "ssl.endpoint.identification.algorithm".to_owned(),
                algorithm.to_owned(),
            ));
        }
        props.extend(self.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
        props
    }
}
