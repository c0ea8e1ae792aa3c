//! One side of a backtest: the engine over the input with the event clock, exactly as
//! `replay` runs it, with what the comparison needs collected from its messages and notes.

use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::episodes::Episodes;
use super::outcome::Outcomes;
use super::workload::{Daily, Workload};
use super::BacktestError;
use crate::replay::{Lines, Summary};
use crate::report::figures::{BadLine, MAX_BAD_LINES};
use postloan_engine::cut::Cut;
use postloan_engine::output::Output;
use postloan_engine::portfolio::Note;
use postloan_engine::types::{Severity, Signal};
use postloan_engine::{ClockMode, Engine, Settings};

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

struct Collect {
    episodes: Episodes,
    escalations: [u64; Signal::ALL.len()],
    workload: Workload,
    outcomes: Outcomes,
    summary: Summary,
    bad_lines: Vec<BadLine>,
    notes: Vec<Note>,
    json: Vec<u8>,
}

impl Collect {
    fn messages(&mut self, out: &mut Vec<Output>) -> Result<(), BacktestError> {
        for m in out.drain(..) {
            self.summary.count_output(&m);
            // The fingerprint is what `demo` and the tests compare with replay's.
            self.json.clear();
            m.write_json(&mut self.json);
            self.summary.fingerprint.add(&m, &self.json);
            self.episodes.observe(&m)?;
            match &m {
                Output::Alert(a) => {
                    let at = super::episodes::instant(&a.alert_id, &a.event_time)?;
                    self.workload.observe(&m, at);
                }
                Output::Escalation(e) => self.escalations[e.signal.index()] += 1,
                Output::Rejected(r) => {
                    if self.bad_lines.len() < MAX_BAD_LINES {
                        self.bad_lines.push(BadLine {
                            source: r.source.clone(),
                            error_kind: r.error_kind.as_str(),
                            error: r.error.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn notes(&mut self, engine: &mut Engine) {
        engine.take_notes(&mut self.notes);
        let clock = engine.clock();
        for n in self.notes.drain(..) {
            self.outcomes.note(&n, clock);
        }
    }
}

/// Runs one side over `input`.
pub fn run(run: &Run<'_>, input: &mut dyn BufRead) -> Result<Side, BacktestError> {
    let mut engine = Engine::new(Arc::clone(&run.settings), ClockMode::Event);
    engine.discard_changes();
    engine.record_notes();
    let mut c = Collect {
        episodes: Episodes::default(),
        escalations: [0; Signal::ALL.len()],
        workload: Workload::new(run.settings.tz, run.contact_severity),
        outcomes: Outcomes::default(),
        summary: Summary::default(),
        bad_lines: Vec::new(),
        notes: Vec::new(),
        json: Vec::with_capacity(4096),
    };
    let mut out = Vec::new();
    let mut start = None;
    let mut lines = Lines::new(input, run.name, Cut::from_limits(&run.settings.limits));
    while let Some(input) = lines
        .next(&mut c.summary)
        .map_err(|source| BacktestError::Read {
            name: run.name.to_owned(),
            source,
        })?
    {
        let outcome = engine.apply(input, &mut out);
        c.summary.count_outcome(outcome);
        start = start.or(engine.clock());
        c.messages(&mut out)?;
        c.notes(&mut engine);
        if c.summary.lines % 4096 == 0 {
            run.progress.store(lines.consumed(), Ordering::Relaxed);
        }
    }
    if let Some(t) = run.until {
        engine.advance_to(t, &mut out);
        c.messages(&mut out)?;
        c.notes(&mut engine);
    }
    run.progress.store(lines.consumed(), Ordering::Relaxed);
    let end = engine.clock();
    c.summary.borrowers = engine.borrower_count() as u64;
    c.summary.open_loans = engine.open_loan_count() as u64;
    c.summary.clock = end;
    let workload = match (start, end) {
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
        summary: c.summary,
        bad_lines: c.bad_lines,
        start,
    })
}
