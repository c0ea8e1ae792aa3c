//! `[rules.early_warning]`: the composite score's points tables and bands.

use serde::{Deserialize, Serialize};

use super::{dec, default_true, Bands, Threshold};
use crate::types::Severity;

/// One step of a points table: at or above (or, for PTI, strictly above) `at`, `points`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Step<T> {
    /// Where the step starts.
    pub at: T,
    /// Points from there on.
    pub points: u32,
}

fn step<T>(at: T, points: u32) -> Step<T> {
    Step { at, points }
}

/// `[rules.early_warning]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyWarningRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Severity → score at or above which it applies. Default `{ high = 50, critical = 75 }`.
    #[serde(default = "default_score_bands")]
    pub severity: Bands<u32>,
    /// Highest score. Default 100.
    #[serde(default = "default_score_cap")]
    pub cap: u32,
    /// Points by the worst loan's days past due (at or above `at`).
    /// Default 1:10, 7:20, 30:35, 60:45, 90:60.
    #[serde(default = "default_dpd_points")]
    pub dpd_points: Vec<Step<u32>>,
    /// Points by the worst loan's consecutive failures (at or above `at`). Default 1:10, 2:20.
    #[serde(default = "default_failure_points")]
    pub failure_points: Vec<Step<u32>>,
    /// Points by income drop ratio (at or above `at`). Default 0.30:15, 0.50:25.
    #[serde(default = "default_income_drop_points")]
    pub income_drop_points: Vec<Step<Threshold>>,
    /// Points by payment-to-income (strictly above `at`). Default 0.5:10, 0.8:20.
    #[serde(default = "default_pti_points")]
    pub payment_to_income_points: Vec<Step<Threshold>>,
    /// Points by the worst loan's LTV (at or above `at`). Default 1.0:10, 1.2:20.
    #[serde(default = "default_ltv_points")]
    pub ltv_points: Vec<Step<Threshold>>,
    /// Points when any open loan shows a collateral drop (as `[rules.collateral_drop]`
    /// defines it, whether or not that signal is published). Default 5.
    #[serde(default = "default_collateral_drop_points")]
    pub collateral_drop_points: u32,
}

fn default_score_bands() -> Bands<u32> {
    Bands::from([(Severity::High, 50), (Severity::Critical, 75)])
}

fn default_score_cap() -> u32 {
    100
}

fn default_dpd_points() -> Vec<Step<u32>> {
    vec![
        step(1, 10),
        step(7, 20),
        step(30, 35),
        step(60, 45),
        step(90, 60),
    ]
}

fn default_failure_points() -> Vec<Step<u32>> {
    vec![step(1, 10), step(2, 20)]
}

fn default_income_drop_points() -> Vec<Step<Threshold>> {
    vec![step(dec(30, 2), 15), step(dec(50, 2), 25)]
}

fn default_pti_points() -> Vec<Step<Threshold>> {
    vec![step(dec(5, 1), 10), step(dec(8, 1), 20)]
}

fn default_ltv_points() -> Vec<Step<Threshold>> {
    vec![step(dec(10, 1), 10), step(dec(12, 1), 20)]
}

fn default_collateral_drop_points() -> u32 {
    5
}

impl Default for EarlyWarningRule {
    fn default() -> Self {
        EarlyWarningRule {
            enabled: true,
            severity: default_score_bands(),
            cap: default_score_cap(),
            dpd_points: default_dpd_points(),
            failure_points: default_failure_points(),
            income_drop_points: default_income_drop_points(),
            payment_to_income_points: default_pti_points(),
            ltv_points: default_ltv_points(),
            collateral_drop_points: default_collateral_drop_points(),
        }
    }
}
