//! The bytes that end a plain JSON string — `"`, `\` and control characters — found eight at
//! a time (SWAR: SIMD within a register, in safe code). The decoder's scanner stops at them;
//! the JSON writer escapes them.

/// The index of the first `"`, `\` or control character (below 0x20) of `b` from `from` on:
/// eight bytes at a time while eight remain, so a short string costs one word (the bytes read
/// past its end are the rest of the buffer); then byte by byte.
pub fn special_byte(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    while let Some(chunk) = b.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // (v - 1) & !v has the high bit of each zero byte of v (and of no byte below the
        // first zero, which is all this needs); x - 0x20 & !x flags bytes below 0x20.
        let hits = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let hits = hits & HIGH;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_eight_byte_search_finds_what_the_byte_search_finds() {
        let naive = |s: &[u8]| s.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        // Bytes around each class boundary, UTF-8 lead and continuation bytes among them.
        const BYTES: &[u8] = b"\x00\x1f\x20\x21\"#[\\]a\x7f\x80\xbf\xe4\xff";
        let mut rng = crate::testkit::Xorshift(7);
        let mut below = |n: usize| rng.below(n);
        for _ in 0..50_000 {
            let len = below(40);
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    if below(4) == 0 {
                        BYTES[below(BYTES.len())]
                    } else {
                        b'a' + below(26) as u8
                    }
                })
                .collect();
            let from = below(s.len() + 1);
            assert_eq!(
                super::special_byte(&s, from),
                naive(&s[from..]).map(|p| from + p),
                "{s:?} from {from}"
            );
        }
    }
}
