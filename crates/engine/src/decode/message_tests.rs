//! The exact words and kind of the decoder's messages for dirty dates and broken JSON: a
//! person reads them to fix a producer, so each is pinned here, through [`decode`].

use serde_json::json;

use super::tests::base;
use super::{decode, peek_occurred_at};
use crate::reject::ErrorKind::{self, ImplausibleTime, InvalidValue, MalformedJson};

fn rejected(payload: &[u8]) -> (ErrorKind, String) {
    let r = decode(payload).expect_err("must be rejected");
    (r.kind, r.message)
}

#[test]
fn dates_and_timestamps_say_what_is_wrong() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, ErrorKind, &str)] = &[
        ("income", "occurred_at", "2025-02-30T10:00:00+08:00", InvalidValue,
            "field `occurred_at`: 2025-02-30 is not a date (February 2025 has 28 days)"),
        ("income", "occurred_at", "2024-02-30T10:00:00+08:00", InvalidValue,
            "field `occurred_at`: 2024-02-30 is not a date (February 2024 has 29 days)"),
        ("income", "occurred_at", "2025-13-01T10:00:00Z", InvalidValue,
            "field `occurred_at`: 2025-13-01 is not a date (there is no month 13)"),
        ("income", "occurred_at", "2025-03-01T25:00:00+08:00", InvalidValue,
            "field `occurred_at`: 25:00:00 is not a time of day"),
        ("income", "occurred_at", "2025-03-01T10:00:00", InvalidValue,
            "field `occurred_at`: 2025-03-01T10:00:00 has no UTC offset (end it with Z or an offset such as +08:00)"),
        ("income", "occurred_at", "2025-03-01 10:00:00.250", InvalidValue,
            "field `occurred_at`: 2025-03-01 10:00:00.250 has no UTC offset (end it with Z or an offset such as +08:00)"),
        ("income", "occurred_at", "2025-03-01T10:00:00+24:00", InvalidValue,
            "field `occurred_at`: +24:00 is not a UTC offset (hours 00–23, minutes 00–59)"),
        ("income", "occurred_at", "yesterday", InvalidValue,
            "field `occurred_at` must be an RFC 3339 timestamp with a UTC offset, such as 2025-03-01T10:00:00+08:00, got \"yesterday\""),
        ("income", "occurred_at", "2025-03-01T10:00+08:00", InvalidValue,
            "field `occurred_at` must be an RFC 3339 timestamp with a UTC offset, such as 2025-03-01T10:00:00+08:00, got \"2025-03-01T10:00+08:00\""),
        ("income", "occurred_at", "2025-03-01T10:00:00 +08:00", InvalidValue,
            "field `occurred_at` must be an RFC 3339 timestamp with a UTC offset, such as 2025-03-01T10:00:00+08:00, got \"2025-03-01T10:00:00 +08:00\""),
        ("income", "occurred_at", "+10000-01-01T00:00:00Z", InvalidValue,
            "field `occurred_at` must be an RFC 3339 timestamp with a UTC offset, such as 2025-03-01T10:00:00+08:00, got \"+10000-01-01T00:00:00Z\""),
        ("income", "occurred_at", "0202-03-01T10:00:00+08:00", ImplausibleTime,
            "field `occurred_at`: 0202-03-01T10:00:00+08:00 is before 1900-01-01, the earliest time the contract accepts"),
        ("income", "occurred_at", "1899-12-31T23:59:59Z", ImplausibleTime,
            "field `occurred_at`: 1899-12-31T23:59:59Z is before 1900-01-01, the earliest time the contract accepts"),
        ("income", "occurred_at", "3025-03-01T10:00:00+08:00", ImplausibleTime,
            "field `occurred_at`: 3025-03-01T10:00:00+08:00 is after 2999-12-31, the latest time the contract accepts"),
        ("loan_opened", "first_due_date", "2025-02-30", InvalidValue,
            "field `first_due_date`: 2025-02-30 is not a date (February 2025 has 28 days)"),
        ("loan_opened", "first_due_date", "2026-2-10", InvalidValue,
            "field `first_due_date` must be a date YYYY-MM-DD, got \"2026-2-10\""),
        ("restructure", "first_due_date", "2026-06-31", InvalidValue,
            "field `first_due_date`: 2026-06-31 is not a date (June 2026 has 30 days)"),
        ("loan_modified", "effective_date", "2026-01-00", InvalidValue,
            "field `effective_date`: 2026-01-00 is not a date (there is no day 0)"),
        ("suppression", "until", "2026-13-01", InvalidValue,
            "field `until`: 2026-13-01 is not a date (there is no month 13)"),
        ("suppression", "until", "soon", InvalidValue,
            "field `until` must be a date YYYY-MM-DD, got \"soon\""),
        ("income", "period", "2026-13", InvalidValue,
            "field `period`: 2026-13 is not a month (there is no month 13)"),
        ("income", "period", "202601", InvalidValue,
            "field `period` must be a month YYYY-MM, got \"202601\""),
    ];
    for (t, f, bad, kind, message) in cases {
        let mut v = base(t);
        v[*f] = json!(bad);
        let payload = v.to_string();
        assert_eq!(
            rejected(payload.as_bytes()),
            (*kind, (*message).to_owned()),
            "{t}.{f} = {bad}"
        );
        if *f == "occurred_at" {
            // The merge's read-ahead refuses what the decoder refuses, out-of-range years too.
            assert_eq!(peek_occurred_at(payload.as_bytes()), None, "{bad}");
        }
    }
}

