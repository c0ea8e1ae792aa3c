//! Configuration: `config/monitor.toml`, parsed into serde structs that refuse unknown keys,
//! then validated. Loading reports every problem at once (unknown keys, wrong types and
//! impossible values), so an operator fixes a file in one round.
//!
//! The doc comment on each field is the configuration reference; `config/monitor.toml`
//! shows every default.

mod env;
pub mod kafka;
pub mod notify;

// The engine's own sections: their types, defaults and checks live with the engine.
pub use postloan_engine::settings::{escalation, limits, rules};
pub use postloan_engine::settings::{Problem, Problems};

use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use kafka::{KafkaConfig, ProcessingGuarantee, Secret, Topics};
pub use notify::NotifyConfig;
pub use postloan_engine::settings::{
    ClassificationConfig, EscalationConfig, LimitsConfig, RulesConfig,
};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The monitor's clock.
    #[serde(default)]
    pub clock: ClockConfig,
    /// Signal thresholds and severities.
    #[serde(default)]
    pub rules: RulesConfig,
    /// Escalation policy.
    #[serde(default)]
    pub escalation: EscalationConfig,
    /// Kafka connection, topics and processing guarantee (used by `run`, `produce`, `demo`).
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// The HTTP endpoint for metrics, health and readiness (used by `run` and `demo`).
    #[serde(default)]
    pub http: HttpConfig,
    /// Caps on message sizes and on what the engine remembers.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The five-category loan classification behind the NPL figures (metrics and `report`).
    #[serde(default)]
    pub classification: ClassificationConfig,
    /// Escalation notices to Alertmanager (used by `notify`).
    #[serde(default)]
    pub notify: NotifyConfig,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` serving `/metrics`, `/healthz` and `/readyz`. Default "127.0.0.1:9464"
    /// (loopback: expose it deliberately, e.g. "0.0.0.0:9464" in a container).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Distinct `branch` values, and separately `dealer` and `manager` values, the portfolio
    /// metrics carry; loans of further branches, dealers or managers are counted under `other`. Keeps the number of
    /// series bounded whatever the producers send. Default 500.
    #[serde(default = "default_max_label_values")]
    pub max_label_values: usize,
}

fn default_listen() -> String {
    "127.0.0.1:9464".to_owned()
}

fn default_max_label_values() -> usize {
    500
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            max_label_values: default_max_label_values(),
        }
    }
}

impl HttpConfig {
    /// The listen address (validated at load).
    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.parse().ok()
    }
}

/// Where the live monitor's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The wall clock, advanced on a timer even without traffic (production).
    Wall,
    /// Stream time: the largest `occurred_at` applied per task (backfills, reprocessing, demos).
    Event,
}

/// `[clock]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// `wall` (default) or `event`. Replay always uses the event clock.
    #[serde(default = "default_clock_mode")]
    pub mode: ClockSource,
    /// With the wall clock, how often every owned partition's clock is advanced. Default 1000 ms.
    #[serde(default = "default_tick_interval_ms")]
    pub tick_interval_ms: u64,
    /// IANA time zone of business dates (DPD and staleness count days in it).
    /// Default "Asia/Shanghai".
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// With the wall clock, an event whose `occurred_at` is further ahead than this is rejected
    /// (`implausible_time`). Default 300000 (5 min): producers' clocks drift by seconds and a
    /// batch may be stamped a little ahead. (The event clock judges clock jumps by the events
    /// that follow instead: `[limits] max_clock_jump_days`.)
    #[serde(default = "default_max_future_skew_ms")]
    pub max_future_skew_ms: u64,
}

fn default_clock_mode() -> ClockSource {
    ClockSource::Wall
}

fn default_tick_interval_ms() -> u64 {
    1000
}

fn default_time_zone() -> String {
    "Asia/Shanghai".to_owned()
}

fn default_max_future_skew_ms() -> u64 {
    300_000
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            mode: default_clock_mode(),
            tick_interval_ms: default_tick_interval_ms(),
            time_zone: default_time_zone(),
            max_future_skew_ms: default_max_future_skew_ms(),
        }
    }
}

