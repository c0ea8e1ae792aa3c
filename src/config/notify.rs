//! `[notify]`: how `postloan-monitor notify` reaches Alertmanager, and its own consumer group
//! and state topic. The Kafka connection and the topic names come from `[kafka]`.

use serde::{Deserialize, Serialize};

use super::{Problems, Secret};

/// `[notify]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Alertmanager base URLs (`http://` or `https://`, e.g. "http://am-1:9093"). Every notice
    /// goes to each of them: list both members of an HA pair. Default ["http://127.0.0.1:9093"].
    #[serde(default = "default_alertmanager_urls")]
    pub alertmanager_urls: Vec<String>,
    /// Timeout of one request to one Alertmanager, milliseconds. Default 5000.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// How often open notices are sent again, milliseconds. Each send keeps a notice firing for
    /// `firing_lease_ms`. Default 60000.
    #[serde(default = "default_resend_interval_ms")]
    pub resend_interval_ms: u64,
    /// How long Alertmanager keeps a notice firing after a send (its `endsAt`), milliseconds.
    /// Longer than `resend_interval_ms`. If `notify` stops, its open notices resolve in
    /// Alertmanager this long after its last send. Default 600000 (10 min).
    #[serde(default = "default_firing_lease_ms")]
    pub firing_lease_ms: u64,
    /// First wait after a failed delivery (Alertmanager unreachable, timing out or answering
    /// 5xx), milliseconds; doubled per failure up to `retry_max_backoff_ms`. Default 500.
    #[serde(default = "default_retry_initial_backoff_ms")]
    pub retry_initial_backoff_ms: u64,
    /// Longest wait between delivery attempts, milliseconds. Default 30000.
    #[serde(default = "default_retry_max_backoff_ms")]
    pub retry_max_backoff_ms: u64,
    /// Notices per request. Default 500.
    #[serde(default = "default_max_alerts_per_request")]
    pub max_alerts_per_request: usize,
    /// Most records applied before a delivery and a commit. Default 5000.
    #[serde(default = "default_max_batch_records")]
    pub max_batch_records: usize,
    /// Consumer group of `notify` (not the monitor's). Default "postloan-notify".
    #[serde(default = "default_group_id")]
    pub group_id: String,
    /// The compacted topic where `notify` keeps its notices, one record per borrower, with
    /// as many partitions as `risk.escalations`. Default "risk.notify.state".
    #[serde(default = "default_state_topic")]
    pub state_topic: String,
    /// How long, in event time, a resolved alert is remembered after its resolution, hours.
    /// An escalation that arrives later than this behind its alert's resolution would be
    /// taken as open. Default 24.
    #[serde(default = "default_forget_resolved_after_hours")]
    pub forget_resolved_after_hours: u32,
    /// A PEM file of CA certificates to trust for `https://` URLs, besides the system's.
    #[serde(default)]
    pub tls_ca_file: Option<String>,
    /// Basic authentication user name (with `basic_auth_password`).
    #[serde(default)]
    pub basic_auth_username: Option<String>,
    /// Basic authentication password. Never printed or logged.
    #[serde(default)]
    pub basic_auth_password: Secret,
    /// A bearer token sent as `Authorization: Bearer …` (not with basic authentication).
    /// Never printed or logged.
    #[serde(default)]
    pub bearer_token: Secret,
    /// The link to the bank's case tool shown on each notice (annotation `link`), with
    /// placeholders `{borrower_id}`, `{loan_id}`, `{alert_id}`, `{escalation_id}`, each
    /// URL-encoded when filled in. Empty: no link. Default empty.
    #[serde(default)]
    pub link_template: String,
    /// `host:port` serving `notify`'s `/metrics`, `/healthz` and `/readyz`. Default
    /// "127.0.0.1:9465".
    #[serde(default = "default_listen")]
    pub listen: String,
}

