//! One side of a backtest: the engine over the input with the event clock, exactly as
//! `replay` runs it (the same driver), with what the comparison needs collected from its
//! messages and notes.

use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::episodes::Episodes;
use super::outcome::Outcomes;
use super::workload::{Daily, Workload};
use super::BacktestError;
use crate::replay::{drive, BadLine, Summary, Visitor};
use postloan_engine::output::Output;
use postloan_engine::portfolio::Note;
use postloan_engine::types::{Severity, Signal};
use postloan_engine::{Engine, Outcome, Settings};

/// What one run produced.
#[derive(Debug)]
pub struct Side {
    /// Its alert episodes.
    pub episodes: Episodes,
    /// Escalation notices by signal ([`Signal::index`]).
    pub escalations: [u64; Signal::ALL.len()],
    /// Alerts needing contact per business date.
    pub workload: Daily,
    /// The loans' first defaults as this run's engine measured them.
    pub outcomes: Outcomes,
    /// The replay summary (lines, events, rejections, messages, fingerprint).
    pub summary: Summary,
    /// The first rejected lines.
    pub bad_lines: Vec<BadLine>,
    /// The clock after the first input (the start of the data).
    pub start: Option<DateTime<Utc>>,
}

/// What a side is run with.
pub struct Run<'a> {
    /// The engine settings (with the outcome watch set).
    pub settings: Arc<Settings>,
    /// Names the input in rejection sources.
    pub name: &'a str,
    /// After the last line, advance the clock here.
    pub until: Option<DateTime<Utc>>,
    /// The lowest severity that needs a collector's contact.
    pub contact_severity: Severity,
    /// Bytes read so far, for a progress bar.
    pub progress: &'a AtomicU64,
}

/// The replay's visitor: what one side collects.
struct Collect {
    episodes: Episodes,
    escalations: [u64; Signal::ALL.len()],
    workload: Workload,
    outcomes: Outcomes,
    start: Option<DateTime<Utc>>,
}

impl Visitor for Collect {
    type Error = BacktestError;
    const NOTES: bool = true;

    fn message(&mut self, m: &Output, _json: &[u8]) -> Result<(), BacktestError> {
        self.episodes.observe(m)?;
        match m {
            Output::Alert(a) => {
                let at = super::episodes::instant(&a.alert_id, &a.event_time)?;
                self.workload.observe(m, at);
            }
            Output::Escalation(e) => self.escalations[e.signal.index()] += 1,
            Output::Rejected(_) => {}
        }
        Ok(())
    }

    fn note(&mut self, note: &Note, clock: Option<DateTime<Utc>>) {
        self.outcomes.note(note, clock);
    }

    fn input(&mut self, _outcome: Outcome, engine: &Engine) {
        self.start = self.start.or(engine.clock());
    }
}

/// Runs one side over `input`.
pub fn run(run: &Run<'_>, input: &mut dyn BufRead) -> Result<Side, BacktestError> {
    let mut c = Collect {
        episodes: Episodes::default(),
        escalations: [0; Signal::ALL.len()],
        workload: Workload::new(run.settings.tz, run.contact_severity),
        outcomes: Outcomes::default(),
        start: None,
    };
    let replayed = drive(
        Arc::clone(&run.settings),
        input,
        run.name,
        run.until,
        &mut c,
        &mut |bytes| run.progress.store(bytes, Ordering::Relaxed),
    )?;
    let workload = match (c.start, replayed.summary.clock) {
        (Some(s), Some(e)) => c.workload.finish(s, e),
        _ => Daily {
            first: chrono::NaiveDate::MIN,
            counts: Vec::new(),
        },
    };
    Ok(Side {
        episodes: c.episodes,
        escalations: c.escalations,
        workload,
        outcomes: c.outcomes,
        summary: replayed.summary,
        bad_lines: replayed.bad_lines,
        start: c.start,
    })
}