impl ClockConfig {
    /// The parsed zone (validated at load).
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::Asia__Shanghai)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was read but has problems; all of them are listed.
    #[error("invalid configuration ({} problem{}):\n{problems}", problems.0.len(), if problems.0.len() == 1 { "" } else { "s" })]
    Invalid {
        /// Every problem found.
        problems: Problems,
    },
}

impl Config {
    /// Loads the configuration a command runs with: the file (or the built-in defaults), then
    /// `POSTLOAN__SECTION__KEY=value` overrides from `env` (e.g.
    /// `POSTLOAN__KAFKA__BOOTSTRAP_SERVERS`), then validation.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        Config::from_toml_with_env(&text, env)
    }

    /// Reads and validates a file (no environment overrides).
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        Config::load(Some(path), std::iter::empty())
    }

    /// Parses and validates TOML text, collecting every problem.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_with_env(text, std::iter::empty())
    }

    /// Parses TOML text, applies environment overrides and validates, collecting every problem.
    pub fn from_toml_with_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut problems = Problems::default();
        let mut value: toml::Value = match toml::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                problems.push("", format!("not valid TOML: {}", e.message()));
                return Err(ConfigError::Invalid { problems });
            }
        };
        env::apply(&mut value, env, &mut problems);
        // serde stops at the first error; to report them all, record it, drop the offending
        // key (so its default applies) and try again. Each round removes one key.
        let config = loop {
            match serde_path_to_error::deserialize::<_, Config>(value.clone()) {
                Ok(c) => break Some(c),
                Err(e) => {
                    let path = e.path().to_string();
                    // toml appends "in `path`" on later lines; the path is already reported.
                    let inner = e.inner().to_string();
                    let message = inner.lines().next().unwrap_or_default().trim().to_owned();
                    let path = path.trim_end_matches(".?");
                    problems.push(if path == "." { "" } else { path }, message);
                    if !remove_path(&mut value, e.path()) {
                        break None;
                    }
                }
            }
        };
        if let Some(c) = &config {
            c.validate(&mut problems);
        }
        match config {
            Some(c) if problems.0.is_empty() => Ok(c),
            _ => Err(ConfigError::Invalid { problems }),
        }
    }

    /// Adds every impossible value to `p`.
    pub fn validate(&self, p: &mut Problems) {
        if self.clock.time_zone.parse::<Tz>().is_err() {
            p.push(
                "clock.time_zone",
                format!("{:?} is not an IANA time zone name", self.clock.time_zone),
            );
        }
        if self.clock.tick_interval_ms == 0 {
            p.push("clock.tick_interval_ms", "must be at least 1");
        }
        postloan_engine::settings::validate(&self.rules, &self.escalation, &self.limits, p);
        self.classification.validate(p);
        self.kafka.validate(p);
        if self.http.addr().is_none() {
            p.push(
                "http.listen",
                format!(
                    "must be an IP address and port such as 127.0.0.1:9464, got {:?}",
                    self.http.listen
                ),
            );
        }
        if self.http.max_label_values == 0 {
            p.push("http.max_label_values", "must be at least 1");
        }
        self.notify.validate(p);
    }
}

impl Config {
    /// The engine's settings: its four sections and the business time zone.
    pub fn engine_settings(&self) -> postloan_engine::Settings {
        postloan_engine::Settings::new(
            self.rules.clone(),
            self.escalation.clone(),
            self.limits.clone(),
            self.clock.tz(),
        )
        .with_classification(&self.classification)
    }
}

/// Removes the value at `path`; false when there is nothing to remove.
fn remove_path(value: &mut toml::Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let mut segments: Vec<&Segment> = path.iter().collect();
    // An unknown map key (e.g. a misspelt severity) has no name in the path: drop its table.
    while matches!(segments.last(), Some(Segment::Unknown)) {
        segments.pop();
    }
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut cur = value;
    for seg in parents {
        cur = match (seg, cur) {
            (Segment::Map { key }, toml::Value::Table(t)) => match t.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Seq { index }, toml::Value::Array(a)) => match a.get_mut(*index) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        (Segment::Map { key }, toml::Value::Table(t)) => t.remove(key).is_some(),
        (Segment::Seq { index }, toml::Value::Array(a)) if *index < a.len() => {
            a.remove(*index);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
