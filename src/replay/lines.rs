//! The input's lines: read as bytes (a line that is not UTF-8 is rejected by the engine, not
//! fatal here), blank lines counted and skipped, an overlong line cut so that it costs no more
//! memory than a short one; and the look-ahead the clock-jump rule asks for.

use std::collections::VecDeque;
use std::io::BufRead;

use chrono::{DateTime, Utc};

use postloan_engine::cut::Cut;
use postloan_engine::decode::{peek_occurred_at, OccurredAt};
use postloan_engine::jump::{Followers, JumpRule};
use postloan_engine::Input;

/// One non-blank line, owned so that lines can be read ahead of the one being applied.
#[derive(Debug, Default)]
pub(super) struct Line {
    bytes: Vec<u8>,
    /// 1-based line number in the input (blank lines count).
    number: u64,
    /// The whole length of a cut line.
    full_size: Option<usize>,
    /// Its `occurred_at`, once read for the look-ahead (then handed to the engine).
    peeked: Option<Option<OccurredAt>>,
}

impl Line {
    /// The line as an input named `source`.
    pub(super) fn input<'a>(&'a self, source: &'a str) -> Input<'a> {
        Input {
            payload: &self.bytes,
            source,
            key: None,
            full_size: self.full_size,
            occurred_at: self.peeked.flatten(),
        }
    }

    /// Its line number.
    pub(super) fn number(&self) -> u64 {
        self.number
    }

    /// Its `occurred_at`, if readable (read once).
    fn time(&mut self) -> Option<DateTime<Utc>> {
        let bytes = &self.bytes;
        self.peeked
            .get_or_insert_with(|| peek_occurred_at(bytes))
            .map(OccurredAt::instant)
    }
}

/// The input's lines as replay reads them: blank lines counted and skipped, every other line
/// one [`Line`], an overlong line cut (see [`read_line`]); lines read ahead for a suspected
/// clock jump wait in `ahead` and come next.
pub(super) struct Lines<'a> {
    input: &'a mut dyn BufRead,
    cut: Cut,
    ahead: VecDeque<Line>,
    /// Lines applied, kept for their buffers.
    spare: Vec<Line>,
    /// Lines read, blank ones included.
    pub(super) count: u64,
    /// Blank lines skipped.
    pub(super) blank: u64,
    consumed: u64,
    ended: bool,
    /// A read error met while looking ahead: returned with the next line asked for.
    error: Option<std::io::Error>,
}

impl<'a> Lines<'a> {
    /// Lines of `input`.
    pub(super) fn new(input: &'a mut dyn BufRead, cut: Cut) -> Self {
        Lines {
            input,
            cut,
            ahead: VecDeque::new(),
            spare: Vec::new(),
            count: 0,
            blank: 0,
            consumed: 0,
            ended: false,
            error: None,
        }
    }

    /// Replaces `line` with the next non-blank line; `false` at the end of the input.
    pub(super) fn next(&mut self, line: &mut Line) -> std::io::Result<bool> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(next) = self.ahead.pop_front() {
            self.spare.push(std::mem::replace(line, next));
            return Ok(true);
        }
        self.read(line)
    }

    /// What the lines after the current one say about a suspected clock jump to `t`: reads
    /// ahead as far as `rule` needs (they are applied next, in order). A read error ends the
    /// look-ahead, and is returned by the next [`Lines::next`]. When the input ends before
    /// enough lines confirm `t`, a `--until` at or past `t` does: whoever runs the replay says
    /// the book reaches that far (a hand-written scenario's last event after a quiet month).
    pub(super) fn followers(
        &mut self,
        rule: &JumpRule,
        t: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> Followers {
        loop {
            let ended = self.ended || self.error.is_some();
            if let Some(v) = rule.judge(t, self.ahead.iter_mut().map(Line::time), ended) {
                return match v {
                    Followers::Ended { .. } if until.is_some_and(|u| t <= u) => {
                        Followers::Confirmed
                    }
                    v => v,
                };
            }
            let mut line = self.spare.pop().unwrap_or_default();
            match self.read(&mut line) {
                Ok(true) => self.ahead.push_back(line),
                Ok(false) => {}
                Err(e) => self.error = Some(e),
            }
        }
    }

    fn read(&mut self, line: &mut Line) -> std::io::Result<bool> {
        loop {
            let (n, full_size) = read_line(self.input, &mut line.bytes, self.cut)?;
            if n == 0 {
                self.ended = true;
                return Ok(false);
            }
            self.consumed += n as u64;
            self.count += 1;
            if full_size.is_none() && line.bytes.iter().all(u8::is_ascii_whitespace) {
                self.blank += 1;
                continue;
            }
            line.number = self.count;
            line.full_size = full_size;
            line.peeked = None;
            return Ok(true);
        }
    }

    /// Bytes read so far.
    pub(super) fn consumed(&self) -> u64 {
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
        let (chunk, used) = match memchr::memchr(b'\n', buf) {
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
