//! Whole-book tests of the generator: format, determinism, schedule maths, malformed lines,
//! realism, and the DPD alert ids used by `alert_ack`.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};
use serde_json::Value;

use super::*;

mod golden;
mod realism;
mod realism_v2;
mod replay;

pub(super) fn opts(borrowers: u32, months: u32, seed: u64, bad_ratio: f64) -> GenerateOptions {
    GenerateOptions {
        borrowers,
        months,
        seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        bad_ratio,
        time_zone: chrono_tz::Asia::Shanghai,
    }
}

pub(super) fn run(o: &GenerateOptions) -> (String, GenerateSummary) {
    let mut out = Vec::new();
    let s = generate(o, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), s)
}

pub(super) fn ts(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad occurred_at {s}: {e}"))
}

pub(super) fn money(v: &Value) -> Decimal {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("money is not a string: {v}"));
    let (i, f) = s
        .split_once('.')
        .unwrap_or_else(|| panic!("money without decimals: {s}"));
    assert!(
        !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit()),
        "bad money {s}"
    );
    assert!(
        f.len() == 2 && f.bytes().all(|c| c.is_ascii_digit()),
        "bad money {s}"
    );
    s.parse().unwrap()
}

const MONEY_FIELDS: [&str; 6] = [
    "principal",
    "installment_amount",
    "collateral_value",
    "amount",
    "monthly_income",
    "value",
];

const SIGNALS: [&str; 9] = [
    "dpd",
    "payment_failed",
    "income_drop",
    "payment_to_income",
    "ltv",
    "collateral_drop",
    "stale_income",
    "stale_valuation",
    "early_warning",
];

const SUPPRESSION_REASONS: [&str; 6] = [
    "hardship",
    "dispute",
    "disaster",
    "legal_hold",
    "deceased",
    "other",
];

pub(super) fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("date {s}: {e}"))
}

/// Contract-level validity of one line, given the loans opened so far (valid lines only).
fn check_line(line: &str, loans: &mut HashSet<String>) -> Result<Value, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("json: {e}"))?;
    let o = v.as_object().ok_or("not an object")?;
    let s = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .ok_or(format!("missing {k}"))
    };
    let pos_money = |k: &str| -> Result<Decimal, String> {
        let x = o
            .get(k)
            .and_then(Value::as_str)
            .ok_or(format!("missing {k}"))?;
        let d: Decimal = x.parse().map_err(|_| format!("bad {k}"))?;
        if d < Decimal::ZERO {
            return Err(format!("negative {k}"));
        }
        Ok(d)
    };
    s("event_id")?;
    s("borrower_id")?;
    DateTime::parse_from_rfc3339(s("occurred_at")?).map_err(|e| format!("date: {e}"))?;
    if o.get("schema_version").is_some_and(|x| x != 1) {
        return Err("schema_version".into());
    }
    match s("type")? {
        "loan_opened" => {
            for k in ["principal", "installment_amount", "collateral_value"] {
                pos_money(k)?;
            }
            s("first_due_date")?;
            o.get("term_months").and_then(Value::as_u64).ok_or("term")?;
            loans.insert(s("loan_id")?.to_string());
        }
        "repayment" => {
            pos_money("amount")?;
            s("payment_id")?;
            if !["received", "failed", "reversed"].contains(&s("status")?) {
                return Err("status".into());
            }
        }
        "income" => {
            pos_money("monthly_income")?;
            s("source")?;
        }
        "collateral_valuation" => {
            pos_money("value")?;
            s("source")?;
        }
        "loan_closed" => {
            s("reason")?;
        }
        "alert_ack" => {
            s("alert_id")?;
            s("acked_by")?;
            if o.get("note")
                .is_some_and(|n| n.as_str().is_none_or(|n| n.len() > 1024))
            {
                return Err("note".into());
            }
        }
        "loan_modified" => {
            let effective = date(s("effective_date")?)?;
            let int = |k: &str, lo: u64, hi: u64| {
                o.get(k)
                    .and_then(Value::as_u64)
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or(format!("bad {k}"))
            };
            match s("kind")? {
                "deferral" => {
                    int("months", 1, 24)?;
                }
                "restructure" => {
                    if pos_money("principal")? == Decimal::ZERO
                        || pos_money("installment_amount")? == Decimal::ZERO
                    {
                        return Err("zero amount".into());
                    }
                    s("annual_rate")?;
                    int("term_months", 1, 120)?;
                    if date(s("first_due_date")?)? <= effective {
                        return Err("first_due_date not after effective_date".into());
                    }
                }
                k => return Err(format!("kind {k}")),
            }
            if o.get("reason")
                .is_some_and(|r| r.as_str().is_none_or(|r| r.len() > 256))
            {
                return Err("reason".into());
            }
        }
        "suppression" => {
            s("suppression_id")?;
            s("granted_by")?;
            date(s("until")?)?;
            if !SUPPRESSION_REASONS.contains(&s("reason")?) {
                return Err("reason".into());
            }
            let names: Vec<&str> = o
                .get("signals")
                .and_then(Value::as_array)
                .ok_or("signals")?
                .iter()
                .map(|n| n.as_str().ok_or("signal name"))
                .collect::<Result<_, _>>()?;
            let known = names == ["*"] || names.iter().all(|n| SIGNALS.contains(n));
            if names.is_empty() || !known {
                return Err(format!("signals {names:?}"));
            }
        }
        t => return Err(format!("unknown type {t}")),
    }
    let scoped = [
        "repayment",
        "collateral_valuation",
        "loan_closed",
        "loan_modified",
    ]
    .contains(&s("type")?)
        || o.contains_key("loan_id") && s("type")? == "suppression";
    if scoped && !loans.contains(s("loan_id")?) {
        return Err("unknown loan".into());
    }
    Ok(v)
}

