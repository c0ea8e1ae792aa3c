//! `[kafka]`: where the monitor reads and writes, and how it talks to the brokers.
//!
//! Parts: [`Secret`] (values never printed), [`Topics`] (`[kafka.topics]`), `security`
//! (protocol, SASL, TLS and pass-through properties, checked and turned into librdkafka's).

mod secret;
mod security;
mod topics;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Problems;
pub use secret::Secret;
pub use security::{is_secret_property, OWNED_PROPERTIES, SASL_MECHANISMS};
pub use topics::Topics;

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
}
