//! `[rules]`: thresholds and severities of the nine signals.
//!
//! A signal's `severity` table maps each severity it can take to the threshold at which it
//! starts; the comparison (≥ or >) is the contract's for that signal and is stated on each
//! field. Thresholds must rise with severity.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Problems;
use crate::types::Severity;

/// A decimal threshold written as a TOML string (`"0.30"`, exact) or number (`0.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(pub Decimal);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Int(i) => i.to_string(),
            // The shortest round-trip text of the float is what the user wrote.
            Raw::Float(f) => f.to_string(),
            Raw::Text(s) => s,
        };
        crate::money::parse_decimal_string(&text)
            .or_else(|_| crate::money::parse_json_number(&text))
            .map(Threshold)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Threshold {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

/// Severity → threshold at which it starts.
pub type Bands<T> = BTreeMap<Severity, T>;

/// Thresholds and severities of every signal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Amount (in the loan's currency) by which paid may fall short of the cumulative due
    /// before an installment counts as unpaid. Default 1.00.
    #[serde(default = "default_arrears_tolerance")]
    pub arrears_tolerance: Threshold,
    /// Days past due.
    #[serde(default)]
    pub dpd: DpdRule,
    /// Failed debits since the last received payment.
    #[serde(default)]
    pub payment_failed: PaymentFailedRule,
    /// Latest income against the mean of the previous observations.
    #[serde(default)]
    pub income_drop: IncomeDropRule,
    /// Installments of open loans against the latest monthly income.
    #[serde(default)]
    pub payment_to_income: PaymentToIncomeRule,
    /// Outstanding principal against the latest collateral value.
    #[serde(default)]
    pub ltv: LtvRule,
    /// Latest valuation against the recent peak.
    #[serde(default)]
    pub collateral_drop: CollateralDropRule,
    /// Age of the latest income observation.
    #[serde(default)]
    pub stale_income: StaleIncomeRule,
    /// Age of the latest collateral valuation.
    #[serde(default)]
    pub stale_valuation: StaleValuationRule,
    /// Composite early-warning score.
    #[serde(default)]
    pub early_warning: EarlyWarningRule,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            arrears_tolerance: default_arrears_tolerance(),
            dpd: DpdRule::default(),
            payment_failed: PaymentFailedRule::default(),
            income_drop: IncomeDropRule::default(),
            payment_to_income: PaymentToIncomeRule::default(),
            ltv: LtvRule::default(),
            collateral_drop: CollateralDropRule::default(),
            stale_income: StaleIncomeRule::default(),
            stale_valuation: StaleValuationRule::default(),
            early_warning: EarlyWarningRule::default(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_arrears_tolerance() -> Threshold {
    dec(100, 2)
}

fn dec(mantissa: i64, scale: u32) -> Threshold {
    Threshold(Decimal::new(mantissa, scale))
}

/// `[rules.dpd]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DpdRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Severity → days past due at or above which it applies.
    /// Default `{ low = 1, medium = 7, high = 30, critical = 90 }`.
    #[serde(default = "default_dpd_bands")]
    pub severity: Bands<u32>,
}

fn default_dpd_bands() -> Bands<u32> {
    Bands::from([
        (Severity::Low, 1),
        (Severity::Medium, 7),
        (Severity::High, 30),
        (Severity::Critical, 90),
    ])
}

impl Default for DpdRule {
    fn default() -> Self {
        DpdRule {
            enabled: true,
            severity: default_dpd_bands(),
        }
    }
}

/// `[rules.payment_failed]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailedRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Severity → consecutive failures (since the last received payment) at or above which it
    /// applies. Default `{ medium = 1, high = 2 }`.
    #[serde(default = "default_failure_bands")]
    pub severity: Bands<u32>,
}

fn default_failure_bands() -> Bands<u32> {
    Bands::from([(Severity::Medium, 1), (Severity::High, 2)])
}

impl Default for PaymentFailedRule {
    fn default() -> Self {
        PaymentFailedRule {
            enabled: true,
            severity: default_failure_bands(),
        }
    }
}

/// `[rules.income_drop]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncomeDropRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// How many observations before the latest form the baseline mean. Default 6.
    #[serde(default = "default_income_window")]
    pub window_observations: u32,
    /// Fewest previous observations needed to judge a drop. Default 2.
    #[serde(default = "default_income_min_previous")]
    pub min_previous_observations: u32,
    /// Severity → drop ratio `(mean − latest) / mean` at or above which it applies.
    /// Default `{ medium = "0.30", high = "0.50" }`.
    #[serde(default = "default_income_drop_bands")]
    pub severity: Bands<Threshold>,
}

