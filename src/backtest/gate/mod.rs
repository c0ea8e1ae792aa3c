//! `--fail-if`: conditions on the comparison that fail a review pipeline (exit 3).
//!
//! Grammar (whitespace between tokens is ignored):
//!
//! ```text
//! conditions := condition ("," condition)*
//! condition  := [signal "."] metric op number
//! op         := ">" | ">=" | "<" | "<="
//! number     := a decimal, optionally signed ("10", "2.5", "-1")
//! ```
//!
//! A condition fires when the metric compares true; any firing condition fails the run. A
//! metric that is undefined for the data (a precision with nothing scored, a lead time with
//! nothing caught) fires nothing and is reported as undefined. Unknown metric or signal
//! names are errors, listed with the names that exist.

use std::fmt;

use super::compare::{increase_pct, Comparison};
use postloan_engine::types::Signal;

/// A figure `--fail-if` can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Episodes, candidate vs baseline, percent change.
    EpisodesIncreasePct,
    /// Escalation notices, percent change.
    EscalationsIncreasePct,
    /// Episodes only in the candidate.
    EpisodesAdded,
    /// Episodes only in the baseline.
    EpisodesRemoved,
    /// Matched episodes that differ.
    EpisodesChanged,
    /// Precision, baseline minus candidate, in percentage points.
    PrecisionDropPct,
    /// Recall, baseline minus candidate, in percentage points.
    RecallDropPct,
    /// Median lead time, baseline minus candidate, in days.
    LeadTimeDropDays,
    /// Median alerts needing contact per day, percent change (all signals only).
    WorkloadP50IncreasePct,
    /// Their 95th percentile, percent change (all signals only).
    WorkloadP95IncreasePct,
}

impl Metric {
    /// Every metric, in the order the help lists them.
    pub const ALL: [Metric; 10] = [
        Metric::EpisodesIncreasePct,
        Metric::EscalationsIncreasePct,
        Metric::EpisodesAdded,
        Metric::EpisodesRemoved,
        Metric::EpisodesChanged,
        Metric::PrecisionDropPct,
        Metric::RecallDropPct,
        Metric::LeadTimeDropDays,
        Metric::WorkloadP50IncreasePct,
        Metric::WorkloadP95IncreasePct,
    ];

    /// Its name in conditions.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::EpisodesIncreasePct => "episodes_increase_pct",
            Metric::EscalationsIncreasePct => "escalations_increase_pct",
            Metric::EpisodesAdded => "episodes_added",
            Metric::EpisodesRemoved => "episodes_removed",
            Metric::EpisodesChanged => "episodes_changed",
            Metric::PrecisionDropPct => "precision_drop_pct",
            Metric::RecallDropPct => "recall_drop_pct",
            Metric::LeadTimeDropDays => "lead_time_drop_days",
            Metric::WorkloadP50IncreasePct => "workload_p50_increase_pct",
            Metric::WorkloadP95IncreasePct => "workload_p95_increase_pct",
        }
    }

    fn per_signal(self) -> bool {
        !matches!(
            self,
            Metric::WorkloadP50IncreasePct | Metric::WorkloadP95IncreasePct
        )
    }

    /// Its value in `c` for `signal` (`None`: all signals); `None` when undefined.
    pub fn value(self, c: &Comparison, signal: Option<Signal>) -> Option<f64> {
        let (a, b, changes) = c.of(signal);
        let points = |x: Option<f64>, y: Option<f64>| Some((x? - y?) * 100.0);
        match self {
            Metric::EpisodesIncreasePct => Some(increase_pct(a.episodes, b.episodes)),
            Metric::EscalationsIncreasePct => Some(increase_pct(a.escalations, b.escalations)),
            Metric::EpisodesAdded => Some(changes.added as f64),
            Metric::EpisodesRemoved => Some(changes.removed as f64),
            Metric::EpisodesChanged => Some(changes.changed as f64),
            Metric::PrecisionDropPct => points(a.score.precision(), b.score.precision()),
            Metric::RecallDropPct => points(a.score.recall(), b.score.recall()),
            Metric::LeadTimeDropDays => {
                Some(a.score.median_lead_days()? - b.score.median_lead_days()?)
            }
            Metric::WorkloadP50IncreasePct => Some(increase_pct(
                c.baseline.workload_p50,
                c.candidate.workload_p50,
            )),
            Metric::WorkloadP95IncreasePct => Some(increase_pct(
                c.baseline.workload_p95,
                c.candidate.workload_p95,
            )),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }

    fn holds(self, x: f64, y: f64) -> bool {
        match self {
            Op::Gt => x > y,
            Op::Ge => x >= y,
            Op::Lt => x < y,
            Op::Le => x <= y,
        }
    }
}

