//! Replay: the engine over a JSONL file, with the event clock — the one loop behind
//! `replay`, `report` and `backtest`.
//!
//! Lines are read as bytes (a line that is not UTF-8 is rejected, not fatal), blank lines are
//! skipped, every other line is one input named `file/line`. After the last line the clock can
//! be advanced to `--until`. [`drive`] owns all of that, the engine, the [`Summary`] and the
//! first [`BadLine`]s; what a command adds is a [`Visitor`] of what the engine publishes and
//! notes:
//!
//! - `replay` ([`replay()`], in `write.rs`) writes every message, one JSON object per line;
//! - `report` stops before every month-end cut ([`Visitor::next_stop`]) to read the book;
//! - `backtest` collects alert episodes, escalations, workload and outcomes per side.
//!
//! Parts: `lines` — the line reader; `summary` — the counts every replay keeps; `write` — the
//! `replay` command's visitor.

mod lines;
mod summary;
mod write;

use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use lines::{Line, Lines};
use postloan_engine::cut::Cut;
use postloan_engine::jump::JumpRule;
use postloan_engine::output::Output;
use postloan_engine::portfolio::Note;
use postloan_engine::{ClockMode, Engine, Outcome, Settings};

pub use summary::{BadLine, Summary, MAX_BAD_LINES};
pub use write::{replay, ReplayError};

/// The input itself could not be read (not a bad line: the file). Each command's error takes
/// it in through `From`, keeping its own `Read` variant.
#[derive(Debug, thiserror::Error)]
#[error("cannot read input {name}: {source}")]
pub struct ReadError {
    /// Input name.
    pub name: String,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// What a command adds to the replay: it sees every message and note the engine produces, in
/// order, and may stop the replay just before instants of its choosing to read the book.
///
/// Everything an input caused (its messages, then its notes) is delivered before
/// [`Visitor::input`] is called for it; everything up to a stop is delivered before
/// [`Visitor::stop`]. Generic, not `dyn`: every call is made per message or per input.
pub trait Visitor {
    /// Why the visitor stops the replay; reading the input can fail too.
    type Error: From<ReadError>;

    /// Whether the engine keeps [`Note`]s for [`Visitor::note`] (off: a visitor with no use
    /// for them should not have the engine accumulate them).
    const NOTES: bool = false;

    /// One message the live monitor would publish, and its JSON (without a newline; what the
    /// [`Summary`]'s fingerprint was computed over).
    fn message(&mut self, message: &Output, json: &[u8]) -> Result<(), Self::Error>;

    /// One note (only with [`Visitor::NOTES`]), with the engine's clock when it was taken.
    fn note(&mut self, _note: &Note, _clock: Option<DateTime<Utc>>) {}

    /// One input has been applied (or rejected, or skipped as a duplicate), and all it
    /// caused delivered.
    fn input(&mut self, _outcome: Outcome, _engine: &Engine) {}