pub(super) fn parse_all(text: &str) -> Vec<Value> {
    let mut loans = HashSet::new();
    text.lines()
        .map(|l| check_line(l, &mut loans).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let (a, sa) = run(&opts(300, 12, 42, 0.02));
    let (b, sb) = run(&opts(300, 12, 42, 0.02));
    let (c, _) = run(&opts(300, 12, 43, 0.02));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_ne!(a, c);
}

#[test]
fn invalid_options_are_rejected() {
    let mut sink = std::io::sink();
    for o in [
        opts(0, 12, 1, 0.0),
        opts(1, 0, 1, 0.0),
        opts(1, 241, 1, 0.0),
        opts(1, 12, 1, 1.5),
        opts(1, 12, 1, -0.1),
        opts(1, 12, 1, f64::NAN),
    ] {
        assert!(
            matches!(
                generate(&o, &mut sink),
                Err(GenerateError::InvalidOptions(_))
            ),
            "{o:?}"
        );
    }
}

#[test]
fn book_is_well_formed_sorted_and_unique() {
    let o = opts(800, 24, 7, 0.0);
    let (text, sum) = run(&o);
    let events = parse_all(&text);
    assert_eq!(sum.lines, events.len() as u64);
    assert_eq!(sum.bad_lines, 0);
    assert_eq!(sum.events_by_type.values().sum::<u64>(), sum.lines);
    let end = chrono_tz::Asia::Shanghai
        .from_local_datetime(
            &NaiveDate::from_ymd_opt(2027, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
        .unwrap();
    let start = chrono_tz::Asia::Shanghai
        .from_local_datetime(&o.start.and_hms_opt(0, 0, 0).unwrap())
        .unwrap();
    let mut ids = HashSet::new();
    let mut last = None;
    for (line, v) in text.lines().zip(&events) {
        // Field order of the common fields.
        let p: Vec<usize> = [
            "\"event_id\":",
            "\"type\":",
            "\"borrower_id\":",
            "\"occurred_at\":",
        ]
        .iter()
        .map(|k| line.find(k).unwrap())
        .collect();
        assert!(p[0] == 1 && p.windows(2).all(|w| w[0] < w[1]), "{line}");
        let at = v["occurred_at"].as_str().unwrap();
        assert!(at.ends_with("+08:00") && at.len() == 25, "{at}");
        let t = ts(at);
        assert!(t >= start && t < end, "{at} outside the book");
        assert!(last.is_none_or(|l| l <= t), "not sorted at {line}");
        last = Some(t);
        assert!(
            ids.insert(v["event_id"].as_str().unwrap().to_string()),
            "duplicate id {line}"
        );
        for k in MONEY_FIELDS {
            if let Some(m) = v.get(k) {
                money(m);
            }
        }
        if let Some(c) = v.get("currency") {
            assert_eq!(c, "CNY");
        }
    }
    // Every type shows up and labels stay low-cardinality.
    assert!(sum.events_by_type.values().all(|n| *n > 0), "{sum:?}");
    let labels = |k: &str| {
        events
            .iter()
            .filter_map(|v| v.get(k))
            .map(|x| x.as_str().unwrap().to_string())
            .collect::<HashSet<_>>()
    };
    assert!(
        labels("branch_id").len() <= 20
            && labels("manager_id").len() <= 40
            && labels("dealer_id").len() <= 60
    );
    assert_eq!(
        sum.loans,
        events.iter().filter(|v| v["type"] == "loan_opened").count() as u64
    );
}

#[test]
fn installments_are_annuities_and_schedule_dates_follow_the_contract() {
    let (text, _) = run(&opts(400, 24, 11, 0.0));
    let mut n = 0;
    for v in parse_all(&text)
        .iter()
        .filter(|v| v["type"] == "loan_opened")
    {
        n += 1;
        let p = money(&v["principal"]);
        let rate: Decimal = v["annual_rate"].as_str().unwrap().parse().unwrap();
        assert!(
            v["annual_rate"].as_str().unwrap().len() == 6
                && rate >= Decimal::new(3, 2)
                && rate <= Decimal::new(12, 2)
        );
        let term = v["term_months"].as_u64().unwrap();
        assert!([12, 24, 36, 48, 60].contains(&term));
        assert!(p >= Decimal::from(50_000) && p <= Decimal::from(400_000));
        let r = rate / Decimal::from(12);
        let f = (Decimal::ONE + r).powu(term);
        let want = (p * r * f / (f - Decimal::ONE))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let inst = money(&v["installment_amount"]);
        assert_eq!(inst, want, "{v}");
        // Amortising with the engine's method ends within a few cents of zero.
        let mut bal = p;
        for _ in 0..term {
            bal = bal + (bal * r).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
                - inst;
        }
        assert!(bal.abs() < Decimal::ONE, "residual {bal} for {v}");
        // First due date: one month after opening, day clamped.
        let opened = ts(v["occurred_at"].as_str().unwrap()).date_naive();
        let due =
            NaiveDate::parse_from_str(v["first_due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(
            due,
            opened.checked_add_months(chrono::Months::new(1)).unwrap()
        );
    }
    assert!(n >= 400);
}

#[test]
fn no_malformed_lines_without_bad_ratio() {
    let (text, sum) = run(&opts(500, 12, 3, 0.0));
    let mut loans = HashSet::new();
    assert!(text.lines().all(|l| check_line(l, &mut loans).is_ok()));
    assert_eq!(sum.bad_lines, 0);
    assert!(!text.contains("\"X-"));
}

#[test]
fn bad_ratio_inserts_rejectable_lines_only() {
    let (clean, _) = run(&opts(600, 18, 5, 0.0));
    let (text, sum) = run(&opts(600, 18, 5, 0.05));
    let share = sum.bad_lines as f64 / sum.lines as f64;
    assert!((0.04..=0.06).contains(&share), "share {share}");
    let mut loans = HashSet::new();
    let mut valid = String::new();
    let mut invalid = 0;
    for l in text.lines() {
        assert!(!l.trim().is_empty());
        match check_line(l, &mut loans) {
            Ok(_) => {
                valid.push_str(l);
                valid.push('\n');
            }
            Err(_) => invalid += 1,
        }
    }
    assert_eq!(
        invalid, sum.bad_lines,
        "every malformed line is detectably invalid"
    );
    assert_eq!(valid, clean, "valid lines are exactly the clean book");
    assert!(
        !text.contains("\"-0.00\""),
        "a negated zero is not negative"
    );
    // All damage kinds show up.
    for needle in [
        "\"schema_version\":2",
        "-9\"",
        "\"amount\":\"-",
        "502 Bad Gateway",
        "yesterday",
        "loan_restructured",
    ] {
        assert!(text.contains(needle), "no {needle}");
    }
    // p = 1 replaces everything.
    let (all_bad, s1) = run(&opts(20, 6, 5, 1.0));
    let mut loans = HashSet::new();
    assert_eq!(s1.lines, s1.bad_lines);
    assert!(all_bad.lines().all(|l| check_line(l, &mut loans).is_err()));
}

#[test]
fn other_time_zones_write_their_offsets() {
    let mut o = opts(200, 24, 9, 0.0);
    o.time_zone = chrono_tz::America::New_York;
    let (text, _) = run(&o);
    let events = parse_all(&text);
    let offs: HashSet<&str> = events
        .iter()
        .map(|v| &v["occurred_at"].as_str().unwrap()[19..])
        .collect();
    assert_eq!(offs, HashSet::from(["-05:00", "-04:00"]));
    let mut last = None;
    for v in &events {
        let t = ts(v["occurred_at"].as_str().unwrap());
        assert!(last.is_none_or(|l| l <= t));
        last = Some(t);
    }
}