/// One parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Restricted to one signal, or all.
    pub signal: Option<Signal>,
    /// The metric.
    pub metric: Metric,
    /// The operator.
    pub op: Op,
    /// The threshold.
    pub threshold: f64,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.signal {
            write!(f, "{}.", s.as_str())?;
        }
        write!(
            f,
            "{}{}{}",
            self.metric.as_str(),
            self.op.as_str(),
            self.threshold
        )
    }
}

/// Why a condition could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// Nothing between two commas, or an empty expression.
    #[error("--fail-if {expr:?}: an empty condition")]
    Empty {
        /// The expression.
        expr: String,
    },
    /// No operator.
    #[error("--fail-if {condition:?}: no operator (one of > >= < <=)")]
    NoOperator {
        /// The condition.
        condition: String,
    },
    /// An unknown metric name.
    #[error("--fail-if {condition:?}: unknown metric {name:?} (known: {known})")]
    UnknownMetric {
        /// The condition.
        condition: String,
        /// The name given.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// An unknown signal name.
    #[error("--fail-if {condition:?}: unknown signal {name:?} (known: {known})")]
    UnknownSignal {
        /// The condition.
        condition: String,
        /// The name given.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// A workload metric restricted to a signal.
    #[error("--fail-if {condition:?}: {metric} is for all signals only (drop the signal)")]
    NotPerSignal {
        /// The condition.
        condition: String,
        /// The metric.
        metric: &'static str,
    },
    /// The threshold is not a finite number.
    #[error("--fail-if {condition:?}: {value:?} is not a number")]
    Number {
        /// The condition.
        condition: String,
        /// The text.
        value: String,
    },
}

/// Parses one `--fail-if` expression (comma-separated conditions).
pub fn parse(expr: &str) -> Result<Vec<Condition>, GateError> {
    expr.split(',').map(|c| condition(expr, c)).collect()
}

fn condition(expr: &str, text: &str) -> Result<Condition, GateError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(GateError::Empty {
            expr: expr.to_owned(),
        });
    }
    let at = compact
        .find(['<', '>'])
        .ok_or_else(|| GateError::NoOperator {
            condition: compact.clone(),
        })?;
    let (lhs, rest) = compact.split_at(at);
    let (op, number) = match rest.strip_prefix(">=") {
        Some(n) => (Op::Ge, n),
        None => match rest.strip_prefix("<=") {
            Some(n) => (Op::Le, n),
            None => match rest.strip_prefix('>') {
                Some(n) => (Op::Gt, n),
                None => (Op::Lt, &rest[1..]),
            },
        },
    };
    let (signal, name) = match lhs.split_once('.') {
        Some((s, m)) => (Some(s), m),
        None => (None, lhs),
    };
    let metric = Metric::ALL
        .into_iter()
        .find(|m| m.as_str() == name)
        .ok_or_else(|| GateError::UnknownMetric {
            condition: compact.clone(),
            name: name.to_owned(),
            known: Metric::ALL.map(Metric::as_str).join(", "),
        })?;
    let signal = match signal {
        None => None,
        Some(s) => Some(
            Signal::ALL
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| GateError::UnknownSignal {
                    condition: compact.clone(),
                    name: s.to_owned(),
                    known: Signal::ALL.map(Signal::as_str).join(", "),
                })?,
        ),
    };
    if signal.is_some() && !metric.per_signal() {
        return Err(GateError::NotPerSignal {
            condition: compact.clone(),
            metric: metric.as_str(),
        });
    }
    let threshold = number
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && !number.contains(['e', 'E', 'i', 'n', 'N', 'I']))
        .ok_or_else(|| GateError::Number {
            condition: compact.clone(),
            value: number.to_owned(),
        })?;
    Ok(Condition {
        signal,
        metric,
        op,
        threshold,
    })
}

/// A condition checked against a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The condition.
    pub condition: Condition,
    /// The metric's value; `None` when undefined.
    pub value: Option<f64>,
    /// Whether it fired.
    pub fired: bool,
}

/// Checks every condition.
pub fn check(conditions: &[Condition], c: &Comparison) -> Vec<Checked> {
    conditions
        .iter()
        .map(|cond| {
            let value = cond.metric.value(c, cond.signal);
            Checked {
                condition: cond.clone(),
                value,
                fired: value.is_some_and(|v| cond.op.holds(v, cond.threshold)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
