//! Exact decimal parsing and money formatting.
//!
//! Amounts arrive as JSON strings (`"4557.63"`, preferred) or JSON numbers. Both are parsed from
//! their text, never through `f64`, into a 96-bit `rust_decimal::Decimal`. A value that a
//! `Decimal` cannot hold exactly (more than 28 significant decimal places after removing
//! trailing zeros, or a magnitude past 2^96 − 1) is refused rather than rounded: a bank does
//! not silently change an amount.

use std::cmp::Ordering;

use rust_decimal::{Decimal, RoundingStrategy};

/// Largest mantissa a `Decimal` holds: 2^96 − 1.
const MAX_MANTISSA: u128 = (1u128 << 96) - 1;
/// Largest scale a `Decimal` holds.
const MAX_SCALE: i64 = 28;

/// Parses the text of a JSON number (full JSON grammar, exponents included) exactly.
pub fn parse_json_number(text: &str) -> Result<Decimal, String> {
    parse(text, true)
}

/// Parses a decimal written in a JSON string: `-?digits[.digits]`, nothing else
/// (no exponent, no spaces, no `NaN`/`Infinity`, no thousands separators).
pub fn parse_decimal_string(text: &str) -> Result<Decimal, String> {
    parse(text, false)
}

fn parse(text: &str, allow_exponent: bool) -> Result<Decimal, String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &text[int_start..i];
    let mut frac_digits = "";
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &text[start..i];
        if frac_digits.is_empty() {
            return Err(not_a_decimal(text));
        }
    }
    if int_digits.is_empty() {
        return Err(not_a_decimal(text));
    }
    let mut exponent: i64 = 0;
    if allow_exponent && i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let exp_negative = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            // Saturate: an exponent this large is out of range whatever the digits.
            exponent = exponent
                .saturating_mul(10)
                .saturating_add(i64::from(bytes[i] - b'0'));
            i += 1;
        }
        if i == start {
            return Err(not_a_decimal(text));
        }
        if exp_negative {
            exponent = -exponent;
        }
    }
    if i != bytes.len() {
        return Err(not_a_decimal(text));
    }

    // Up to 19 digits and no exponent (every amount a producer sends): the digits fit a u64
    // and the scale is the fraction's length, so no text is built. Same value, same scale and
    // the same zero (scale 0, never negative) as the general way below.
    if exponent == 0 && int_digits.len() + frac_digits.len() <= 19 {
        let mantissa = int_digits
            .bytes()
            .chain(frac_digits.bytes())
            .fold(0u64, |m, d| m * 10 + u64::from(d - b'0'));
        if mantissa == 0 {
            return Ok(Decimal::ZERO);
        }
        let signed = if negative {
            -i128::from(mantissa)
        } else {
            i128::from(mantissa)
        };
        return Decimal::try_from_i128_with_scale(signed, frac_digits.len() as u32)
            .map_err(|_| out_of_range(text));
    }

    general(text, negative, int_digits, frac_digits, exponent)
}

/// `±int_digits.frac_digits × 10^exponent` for any number of digits: trimmed, range-checked
/// and refused with the reason when a `Decimal` cannot hold it exactly.
fn general(
    text: &str,
    negative: bool,
    int_digits: &str,
    frac_digits: &str,
    exponent: i64,
) -> Result<Decimal, String> {
    // Value = digits × 10^-scale, digits = int_digits ++ frac_digits.
    let mut digits: String = int_digits.chars().chain(frac_digits.chars()).collect();
    let mut scale = (frac_digits.len() as i64).saturating_sub(exponent);
    let trimmed_len = digits.trim_start_matches('0').len();
    digits.drain(..digits.len() - trimmed_len);
    if digits.is_empty() {
        return Ok(Decimal::ZERO);
    }
    while scale > MAX_SCALE && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    if scale > MAX_SCALE {
        return Err(format!(
            "{text} has more than {MAX_SCALE} decimal places and cannot be held exactly"
        ));
    }
    if scale < 0 {
        if (digits.len() as i64).saturating_sub(scale) > 29 {
            return Err(out_of_range(text));
        }
        digits.extend(std::iter::repeat_n('0', (-scale) as usize));
        scale = 0;
    }
    if digits.len() > 29 {
        return Err(too_many_digits(text, scale));
    }
    let mantissa: u128 = digits.parse().map_err(|_| not_a_decimal(text))?;
    if mantissa > MAX_MANTISSA {
        return Err(too_many_digits(text, scale));
    }
    let signed = if negative {
        -(mantissa as i128)
    } else {
        mantissa as i128
    };
    // Cannot fail: mantissa ≤ 2^96 − 1 and scale ≤ 28 were checked above.
    Decimal::try_from_i128_with_scale(signed, scale as u32).map_err(|_| out_of_range(text))
}

fn not_a_decimal(text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    format!("{shown:?} is not a decimal number")
}

/// Either too large, or too many significant digits for 96 bits at that scale.
fn too_many_digits(text: &str, scale: i64) -> String {
    if scale == 0 {
        return out_of_range(text);
    }
    let shown: String = text.chars().take(40).collect();
    format!(
        "{shown} has more significant digits than a 96-bit decimal holds exactly (at most 28–29)"
    )
}

