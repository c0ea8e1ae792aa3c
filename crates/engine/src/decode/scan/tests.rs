//! The fast path gives serde_json's answer or none: on real lines, hand-picked edges and
//! thousands of mutations of them.

use crate::decode::slots::Slots;

/// The scanner's slots for `text`, when it reads it.
fn object(text: &str) -> Option<Slots<'_>> {
    let mut slots = Slots::empty();
    super::object(text, &mut slots)?;
    Some(slots)
}

/// serde_json's slots for `text`, marked as the scanner marks what it reads.
fn serde_slots(text: &str) -> Option<Slots<'_>> {
    let mut slots: Slots<'_> = serde_json::from_str(text).ok()?;
    slots.plain = true;
    Some(slots)
}

/// The fast path's contract on one payload: when it reads it, serde_json reads the same.
fn agrees(text: &str) -> bool {
    match object(text) {
        Some(fast) => serde_slots(text).as_ref() == Some(&fast),
        None => true,
    }
}

fn book_lines() -> Vec<String> {
    crate::testkit::generated_lines(40, 12, 11, 0.0)
}

#[test]
fn every_generated_line_takes_the_fast_path_and_agrees() {
    let lines = book_lines();
    assert!(lines.len() > 300);
    for line in &lines {
        let fast = object(line).unwrap_or_else(|| panic!("declined a plain line: {line}"));
        assert_eq!(Some(fast), serde_slots(line), "{line}");
    }
}

#[test]
fn edges_agree_and_what_is_declined_is_declined() {
    // (payload, whether the fast path reads it)
    let cases: &[(&str, bool)] = &[
        (r#"{}"#, true),
        (r#" { } "#, true),
        (r#"{"a":1}"#, true),
        ("\t{\"a\" :\r\n 1 }\n", true),
        (r#"{"a":-0.5e+3,"b":0,"c":-0,"d":1E9}"#, true),
        (r#"{"a":true,"b":false,"c":null}"#, true),
        (
            r#"{"vehicle":{"vin":"X","year":2020},"signals":["dpd","ltv"]}"#,
            true,
        ),
        (r#"{"vehicle":{ "vin" : "X" },"signals":[ ]}"#, true),
        (r#"{"a":[[],{},[{}]]}"#, true),
        (r#"{"note":"with spaces and 中文"}"#, true),
        (r#"{"event_id":"a","event_id":"b"}"#, true),
        // Declined: escapes, control characters, invalid JSON, deep nesting.
        (r#"{"a":"\"quoted\""}"#, false),
        (r#"{"a\u0062":1}"#, false),
        ("{\"a\":\"tab\there\"}", false),
        (r#"{"a":01}"#, false),
        (r#"{"a":1.}"#, false),
        (r#"{"a":.5}"#, false),
        (r#"{"a":-}"#, false),
        (r#"{"a":1e}"#, false),
        (r#"{"a":+1}"#, false),
        (r#"{"a":1,}"#, false),
        (r#"{"a":1}x"#, false),
        (r#"{"a":1"#, false),
        (r#"{"a" 1}"#, false),
        (r#"{a:1}"#, false),
        (r#"{"a":tru}"#, false),
        (r#"{"a":[1,]}"#, false),
        (r#"{"a":{"b":1,}}"#, false),
        (r#"[1]"#, false),
        (r#"{"a":[[[[[[[[[1]]]]]]]]]}"#, false),
        ("", false),
    ];
    for (text, fast) in cases {
        assert_eq!(object(text).is_some(), *fast, "{text}");
        assert!(agrees(text), "{text}");
    }
}

#[test]
fn whitespace_outside_strings_does_not_change_the_hash() {
    let tight = object(r#"{"vehicle":{"vin":"X","year":2020},"amount":"1.50"}"#).expect("reads");
    let loose =
        object(" {\"amount\" : \"1.50\",\n \"vehicle\" : { \"vin\" : \"X\" , \"year\" : 2020 } } ")
            .expect("reads");
    assert_eq!(tight.hash, loose.hash);
    let other = object(r#"{"vehicle":{"vin":"X ","year":2020},"amount":"1.50"}"#).expect("reads");
    assert_ne!(tight.hash, other.hash, "a space inside a string counts");
}

#[test]
fn mutated_lines_agree_with_serde_json() {
    // Bytes that change JSON's structure, plus a few that should not.
    const ALPHABET: &[u8] = b"{}[]\":,\\ \t\n0159.-+eEtrufalsn\x01ax";
    let lines = book_lines();
    let mut rng = crate::testkit::Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut read_fast = 0;
    for case in 0..20_000 {
        let mut bytes = lines[rng.below(lines.len())].clone().into_bytes();
        for _ in 0..=rng.below(3) {
            let at = rng.below(bytes.len() + 1);
            let c = ALPHABET[rng.below(ALPHABET.len())];
            match rng.below(3) {
                0 if at < bytes.len() => bytes[at] = c,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, c),
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        read_fast += usize::from(object(&text).is_some());
        assert!(agrees(&text), "case {case}: {text}");
    }
    // Most single mutations still leave valid JSON (a digit for a digit, a space), so the
    // comparison above covered the fast path, not only its declines.
    assert!(
        read_fast > 2_000,
        "only {read_fast} mutated lines read fast"
    );
}
