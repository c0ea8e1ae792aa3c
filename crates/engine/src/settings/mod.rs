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
    /// A DPD at which the engine notes every evaluation of a loan standing at or above it
    /// (`portfolio::Note::PastDue`; a backtest's outcome). `None` in a live run. Not
    /// part of `rules_version`: it adds a timer boundary and notes, never a message.
    pub watch_dpd: Option<u32>,
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
        let classification = Classification::default();
        let dpd_boundaries = Settings::boundaries(&rules, &classification, None);
        Settings {
            rules_version: version::rules_version(&rules, &escalation, tz).into(),
            tz,
            level1_after: hours(escalation.level1_after_hours),
            level2_after: hours(escalation.level2_after_hours),
            dpd_boundaries,
            classification,
            watch_dpd: None,
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
        self.dpd_boundaries =
            Settings::boundaries(&self.rules, &self.classification, self.watch_dpd);
        self
    }

    /// The same settings, noting every evaluation of a loan at or above `dpd` days past due
    /// (see [`Settings::watch_dpd`]). The day count becomes a timer boundary, so the first
    /// note of a loan that reaches it without an event is at the local midnight it does.
    pub fn watching_dpd(mut self, dpd: u32) -> Self {
        self.watch_dpd = Some(dpd);
        self.dpd_boundaries =
            Settings::boundaries(&self.rules, &self.classification, self.watch_dpd);
        self
    }

    fn boundaries(rules: &RulesConfig, classes: &Classification, watch: Option<u32>) -> Vec<u32> {
        let mut b: Vec<u32> = rules
            .dpd
            .severity
            .values()
            .copied()
            .chain(rules.early_warning.dpd_points.iter().map(|s| s.at))
            .chain(DpdBucket::BOUNDARIES)
            .chain(classes.starts())
            .chain(watch)
            .collect();
        b.retain(|d| *d > 0);
        b.sort_unstable();
        b.dedup();
        b
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
