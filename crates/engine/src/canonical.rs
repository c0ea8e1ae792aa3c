//! A payload's identity for telling a redelivery from a conflicting duplicate: a stable hash of
//! its canonical form, in which the order of the fields and whitespace outside strings do not
//! count.
//!
//! Each top-level field contributes the xxh3 hash of its (unescaped) name and its raw value with
//! the whitespace outside strings taken out; the contributions are summed, so field order does
//! not matter and nothing is sorted or allocated. Values are compared as written otherwise
//! (`1.0` and `1.00`, or `"\u0041"` and `"A"`, differ): a producer redelivering a message sends
//! the same bytes, and any other change is a different payload. xxh3 is a fixed algorithm, so
//! hashes kept in snapshots survive restarts and upgrades.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

/// The canonical hash of a JSON object, or `None` when the payload is not one (the engine
/// only hashes payloads it decoded).
pub fn payload_hash(payload: &[u8]) -> Option<u64> {
    let mut d = serde_json::Deserializer::from_slice(payload);
    let sum = d.deserialize_map(SumVisitor).ok()?;
    d.end().ok()?;
    Some(sum)
}

struct SumVisitor;

impl<'de> Visitor<'de> for SumVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut sum = 0u64;
        let mut h = Xxh3::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            h.reset();
            h.update(key.as_bytes());
            // A separator no key contains unescaped: `{"ab":"c"}` and `{"a":"bc"}` differ.
            h.update(b"\"");
            feed_without_whitespace(&mut h, value.get().as_bytes());
            // Summing raw xxh3 values would let two equal fields cancel out in pairs; mixing
            // each first keeps the sum a function of the set of fields.
            sum = sum.wrapping_add(xxh3_64(&h.digest().to_le_bytes()));
        }
        Ok(sum)
    }
}

/// Feeds `raw` JSON to the hasher without the whitespace between tokens (strings are kept
/// whole, escapes and all).
fn feed_without_whitespace(h: &mut Xxh3, raw: &[u8]) {
    if !raw
        .iter()
        .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        h.update(raw);
        return;
    }
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            h.update(&raw[start..i]);
            start = i + 1;
        }
    }
    h.update(&raw[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> u64 {
        payload_hash(s.as_bytes()).unwrap()
    }

    #[test]
    fn key_order_and_whitespace_do_not_count() {
        let a = h(r#"{"event_id":"E1","amount":"10.00","signals":["dpd","ltv"]}"#);
        assert_eq!(
            a,
            h("{ \"signals\" : [ \"dpd\" ,\n \"ltv\" ] ,\t\"amount\":\"10.00\", \"event_id\":\"E1\" }")
        );
    }

    #[test]
    fn any_other_change_counts() {
        let a = h(r#"{"event_id":"E1","amount":"10.00"}"#);
        for other in [
            r#"{"event_id":"E1","amount":"10.0"}"#,
            r#"{"event_id":"E1","amount":"1.00"}"#,
            r#"{"event_id":"E1","amount":"10.00","note":null}"#,
            r#"{"event_id":"E1"}"#,
            r#"{"event_id":"E1","amount":" 10.00"}"#,
            r#"{"event_id":"E1","amoun":"t10.00"}"#,
            r#"{"event_id":"E1","amount":10.00}"#,
        ] {
            assert_ne!(a, h(other), "{other}");
        }
    }

    #[test]
    fn equal_fields_do_not_cancel_out() {
        assert_ne!(h(r#"{"a":1,"b":2}"#), h(r#"{"a":1,"b":2,"c":3,"c":3}"#));
    }

    #[test]
    fn whitespace_inside_strings_counts() {
        assert_ne!(h(r#"{"note":"a b"}"#), h(r#"{"note":"ab"}"#));
        assert_eq!(h(r#"{"note":"a \" b"}"#), h(r#"{ "note" : "a \" b" }"#));
    }

    #[test]
    fn not_an_object_has_no_hash() {
        assert_eq!(payload_hash(b"[1]"), None);
        assert_eq!(payload_hash(b"{} x"), None);
    }
}