fn default_income_window() -> u32 {
    6
}

fn default_income_min_previous() -> u32 {
    2
}

fn default_income_drop_bands() -> Bands<Threshold> {
    Bands::from([(Severity::Medium, dec(30, 2)), (Severity::High, dec(50, 2))])
}

impl Default for IncomeDropRule {
    fn default() -> Self {
        IncomeDropRule {
            enabled: true,
            window_observations: default_income_window(),
            min_previous_observations: default_income_min_previous(),
            severity: default_income_drop_bands(),
        }
    }
}

/// `[rules.payment_to_income]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentToIncomeRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Severity → ratio (installments of open loans / latest monthly income) strictly above
    /// which it applies; income 0 counts as infinite. Default `{ medium = "0.5", high = "0.8" }`.
    #[serde(default = "default_pti_bands")]
    pub severity: Bands<Threshold>,
}

fn default_pti_bands() -> Bands<Threshold> {
    Bands::from([(Severity::Medium, dec(5, 1)), (Severity::High, dec(8, 1))])
}

impl Default for PaymentToIncomeRule {
    fn default() -> Self {
        PaymentToIncomeRule {
            enabled: true,
            severity: default_pti_bands(),
        }
    }
}

/// `[rules.ltv]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LtvRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Severity → LTV (outstanding principal / latest collateral value) at or above which it
    /// applies. Default `{ medium = "1.0", high = "1.2" }`.
    #[serde(default = "default_ltv_bands")]
    pub severity: Bands<Threshold>,
}

fn default_ltv_bands() -> Bands<Threshold> {
    Bands::from([(Severity::Medium, dec(10, 1)), (Severity::High, dec(12, 1))])
}

impl Default for LtvRule {
    fn default() -> Self {
        LtvRule {
            enabled: true,
            severity: default_ltv_bands(),
        }
    }
}

/// `[rules.collateral_drop]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CollateralDropRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Fires when the latest value is at most this share of the peak. Default "0.80".
    #[serde(default = "default_collateral_ratio")]
    pub max_ratio_of_peak: Threshold,
    /// The peak is the highest valuation this many days before the latest one (origination
    /// included, as the first valuation). Default 180.
    #[serde(default = "default_collateral_window")]
    pub window_days: u32,
    /// Severity of the alert. Default "medium".
    #[serde(default = "default_medium")]
    pub severity: Severity,
}

fn default_collateral_ratio() -> Threshold {
    dec(80, 2)
}

fn default_collateral_window() -> u32 {
    180
}

fn default_medium() -> Severity {
    Severity::Medium
}

impl Default for CollateralDropRule {
    fn default() -> Self {
        CollateralDropRule {
            enabled: true,
            max_ratio_of_peak: default_collateral_ratio(),
            window_days: default_collateral_window(),
            severity: default_medium(),
        }
    }
}

/// `[rules.stale_income]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaleIncomeRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Fires when business date − date of the latest income observation (or of the earliest
    /// open loan's opening when there is none) reaches this many days. Default 120.
    #[serde(default = "default_stale_income_days")]
    pub after_days: u32,
    /// Severity of the alert. Default "low".
    #[serde(default = "default_low")]
    pub severity: Severity,
}

fn default_stale_income_days() -> u32 {
    120
}

fn default_low() -> Severity {
    Severity::Low
}

impl Default for StaleIncomeRule {
    fn default() -> Self {
        StaleIncomeRule {
            enabled: true,
            after_days: default_stale_income_days(),
            severity: default_low(),
        }
    }
}

/// `[rules.stale_valuation]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaleValuationRule {
    /// Publish this signal. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Fires when business date − date of the latest valuation (origination counts) reaches
    /// this many days. Default 180.
    #[serde(default = "default_stale_valuation_days")]
    pub after_days: u32,
    /// Severity of the alert. Default "low".
    #[serde(default = "default_low")]
    pub severity: Severity,
}

fn default_stale_valuation_days() -> u32 {
    180
}

impl Default for StaleValuationRule {
    fn default() -> Self {
        StaleValuationRule {
            enabled: true,
            after_days: default_stale_valuation_days(),
            severity: default_low(),
        }
    }
}

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

