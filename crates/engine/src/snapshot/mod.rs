//! Borrower snapshots for the state changelog: a versioned, compact binary encoding of one
//! borrower's state (postcard), exact for every amount and instant.
//!
//! The timer entry is not stored: it is derived from the state and re-armed on restore.

mod format2;
mod format3;
mod format4;

use super::state::Borrower;

/// First byte of every snapshot; bump it when the layout changes, and keep reading the formats
/// before it (a bank cannot drop its state to upgrade): each has a frozen copy of its layout
/// and a migration to the next (`format2.rs` → `format3.rs` → today's; `format4.rs` → today's), and a fixture in
/// `tests/data/`.
pub const FORMAT_VERSION: u8 = 5;

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Written by a layout this build does not read.
    #[error("snapshot format {0} is not supported (this build reads 2 to {FORMAT_VERSION})")]
    Version(u8),
    /// Empty or corrupt bytes.
    #[error("corrupt snapshot: {0}")]
    Corrupt(String),
}

/// Encodes one borrower.
pub fn encode(b: &Borrower) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    // Cannot fail, by construction: postcard fails only on a sequence or map of unknown
    // length or an error raised by a `Serialize` impl, and a borrower derives `Serialize` over
    // vectors, options, strings, integers and the fixed forms of `serde_forms`, whose impls
    // raise none. (The format version alone, an undecodable value, is never written: the
    // round-trip tests below would fail.)
    if let Ok(bytes) = postcard::to_stdvec(b) {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Decodes one borrower.
pub fn decode(bytes: &[u8]) -> Result<Borrower, SnapshotError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, rest)) => {
            postcard::from_bytes(rest).map_err(|e| SnapshotError::Corrupt(e.to_string()))
        }
        Some((&4, rest)) => postcard::from_bytes::<format4::Borrower>(rest)
            .map(Borrower::from)
            .map_err(|e| SnapshotError::Corrupt(e.to_string())),
        Some((&3, rest)) => postcard::from_bytes::<format3::Borrower>(rest)
            .map(Borrower::from)
            .map_err(|e| SnapshotError::Corrupt(e.to_string())),
        Some((&2, rest)) => postcard::from_bytes::<format2::Borrower>(rest)
            .map(|old| Borrower::from(format3::Borrower::from(old)))
            .map_err(|e| SnapshotError::Corrupt(e.to_string())),
        Some((&v, _)) => Err(SnapshotError::Version(v)),
        None => Err(SnapshotError::Corrupt("empty".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    #[test]
    fn versions_and_corruption_are_refused() {
        assert!(matches!(decode(&[]), Err(SnapshotError::Corrupt(_))));
        assert!(matches!(decode(&[9, 1, 2]), Err(SnapshotError::Version(9))));
        assert!(matches!(
            decode(&[FORMAT_VERSION, 0xff]),
            Err(SnapshotError::Corrupt(_))
        ));
    }

    #[test]
    fn a_borrower_survives_encode_and_decode() {
        let mut k = Kit::new();
        k.send(loan(
            "B1",
            "L1",
            "2026-01-05T10:00:00.123456789+08:00",
            "2026-01-31",
        ));
        k.send(pay(
            "B1",
            "L1",
            "2026-02-01T10:00:00+08:00",
            "P1",
            "3000.005",
            "received",
        ));
        k.send(pay(
            "B1",
            "L1",
            "2026-02-02T10:00:00+08:00",
            "P2",
            "1",
            "failed",
        ));
        k.send(income(
            "B1",
            "2026-02-03T10:00:00+08:00",
            "0.0000000000000000000000000001",
        ));
        k.advance("2026-06-01T00:00:00+08:00");
        let b = k.engine.snapshot("B1").unwrap();
        let again = decode(&b).unwrap();
        assert_eq!(format!("{:?}", decode(&b).unwrap()), format!("{again:?}"));
        assert_eq!(encode(&again), b);
    }
}
