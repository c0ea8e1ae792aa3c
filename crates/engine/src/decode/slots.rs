//! A payload's known top-level fields as raw JSON text, and its canonical hash, in one pass.
//!
//! Two readers fill the same [`Slots`]: the hand-written scanner (`scan.rs`) for the plain,
//! valid objects producers send (no escapes, no control characters, nesting at most a few
//! levels deep), and serde_json for everything else. The scanner declines what it does not
//! fully understand, so every error, and every oddity serde_json accepts, comes from serde_json
//! as before: the fast path changes the speed, never the answer (`scan`'s tests hold it to
//! that on mutated payloads). `read_slots` in `decode.rs` tries the scanner first.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::value::RawValue;

use super::{field_of, Field, FIELD_COUNT, FIELD_NAMES};
use crate::canonical;

/// The [`canonical::key_seed`] of each known field's name, computed at compile time.
const FIELD_SEEDS: [u64; FIELD_COUNT] = {
    let mut seeds = [0u64; FIELD_COUNT];
    let mut i = 0;
    while i < FIELD_COUNT {
        seeds[i] = xxhash_rust::const_xxh3::xxh3_64(FIELD_NAMES[i].as_bytes());
        i += 1;
    }
    seeds
};

/// The raw JSON of each known field; `null` counts as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slots<'a> {
    raw: [Option<&'a str>; FIELD_COUNT],
    /// The first known field that appeared twice.
    pub(super) repeated: Option<Field>,
    /// The payload's canonical hash (see [`canonical`]).
    pub(super) hash: u64,
    /// Read by the scanner: no string has an escape, so every string value is its own text.
    pub(super) plain: bool,
}

impl<'a> Slots<'a> {
    pub(super) fn empty() -> Self {
        Slots {
            raw: [None; FIELD_COUNT],
            repeated: None,
            hash: 0,
            plain: false,
        }
    }

    /// The raw value of field `f`, unless absent or `null`.
    pub(super) fn get(&self, f: Field) -> Option<&'a str> {
        self.raw[f as usize].filter(|r| *r != "null")
    }

    /// Takes one member. `tight`: the scanner saw no whitespace between the value's tokens, so
    /// the raw text already is its canonical form.
    pub(super) fn put(&mut self, key: &str, value: &'a str, tight: bool) {
        let (field, seed) = named(key);
        self.put_named(field, seed, value, tight);
    }

    fn put_named(&mut self, field: Field, seed: u64, value: &'a str, tight: bool) {
        let share = if tight {
            canonical::field_hash_tight(seed, value.as_bytes())
        } else {
            canonical::field_hash(seed, value.as_bytes())
        };
        // Unknown fields count for the payload's identity too: hashed, not skipped.
        self.hash = self.hash.wrapping_add(share);
        if field == Field::Unknown {
            return;
        }
        let slot = &mut self.raw[field as usize];
        if slot.is_some() && self.repeated.is_none() {
            self.repeated = Some(field);
        }
        *slot = Some(value);
    }
}

struct SlotsVisitor;

impl<'de> Visitor<'de> for SlotsVisitor {
    type Value = Slots<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slots<'de>, A::Error> {
        let mut slots = Slots::empty();
        while let Some((field, seed)) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            slots.put_named(field, seed, value.get(), false);
        }
        Ok(slots)
    }
}

/// A member's field and its name's hash seed.
fn named(key: &str) -> (Field, u64) {
    match field_of(key) {
        Field::Unknown => (Field::Unknown, canonical::key_seed(key)),
        f => (f, FIELD_SEEDS[f as usize]),
    }
}

/// Reads a member name (unescaped by serde_json, borrowed when it has no escapes) straight
/// into its field and seed.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = (Field, u64);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(Field, u64), D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = (Field, u64);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(Field, u64), E> {
        Ok(named(v))
    }
}

impl<'de> de::Deserialize<'de> for Slots<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SlotsVisitor)
    }
}