#[test]
fn the_years_at_the_edges_are_accepted() {
    for at in ["1900-01-01T00:00:00Z", "2999-12-31T23:59:59+08:00"] {
        let mut v = base("income");
        v["occurred_at"] = json!(at);
        let payload = v.to_string();
        assert!(decode(payload.as_bytes()).is_ok(), "{at}");
        assert!(peek_occurred_at(payload.as_bytes()).is_some(), "{at}");
    }
}

#[test]
fn a_long_shape_error_does_not_echo_the_whole_value() {
    let mut v = base("suppression");
    v["until"] = json!("x".repeat(100_000));
    let (kind, message) = rejected(v.to_string().as_bytes());
    assert_eq!(kind, InvalidValue);
    assert_eq!(
        message,
        format!(
            "field `until` must be a date YYYY-MM-DD, got \"{}\"…",
            "x".repeat(60)
        )
    );
}

#[test]
fn a_long_timestamp_is_not_echoed_whole() {
    let mut v = base("income");
    v["occurred_at"] = json!(format!("2026-01-05T10:00:00.{}", "1".repeat(100)));
    let (kind, message) = rejected(v.to_string().as_bytes());
    assert_eq!(kind, InvalidValue);
    assert_eq!(
        message,
        format!(
            "field `occurred_at`: 2026-01-05T10:00:00.{}… has no UTC offset (end it with Z or an offset such as +08:00)",
            "1".repeat(40)
        )
    );
    v["occurred_at"] = json!("y".repeat(61));
    let (_, message) = rejected(v.to_string().as_bytes());
    assert!(
        message.ends_with(&format!("got \"{}\"…", "y".repeat(60))),
        "{message}"
    );
}

