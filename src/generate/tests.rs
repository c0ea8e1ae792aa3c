//! Whole-book tests of the generator: format, determinism, schedule maths, malformed lines,
//! realism, and the DPD alert ids used by `alert_ack`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};
use serde_json::Value;

use super::*;

fn opts(borrowers: u32, months: u32, seed: u64, bad_ratio: f64) -> GenerateOptions {
    GenerateOptions {
        borrowers,
        months,
        seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        bad_ratio,
        time_zone: chrono_tz::Asia::Shanghai,
    }
}

fn run(o: &GenerateOptions) -> (String, GenerateSummary) {
    let mut out = Vec::new();
    let s = generate(o, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), s)
}

fn ts(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad occurred_at {s}: {e}"))
}

fn money(v: &Value) -> Decimal {
    let s = v.as_str().unwrap_or_else(|| panic!("money is not a string: {v}"));
    let (i, f) = s.split_once('.').unwrap_or_else(|| panic!("money without decimals: {s}"));
    assert!(!i.is_empty() && i.bytes().all(|c| c.is_ascii_digit()), "bad money {s}");
    assert!(f.len() == 2 && f.bytes().all(|c| c.is_ascii_digit()), "bad money {s}");
    s.parse().unwrap()
}

const MONEY_FIELDS: [&str; 6] = ["principal", "installment_amount", "collateral_value", "amount", "monthly_income", "value"];

/// Contract-level validity of one line, given the loans opened so far (valid lines only).
fn check_line(line: &str, loans: &mut HashSet<String>) -> Result<Value, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("json: {e}"))?;
    let o = v.as_object().ok_or("not an object")?;
    let s = |k: &str| o.get(k).and_then(Value::as_str).ok_or(format!("missing {k}"));
    let pos_money = |k: &str| -> Result<Decimal, String> {
        let x = o.get(k).and_then(Value::as_str).ok_or(format!("missing {k}"))?;
        let d: Decimal = x.parse().map_err(|_| format!("bad {k}"))?;
        if d.is_sign_negative() {
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
        }
        t => return Err(format!("unknown type {t}")),
    }
    if let Some(l) = o.get("loan_id") {
        if !loans.contains(l.as_str().unwrap_or("")) {
            return Err("unknown loan".into());
        }
    }
    Ok(v)
}

