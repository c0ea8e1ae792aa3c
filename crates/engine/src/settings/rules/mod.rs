//! `[rules]`: thresholds and severities of the nine signals.
//!
//! A signal's `severity` table maps each severity it can take to the threshold at which it
//! starts; the comparison (≥ or >) is the contract's for that signal and is stated on each
//! field. Thresholds must rise with severity.

mod early_warning;
mod validate;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::types::Severity;
pub use early_warning::{EarlyWarningRule, Step};

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

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
