//! A payload's identity for telling a redelivery from a conflicting duplicate: a stable hash of
//! its canonical form, in which the order of the fields and whitespace outside strings do not
//! count.
//!
//! Each top-level field contributes [`field_hash`]: xxh3 of its raw value with the whitespace
//! outside strings taken out, seeded with the xxh3 of its (unescaped) name. The contributions
//! are summed, so field order does not matter and nothing is sorted. Values are compared as
//! written otherwise (`1.0` and `1.00`, or `"\u0041"` and `"A"`, differ): a producer redelivering
//! a message sends the same bytes, and any other change is a different payload. xxh3 is a fixed
//! algorithm, so hashes kept in snapshots survive restarts and upgrades.
//!
//! The decoder computes the same sum as it reads the fields (one pass: `Event::payload_hash`);
//! [`payload_hash`] is the definition on its own, which tests hold the decoder to.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The seed a field's name gives its value's hash.
pub fn key_seed(name: &str) -> u64 {
    xxh3_64(name.as_bytes())
}

/// One field's share of the canonical hash: its raw JSON value, whitespace between tokens
/// taken out, hashed with its name's [`key_seed`].
pub fn field_hash(seed: u64, raw: &[u8]) -> u64 {
    if !raw
        .iter()
        .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return xxh3_64_with_seed(raw, seed);
    }
    xxh3_64_with_seed(&without_whitespace(raw), seed)
}

/// [`field_hash`] of a raw value known to have no whitespace between its tokens (the decoder's
/// scanner knows it as it reads): the same number, without looking for any.
pub fn field_hash_tight(seed: u64, raw: &[u8]) -> u64 {
    xxh3_64_with_seed(raw, seed)
}

/// The canonical hash of a JSON object, or `None` when the payload is not one.
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
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            sum = sum.wrapping_add(field_hash(key_seed(&key), value.get().as_bytes()));
        }
        Ok(sum)
    }
}

/// `raw` JSON without the whitespace between tokens (strings are kept whole, escapes and all).
fn without_whitespace(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in raw {
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
            continue;
        }
        out.push(b);
    }
    out
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
        assert_ne!(h(r#"{"a":1}"#), h(r#"{"a":1,"a":1}"#));
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
