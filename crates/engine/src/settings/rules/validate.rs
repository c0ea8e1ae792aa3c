//! The checks of `[rules]`: thresholds rise with severity, steps rise, nothing negative.

use rust_decimal::Decimal;

use super::{Bands, RulesConfig, Step, Threshold};
use crate::settings::Problems;
use crate::types::Severity;

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