#[test]
fn broken_json_says_which_byte_and_what_was_expected() {
    #[rustfmt::skip]
    let cases: &[(&[u8], &str)] = &[
        (b"{a:1}",
            "not a JSON object: at byte 1, expected a field name in double quotes"),
        (br#"{"event_id":"e1","type":"income""#,
            "not a JSON object: at byte 32, the text ends before the object is closed (a missing \"}\")"),
        (br#"{"event_id":"e1","type":}"#,
            "not a JSON object: at byte 24, expected a value (a string, number, object, array, true, false or null)"),
        (br#"{"event_id":"e1","type":"income"} {"#,
            "not a JSON object: at byte 34, more text after the end of the JSON object"),
        (b"not json",
            "not a JSON object: at byte 1, expected true, false or null (the only words JSON allows outside double quotes)"),
        (br#"{"a":tru}"#,
            "not a JSON object: at byte 8, expected true, false or null (the only words JSON allows outside double quotes)"),
        (br#"{"a" 1}"#,
            "not a JSON object: at byte 5, expected \":\" after the field name"),
        (br#"{"a":1 "b":2}"#,
            "not a JSON object: at byte 7, expected \",\" or \"}\" after the value of a field"),
        (br#"{"a":[1 2]}"#,
            "not a JSON object: at byte 8, expected \",\" or \"]\" after an element of the array"),
        (br#"{"a":1,}"#,
            "not a JSON object: at byte 7, a \",\" with nothing after it (JSON allows no comma before \"}\" or \"]\")"),
        (br#"{"a":[1,2"#,
            "not a JSON object: at byte 9, the text ends before the array is closed (a missing \"]\")"),
        (br#"{"a":"abc"#,
            "not a JSON object: at byte 9, the text ends inside a string (a missing closing double quote)"),
        (br#"{"a":"#,
            "not a JSON object: at byte 5, the text ends where a value was expected"),
        (b"{\"x\":\"x\ty\"}",
            "not a JSON object: at byte 7, a control character (a raw tab, line break, …) inside a string; write it escaped (\\t, \\n, \\u0000)"),
        (b"{\"ev\tid\":1}",
            "not a JSON object: at byte 4, a control character (a raw tab, line break, …) inside a string; write it escaped (\\t, \\n, \\u0000)"),
        (b"{\"a\":\"x\ty\"}",
            "not a JSON object: at byte 7, a control character (a raw tab, line break, …) inside a string; write it escaped (\\t, \\n, \\u0000)"),
        (br#"{"a":"\q"}"#,
            "not a JSON object: at byte 7, a backslash in a string is followed by a character JSON does not allow (only \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"),
        (br#"{"a":01}"#,
            "not a JSON object: at byte 6, a number JSON does not allow (such as 01, +1, 1. or .5)"),
        (br#"{"\uDC00":1}"#,
            "not a JSON object: at byte 7, a \\u escape of half a UTF-16 surrogate pair, without the other half"),
        (br#"{"\uD800x":1}"#,
            "not a JSON object: at byte 8, a \\u escape of half a UTF-16 surrogate pair, without the other half"),
        (b"{\n  \"event_id\": \"e1\",\n  \"type\" \"income\"\n}",
            "not a JSON object: at byte 31 (line 3, column 10), expected \":\" after the field name"),
        ("{\n  \"note\": \"逾期\",\n  \"type\": ,\n}".as_bytes(),
            "not a JSON object: at byte 32 (line 3, column 11), expected a value (a string, number, object, array, true, false or null)"),
        (b"", "not a JSON object: the payload is empty"),
        (b" \r\n", "not a JSON object: the payload is empty"),
        (b"1e400", "not a JSON object: at byte 4, a number too large to read"),
        (b"[1,2]", "a JSON array, not an object"),
        (b"  \"text\"", "a JSON string, not an object"),
        (b"-12.5", "a JSON number, not an object"),
        (b"false", "a JSON boolean, not an object"),
        (b"null", "JSON null, not an object"),
        (b"{\xff}", "byte 1 is not valid UTF-8 (0xFF)"),
        (b"{\"note\":\"\xe9\x80\xbe\xe6\"}", "byte 12 is not valid UTF-8 (0xE6)"),
        (b"{\"note\":\"\xe9\x80", "byte 9 is not valid UTF-8 (0xE9 0x80, cut off at the end)"),
        (b"{\n\"a\":\xc0\xaf}", "byte 6 (line 2, column 5) is not valid UTF-8 (0xC0)"),
        (b"\xef\xbb\xbf{}",
            "payload starts with a UTF-8 byte-order mark (EF BB BF), which JSON text must not carry (RFC 8259 §8.1)"),
    ];
    for (payload, message) in cases {
        assert_eq!(
            rejected(payload),
            (MalformedJson, (*message).to_owned()),
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
}

#[test]
fn invalid_utf8_in_a_skipped_field_is_refused() {
    // serde_json would skip the string of an unknown field without looking inside it.
    let mut payload = base("income").to_string().into_bytes();
    payload.pop();
    payload.extend_from_slice(b",\"x_note\":\"\xff\"}");
    let (kind, message) = rejected(&payload);
    assert_eq!(kind, MalformedJson);
    assert!(message.ends_with("is not valid UTF-8 (0xFF)"), "{message}");
}

#[test]
fn a_message_serde_words_we_do_not_map_keeps_its_words_and_byte() {
    // The decoder meets no such message (its keys are strings); another reader's error, shown
    // over the same text, stands in for a serde_json that words a message anew.
    let text = r#"{"x":1}"#;
    let e = serde_json::from_str::<std::collections::BTreeMap<u8, u8>>(text).unwrap_err();
    let r = super::json_error::not_an_object(text, &e);
    assert_eq!(
        (r.kind, r.message.as_str()),
        (
            MalformedJson,
            "not a JSON object: at byte 1, invalid value: expected key to be a number in quotes"
        )
    );
}