/// Thresholds must be non-negative and rise strictly with severity.
fn check_bands<T: PartialOrd + std::fmt::Display>(
    path: &str,
    bands: &Bands<T>,
    zero: T,
    p: &mut Problems,
) {
    if bands.is_empty() {
        p.push(path, "needs at least one severity");
    }
    let mut prev: Option<(Severity, &T)> = None;
    for (sev, t) in bands {
        if *t < zero {
            p.push(path, format!("{sev} threshold {t} must not be negative"));
        }
        if let Some((psev, pt)) = prev {
            if t <= pt {
                p.push(
                    path,
                    format!("thresholds must rise with severity, but {sev} = {t} is not above {psev} = {pt}"),
                );
            }
        }
        prev = Some((*sev, t));
    }
}

fn check_steps<T: PartialOrd + std::fmt::Display>(
    path: &str,
    steps: &[Step<T>],
    zero: T,
    p: &mut Problems,
) {
    for pair in steps.windows(2) {
        if pair[1].at <= pair[0].at {
            p.push(
                path,
                format!(
                    "steps must be in rising order of `at`, but {} follows {}",
                    pair[1].at, pair[0].at
                ),
            );
        }
    }
    for s in steps {
        if s.at < zero {
            p.push(path, format!("step at {} must not be negative", s.at));
        }
    }
}

impl RulesConfig {
    /// Adds every impossible value to `p`.
    pub fn validate(&self, p: &mut Problems) {
        let zero = Threshold(Decimal::ZERO);
        let one = Threshold(Decimal::ONE);
        if self.arrears_tolerance < zero {
            p.push("rules.arrears_tolerance", "must not be negative");
        }
        check_bands("rules.dpd.severity", &self.dpd.severity, 0, p);
        if self.dpd.severity.iter().any(|(_, d)| *d == 0) {
            p.push(
                "rules.dpd.severity",
                "days past due thresholds start at 1 (0 means current)",
            );
        }
        check_bands(
            "rules.payment_failed.severity",
            &self.payment_failed.severity,
            0,
            p,
        );
        if self.payment_failed.severity.iter().any(|(_, n)| *n == 0) {
            p.push("rules.payment_failed.severity", "failure counts start at 1");
        }
        let ic = &self.income_drop;
        check_bands("rules.income_drop.severity", &ic.severity, zero, p);
        if ic.severity.values().any(|t| *t > one || t.0.is_zero()) {
            p.push(
                "rules.income_drop.severity",
                "drop ratios must be in (0, 1]",
            );
        }
        if ic.window_observations == 0 {
            p.push(
                "rules.income_drop.window_observations",
                "must be at least 1",
            );
        }
        if ic.min_previous_observations == 0
            || ic.min_previous_observations > ic.window_observations
        {
            p.push(
                "rules.income_drop.min_previous_observations",
                format!("must be 1–window_observations ({})", ic.window_observations),
            );
        }
        check_bands(
            "rules.payment_to_income.severity",
            &self.payment_to_income.severity,
            zero,
            p,
        );
        check_bands("rules.ltv.severity", &self.ltv.severity, zero, p);
        let cd = &self.collateral_drop;
        if cd.max_ratio_of_peak <= zero || cd.max_ratio_of_peak > one {
            p.push(
                "rules.collateral_drop.max_ratio_of_peak",
                "must be in (0, 1]",
            );
        }
        if cd.window_days == 0 {
            p.push("rules.collateral_drop.window_days", "must be at least 1");
        }
        for (path, days) in [
            (
                "rules.stale_income.after_days",
                self.stale_income.after_days,
            ),
            (
                "rules.stale_valuation.after_days",
                self.stale_valuation.after_days,
            ),
        ] {
            if days == 0 {
                p.push(path, "must be at least 1");
            }
        }
        let ew = &self.early_warning;
        check_bands("rules.early_warning.severity", &ew.severity, 0, p);
        if ew.severity.values().any(|s| *s > ew.cap) {
            p.push(
                "rules.early_warning.severity",
                format!("a threshold above cap {} can never be reached", ew.cap),
            );
        }
        check_steps("rules.early_warning.dpd_points", &ew.dpd_points, 0, p);
        check_steps(
            "rules.early_warning.failure_points",
            &ew.failure_points,
            0,
            p,
        );
        check_steps(
            "rules.early_warning.income_drop_points",
            &ew.income_drop_points,
            zero,
            p,
        );
        check_steps(
            "rules.early_warning.payment_to_income_points",
            &ew.payment_to_income_points,
            zero,
            p,
        );
        check_steps("rules.early_warning.ltv_points", &ew.ltv_points, zero, p);
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
