//! Replay / backtest: the engine over a JSONL file, with the event clock.
//!
//! Lines are read as bytes (a line that is not UTF-8 is rejected, not fatal), blank lines are
//! skipped, every other line is one input named `file/line`. After the last line the clock can
//! be advanced to `--until`. Every message the live monitor would publish is written, one JSON
//! object per line, in order.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use postloan_engine::cut::Cut;
use postloan_engine::event::EventType;
use postloan_engine::output::{AlertStatus, Fingerprint, Output};
use postloan_engine::reject::ErrorKind;
use postloan_engine::types::{Severity, Signal};
use postloan_engine::{ClockMode, Engine, Input, Outcome, Settings};

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The input could not be read (not a bad line: the file itself).
    #[error("cannot read input {name}: {source}")]
    Read {
        /// Input name.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error("cannot write output: {0}")]
    Write(#[source] std::io::Error),
}

/// Counts of one replay, for the summary table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Events applied, by type.
    pub applied: BTreeMap<EventType, u64>,
    /// Duplicates skipped, by type.
    pub duplicates: BTreeMap<EventType, u64>,
    /// Rejections by kind.
    pub rejected: BTreeMap<ErrorKind, u64>,
    /// Alert messages by (signal, severity, status).
    pub alerts: BTreeMap<(Signal, Severity, AlertStatus), u64>,
    /// Escalations by level.
    pub escalations: BTreeMap<u8, u64>,
    /// Messages written.
    pub messages: u64,
    /// The messages written, order-independent (what `demo` compares a live run with).
    pub fingerprint: Fingerprint,
    /// Borrowers tracked at the end.
    pub borrowers: u64,
    /// Open loans at the end.
    pub open_loans: u64,
    /// The clock at the end.
    pub clock: Option<DateTime<Utc>>,
    /// Wall time spent.
    pub elapsed: Duration,
}

impl Summary {
    /// Counts one published message.
    pub fn count_output(&mut self, o: &Output) {
        self.messages += 1;
        match o {
            Output::Alert(a) => {
                *self
                    .alerts
                    .entry((a.signal, a.severity, a.status))
                    .or_default() += 1
            }
            Output::Escalation(e) => *self.escalations.entry(e.level).or_default() += 1,
            Output::Rejected(_) => {}
        }
    }

    /// Counts one input's outcome.
    pub fn count_outcome(&mut self, o: Outcome) {
        match o {
            Outcome::Applied(t) => *self.applied.entry(t).or_default() += 1,
            Outcome::Duplicate(t) => *self.duplicates.entry(t).or_default() += 1,
            Outcome::Rejected(k) => *self.rejected.entry(k).or_default() += 1,
        }
    }

    /// Events (non-blank lines) processed.
    pub fn events(&self) -> u64 {
        self.lines - self.blank_lines
    }
}

/// Replays `input` through a fresh engine, writing messages to `out`.
///
/// `name` names the input in rejection sources (`name/line`). `on_progress` is called with the
/// bytes consumed so far every few thousand lines.
pub fn replay(
    settings: Arc<Settings>,
    input: &mut dyn BufRead,
    name: &str,
    until: Option<DateTime<Utc>>,
    out: &mut dyn Write,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let mut engine = Engine::new(settings, ClockMode::Event);
    engine.discard_changes();
    let mut summary = Summary::default();
    let mut messages = Vec::new();
    let mut json = Vec::with_capacity(64 * 1024);
    let mut lines = Lines::new(input, name, Cut::from_limits(&engine.settings().limits));
    while let Some(input) = lines
        .next(&mut summary)
        .map_err(|source| ReplayError::Read {
            name: name.to_owned(),
            source,
        })?
    {
        let outcome = engine.apply(input, &mut messages);
        summary.count_outcome(outcome);
        flush(&mut messages, &mut json, &mut summary, out)?;
        if summary.lines % 4096 == 0 {
            on_progress(lines.consumed());
        }
    }
    if let Some(t) = until {
        engine.advance_to(t, &mut messages);
        flush(&mut messages, &mut json, &mut summary, out)?;
    }
    out.write_all(&json).map_err(ReplayError::Write)?;
    out.flush().map_err(ReplayError::Write)?;
    on_progress(lines.consumed());
    summary.borrowers = engine.borrower_count() as u64;
    summary.open_loans = engine.open_loan_count() as u64;
    summary.clock = engine.clock();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The input's lines as replay reads them: blank lines counted and skipped, every other line
/// one [`Input`] named `name/line`, an overlong line cut (see [`read_line`]).
pub(crate) struct Lines<'a> {
    input: &'a mut dyn BufRead,
    name: &'a str,
    cut: Cut,
    line: Vec<u8>,
    source: String,
    consumed: u64,
}