fn parse_all(text: &str) -> Vec<Value> {
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
    for o in [opts(0, 12, 1, 0.0), opts(1, 0, 1, 0.0), opts(1, 241, 1, 0.0), opts(1, 12, 1, 1.5), opts(1, 12, 1, -0.1), opts(1, 12, 1, f64::NAN)] {
        assert!(matches!(generate(&o, &mut sink), Err(GenerateError::InvalidOptions(_))), "{o:?}");
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
    let end = chrono_tz::Asia::Shanghai.from_local_datetime(&NaiveDate::from_ymd_opt(2027, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()).unwrap();
    let start = chrono_tz::Asia::Shanghai.from_local_datetime(&o.start.and_hms_opt(0, 0, 0).unwrap()).unwrap();
    let mut ids = HashSet::new();
    let mut last = None;
    for (line, v) in text.lines().zip(&events) {
        // Field order of the common fields.
        let p: Vec<usize> = ["\"event_id\":", "\"type\":", "\"borrower_id\":", "\"occurred_at\":"]
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
        assert!(ids.insert(v["event_id"].as_str().unwrap().to_string()), "duplicate id {line}");
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
    let labels = |k: &str| events.iter().filter_map(|v| v.get(k)).map(|x| x.as_str().unwrap().to_string()).collect::<HashSet<_>>();
    assert!(labels("branch_id").len() <= 20 && labels("manager_id").len() <= 40 && labels("dealer_id").len() <= 60);
    assert_eq!(sum.loans, events.iter().filter(|v| v["type"] == "loan_opened").count() as u64);
}

#[test]
fn installments_are_annuities_and_schedule_dates_follow_the_contract() {
    let (text, _) = run(&opts(400, 24, 11, 0.0));
    let mut n = 0;
    for v in parse_all(&text).iter().filter(|v| v["type"] == "loan_opened") {
        n += 1;
        let p = money(&v["principal"]);
        let rate: Decimal = v["annual_rate"].as_str().unwrap().parse().unwrap();
        assert!(v["annual_rate"].as_str().unwrap().len() == 6 && rate >= Decimal::new(3, 2) && rate <= Decimal::new(12, 2));
        let term = v["term_months"].as_u64().unwrap();
        assert!([12, 24, 36, 48, 60].contains(&term));
        assert!(p >= Decimal::from(50_000) && p <= Decimal::from(400_000));
        let r = rate / Decimal::from(12);
        let f = (Decimal::ONE + r).powu(term);
        let want = (p * r * f / (f - Decimal::ONE)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let inst = money(&v["installment_amount"]);
        assert_eq!(inst, want, "{v}");
        // Amortising with the engine's method ends within a few cents of zero.
        let mut bal = p;
        for _ in 0..term {
            bal = bal + (bal * r).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero) - inst;
        }
        assert!(bal.abs() < Decimal::ONE, "residual {bal} for {v}");
        // First due date: one month after opening, day clamped.
        let opened = ts(v["occurred_at"].as_str().unwrap()).date_naive();
        let due = NaiveDate::parse_from_str(v["first_due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(due, opened.checked_add_months(chrono::Months::new(1)).unwrap());
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
    assert_eq!(invalid, sum.bad_lines, "every malformed line is detectably invalid");
    assert_eq!(valid, clean, "valid lines are exactly the clean book");
    // All damage kinds show up.
    for needle in ["\"schema_version\":2", "-9\"", "\"amount\":\"-", "502 Bad Gateway", "yesterday", "loan_restructured"] {
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
    let offs: HashSet<&str> = events.iter().map(|v| &v["occurred_at"].as_str().unwrap()[19..]).collect();
    assert_eq!(offs, HashSet::from(["-05:00", "-04:00"]));
    let mut last = None;
    for v in &events {
        let t = ts(v["occurred_at"].as_str().unwrap());
        assert!(last.is_none_or(|l| l <= t));
        last = Some(t);
    }
}

struct LoanView {
    inst: Decimal,
    term: u32,
    first_due: NaiveDate,
    collateral: Decimal,
    opened: NaiveDate,
    paid: Decimal,
    episodes: u32,
    open_alert: bool,
    closed: bool,
}

impl LoanView {
    /// Instant from which the first uncovered installment is past due (None: all covered).
    fn past_due_from(&self) -> Option<DateTime<FixedOffset>> {
        let covered = ((self.paid + Decimal::ONE) / self.inst).floor();
        let k = u32::try_from(covered.mantissa() / 10i128.pow(covered.scale())).unwrap() + 1;
        if k > self.term {
            return None;
        }
        let due = self.first_due.checked_add_months(chrono::Months::new(k - 1)).unwrap();
        let midnight = (due + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap();
        Some(chrono_tz::Asia::Shanghai.from_local_datetime(&midnight).unwrap().fixed_offset())
    }
    fn advance(&mut self, t: DateTime<FixedOffset>) {
        if !self.open_alert && self.past_due_from().is_some_and(|b| b <= t) {
            self.open_alert = true;
            self.episodes += 1;
        }
    }
}

#[test]
fn realism_of_a_two_thousand_borrower_book() {
    let (text, sum) = run(&opts(2000, 24, 2024, 0.0));
    let events = parse_all(&text);
    let mut loans: HashMap<String, LoanView> = HashMap::new();
    let mut received: HashMap<String, (String, Decimal, bool)> = HashMap::new();
    let (mut on_time, mut late, mut failed, mut reversed, mut acks) = (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut reasons: HashMap<String, u32> = HashMap::new();
    let mut dep = Vec::new();
    let mut incomes: HashMap<String, Vec<Decimal>> = HashMap::new();
    for v in &events {
        let t = ts(v["occurred_at"].as_str().unwrap());
        let hour = t.format("%H").to_string().parse::<u32>().unwrap();
        assert!((6..20).contains(&hour), "odd hour {v}");
        let lid = v.get("loan_id").and_then(Value::as_str).unwrap_or("").to_string();
        match v["type"].as_str().unwrap() {
            "loan_opened" => {
                let lv = LoanView {
                    inst: money(&v["installment_amount"]),
                    term: v["term_months"].as_u64().unwrap() as u32,
                    first_due: NaiveDate::parse_from_str(v["first_due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap(),
                    collateral: money(&v["collateral_value"]),
                    opened: t.date_naive(),
                    paid: Decimal::ZERO,
                    episodes: 0,
                    open_alert: false,
                    closed: false,
                };
                assert!(loans.insert(lid, lv).is_none());
            }
            "repayment" => {
                let l = loans.get_mut(&lid).unwrap();
                assert!(!l.closed, "repayment after closure {v}");
                let amount = money(&v["amount"]);
                let pid = v["payment_id"].as_str().unwrap().to_string();
                assert!(pid.starts_with(&format!("P-{lid}-")), "{pid}");
                l.advance(t);
                match v["status"].as_str().unwrap() {
                    "received" => {
                        let k_due = l.past_due_from();
                        if k_due.is_none_or(|b| t < b) {
                            on_time += 1;
                        } else {
                            late += 1;
                        }
                        l.paid += amount;
                        assert!(received.insert(pid, (lid.clone(), amount, false)).is_none(), "duplicate payment id");
                    }
                    "failed" => {
                        failed += 1;
                        assert!(v.get("failure_reason").is_some());
                    }
                    "reversed" => {
                        reversed += 1;
                        let r = received.get_mut(&pid).unwrap_or_else(|| panic!("reversal of unknown payment {v}"));
                        assert_eq!((&r.0, r.1, r.2), (&lid, amount, false), "{v}");
                        r.2 = true;
                        l.paid -= amount;
                    }
                    s => panic!("status {s}"),
                }
                if l.open_alert && l.past_due_from().is_none_or(|b| b > t) {
                    l.open_alert = false;
                }
            }
            "collateral_valuation" => {
                let l = &loans[&lid];
                assert!(!l.closed);
                let age = (t.date_naive() - l.opened).num_days();
                if v["source"] == "market_index" && (335..=395).contains(&age) {
                    dep.push(money(&v["value"]) / l.collateral);
                }
            }
            "loan_closed" => {
                let l = loans.get_mut(&lid).unwrap();
                assert!(!l.closed);
                l.closed = true;
                *reasons.entry(v["reason"].as_str().unwrap().to_string()).or_default() += 1;
            }
            "alert_ack" => {
                acks += 1;
                let id = v["alert_id"].as_str().unwrap();
                let parts: Vec<&str> = id.split('/').collect();
                assert_eq!((parts.len(), parts[0], parts[2]), (4, v["borrower_id"].as_str().unwrap(), "dpd"), "{id}");
                let l = loans.get_mut(parts[1]).unwrap();
                l.advance(t);
                assert!(l.open_alert && !l.closed, "ack of an alert that is not open: {id}");
                assert_eq!(parts[3], l.episodes.to_string(), "{id}");
            }
            "income" => {
                incomes.entry(v["borrower_id"].as_str().unwrap().to_string()).or_default().push(money(&v["monthly_income"]));
            }
            _ => {}
        }
    }
    let share = f64::from(on_time) / f64::from(on_time + late);
    assert!((0.85..=0.98).contains(&share), "on-time share {share}");
    assert!(failed > 20 && reversed > 5 && acks > 3, "failed {failed} reversed {reversed} acks {acks}");
    for r in ["paid_off", "refinanced", "repossessed", "charged_off"] {
        assert!(reasons.get(r).copied().unwrap_or(0) > 0, "no {r}: {reasons:?}");
    }
    let mean = dep.iter().sum::<Decimal>() / Decimal::from(dep.len());
    assert!(dep.len() > 500 && mean > Decimal::new(75, 2) && mean < Decimal::new(85, 2), "12-month value ratio {mean} over {}", dep.len());
    // Some borrowers lose most of their income; some never report after origination.
    let drops = incomes.values().filter(|v| v.len() > 2 && *v.iter().min().unwrap() < v[0] * Decimal::new(6, 1)).count();
    let silent = incomes.values().filter(|v| v.len() == 1).count();
    assert!(drops > 10 && silent > 50, "drops {drops} silent {silent}");
    let second = loans.keys().filter(|k| k.ends_with("-2")).count();
    assert!((40..=200).contains(&second), "second loans {second}");
    assert_eq!(sum.loans as usize, loans.len());
}

/// Release-mode throughput: `cargo test --release --lib generate::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark"]
fn throughput() {
    let o = opts(100_000, 24, 1, 0.0);
    let mut out = std::io::sink();
    let t0 = std::time::Instant::now();
    let s = generate(&o, &mut out).unwrap();
    let dt = t0.elapsed().as_secs_f64();
    let rss = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = rss.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("").to_string();
    println!("{} lines in {dt:.2}s = {:.0} lines/s; {hwm}; {s:?}", s.lines, s.lines as f64 / dt);
}
