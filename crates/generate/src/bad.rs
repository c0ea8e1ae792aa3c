//! Malformed lines: each is derived from the real event it precedes (same borrower, same
//! `occurred_at` where one is written), carries its own event id `X-<n>`, and is certain to be
//! rejected by a contract-conforming consumer — so it never changes the book's state.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::borrower::BorrowerPlan;
use super::ctx::Ctx;
use super::event::{Change, Event, Kind};
use std::io::Write as _;

use super::json::render;
use super::wire::{BorrowerId, EventId, LoanId, Padded};

/// The kinds of damage, in the order they are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadKind {
    Truncated,
    NotJson,
    MissingField,
    NegativeAmount,
    UnknownType,
    BadDate,
    SchemaVersion,
    UnknownLoan,
    /// A v2 field out of its range (`months`, `term_months`, `first_due_date`, `signals`,
    /// `reason`, `until`).
    BadValue,
}

const ALL: [BadKind; 9] = [
    BadKind::Truncated,
    BadKind::NotJson,
    BadKind::MissingField,
    BadKind::NegativeAmount,
    BadKind::UnknownType,
    BadKind::BadDate,
    BadKind::SchemaVersion,
    BadKind::UnknownLoan,
    BadKind::BadValue,
];

const UNKNOWN_TYPES: [&str; 4] = [
    "loan_restructured",
    "payment_plan",
    "credit_check",
    "collateral_revaluation",
];

/// Writes one malformed line (with its newline) derived from `ev` into `out`.
pub(crate) fn write_bad(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    b: &BorrowerPlan,
    ev: &Event,
    n: u64,
) -> serde_json::Result<()> {
    scratch.clear();
    render(scratch, ctx, b, ev, EventId::Bad(n))?;
    let kind = ALL[rng.gen_range(0..ALL.len())];
    // Not applicable to this event type: fall back to a missing required field, and as a
    // last resort to a truncated line, so the line is never left valid.
    if !apply(kind, scratch, rng, ctx, b, ev, n)
        && !apply(BadKind::MissingField, scratch, rng, ctx, b, ev, n)
    {
        apply(BadKind::Truncated, scratch, rng, ctx, b, ev, n);
    }
    out.extend_from_slice(scratch);
    out.push(b'\n');
    Ok(())
}

/// Borrower `b`'s number in this book's id width.
fn who(ctx: &Ctx, b: &BorrowerPlan) -> Padded {
    Padded {
        num: b.num,
        width: ctx.id_width,
    }
}

/// Applies damage `kind` to `line`; false when it does not apply to this event.
fn apply(
    kind: BadKind,
    line: &mut Vec<u8>,
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    b: &BorrowerPlan,
    ev: &Event,
    n: u64,
) -> bool {
    match kind {
        BadKind::Truncated => truncate(line, rng),
        BadKind::NotJson => not_json(line, rng, ctx, b, n),
        BadKind::MissingField => missing_field(line, rng, ev),
        BadKind::NegativeAmount => negative_amount(line, ev),
        BadKind::UnknownType => unknown_type(line, rng),
        BadKind::BadDate => bad_date(line, rng),
        BadKind::SchemaVersion => schema_version(line),
        BadKind::UnknownLoan => unknown_loan(line, ctx, b, ev),
        BadKind::BadValue => bad_value(line, rng, ev),
    }
}

/// Any proper prefix of the line, at least a quarter of it (never the closing brace).
fn truncate(line: &mut Vec<u8>, rng: &mut ChaCha8Rng) -> bool {
    // Any proper prefix of an object that lacks its closing brace is invalid JSON.
    let (lo, hi) = (line.len() / 4, line.len().saturating_sub(1));
    let cut = if lo < hi { rng.gen_range(lo..hi) } else { lo };
    line.truncate(cut.max(1));
    true
}

/// A line that is not JSON at all: a log-like line, an HTML error page, a comment, broken braces.
fn not_json(line: &mut Vec<u8>, rng: &mut ChaCha8Rng, ctx: &Ctx, b: &BorrowerPlan, n: u64) -> bool {
    line.clear();
    match rng.gen_range(0..4) {
        0 => {
            // Writing into a Vec cannot fail.
            let _ = write!(line, "event_id=X-{n} borrower={}", BorrowerId(who(ctx, b)));
        }
        1 => line.extend_from_slice(b"<html><body>502 Bad Gateway</body></html>"),
        2 => line.extend_from_slice(b"# exported by core-banking batch, do not edit"),
        _ => line.extend_from_slice(b"{{\"event_id\" \"X\" , type: repayment}}"),
    }
    true
}