fn out_of_range(text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    format!("{shown} is outside the range of a 96-bit decimal (about ±7.9e28)")
}

/// `a ≥ t × b` for non-negative operands, exactly. A product past the decimal range is larger
/// than any `a`, so comparisons stay exact where the arithmetic would overflow.
pub fn ge_product(a: Decimal, t: Decimal, b: Decimal) -> bool {
    match against_product(a, t, b) {
        Some(order) => order != Ordering::Less,
        None => t.checked_mul(b).is_some_and(|p| a >= p),
    }
}

/// `a > t × b` for non-negative operands, exactly (see [`ge_product`]).
pub fn gt_product(a: Decimal, t: Decimal, b: Decimal) -> bool {
    match against_product(a, t, b) {
        Some(order) => order == Ordering::Greater,
        None => t.checked_mul(b).is_some_and(|p| a > p),
    }
}

/// `a ≤ t × b` for non-negative operands, exactly (see [`ge_product`]).
pub fn le_product(a: Decimal, t: Decimal, b: Decimal) -> bool {
    match against_product(a, t, b) {
        Some(order) => order != Ordering::Greater,
        None => t.checked_mul(b).is_none_or(|p| a <= p),
    }
}

/// `a` against `t × b` in integers, when all three are non-negative with 64-bit mantissas and
/// the product is one a `Decimal` holds exactly (a 96-bit mantissa, scale ≤ 28: `checked_mul`
/// then returns it unrounded, so the answer is the one the decimal arithmetic gives); `None`
/// otherwise. The signal checks compare amounts against thresholds times amounts on every
/// evaluation, and one 64×64-bit multiply is many times cheaper than a decimal multiply and
/// compare (and than a checked signed 128-bit multiply, which is a library call).
fn against_product(a: Decimal, t: Decimal, b: Decimal) -> Option<Ordering> {
    let (a_scale, am) = small(a)?;
    let (t_scale, tm) = small(t)?;
    let (b_scale, bm) = small(b)?;
    let product = u128::from(tm) * u128::from(bm);
    let scale = t_scale + b_scale;
    if scale > 28 || product >> 96 != 0 {
        return None;
    }
    let am = u128::from(am);
    // 10¹⁹ < 2⁶⁴ and 10⁹ < 2³⁰: the scaled side stays below 2¹²⁸.
    let (left, right) = match a_scale.cmp(&scale) {
        Ordering::Less if scale - a_scale <= 19 => {
            (am * POW10[(scale - a_scale) as usize], product)
        }
        Ordering::Greater if a_scale - scale <= 9 => {
            (am, product * POW10[(a_scale - scale) as usize])
        }
        Ordering::Equal => (am, product),
        _ => return None,
    };
    Some(left.cmp(&right))
}

/// The scale and mantissa of a non-negative decimal whose mantissa fits 64 bits.
fn small(d: Decimal) -> Option<(u32, u64)> {
    let u = d.unpack();
    (!u.negative && u.hi == 0).then(|| (u.scale, (u64::from(u.mid) << 32) | u64::from(u.lo)))
}

