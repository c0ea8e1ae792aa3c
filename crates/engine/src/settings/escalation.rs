//! `[escalation]`: when unacknowledged serious alerts reach managers.

use serde::{Deserialize, Serialize};

use super::Problems;
use crate::types::Severity;

/// Escalation policy: two levels, each sent at most once per alert.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// Publish escalations at all. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// An alert counts toward escalation while at or above this severity. Default "high".
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// Hours at or above `min_severity` (unacknowledged, counted from the instant the alert
    /// last reached it) before level 1. Default 24.
    #[serde(default = "default_level1_after_hours")]
    pub level1_after_hours: u32,
    /// Who level 1 notifies. Default "team_lead".
    #[serde(default = "default_level1_notify")]
    pub level1_notify: String,
    /// Hours, counted from the same instant, before level 2. Default 72.
    #[serde(default = "default_level2_after_hours")]
    pub level2_after_hours: u32,
    /// Who level 2 notifies. Default "risk_head".
    #[serde(default = "default_level2_notify")]
    pub level2_notify: String,
    /// An alert at or above this severity gets level 2 at once (level 1 is then never sent).
    /// Default "critical".
    #[serde(default = "default_immediate")]
    pub immediate_level2_severity: Severity,
}

fn default_true() -> bool {
    true
}

fn default_min_severity() -> Severity {
    Severity::High
}

fn default_level1_after_hours() -> u32 {
    24
}

fn default_level1_notify() -> String {
    "team_lead".to_owned()
}

fn default_level2_after_hours() -> u32 {
    72
}

fn default_level2_notify() -> String {
    "risk_head".to_owned()
}

fn default_immediate() -> Severity {
    Severity::Critical
}

impl Default for EscalationConfig {
    fn default() -> Self {
        EscalationConfig {
            enabled: true,
            min_severity: default_min_severity(),
            level1_after_hours: default_level1_after_hours(),
            level1_notify: default_level1_notify(),
            level2_after_hours: default_level2_after_hours(),
            level2_notify: default_level2_notify(),
            immediate_level2_severity: default_immediate(),
        }
    }
}

impl EscalationConfig {
    /// Adds every impossible value to `p`.
    pub fn validate(&self, p: &mut Problems) {
        if self.level1_after_hours == 0 {
            p.push("escalation.level1_after_hours", "must be at least 1");
        }
        if self.level2_after_hours <= self.level1_after_hours {
            p.push(
                "escalation.level2_after_hours",
                format!(
                    "must be above level1_after_hours ({}), got {}",
                    self.level1_after_hours, self.level2_after_hours
                ),
            );
        }
        if self.immediate_level2_severity < self.min_severity {
            p.push(
                "escalation.immediate_level2_severity",
                format!("must be at or above min_severity ({})", self.min_severity),
            );
        }
        for (path, v) in [
            ("escalation.level1_notify", &self.level1_notify),
            ("escalation.level2_notify", &self.level2_notify),
        ] {
            if v.trim().is_empty() {
                p.push(path, "must not be empty");
            }
        }
    }
}