    /// The next instant to stop just before, if any. After [`Visitor::stop`] at an instant,
    /// this must be later than it (or `None`), else the replay would stop there again.
    fn next_stop(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// The engine stands at the instant just before `at` (the [`Visitor::next_stop`]): the
    /// input that would cross it is held (see [`Engine::apply_before`]), or, after the last
    /// input, the clock was advanced there on its way to `--until`.
    fn stop(&mut self, _engine: &Engine, _at: DateTime<Utc>) {}

    /// After the last input and `--until`, before the summary's time is taken.
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// What every replay counted and kept, whatever its visitor.
#[derive(Debug, Clone, Default)]
pub struct Replayed {
    /// The counts, the end state, the wall time.
    pub summary: Summary,
    /// The first rejected inputs, in order (at most [`MAX_BAD_LINES`]; `summary` counts them
    /// all).
    pub bad_lines: Vec<BadLine>,
}

/// Replays `input` through a fresh engine with the event clock, showing `visitor` what it
/// publishes and notes; with `until`, the clock then advances there.
///
/// `name` names the input in rejection sources (`name/line`). `on_progress` is called with the
/// bytes consumed so far every few thousand lines, and once at the end.
pub fn drive<V: Visitor>(
    settings: Arc<Settings>,
    input: &mut dyn BufRead,
    name: &str,
    until: Option<DateTime<Utc>>,
    visitor: &mut V,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Replayed, V::Error> {
    let started = Instant::now();
    let cut = Cut::from_limits(&settings.limits);
    let mut engine = Engine::new(settings, ClockMode::Event);
    engine.discard_changes();
    if V::NOTES {
        engine.record_notes();
    }
    let mut d = Delivery {
        kept: Replayed::default(),
        out: Vec::new(),
        notes: Vec::new(),
        json: Vec::with_capacity(4096),
    };
    let rule = JumpRule::from_limits(&engine.settings().limits);
    let mut lines = Lines::new(input, cut);
    let mut line = Line::default();
    let mut source = String::with_capacity(name.len() + 12);
    let read_error = |source| ReadError {
        name: name.to_owned(),
        source,
    };
    while lines.next(&mut line).map_err(read_error)? {
        source.clear();
        use std::fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = write!(source, "{name}/{}", line.number());
        let input = line.input(&source);
        // Only a suspected clock jump makes the engine ask; the lines read ahead for it are
        // applied next, in order.
        let mut followers = |t| lines.followers(&rule, t, until);
        let outcome = loop {
            let Some(stop) = visitor.next_stop() else {
                break engine.apply_with(input, &mut followers, &mut d.out);
            };
            match engine.apply_before(input, &mut followers, stop, &mut d.out) {
                Ok(outcome) => break outcome,
                Err(_held) => d.stop(&mut engine, visitor, stop)?,
            }
        };
        d.kept.summary.count_outcome(outcome);
        d.deliver(&mut engine, visitor)?;
        visitor.input(outcome, &engine);
        if line.number() % 4096 == 0 {
            on_progress(lines.consumed());
        }
    }
    d.kept.summary.lines = lines.count;
    d.kept.summary.blank_lines = lines.blank;
    if let Some(t) = until {
        while let Some(stop) = visitor.next_stop().filter(|stop| *stop <= t) {
            engine.advance_to(stop - Duration::nanoseconds(1), &mut d.out);
            d.stop(&mut engine, visitor, stop)?;
        }
        engine.advance_to(t, &mut d.out);
        d.deliver(&mut engine, visitor)?;
    }
    visitor.finish()?;
    on_progress(lines.consumed());
    let mut kept = d.kept;
    kept.summary.borrowers = engine.borrower_count() as u64;
    kept.summary.open_loans = engine.open_loan_count() as u64;
    kept.summary.clock = engine.clock();
    kept.summary.elapsed = started.elapsed();
    Ok(kept)
}

/// What the engine produced, on its way to the visitor; the buffers are reused for every
/// input so that delivering allocates nothing once they have grown.
struct Delivery {
    kept: Replayed,
    out: Vec<Output>,
    notes: Vec<Note>,
    json: Vec<u8>,
}

impl Delivery {
    /// Counts and delivers the messages the engine appended, then its notes.
    fn deliver<V: Visitor>(
        &mut self,
        engine: &mut Engine,
        visitor: &mut V,
    ) -> Result<(), V::Error> {
        for m in self.out.drain(..) {
            self.kept.summary.count_output(&m);
            // The fingerprint is what `demo` and the tests compare a live run or a backtest
            // side with; the JSON is what `replay` writes.
            self.json.clear();
            m.write_json(&mut self.json);
            self.kept.summary.fingerprint.add(&m, &self.json);
            visitor.message(&m, &self.json)?;
            if let Output::Rejected(r) = m {
                if self.kept.bad_lines.len() < MAX_BAD_LINES {
                    self.kept.bad_lines.push(BadLine {
                        source: r.source,
                        error_kind: r.error_kind.as_str(),
                        error: r.error,
                    });
                }
            }
        }
        if V::NOTES {
            engine.take_notes(&mut self.notes);
            let clock = engine.clock();
            for n in self.notes.drain(..) {
                visitor.note(&n, clock);
            }
        }
        Ok(())
    }

    /// Delivers what came before the stop at `at`, then lets the visitor read the book.
    fn stop<V: Visitor>(
        &mut self,
        engine: &mut Engine,
        visitor: &mut V,
        at: DateTime<Utc>,
    ) -> Result<(), V::Error> {
        self.deliver(engine, visitor)?;
        visitor.stop(engine, at);
        Ok(())
    }
}