impl<'a> Lines<'a> {
    /// Lines of `input`, named `name` in rejection sources.
    pub(crate) fn new(input: &'a mut dyn BufRead, name: &'a str, cut: Cut) -> Self {
        Lines {
            input,
            name,
            cut,
            line: Vec::with_capacity(1024),
            source: String::with_capacity(name.len() + 12),
            consumed: 0,
        }
    }

    /// The next non-blank line as an input, counting lines (and blank ones) in `summary`;
    /// `None` at the end of the input.
    pub(crate) fn next(&mut self, summary: &mut Summary) -> std::io::Result<Option<Input<'_>>> {
        loop {
            let (n, full_size) = read_line(self.input, &mut self.line, self.cut)?;
            if n == 0 {
                return Ok(None);
            }
            self.consumed += n as u64;
            summary.lines += 1;
            if full_size.is_none() && self.line.iter().all(u8::is_ascii_whitespace) {
                summary.blank_lines += 1;
                continue;
            }
            self.source.clear();
            use std::fmt::Write as _;
            // Writing into a String cannot fail.
            let _ = write!(self.source, "{}/{}", self.name, summary.lines);
            return Ok(Some(Input {
                payload: &self.line,
                source: &self.source,
                key: None,
                full_size,
                // Replay has no merge: the decoder reads the timestamp itself.
                occurred_at: None,
            }));
        }
    }

    /// Bytes read so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }
}

/// Reads one line into `line` without its `\n` or `\r\n`, keeping it whole only while it fits
/// `cut.max_bytes`: a longer line is kept to its first `cut.keep_bytes` and its whole length
/// returned, so a 10 GB line costs no more memory than a short one. Returns the bytes consumed
/// (0 at the end of input) and, for a cut line, its length.
fn read_line(
    input: &mut dyn BufRead,
    line: &mut Vec<u8>,
    cut: Cut,
) -> std::io::Result<(usize, Option<usize>)> {
    line.clear();
    let mut consumed = 0;
    let mut length = 0;
    let mut ended = false;
    let mut last = None;
    while !ended {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let (chunk, used) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => {
                ended = true;
                (&buf[..i], i + 1)
            }
            None => (buf, buf.len()),
        };
        let room = (cut.max_bytes + 1).saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        length += chunk.len();
        last = chunk.last().copied().or(last);
        consumed += used;
        input.consume(used);
    }
    if last == Some(b'\r') {
        length -= 1;
        if line.len() > length {
            line.pop();
        }
    }
    if length > cut.max_bytes {
        line.truncate(cut.keep_bytes);
        return Ok((consumed, Some(length)));
    }
    Ok((consumed, None))
}

fn flush(
    messages: &mut Vec<Output>,
    json: &mut Vec<u8>,
    summary: &mut Summary,
    out: &mut dyn Write,
) -> Result<(), ReplayError> {
    for m in messages.drain(..) {
        summary.count_output(&m);
        let start = json.len();
        m.write_json(json);
        summary.fingerprint.add(&m, &json[start..]);
        json.push(b'\n');
    }
    if json.len() >= 60 * 1024 {
        out.write_all(json).map_err(ReplayError::Write)?;
        json.clear();
    }
    Ok(())
}
