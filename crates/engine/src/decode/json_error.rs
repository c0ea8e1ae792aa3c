//! A payload that is not a JSON object, said in plain words with the byte where reading
//! stopped: the person reading `risk.rejected` fixes a producer, not a parser, and "expected
//! ident at line 1 column 2" tells them neither what is wrong nor where in a long line.

use std::str::Utf8Error;

use serde_json::error::Category;

use crate::reject::{ErrorKind, Rejection};

/// serde_json's own messages (its `ErrorCode` texts, serde_json 1.0) that reading an object
/// of any values can give, and what they mean. Any other (a newer serde_json's wording, or
/// one only other readers meet, such as "recursion limit exceeded": skipped values are not
/// nested on the stack) is shown as serde wrote it, still with the byte.
const PLAIN: [(&str, &str); 18] = [
    (
        "EOF while parsing a list",
        "the text ends before the array is closed (a missing \"]\")",
    ),
    (
        "EOF while parsing an object",
        "the text ends before the object is closed (a missing \"}\")",
    ),
    (
        "EOF while parsing a string",
        "the text ends inside a string (a missing closing double quote)",
    ),
    (
        "EOF while parsing a value",
        "the text ends where a value was expected",
    ),
    ("expected `:`", "expected \":\" after the field name"),
    (
        "expected `,` or `]`",
        "expected \",\" or \"]\" after an element of the array",
    ),
    (
        "expected `,` or `}`",
        "expected \",\" or \"}\" after the value of a field",
    ),
    (
        "expected ident",
        "expected true, false or null (the only words JSON allows outside double quotes)",
    ),
    (
        "expected value",
        "expected a value (a string, number, object, array, true, false or null)",
    ),
    (
        "invalid escape",
        "a backslash in a string is followed by a character JSON does not allow \
         (only \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)",
    ),
    (
        "invalid number",
        "a number JSON does not allow (such as 01, +1, 1. or .5)",
    ),
    ("number out of range", "a number too large to read"),
    (
        "control character (\\u0000-\\u001F) found while parsing a string",
        "a control character (a raw tab, line break, …) inside a string; \
         write it escaped (\\t, \\n, \\u0000)",
    ),
    (
        "key must be a string",
        "expected a field name in double quotes",
    ),
    (
        "trailing comma",
        "a \",\" with nothing after it (JSON allows no comma before \"}\" or \"]\")",
    ),
    (
        "trailing characters",
        "more text after the end of the JSON object",
    ),
    ("lone leading surrogate in hex escape", SURROGATE),
    ("unexpected end of hex escape", SURROGATE),
];

/// A field name is read whole, so a `\u` escape in it must be a character on its own.
const SURROGATE: &str = "a \\u escape of half a UTF-16 surrogate pair, without the other half";

fn malformed(message: String) -> Rejection {
    Rejection::new(ErrorKind::MalformedJson, message)
}

/// `byte N`, with the line and the column (in characters) when the payload has several lines.
fn at(payload: &[u8], offset: usize) -> String {
    let before = &payload[..offset.min(payload.len())];
    if !payload.contains(&b'\n') {
        return format!("byte {offset}");
    }
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // Continuation bytes (10xxxxxx) do not start a character.
    let column = before[start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count()
        + 1;
    format!("byte {offset} (line {line}, column {column})")
}

/// A payload that is not UTF-8 (JSON text must be: RFC 8259 §8.1).
pub(super) fn not_utf8(payload: &[u8], e: Utf8Error) -> Rejection {
    let offset = e.valid_up_to();
    let (bad, cut) = match e.error_len() {
        Some(n) => (&payload[offset..offset + n], ""),
        None => (&payload[offset..], ", cut off at the end"),
    };
    let bytes: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
    malformed(format!(
        "{} is not valid UTF-8 ({}{cut})",
        at(payload, offset),
        bytes.join(" ")
    ))
}

/// A UTF-8 payload serde_json could not read as an object.
pub(super) fn not_an_object(payload: &str, e: &serde_json::Error) -> Rejection {
    let first = payload
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .bytes()
        .next();
    if e.classify() == Category::Data {
        // The visitor takes any value in a field, so the only data error is at the top.
        let what = match first {
            Some(b'[') => Some("a JSON array"),
            Some(b'"') => Some("a JSON string"),
            Some(b'-' | b'0'..=b'9') => Some("a JSON number"),
            Some(b't' | b'f') => Some("a JSON boolean"),
            Some(b'n') => Some("JSON null"),
            _ => None,
        };
        if let Some(what) = what {
            return malformed(format!("{what}, not an object"));
        }
    }
    if first.is_none() {
        return malformed("not a JSON object: the payload is empty".to_owned());
    }
    let full = e.to_string();
    let serde_words = full
        .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
        .unwrap_or(&full);
    let mut offset = if e.classify() == Category::Eof {
        payload.len()
    } else {
        byte_offset(payload, e.line(), e.column())
    };
    // At a control character serde_json's column is one short in a string it skips (it has
    // not stepped over the character) and right in one it reads. The byte before the character
    // is inside the string, so never a control byte itself: that tells the two apart.
    if serde_words.starts_with("control character")
        && payload.as_bytes().get(offset).is_some_and(|&b| b >= 0x20)
    {
        offset += 1;
    }
    let words = PLAIN
        .iter()
        .find(|(serde, _)| *serde == serde_words)
        .map_or(serde_words, |(_, plain)| plain);
    malformed(format!(
        "not a JSON object: at {}, {words}",
        at(payload.as_bytes(), offset)
    ))
}

/// The 0-based byte serde_json's 1-based line and column point at. Its column counts the
/// bytes of the line up to and including the one it stopped on.
fn byte_offset(payload: &str, line: usize, column: usize) -> usize {
    let line_start = match line.checked_sub(2) {
        None => 0,
        Some(newlines) => payload
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .nth(newlines)
            .map_or(payload.len(), |(i, _)| i + 1),
    };
    (line_start + column.saturating_sub(1)).min(payload.len())
}
