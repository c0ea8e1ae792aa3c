//! The input's lines: read as bytes (a line that is not UTF-8 is rejected by the engine, not
//! fatal here), blank lines counted and skipped, an overlong line cut so that it costs no more
//! memory than a short one.

use std::io::BufRead;

use postloan_engine::cut::Cut;
use postloan_engine::Input;

use super::Summary;

/// The input's lines as replay reads them: blank lines counted and skipped, every other line
/// one [`Input`] named `name/line`, an overlong line cut (see [`read_line`]).
pub(super) struct Lines<'a> {
    input: &'a mut dyn BufRead,
    name: &'a str,
    cut: Cut,
    line: Vec<u8>,
    source: String,
    consumed: u64,
}

impl<'a> Lines<'a> {
    /// Lines of `input`, named `name` in rejection sources.
    pub(super) fn new(input: &'a mut dyn BufRead, name: &'a str, cut: Cut) -> Self {
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
    pub(super) fn next(&mut self, summary: &mut Summary) -> std::io::Result<Option<Input<'_>>> {
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
