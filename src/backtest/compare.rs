//! The two runs' figures side by side, per signal and in total.

use chrono::{DateTime, Duration, Utc};

use super::episodes::{matched, Change};
use super::outcome::{Score, Scorer};
use super::{Options, Side};
use postloan_engine::event::EventType;
use postloan_engine::types::Signal;

const SIGNALS: usize = Signal::ALL.len();

/// One run's figures for one signal, or for all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Alert episodes.
    pub episodes: u64,
    /// Escalation notices.
    pub escalations: u64,
    /// Scored against the outcomes.
    pub score: Score,
}

/// One run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SideFigures {
    /// By signal ([`Signal::index`]).
    pub per_signal: [Figures; SIGNALS],
    /// All signals.
    pub total: Figures,
    /// Median alerts needing contact per business date.
    pub workload_p50: u64,
    /// Their 95th percentile.
    pub workload_p95: u64,
}

/// How the candidate's episodes differ from the baseline's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Only in the candidate.
    pub added: u64,
    /// Only in the baseline.
    pub removed: u64,
    /// Matched, with a different first-fire time, peak severity or escalation level.
    pub changed: u64,
    /// Matched and the same.
    pub same: u64,
}

impl Changes {
    fn add(&mut self, c: &Change<'_>) {
        match c {
            Change::Added(_) => self.added += 1,
            Change::Removed(_) => self.removed += 1,
            Change::Changed(..) => self.changed += 1,
            Change::Same(..) => self.same += 1,
        }
    }
}

/// Both runs compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Loans opened in the book (the denominator of the per-1,000 rates).
    pub loans: u64,
    /// Loans that defaulted (by the baseline's engine).
    pub outcomes: u64,
    /// Whether the candidate's engine measured different defaults (it counts DPD
    /// differently: another arrears tolerance or time zone); the baseline's are used.
    pub outcomes_differ: bool,
    /// The outcome definition and horizon used.
    pub outcome_dpd: u32,
    /// The horizon.
    pub horizon: Duration,
    /// The end of the data (the later clock of the two runs; they agree).
    pub end: DateTime<Utc>,
    /// The baseline's figures.
    pub baseline: SideFigures,
    /// The candidate's figures.
    pub candidate: SideFigures,
    /// Episode changes by signal.
    pub changes: [Changes; SIGNALS],
    /// Episode changes in total.
    pub total_changes: Changes,
}

fn side_figures(side: &Side, scorer: &Scorer<'_>) -> SideFigures {
    let (scores, total_score) = scorer.score(&side.episodes);
    let mut per_signal: [Figures; SIGNALS] = Default::default();
    for (i, score) in scores.into_iter().enumerate() {
        per_signal[i].score = score;
        per_signal[i].escalations = side.escalations[i];
    }
    for e in side.episodes.iter() {
        per_signal[e.slot.signal.index()].episodes += 1;
    }
    let total = Figures {
        episodes: per_signal.iter().map(|f| f.episodes).sum(),
        escalations: per_signal.iter().map(|f| f.escalations).sum(),
        score: total_score,
    };
    SideFigures {
        per_signal,
        total,
        workload_p50: side.workload.percentile(50),
        workload_p95: side.workload.percentile(95),
    }
}

impl Comparison {
    /// Compares the runs; both are scored against the baseline's outcomes.
    pub fn new(a: &Side, b: &Side, opts: &Options) -> Self {
        let end = a.summary.clock.max(b.summary.clock).unwrap_or_default();
        let scorer = Scorer::new(&a.outcomes, opts.horizon, end);
        let mut changes = [Changes::default(); SIGNALS];
        let mut total_changes = Changes::default();
        for c in matched(&a.episodes, &b.episodes) {
            let signal = match &c {
                Change::Added(e)
                | Change::Removed(e)
                | Change::Changed(e, _)
                | Change::Same(e, _) => e.slot.signal,
            };
            changes[signal.index()].add(&c);
            total_changes.add(&c);
        }
        Comparison {
            loans: a
                .summary
                .applied
                .get(&EventType::LoanOpened)
                .copied()
                .unwrap_or(0),
            outcomes: a.outcomes.len() as u64,
            outcomes_differ: a.outcomes != b.outcomes,
            outcome_dpd: opts.outcome_dpd,
            horizon: opts.horizon,
            end,
            baseline: side_figures(a, &scorer),
            candidate: side_figures(b, &scorer),
            changes,
            total_changes,
        }
    }

    /// `n` per 1,000 loans opened (`None` for an empty book).
    pub fn per_thousand(&self, n: u64) -> Option<f64> {
        (self.loans > 0).then(|| n as f64 * 1000.0 / self.loans as f64)
    }

    /// Both sides' figures for `signal` (`None`: all signals) and its changes.
    pub fn of(&self, signal: Option<Signal>) -> (&Figures, &Figures, &Changes) {
        match signal {
            Some(s) => (
                &self.baseline.per_signal[s.index()],
                &self.candidate.per_signal[s.index()],
                &self.changes[s.index()],
            ),
            None => (
                &self.baseline.total,
                &self.candidate.total,
                &self.total_changes,
            ),
        }
    }
}

/// The change from `a` to `b` in percent of `a`: 0 when both are 0, infinite when only `a`
/// is.
pub fn increase_pct(a: u64, b: u64) -> f64 {
    match (a, b) {
        (0, 0) => 0.0,
        (0, _) => f64::INFINITY,
        _ => (b as f64 - a as f64) * 100.0 / a as f64,
    }
}
