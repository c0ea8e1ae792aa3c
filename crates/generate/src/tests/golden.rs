//! The same seed gives the same bytes: digests of books written by the generator before its
//! refactor into a pipeline (main @ 5b7eb29). Any change to a digest moves the demo's, the
//! tests' and the benchmarks' figures.

use super::{opts, run};

/// FNV-1a (64 bits) of the bytes: stable, dependency-free, enough to notice any change.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A book's options: borrowers, months, seed, bad_ratio, zone.
type Book = (u32, u32, u64, f64, chrono_tz::Tz);
/// A book's length and FNV-1a digest.
type Digest = (usize, u64);

/// (borrowers, months, seed, bad_ratio, zone) → (length, digest) of the book.
fn book(borrowers: u32, months: u32, seed: u64, bad: f64, tz: chrono_tz::Tz) -> (usize, u64) {
    let mut o = opts(borrowers, months, seed, bad);
    o.time_zone = tz;
    let (text, _) = run(&o);
    (text.len(), fnv1a(text.as_bytes()))
}

#[test]
fn the_same_seed_gives_the_same_bytes_as_before_the_refactor() {
    use chrono_tz::{America, Asia, Europe};
    // (borrowers, months, seed, bad_ratio, zone), (length, FNV-1a) computed with the old code.
    let cases: [(Book, Digest); 8] = [
        (
            (400, 24, 3, 0.0, Asia::Shanghai),
            (3_310_961, 0xc72a_33af_eef6_4261),
        ),
        (
            (300, 12, 42, 0.02, Asia::Shanghai),
            (1_338_878, 0x5fdf_cd79_9751_d104),
        ),
        (
            (600, 36, 5, 0.05, Asia::Shanghai),
            (7_053_593, 0x3343_5ba9_b848_2cd1),
        ),
        (
            (200, 24, 9, 0.0, America::New_York),
            (1_631_642, 0x61c3_20c6_357e_6962),
        ),
        (
            (150, 18, 11, 0.3, Europe::Berlin),
            (1_323_047, 0xd5f8_de9e_cfc6_c292),
        ),
        (
            (20, 6, 5, 1.0, Asia::Shanghai),
            (34_949, 0xd50e_f1ba_4017_1428),
        ),
        (
            (120, 30, 2, 0.01, America::St_Johns),
            (1_212_291, 0x01f7_e57d_ef2f_01bc),
        ),
        (
            (120, 30, 4, 0.01, America::Santiago),
            (1_197_328, 0x21e4_5d7b_d9a2_531c),
        ),
    ];
    for ((b, m, s, p, tz), want) in cases {
        assert_eq!(
            book(b, m, s, p, tz),
            want,
            "{b} borrowers, {m} months, seed {s}, bad {p}, {tz}"
        );
    }
}
