//! One mistyped line must never move a clock or change anyone else's alerts (issue 25).
//!
//! Property, over generated contract-v2 books: inserting any one line — a far-future time, a
//! time before its loan opened, or a conflicting duplicate of an applied event — anywhere in the
//! book yields exactly one more rejection (that line's) and every other message byte-identical
//! to the book without it. And the cases the clock-jump rule must get right: a genuine feed
//! restart after a 40-day gap is applied, an isolated typo is rejected, at every position.

mod common;

use proptest::prelude::*;
use serde_json::{json, Value};

use common::{e2e, replay_text};

/// A small generated book (v2 events: deferrals, restructures, suppressions, acks).
fn base() -> &'static [String] {
    static BOOK: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    BOOK.get_or_init(|| e2e::book(40, 8, 7))
}

fn base_output() -> &'static [String] {
    static OUT: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    OUT.get_or_init(|| replay_lines(base()))
}

fn replay_lines(lines: &[String]) -> Vec<String> {
    let (out, _) = replay_text(&lines.join("\n"), None, None);
    out.lines().map(str::to_owned).collect()
}

/// The three kinds of bad line.
#[derive(Debug, Clone, Copy)]
enum Bad {
    FarFuture,
    BeforeLoanOpened,
    ConflictingDuplicate,
}

fn field(line: &str, name: &str) -> Value {
    serde_json::from_str::<Value>(line).unwrap()[name].clone()
}

/// Line `pick` (modulo the candidates) made bad, and the positions it may go to.
fn bad_line(bad: Bad, pick: usize) -> (String, std::ops::RangeInclusive<usize>) {
    let lines = base();
    let of_type = |types: &[&str]| -> Vec<usize> {
        (0..lines.len())
            .filter(|&i| types.contains(&field(&lines[i], "type").as_str().unwrap()))
            .collect()
    };
    match bad {
        Bad::FarFuture => {
            let j = pick % lines.len();
            let mut v: Value = serde_json::from_str(&lines[j]).unwrap();
            let t = v["occurred_at"].as_str().unwrap().to_owned();
            let year: i32 = t[..4].parse().unwrap();
            v["occurred_at"] = json!(format!("{}{}", year + 70, &t[4..]));
            v["event_id"] = json!(format!("typo-{j}"));
            (v.to_string(), 0..=lines.len())
        }
        Bad::BeforeLoanOpened => {
            let c = of_type(&["repayment", "loan_closed", "loan_modified"]);
            let j = c[pick % c.len()];
            let mut v: Value = serde_json::from_str(&lines[j]).unwrap();
            v["occurred_at"] = json!("1990-01-01T10:00:00+08:00");
            v["event_id"] = json!(format!("early-{j}"));
            if v.get("payment_id").is_some() {
                v["payment_id"] = json!(format!("early-{j}"));
            }
            (v.to_string(), 0..=lines.len())
        }
        Bad::ConflictingDuplicate => {
            // Only after the original: before it, the copy would be the one applied.
            let c = of_type(&["repayment", "income", "collateral_valuation"]);
            let j = c[pick % c.len()];
            let mut v: Value = serde_json::from_str(&lines[j]).unwrap();
            for f in ["amount", "monthly_income", "value"] {
                if v.get(f).is_some() {
                    v[f] = json!("1.00");
                }
            }
            (v.to_string(), j + 1..=lines.len())
        }
    }
}

