//! Realism of a larger book and the throughput benchmark. (That every `alert_ack` addresses an
//! open alert is checked by replaying books through the engine: `replay.rs`.)

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use postloan_engine::schedule::Terms;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{date, money, opts, parse_all, run, ts};
use crate::generate;

/// A loan as its events describe it: the schedule follows deferrals and restructures.
pub(super) struct LoanView {
    pub terms: Terms,
    pub collateral: Decimal,
    pub opened: NaiveDate,
    pub paid: Decimal,
    pub closed: bool,
}

impl LoanView {
    pub(super) fn opened(v: &Value, t: DateTime<FixedOffset>) -> LoanView {
        LoanView {
            terms: Terms::new(
                money(&v["principal"]),
                v["annual_rate"].as_str().unwrap().parse().unwrap(),
                v["term_months"].as_u64().unwrap() as u32,
                date(v["first_due_date"].as_str().unwrap()).unwrap(),
                money(&v["installment_amount"]),
            ),
            collateral: money(&v["collateral_value"]),
            opened: t.date_naive(),
            paid: Decimal::ZERO,
            closed: false,
        }
    }

    /// Applies a `loan_modified` as the contract says.
    pub(super) fn modified(&mut self, v: &Value) {
        let effective = date(v["effective_date"].as_str().unwrap()).unwrap();
        match v["kind"].as_str().unwrap() {
            "deferral" => {
                let months = v["months"].as_u64().unwrap() as u32;
                self.terms.defer(effective, months).unwrap();
            }
            _ => {
                self.terms = Terms::new(
                    money(&v["principal"]),
                    v["annual_rate"].as_str().unwrap().parse().unwrap(),
                    v["term_months"].as_u64().unwrap() as u32,
                    date(v["first_due_date"].as_str().unwrap()).unwrap(),
                    money(&v["installment_amount"]),
                );
                self.paid = Decimal::ZERO;
            }
        }
    }

    /// Instant from which the first uncovered installment is past due (None: all covered).
    pub(super) fn past_due_from(&self) -> Option<DateTime<FixedOffset>> {
        let covered = self.terms.covered(self.paid, Decimal::ONE);
        let due = self.terms.first_uncovered_due(covered)?;
        let midnight = (due + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap();
        Some(
            chrono_tz::Asia::Shanghai
                .from_local_datetime(&midnight)
                .unwrap()
                .fixed_offset(),
        )
    }
}

#[test]
fn realism_of_a_two_thousand_borrower_book() {
    let (text, sum) = run(&opts(2000, 24, 2024, 0.0));
    let events = parse_all(&text);
    let mut loans: HashMap<String, LoanView> = HashMap::new();
    let mut received: HashMap<String, (String, Decimal, bool)> = HashMap::new();
    let (mut on_time, mut late, mut failed, mut reversed, mut acks) =
        (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut reasons: HashMap<String, u32> = HashMap::new();
    let mut dep = Vec::new();
    let mut incomes: HashMap<String, Vec<Decimal>> = HashMap::new();
    for v in &events {
        let t = ts(v["occurred_at"].as_str().unwrap());
        let hour = t.format("%H").to_string().parse::<u32>().unwrap();
        assert!((6..20).contains(&hour), "odd hour {v}");
        let lid = v
            .get("loan_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match v["type"].as_str().unwrap() {
            "loan_opened" => {
                assert!(loans.insert(lid, LoanView::opened(v, t)).is_none());
            }
            "loan_modified" => {
                let l = loans.get_mut(&lid).unwrap();
                assert!(!l.closed, "modification after closure {v}");
                l.modified(v);
            }
            "repayment" => {
                let l = loans.get_mut(&lid).unwrap();
                assert!(!l.closed, "repayment after closure {v}");
                let amount = money(&v["amount"]);
                let pid = v["payment_id"].as_str().unwrap().to_string();
                assert!(pid.starts_with(&format!("P-{lid}-")), "{pid}");
                match v["status"].as_str().unwrap() {
                    "received" => {
                        let k_due = l.past_due_from();
                        if k_due.is_none_or(|b| t < b) {
                            on_time += 1;
                        } else {
                            late += 1;
                        }
                        l.paid += amount;
                        assert!(
                            received.insert(pid, (lid.clone(), amount, false)).is_none(),
                            "duplicate payment id"
                        );
                    }
                    "failed" => {
                        failed += 1;
                        assert!(v.get("failure_reason").is_some());
                    }
                    "reversed" => {
                        reversed += 1;
                        let r = received
                            .get_mut(&pid)
                            .unwrap_or_else(|| panic!("reversal of unknown payment {v}"));
                        assert_eq!((&r.0, r.1, r.2), (&lid, amount, false), "{v}");
                        r.2 = true;
                        l.paid -= amount;
                    }
                    s => panic!("status {s}"),
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
                *reasons
                    .entry(v["reason"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
            "alert_ack" => {
                acks += 1;
                let id = v["alert_id"].as_str().unwrap();
                let parts: Vec<&str> = id.split('/').collect();
                assert_eq!(
                    (parts.len(), parts[0], parts[2]),
                    (4, v["borrower_id"].as_str().unwrap(), "dpd"),
                    "{id}"
                );
                let l = &loans[parts[1]];
                assert!(!l.closed && parts[3].parse::<u32>().unwrap() >= 1, "{id}");
            }
            "income" => {
                incomes
                    .entry(v["borrower_id"].as_str().unwrap().to_string())
                    .or_default()
                    .push(money(&v["monthly_income"]));
            }
            _ => {}
        }
    }
    let share = f64::from(on_time) / f64::from(on_time + late);
    eprintln!(
        "on-time {share:.3}, failed {failed}, reversed {reversed}, acks {acks}, closures {reasons:?}"
    );
    assert!((0.85..=0.98).contains(&share), "on-time share {share}");
    assert!(
        failed > 20 && reversed > 5 && acks > 3,
        "failed {failed} reversed {reversed} acks {acks}"
    );
    for r in ["paid_off", "refinanced", "repossessed", "charged_off"] {
        assert!(
            reasons.get(r).copied().unwrap_or(0) > 0,
            "no {r}: {reasons:?}"
        );
    }
    let mean = dep.iter().sum::<Decimal>() / Decimal::from(dep.len());
    eprintln!(
        "value after 12 months / origination: {mean:.3} over {} valuations",
        dep.len()
    );
    assert!(
        dep.len() > 500 && mean > Decimal::new(75, 2) && mean < Decimal::new(85, 2),
        "12-month value ratio {mean} over {}",
        dep.len()
    );
    // Some borrowers lose most of their income; some never report after origination.
    let drops = incomes
        .values()
        .filter(|v| v.len() > 2 && *v.iter().min().unwrap() < v[0] * Decimal::new(6, 1))
        .count();
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
    let hwm = rss
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("")
        .to_string();
    println!(
        "{} lines in {dt:.2}s = {:.0} lines/s; {hwm}; {s:?}",
        s.lines,
        s.lines as f64 / dt
    );
}
