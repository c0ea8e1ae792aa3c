//! Backtesting a rule change (`postloan-monitor backtest`): the same events through a
//! baseline and a candidate configuration, in parallel, with the engine `replay` runs; their
//! alert episodes matched, counted, scored against the loans' outcomes and compared.
//!
//! Parts:
//! - `episodes` — an alert from firing to resolved, and how two runs' episodes match;
//! - `side` — one run (the replay's visitor), collecting episodes, escalations, workload and
//!   outcomes;
//! - `outcome` — loans' first defaults and the episodes' scores against them;
//! - `workload` — alerts needing a collector's contact per business date;
//! - `compare` — the two runs' figures side by side, per signal and in total;
//! - `gate` — `--fail-if` conditions;
//! - `diff` — the `diff.jsonl` lines;
//! - `page` — the HTML page, through the report's renderer;
//! - `text` — the terminal table.

pub mod compare;
pub mod diff;
pub mod episodes;
pub mod gate;
pub mod outcome;
pub mod page;
pub mod side;
pub mod text;
pub mod workload;

use std::io::BufReader;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};

use crate::replay::ReadError;
use postloan_engine::types::Severity;
use postloan_engine::Settings;

pub use compare::Comparison;
pub use side::Side;

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The input could not be opened or read (the file itself, not a bad line).
    #[error("cannot read input {name}: {source}")]
    Read {
        /// Input name.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The engine published an alert whose instant does not parse (a bug, never input).
    #[error(transparent)]
    Episode(#[from] episodes::EpisodeError),
    /// A side's thread panicked (a bug).
    #[error("the {0} run failed unexpectedly")]
    Panicked(&'static str),
}

impl From<ReadError> for BacktestError {
    fn from(e: ReadError) -> Self {
        BacktestError::Read {
            name: e.name,
            source: e.source,
        }
    }
}

/// What to compare, and how to score it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration in force (A).
    pub baseline: Arc<Settings>,
    /// The proposed one (B).
    pub candidate: Arc<Settings>,
    /// After the last line, advance both clocks here.
    pub until: Option<DateTime<Utc>>,
    /// A loan defaults when its DPD reaches this.
    pub outcome_dpd: u32,
    /// How long after an episode opens a default counts for it.
    pub horizon: Duration,
    /// The lowest severity that needs a collector's contact.
    pub contact_severity: Severity,
}

/// Both runs and their comparison.
#[derive(Debug)]
pub struct Backtest {
    /// The baseline's run.
    pub baseline: Side,
    /// The candidate's run.
    pub candidate: Side,
    /// The figures side by side.
    pub comparison: Comparison,
    /// Wall time of both runs.
    pub elapsed: StdDuration,
}

/// Runs both configurations over the file at `path` (read once by each run, in parallel)
/// and compares them. `on_progress` gets the bytes the slower run has read, about ten times
/// a second.
pub fn backtest(
    opts: &Options,
    path: &Path,
    name: &str,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Backtest, BacktestError> {
    let started = Instant::now();
    let progress = [AtomicU64::new(0), AtomicU64::new(0)];
    // The outcome is a timer boundary and notes in both engines; neither changes a message.
    let run = |s: &Arc<Settings>, progress| side::Run {
        settings: Arc::new((**s).clone().watching_dpd(opts.outcome_dpd)),
        name,
        until: opts.until,
        contact_severity: opts.contact_severity,
        progress,
    };
    let runs = [
        run(&opts.baseline, &progress[0]),
        run(&opts.candidate, &progress[1]),
    ];
    let open = || {
        std::fs::File::open(path)
            .map(|f| BufReader::with_capacity(1 << 20, f))
            .map_err(|source| BacktestError::Read {
                name: name.to_owned(),
                source,
            })
    };
    let (mut a_in, mut b_in) = (open()?, open()?);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| side::run(&runs[0], &mut a_in));
        let b = scope.spawn(|| side::run(&runs[1], &mut b_in));
        while !(a.is_finished() && b.is_finished()) {
            let slower = progress
                .iter()
                .map(|p| p.load(std::sync::atomic::Ordering::Relaxed))
                .min()
                .unwrap_or(0);
            on_progress(slower);
            std::thread::sleep(StdDuration::from_millis(100));
        }
        (
            a.join().map_err(|_| BacktestError::Panicked("baseline")),
            b.join().map_err(|_| BacktestError::Panicked("candidate")),
        )
    });
    let (baseline, candidate) = (a??, b??);
    let comparison = Comparison::new(&baseline, &candidate, opts);
    Ok(Backtest {
        baseline,
        candidate,
        comparison,
        elapsed: started.elapsed(),
    })
}