/// One required field removed: a common one or one of the type's own.
fn missing_field(line: &mut Vec<u8>, rng: &mut ChaCha8Rng, ev: &Event) -> bool {
    const COMMON: [&str; 4] = ["event_id", "type", "borrower_id", "occurred_at"];
    let specific: &[&str] = match ev.kind {
        Kind::LoanOpened => &[
            "loan_id",
            "principal",
            "term_months",
            "installment_amount",
            "first_due_date",
        ],
        Kind::Repayment { .. } => &["loan_id", "payment_id", "amount", "status"],
        Kind::Income { .. } => &["monthly_income", "source"],
        Kind::Valuation { .. } => &["loan_id", "value", "source"],
        Kind::Closed { .. } => &["loan_id", "reason"],
        Kind::Ack { .. } | Kind::AckCandidate { .. } => &["alert_id", "acked_by"],
        Kind::Modified {
            change: Change::Deferral { .. },
            ..
        } => &["loan_id", "kind", "effective_date", "months"],
        Kind::Modified {
            change: Change::Restructure,
            ..
        } => &[
            "loan_id",
            "kind",
            "effective_date",
            "principal",
            "annual_rate",
            "term_months",
            "first_due_date",
            "installment_amount",
        ],
        Kind::Suppression { .. } => &["suppression_id", "signals", "until", "reason", "granted_by"],
    };
    let i = rng.gen_range(0..COMMON.len() + specific.len());
    let name = COMMON
        .get(i)
        .copied()
        .or_else(|| specific.get(i - COMMON.len()).copied());
    name.is_some_and(|name| remove_field(line, name))
}

/// The type's amount negated (only a non-zero one: `-0.00` would not be negative).
fn negative_amount(line: &mut Vec<u8>, ev: &Event) -> bool {
    let name = match ev.kind {
        Kind::LoanOpened => "principal",
        Kind::Repayment { .. } => "amount",
        Kind::Income { .. } => "monthly_income",
        Kind::Valuation { .. } => "value",
        Kind::Modified {
            change: Change::Restructure,
            ..
        } => "principal",
        _ => return false,
    };
    // "-0.00" would not be negative: only non-zero amounts are negated.
    let non_zero = |v: usize| {
        line[v + 1..]
            .iter()
            .take_while(|c| **c != b'"')
            .any(|c| (b'1'..=b'9').contains(c))
    };
    match value_start(line, name) {
        Some(v) if line.get(v) == Some(&b'"') && non_zero(v) => {
            line.insert(v + 1, b'-');
            true
        }
        _ => false,
    }
}

/// A `type` the contract does not know.
fn unknown_type(line: &mut Vec<u8>, rng: &mut ChaCha8Rng) -> bool {
    let t = UNKNOWN_TYPES[rng.gen_range(0..UNKNOWN_TYPES.len())];
    replace_string_value(line, "type", t.as_bytes())
}

/// An `occurred_at` that is not RFC 3339 with an offset.
fn bad_date(line: &mut Vec<u8>, rng: &mut ChaCha8Rng) -> bool {
    let Some(v) = value_start(line, "occurred_at") else {
        return false;
    };
    // `v` is the opening quote of "YYYY-MM-DDTHH:MM:SS+HH:MM".
    let good: Vec<u8> = line
        .get(v + 1..v + 26)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if good.len() != 25 {
        return false;
    }
    let mut bad = good.clone();
    match rng.gen_range(0..5) {
        0 => bad.truncate(19),                   // no offset
        1 => bad[5..7].copy_from_slice(b"13"),   // month 13
        2 => bad[11..13].copy_from_slice(b"25"), // hour 25
        3 => {
            // DD/MM/YYYY HH:MM
            bad = [
                &good[8..10],
                b"/",
                &good[5..7],
                b"/",
                &good[0..4],
                b" ",
                &good[11..16],
            ]
            .concat();
        }
        _ => bad = b"yesterday".to_vec(),
    }
    replace_string_value(line, "occurred_at", &bad)
}

/// `schema_version` 2, which this contract does not accept.
fn schema_version(line: &mut Vec<u8>) -> bool {
    if line.last() != Some(&b'}') {
        return false;
    }
    line.pop();
    line.extend_from_slice(b",\"schema_version\":2}");
    true
}

/// A `loan_id` the borrower does not have.
fn unknown_loan(line: &mut Vec<u8>, ctx: &Ctx, b: &BorrowerPlan, ev: &Event) -> bool {
    // A borrower-wide suppression has no loan_id: the replacement then fails.
    if !matches!(
        ev.kind,
        Kind::Repayment { .. }
            | Kind::Valuation { .. }
            | Kind::Closed { .. }
            | Kind::Modified { .. }
            | Kind::Suppression { .. }
    ) {
        return false;
    }
    // Loan sequence 9 never exists (a borrower has at most 2 loans).
    let id = LoanId(who(ctx, b), 9).to_string();
    replace_string_value(line, "loan_id", id.as_bytes())
}

