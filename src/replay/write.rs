//! `replay` itself: every message the live monitor would publish, written one JSON object per
//! line, in order.

use std::io::{BufRead, Write};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{drive, ReadError, Summary, Visitor};
use postloan_engine::output::Output;
use postloan_engine::Settings;

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

impl From<ReadError> for ReplayError {
    fn from(e: ReadError) -> Self {
        ReplayError::Read {
            name: e.name,
            source: e.source,
        }
    }
}

/// Writes the messages as JSON lines, gathered into chunks so that a `dyn Write` is called
/// once per chunk rather than per message.
struct JsonLines<'a> {
    out: &'a mut dyn Write,
    chunk: Vec<u8>,
}

/// Bytes gathered before they are written.
const CHUNK: usize = 60 * 1024;

impl Visitor for JsonLines<'_> {
    type Error = ReplayError;

    fn message(&mut self, _message: &Output, json: &[u8]) -> Result<(), ReplayError> {
        self.chunk.extend_from_slice(json);
        self.chunk.push(b'\n');
        if self.chunk.len() >= CHUNK {
            self.out
                .write_all(&self.chunk)
                .map_err(ReplayError::Write)?;
            self.chunk.clear();
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ReplayError> {
        self.out
            .write_all(&self.chunk)
            .map_err(ReplayError::Write)?;
        self.chunk.clear();
        self.out.flush().map_err(ReplayError::Write)
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
    let mut writer = JsonLines {
        out,
        chunk: Vec::with_capacity(CHUNK + 4096),
    };
    let replayed = drive(settings, input, name, until, &mut writer, on_progress)?;
    Ok(replayed.summary)
}