/// 10⁰ … 10²⁸ (a `Decimal`'s scales).
const POW10: [u128; 29] = {
    let mut p = [1u128; 29];
    let mut i = 1;
    while i < 29 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// Rounds half away from zero, the contract's rounding for interest.
pub fn round_half_away(value: Decimal, dp: u32) -> Decimal {
    value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Formats an amount for people: two decimals, thousands separated, e.g. `2,500.00`.
pub fn format_money(value: Decimal) -> String {
    let rounded = round_half_away(value, 2);
    let text = format!("{:.2}", rounded.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let mut out = String::with_capacity(text.len() + int_part.len() / 3 + 1);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        out.push('-');
    }
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push('.');
    out.push_str(frac_part);
    out
}

/// Formats a ratio as a percentage with one decimal, e.g. `0.524` → `52.4%`.
pub fn format_percent(ratio: Decimal) -> String {
    match ratio.checked_mul(Decimal::ONE_HUNDRED) {
        Some(p) => format!("{:.1}%", round_half_away(p, 1)),
        None => "beyond the decimal range".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_amounts_read_without_text_equal_the_general_reading() {
        let mut rng = crate::testkit::Xorshift(0x1234_5678_9ABC_DEF1);
        let mut next = |n: u64| rng.next_u64() % n;
        for _ in 0..100_000 {
            let digits = |next: &mut dyn FnMut(u64) -> u64, n: u64| -> String {
                (0..n)
                    .map(|_| match next(3) {
                        0 => '0',
                        _ => char::from(b'0' + next(10) as u8),
                    })
                    .collect()
            };
            let (int_len, frac_len) = (1 + next(12), next(9));
            let int = digits(&mut next, int_len);
            let frac = digits(&mut next, frac_len);
            let negative = next(4) == 0;
            let text = format!(
                "{}{int}{}{frac}",
                if negative { "-" } else { "" },
                if frac.is_empty() { "" } else { "." }
            );
            let fast = super::parse_decimal_string(&text).expect("valid");
            let general = super::general(&text, negative, &int, &frac, 0).expect("valid");
            assert_eq!(fast, general, "{text}");
            assert_eq!(fast.to_string(), general.to_string(), "{text}");
            assert_eq!(fast.scale(), general.scale(), "{text}");
        }
    }

    #[test]
    fn product_comparisons_agree_with_decimal_arithmetic() {
        use rust_decimal::Decimal as D;
        // Mantissas and scales near the edges (0, 28, 2^96) and in between.
        let mut rng = crate::testkit::Xorshift(0x2545_F491_4F6C_DD1D);
        let mut next = || rng.next_u64();
        let pick = |next: &mut dyn FnMut() -> u64| {
            let m: i128 = match next() % 4 {
                0 => i128::from(next() % 1_000),
                1 => i128::from(next() % 10_000_000_000),
                2 => i128::from(next()) << (next() % 32),
                _ => (1i128 << 96) - 1 - i128::from(next() % 3),
            };
            let scale = (next() % 29) as u32;
            D::from_i128_with_scale(m.min((1i128 << 96) - 1), scale)
        };
        for _ in 0..200_000 {
            let (mut a, t, b) = (pick(&mut next), pick(&mut next), pick(&mut next));
            let exact = t.checked_mul(b);
            // Half the time `a` is the decimal product itself, where an answer that differs
            // from the decimal arithmetic's (a product it would have rounded) shows.
            if let Some(p) = exact.filter(|_| next() % 2 == 0) {
                a = p;
            }
            assert_eq!(
                super::ge_product(a, t, b),
                exact.is_some_and(|p| a >= p),
                "{a} {t} {b}"
            );
            assert_eq!(
                super::gt_product(a, t, b),
                exact.is_some_and(|p| a > p),
                "{a} {t} {b}"
            );
            assert_eq!(
                super::le_product(a, t, b),
                exact.is_none_or(|p| a <= p),
                "{a} {t} {b}"
            );
        }
    }

    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn strings_parse_exactly_and_keep_their_scale() {
        for (text, want) in [
            ("4557.63", "4557.63"),
            ("0", "0"),
            ("0.10", "0.10"),
            ("-12.5", "-12.5"),
            ("007.50", "7.50"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
            // Trailing zeros past 28 places are dropped, not rounded: the value is exact.
            ("1.00000000000000000000000000000000", "1"),
        ] {
            let got = parse_decimal_string(text).unwrap();
            assert_eq!(got, d(want), "{text}");
            assert_eq!(got.normalize(), d(want).normalize(), "{text}");
            if text.len() < 30 {
                assert_eq!(got.to_string(), want, "{text}");
            }
        }
    }

    #[test]
    fn strings_refuse_anything_but_plain_decimals() {
        for text in [
            "",
            "-",
            ".5",
            "5.",
            "1e3",
            "NaN",
            "nan",
            "Infinity",
            "-Infinity",
            "inf",
            "+1",
            " 1",
            "1 ",
            "1,000.00",
            "0x10",
            "1.2.3",
            "١٢",
        ] {
            assert!(parse_decimal_string(text).is_err(), "{text:?} should fail");
        }
    }

    #[test]
    fn numbers_accept_exponents_exactly() {
        for (text, want) in [
            ("1e3", "1000"),
            ("1.5E2", "150"),
            ("12345e-2", "123.45"),
            ("0e999999999999", "0"),
            ("1E+2", "100"),
            ("100e-30", "0.0000000000000000000000000001"),
        ] {
            assert_eq!(parse_json_number(text).unwrap(), d(want), "{text}");
        }
    }

    #[test]
    fn out_of_range_and_too_precise_values_are_refused() {
        for text in [
            "79228162514264337593543950336",
            "1e29",
            "1e999999999999999999999",
            "0.00000000000000000000000000001",
            "1e-29",
            "123456789012345678901234567890",
        ] {
            assert!(parse_json_number(text).is_err(), "{text} should fail");
        }
    }

    #[test]
    fn money_is_formatted_for_people() {
        assert_eq!(format_money(d("2500")), "2,500.00");
        assert_eq!(format_money(d("1234567.005")), "1,234,567.01");
        assert_eq!(format_money(d("999.994")), "999.99");
        assert_eq!(format_money(d("0")), "0.00");
        assert_eq!(format_money(d("-1000.5")), "-1,000.50");
        assert_eq!(format_percent(d("0.5244")), "52.4%");
    }

    #[test]
    fn product_comparisons_stay_exact_past_the_decimal_range() {
        let max = Decimal::MAX;
        assert!(!ge_product(max, d("2"), max));
        assert!(!gt_product(max, d("2"), max));
        assert!(le_product(max, d("2"), max));
        assert!(ge_product(d("6"), d("2"), d("3")) && !gt_product(d("6"), d("2"), d("3")));
        assert!(le_product(d("6"), d("2"), d("3")));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_half_away(d("2.345"), 2), d("2.35"));
        assert_eq!(round_half_away(d("2.355"), 2), d("2.36"));
        assert_eq!(round_half_away(d("-2.345"), 2), d("-2.35"));
    }
}