/// A v2 event with one field out of its contract range.
fn bad_value(line: &mut Vec<u8>, rng: &mut ChaCha8Rng, ev: &Event) -> bool {
    match ev.kind {
        Kind::Modified {
            change: Change::Deferral { .. },
            ..
        } => {
            let months: &[u8] = if rng.gen_bool(0.5) { b"0" } else { b"25" };
            replace_value(line, "months", months)
        }
        Kind::Modified {
            change: Change::Restructure,
            ..
        } => {
            if rng.gen_bool(0.5) {
                let term: &[u8] = if rng.gen_bool(0.5) { b"0" } else { b"121" };
                return replace_value(line, "term_months", term);
            }
            // First due date on the effective date: must be after it.
            let Some(v) = value_start(line, "effective_date") else {
                return false;
            };
            let Some(date) = line.get(v..v + 12).map(<[u8]>::to_vec) else {
                return false;
            };
            replace_value(line, "first_due_date", &date)
        }
        Kind::Suppression { .. } => match rng.gen_range(0..4) {
            0 => replace_value(line, "signals", br#"["dpd","sms_reminder"]"#),
            1 => replace_value(line, "signals", b"[]"),
            2 => replace_string_value(line, "reason", b"vacation"),
            _ => replace_string_value(line, "until", b"2025-02-30"),
        },
        _ => false,
    }
}

/// Index of the first byte of `name`'s value (after the colon).
fn value_start(line: &[u8], name: &str) -> Option<usize> {
    let mut pat = Vec::with_capacity(name.len() + 3);
    pat.push(b'"');
    pat.extend_from_slice(name.as_bytes());
    pat.extend_from_slice(b"\":");
    let at = line.windows(pat.len()).position(|w| w == pat.as_slice())?;
    Some(at + pat.len())
}

/// Replaces the string value of `name` (quotes kept).
fn replace_string_value(line: &mut Vec<u8>, name: &str, new: &[u8]) -> bool {
    let Some(v) = value_start(line, name).filter(|v| line.get(*v) == Some(&b'"')) else {
        return false;
    };
    let Some(len) = line[v + 1..].iter().position(|c| *c == b'"') else {
        return false;
    };
    line.splice(v + 1..v + 1 + len, new.iter().copied());
    true
}

/// End (exclusive) of the value starting at `v`: a string, a flat array or a scalar.
fn value_end(line: &[u8], v: usize) -> Option<usize> {
    match line.get(v) {
        Some(b'"') => line[v + 1..]
            .iter()
            .position(|c| *c == b'"')
            .map(|p| v + 1 + p + 1),
        Some(b'[') => line[v..].iter().position(|c| *c == b']').map(|p| v + p + 1),
        _ => line[v..]
            .iter()
            .position(|c| *c == b',' || *c == b'}')
            .map(|p| v + p),
    }
}

/// Replaces the whole value of `name` (string quotes included) with `new`.
fn replace_value(line: &mut Vec<u8>, name: &str, new: &[u8]) -> bool {
    let Some(v) = value_start(line, name) else {
        return false;
    };
    let Some(end) = value_end(line, v) else {
        return false;
    };
    line.splice(v..end, new.iter().copied());
    true
}

/// Removes `"name":value` (a string, a flat array or a scalar) and its separating comma.
fn remove_field(line: &mut Vec<u8>, name: &str) -> bool {
    let Some(v) = value_start(line, name) else {
        return false;
    };
    let start = v - name.len() - 3;
    let Some(end) = value_end(line, v) else {
        return false;
    };
    if start > 0 && line[start - 1] == b',' {
        line.drain(start - 1..end);
    } else if line.get(end) == Some(&b',') {
        line.drain(start..=end);
    } else {
        line.drain(start..end);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_surgery() {
        let mut l =
            br#"{"event_id":"X-1","type":"repayment","amount":"5.00","term_months":12}"#.to_vec();
        assert!(remove_field(&mut l, "event_id"));
        assert_eq!(
            l,
            br#"{"type":"repayment","amount":"5.00","term_months":12}"#
        );
        assert!(remove_field(&mut l, "term_months"));
        assert_eq!(l, br#"{"type":"repayment","amount":"5.00"}"#);
        assert!(replace_string_value(&mut l, "type", b"nope"));
        assert_eq!(l, br#"{"type":"nope","amount":"5.00"}"#);
        assert!(!remove_field(&mut l, "missing"));
        let mut l =
            br#"{"signals":["dpd","payment_failed"],"until":"2025-01-02","months":3}"#.to_vec();
        assert!(replace_value(&mut l, "months", b"25"));
        assert!(remove_field(&mut l, "signals"));
        assert_eq!(l, br#"{"until":"2025-01-02","months":25}"#);
        assert!(replace_value(&mut l, "until", b"\"2025-01-01\""));
        assert_eq!(l, br#"{"until":"2025-01-01","months":25}"#);
    }
}