/// The output of the book with `line` inserted at `at`, checked against the base output:
/// exactly one more message, a rejection of that line, and every other one byte-identical.
fn one_more_rejection(line: &str, at: usize) -> Result<String, TestCaseError> {
    let mut lines = base().to_vec();
    lines.insert(at, line.to_owned());
    let got = replay_lines(&lines);
    let want = base_output();
    prop_assert_eq!(got.len(), want.len() + 1, "one more message");
    let extra: Vec<usize> = (0..got.len())
        .filter(|&i| {
            let v: Value = serde_json::from_str(&got[i]).unwrap();
            v["kind"] == "rejected" && v["payload"] == line
        })
        .collect();
    prop_assert_eq!(extra.len(), 1, "the inserted line is rejected once");
    let mut rest = got.clone();
    let rejection = rest.remove(extra[0]);
    prop_assert_eq!(&rest[..], want, "every other message byte-identical");
    let v: Value = serde_json::from_str(&rejection).unwrap();
    Ok(v["error_kind"].as_str().unwrap().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn a_far_future_line_anywhere_is_rejected_and_changes_nothing_else(pick in any::<usize>(), at in any::<prop::sample::Index>()) {
        let (line, range) = bad_line(Bad::FarFuture, pick);
        let at = range.start() + at.index(range.end() - range.start() + 1);
        prop_assert_eq!(one_more_rejection(&line, at)?, "implausible_time");
    }

    #[test]
    fn a_line_dated_before_its_loan_anywhere_is_rejected_and_changes_nothing_else(pick in any::<usize>(), at in any::<prop::sample::Index>()) {
        let (line, range) = bad_line(Bad::BeforeLoanOpened, pick);
        let at = range.start() + at.index(range.end() - range.start() + 1);
        let kind = one_more_rejection(&line, at)?;
        // Before the loan is open (or after it closed) there is no loan to be early for.
        prop_assert!(kind == "implausible_time" || kind == "unknown_loan", "{}", kind);
    }

    #[test]
    fn a_conflicting_duplicate_anywhere_after_its_first_is_rejected_and_changes_nothing_else(pick in any::<usize>(), at in any::<prop::sample::Index>()) {
        let (line, range) = bad_line(Bad::ConflictingDuplicate, pick);
        let at = range.start() + at.index(range.end() - range.start() + 1);
        prop_assert_eq!(one_more_rejection(&line, at)?, "conflicting_duplicate");
    }
}

#[test]
fn each_bad_kind_is_rejected_at_the_edges_of_the_book() {
    for bad in [
        Bad::FarFuture,
        Bad::BeforeLoanOpened,
        Bad::ConflictingDuplicate,
    ] {
        for pick in [0, 1, 17] {
            let (line, range) = bad_line(bad, pick);
            for at in [*range.start(), *range.end()] {
                one_more_rejection(&line, at)
                    .unwrap_or_else(|e| panic!("{bad:?} pick {pick} at {at}: {e}"));
            }
        }
    }
}

/// A small book whose feed stops for `gap_days` after 2025-03-01 and restarts.
fn gapped(gap_days: i64) -> Vec<String> {
    let restart =
        chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap() + chrono::Days::new(gap_days as u64);
    let mut lines = vec![
        json!({"event_id":"o1","type":"loan_opened","borrower_id":"B1","occurred_at":"2025-01-05T10:00:00+08:00","loan_id":"L1","principal":"60000.00","currency":"CNY","annual_rate":"0.06","term_months":24,"first_due_date":"2025-02-10","installment_amount":"2659.24","collateral_value":"150000.00"}),
        json!({"event_id":"p1","type":"repayment","borrower_id":"B1","occurred_at":"2025-02-10T10:00:00+08:00","loan_id":"L1","payment_id":"P1","amount":"2659.24","currency":"CNY","status":"received"}),
        json!({"event_id":"i1","type":"income","borrower_id":"B1","occurred_at":"2025-03-01T10:00:00+08:00","monthly_income":"20000","currency":"CNY","source":"payroll"}),
    ];
    for (n, day) in [0u64, 1, 2].iter().enumerate() {
        let date = restart + chrono::Days::new(*day);
        lines.push(json!({"event_id":format!("r{n}"),"type":"income","borrower_id":"B1","occurred_at":format!("{date}T10:00:00+08:00"),"monthly_income":"20000","currency":"CNY","source":"payroll"}));
    }
    lines.iter().map(Value::to_string).collect()
}

#[test]
fn a_feed_restarting_after_a_40_day_gap_is_applied() {
    let (out, summary) = replay_text(&gapped(40).join("\n"), None, None);
    assert!(summary.rejected.is_empty(), "{out}");
    // The gap left the March installment unpaid: the DPD alert fires at the restart.
    assert!(out.contains("\"signal\":\"dpd\""), "{out}");
    assert_eq!(
        summary.clock.map(|c| c.to_rfc3339()),
        Some("2025-04-12T02:00:00+00:00".to_owned())
    );
}

#[test]
fn the_last_line_of_a_book_jumping_alone_is_rejected_and_a_typo_in_the_middle_too() {
    // The restart's last line alone: nothing after it confirms the new time.
    let lines = gapped(40);
    let (out, summary) = replay_text(&lines[..4].join("\n"), None, None);
    assert_eq!(summary.rejected.values().sum::<u64>(), 1, "{out}");
    assert!(
        out.contains("no event after it confirmed the new time"),
        "{out}"
    );
    // Unless the replay is asked to go that far: `--until` vouches for the book's end.
    let (out, summary) = replay_text(
        &lines[..4].join("\n"),
        Some("2025-04-10T10:00:00+08:00"),
        None,
    );
    assert!(summary.rejected.is_empty(), "{out}");
    let (_, summary) = replay_text(
        &lines[..4].join("\n"),
        Some("2025-04-10T09:59:59+08:00"),
        None,
    );
    assert_eq!(summary.rejected.values().sum::<u64>(), 1);
    // A typo in the middle: the next line refutes it, and the rest is applied as if it never was.
    let mut typo = gapped(0);
    typo.insert(3, json!({"event_id":"t","type":"income","borrower_id":"B1","occurred_at":"2095-03-02T10:00:00+08:00","monthly_income":"1","currency":"CNY","source":"payroll"}).to_string());
    let (out, summary) = replay_text(&typo.join("\n"), None, None);
    assert_eq!(summary.rejected.values().sum::<u64>(), 1, "{out}");
    assert!(
        out.contains("is back more than 31 days earlier: taken for a typo"),
        "{out}"
    );
    let (clean, _) = replay_text(&gapped(0).join("\n"), None, None);
    let without: Vec<&str> = out
        .lines()
        .filter(|l| !l.contains("\"kind\":\"rejected\""))
        .collect();
    assert_eq!(without, clean.lines().collect::<Vec<_>>());
}
