//! The hand-read timestamps are chrono's: on the shapes producers send, on their edges, and on
//! thousands of mutations of them.

use chrono::{DateTime, Datelike, Utc};

use super::{fast_rfc3339, peek_occurred_at, YEAR_RANGE};

/// chrono's answer under the decoder's rule (an instant in the year range, or nothing).
fn chrono(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .filter(|t| YEAR_RANGE.contains(&t.year()))
        .map(|t| t.with_timezone(&Utc))
}

#[test]
fn the_common_shapes_are_read_by_hand_and_agree() {
    for text in [
        "2025-03-01T10:00:00+08:00",
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:00:00.5+08:00",
        "2025-03-01T10:00:00.123456789-05:30",
        "2024-02-29T23:59:59+00:00",
        "2025-01-01T00:00:00-00:00",
        "1900-01-01T00:00:00+08:00",
        "2999-12-31T23:59:59-08:00",
    ] {
        let fast = fast_rfc3339(text).unwrap_or_else(|| panic!("not read by hand: {text}"));
        assert_eq!(Some(fast), chrono(text), "{text}");
    }
}

#[test]
fn everything_else_goes_to_chrono() {
    for text in [
        "2025-02-29T10:00:00+08:00",
        "2025-03-01t10:00:00+08:00",
        "2025-03-01 10:00:00+08:00",
        "2025-03-01T10:00:60+08:00",
        "2025-03-01T24:00:00+08:00",
        "2025-03-01T10:00:00+24:00",
        "2025-03-01T10:00:00z",
        "2025-03-01T10:00:00.+08:00",
        "2025-03-01T10:00:00.1234567891+08:00",
        "2025-03-01T10:00:00+0800",
        "2025-03-01T10:00:00",
        "3025-03-01T10:00:00+08:00",
        "0202-03-01T10:00:00+08:00",
        "2025-3-01T10:00:00+08:00",
        "+2025-03-01T10:00:00+08:00",
    ] {
        assert_eq!(fast_rfc3339(text), None, "{text}");
    }
}

#[test]
fn mutated_timestamps_agree_with_chrono() {
    const BYTES: &[u8] = b"0123456789-:+TtZz. x";
    let seeds = [
        "2025-03-01T10:00:00+08:00",
        "2024-12-31T23:59:59.999Z",
        "2025-06-30T00:00:00-04:00",
    ];
    let mut rng = crate::testkit::Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut next = |n: usize| rng.below(n);
    let mut read = 0;
    for _ in 0..100_000 {
        let mut b = seeds[next(seeds.len())].as_bytes().to_vec();
        for _ in 0..=next(2) {
            let at = next(b.len());
            match next(4) {
                0 => {
                    b.remove(at);
                }
                1 => b.insert(at, BYTES[next(BYTES.len())]),
                _ => b[at] = BYTES[next(BYTES.len())],
            }
        }
        let text = String::from_utf8(b).expect("ascii");
        if let Some(fast) = fast_rfc3339(&text) {
            read += 1;
            assert_eq!(Some(fast), chrono(&text), "{text}");
        }
    }
    // About one in twelve mutations is still a valid timestamp (a digit for a digit).
    assert!(read > 5_000, "only {read} mutations read by hand");
}

#[test]
fn peeking_reads_what_decoding_reads() {
    let t = |s: &str| peek_occurred_at(s.as_bytes()).map(|o| o.instant());
    let at = chrono("2025-03-01T10:00:00+08:00");
    assert_eq!(t(r#"{"occurred_at":"2025-03-01T10:00:00+08:00"}"#), at);
    assert_eq!(
        t(r#"{"a":"\"","occurred_at":"2025-03-01T10:00:00+08:00"}"#),
        at
    );
    assert_eq!(t(r#"{"occurred_at":null}"#), None);
    assert_eq!(t(r#"{"occurred_at":20250301}"#), None);
    assert_eq!(
        t(
            r#"{"occurred_at":"2025-03-01T10:00:00+08:00","occurred_at":"2025-03-01T10:00:00+08:00"}"#
        ),
        None
    );
    assert_eq!(
        t(r#"{"event_id":"a","event_id":"b","occurred_at":"2025-03-01T10:00:00+08:00"}"#),
        at
    );
    // A bad byte elsewhere: serde_json reading bytes checks only the strings it reads.
    let bad = b"{\"occurred_at\":\"2025-03-01T10:00:00+08:00\",\"x\":\"\xff\"}";
    assert_eq!(peek_occurred_at(bad).map(|o| o.instant()), at);
}
