//! What the engine is configured with: the serde structs of the `[rules]`, `[escalation]`,
//! `[limits]` and `[classification]` sections (refusing unknown keys; their doc comments are the configuration
//! reference), their validation, and [`Settings`], the parsed form the engine runs on.
//!
//! The application's configuration file embeds these sections; the engine never sees the rest
//! of it (Kafka, HTTP, the live clock's source).

pub mod classification;
pub mod escalation;
pub mod limits;
mod problems;
pub mod rules;
pub mod version;

use chrono::Duration;
use chrono_tz::Tz;

pub use classification::{Classification, ClassificationConfig};
pub use escalation::EscalationConfig;
pub use limits::LimitsConfig;
pub use problems::{Problem, Problems};
pub use rules::RulesConfig;

use crate::bands::DpdBucket;
use crate::time::hours;

/// Adds every impossible value of the three engine sections to `p`, including the one that
/// spans two sections (the history cap must cover the consecutive-failure thresholds).
pub fn validate(
    rules: &RulesConfig,
    escalation: &EscalationConfig,
    limits: &LimitsConfig,
    p: &mut Problems,
) {
    rules.validate(p);
    escalation.validate(p);
    let max_failures = rules
        .payment_failed
        .severity
        .values()
        .chain(rules.early_warning.failure_points.iter().map(|s| &s.at))
        .copied()
        .max()
        .unwrap_or(1);
    limits.validate(max_failures, p);
}

/// Settings the engine runs with, derived from validated sections.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Signal rules.
    pub rules: RulesConfig,
    /// Escalation policy.
    pub escalation: EscalationConfig,
    /// Business time zone.
    pub tz: Tz,
    /// Delay to level 1.
    pub level1_after: Duration,
    /// Delay to level 2.
    pub level2_after: Duration,
    /// Day counts at which a loan's DPD band, score points, portfolio bucket or class can
    /// change.
    pub dpd_boundaries: Vec<u32>,
    /// The five-category classification's DPD bands. Not part of `rules_version`: it changes
    /// figures, never a published message.
    pub classification: Classification,
    /// Caps on message sizes and on what is remembered.
    pub limits: LimitsConfig,
    /// How long a borrower with no open loan is kept after its last event.
    pub forget_after: Duration,
    /// The fingerprint of the rules, escalation policy and time zone stamped on every alert
    /// and escalation ([`version`]).
    pub rules_version: std::sync::Arc<str>,
}

impl Settings {
    /// Settings from validated sections (see [`validate`]) and the business time zone.
    pub fn new(
        rules: RulesConfig,
        escalation: EscalationConfig,
        limits: LimitsConfig,
        tz: Tz,
    ) -> Self {
        let mut dpd_boundaries = Settings::rule_boundaries(&rules);
        dpd_boundaries.extend(Classification::default().starts());
        Settings::finish_boundaries(&mut dpd_boundaries);
        Settings {
            rules_version: version::rules_version(&rules, &escalation, tz).into(),
            tz,
            level1_after: hours(escalation.level1_after_hours),
            level2_after: hours(escalation.level2_after_hours),
            dpd_boundaries,
            classification: Classification::default(),
            forget_after: Duration::days(i64::from(
                limits.forget_borrowers_without_loans_after_days,
            )),
            rules,
            escalation,
            limits,
        }
    }
}

impl Settings {
    /// The same settings with the classification of `c` (validated).
    pub fn with_classification(mut self, c: &ClassificationConfig) -> Self {
        self.classification = Classification::new(c);
        let mut b = Settings::rule_boundaries(&self.rules);
        b.extend(self.classification.starts());
        Settings::finish_boundaries(&mut b);
        self.dpd_boundaries = b;
        self
    }

    fn rule_boundaries(rules: &RulesConfig) -> Vec<u32> {
        rules
            .dpd
            .severity
            .values()
            .copied()
            .chain(rules.early_warning.dpd_points.iter().map(|s| s.at))
            .chain(DpdBucket::BOUNDARIES)
            .collect()
    }

    fn finish_boundaries(b: &mut Vec<u32>) {
        b.retain(|d| *d > 0);
        b.sort_unstable();
        b.dedup();
    }
}

impl Default for Settings {
    /// The defaults of every section, in the default business zone (Asia/Shanghai).
    fn default() -> Self {
        Settings::new(
            RulesConfig::default(),
            EscalationConfig::default(),
            LimitsConfig::default(),
            Tz::Asia__Shanghai,
        )
    }
}
