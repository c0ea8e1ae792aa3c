//! The decoder's fast path: one hand-written pass over a plain JSON object.
//!
//! Producers send flat objects of plain strings, numbers and the odd small nested object, so
//! this reads exactly that and declines everything else (`None`): a string with an escape or a
//! control character, nesting deeper than [`MAX_DEPTH`], or anything that is not valid JSON.
//! serde_json then reads the payload as before and gives the same slots or the error a bad
//! payload has always had. What this accepts is valid JSON that serde_json reads to the same
//! slots (the tests below hold it to that on mutated payloads).

use super::slots::Slots;

/// Deeper nesting goes to serde_json (which allows 128 levels).
const MAX_DEPTH: u32 = 8;

/// Fills `slots` from `text`, when it is a plain JSON object this pass reads; `None`
/// otherwise, with `slots` then half-filled (the caller starts again).
pub(super) fn object<'a>(text: &'a str, slots: &mut Slots<'a>) -> Option<()> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    s.skip_ws();
    s.expect(b'{')?;
    s.skip_ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            let key = s.plain_string()?;
            s.skip_ws();
            s.expect(b':')?;
            s.skip_ws();
            let start = s.i;
            let tight = s.value(0)?;
            // Every boundary here is an ASCII byte, so the slices fall on char boundaries.
            slots.put(&text[key.0..key.1], &text[start..s.i], tight);
            s.skip_ws();
            match s.next()? {
                b',' => {
                    s.skip_ws();
                }
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.skip_ws();
    slots.plain = true;
    (s.i == s.b.len()).then_some(())
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Skips JSON whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let from = self.i;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
        self.i > from
    }

    /// A string with no escape and no control character: the byte range of its contents.
    fn plain_string(&mut self) -> Option<(usize, usize)> {
        self.expect(b'"')?;
        let start = self.i;
        let end = crate::swar::special_byte(self.b, start)?;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        Some((start, end))
    }

    /// One value; whether it was tight (no whitespace between its tokens).
    fn value(&mut self, depth: u32) -> Option<bool> {
        match self.peek()? {
            b'"' => self.plain_string().map(|_| true),
            b'-' | b'0'..=b'9' => self.number().map(|()| true),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'{' if depth < MAX_DEPTH => self.nested_object(depth + 1),
            b'[' if depth < MAX_DEPTH => self.array(depth + 1),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<bool> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(true)
        } else {
            None
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, as RFC 8259 §6 writes it.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let from = self.i;
        self.digits();
        (self.i > from).then_some(())
    }

    fn nested_object(&mut self, depth: u32) -> Option<bool> {
        self.expect(b'{')?;
        let mut tight = !self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(tight);
        }
        loop {
            self.plain_string()?;
            tight &= !self.skip_ws();
            self.expect(b':')?;
            tight &= !self.skip_ws();
            tight &= self.value(depth)?;
            tight &= !self.skip_ws();
            match self.next()? {
                b',' => tight &= !self.skip_ws(),
                b'}' => return Some(tight),
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: u32) -> Option<bool> {
        self.expect(b'[')?;
        let mut tight = !self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(tight);
        }
        loop {
            tight &= self.value(depth)?;
            tight &= !self.skip_ws();
            match self.next()? {
                b',' => tight &= !self.skip_ws(),
                b']' => return Some(tight),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests;