fn default_alertmanager_urls() -> Vec<String> {
    vec!["http://127.0.0.1:9093".to_owned()]
}
fn default_request_timeout_ms() -> u64 {
    5000
}
fn default_resend_interval_ms() -> u64 {
    60_000
}
fn default_firing_lease_ms() -> u64 {
    600_000
}
fn default_retry_initial_backoff_ms() -> u64 {
    500
}
fn default_retry_max_backoff_ms() -> u64 {
    30_000
}
fn default_max_alerts_per_request() -> usize {
    500
}
fn default_max_batch_records() -> usize {
    5000
}
fn default_group_id() -> String {
    "postloan-notify".to_owned()
}
fn default_state_topic() -> String {
    "risk.notify.state".to_owned()
}
fn default_forget_resolved_after_hours() -> u32 {
    24
}
fn default_listen() -> String {
    "127.0.0.1:9465".to_owned()
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            alertmanager_urls: default_alertmanager_urls(),
            request_timeout_ms: default_request_timeout_ms(),
            resend_interval_ms: default_resend_interval_ms(),
            firing_lease_ms: default_firing_lease_ms(),
            retry_initial_backoff_ms: default_retry_initial_backoff_ms(),
            retry_max_backoff_ms: default_retry_max_backoff_ms(),
            max_alerts_per_request: default_max_alerts_per_request(),
            max_batch_records: default_max_batch_records(),
            group_id: default_group_id(),
            state_topic: default_state_topic(),
            forget_resolved_after_hours: default_forget_resolved_after_hours(),
            tls_ca_file: None,
            basic_auth_username: None,
            basic_auth_password: Secret::default(),
            bearer_token: Secret::default(),
            link_template: String::new(),
            listen: default_listen(),
        }
    }
}

/// The placeholders a link template may use.
pub const LINK_PLACEHOLDERS: [&str; 4] = ["borrower_id", "loan_id", "alert_id", "escalation_id"];

impl NotifyConfig {
    /// The listen address (validated at load).
    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.parse().ok()
    }

    /// Adds every impossible value to `p`.
    pub fn validate(&self, p: &mut Problems) {
        if self.alertmanager_urls.is_empty() {
            p.push("notify.alertmanager_urls", "must list at least one URL");
        }
        for url in &self.alertmanager_urls {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && reqwest::Url::parse(url).is_ok_and(|u| u.host_str().is_some());
            if !ok {
                p.push(
                    "notify.alertmanager_urls",
                    format!("{url:?} is not an http:// or https:// URL with a host"),
                );
            }
        }
        for (name, value) in [
            ("notify.request_timeout_ms", self.request_timeout_ms),
            ("notify.resend_interval_ms", self.resend_interval_ms),
            (
                "notify.retry_initial_backoff_ms",
                self.retry_initial_backoff_ms,
            ),
            (
                "notify.max_alerts_per_request",
                self.max_alerts_per_request as u64,
            ),
            ("notify.max_batch_records", self.max_batch_records as u64),
            (
                "notify.forget_resolved_after_hours",
                u64::from(self.forget_resolved_after_hours),
            ),
        ] {
            if value == 0 {
                p.push(name, "must be at least 1");
            }
        }
        if self.firing_lease_ms <= self.resend_interval_ms {
            p.push(
                "notify.firing_lease_ms",
                "must be longer than resend_interval_ms (else notices lapse between sends)",
            );
        }
        if self.retry_max_backoff_ms < self.retry_initial_backoff_ms {
            p.push(
                "notify.retry_max_backoff_ms",
                "must be at least retry_initial_backoff_ms",
            );
        }
        for (name, value) in [
            ("notify.group_id", &self.group_id),
            ("notify.state_topic", &self.state_topic),
        ] {
            if value.trim().is_empty() {
                p.push(name, "must not be empty");
            }
        }
        match (
            &self.basic_auth_username,
            self.basic_auth_password.is_empty(),
        ) {
            (None, false) => p.push(
                "notify.basic_auth_password",
                "is set without basic_auth_username",
            ),
            (Some(_), true) => p.push(
                "notify.basic_auth_username",
                "is set without basic_auth_password",
            ),
            _ => {}
        }
        if self.basic_auth_username.is_some() && !self.bearer_token.is_empty() {
            p.push(
                "notify.bearer_token",
                "cannot be used together with basic authentication",
            );
        }
        for name in placeholders(&self.link_template) {
            if !LINK_PLACEHOLDERS.contains(&name) {
                p.push(
                    "notify.link_template",
                    format!(
                        "unknown placeholder {{{name}}} (known: {})",
                        LINK_PLACEHOLDERS.map(|n| format!("{{{n}}}")).join(", ")
                    ),
                );
            }
        }
        if self.addr().is_none() {
            p.push(
                "notify.listen",
                format!(
                    "must be an IP address and port such as 127.0.0.1:9465, got {:?}",
                    self.listen
                ),
            );
        }
    }
}

/// The `{name}`s of a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}
