//! Properties of the engine over random event sequences:
//! - the same input always gives byte-identical output;
//! - inserting copies of applied events anywhere after them changes nothing;
//! - advancing the clock in many small steps equals one big step;
//! - no line, however malformed, makes replay panic or fail;
//! - restoring from changelog snapshots at any point continues exactly as if never stopped;
//! - the portfolio kept incrementally always equals one counted from scratch;
//! - stopping before any instants (the report's month-ends) publishes exactly what replay does.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use postloan_engine::jump::Followers;
use postloan_engine::{ClockMode, Engine, Input, Outcome, Settings};
use postloan_monitor::config::Config;
use proptest::prelude::*;
use serde_json::{json, Value};

fn settings() -> Arc<Settings> {
    Arc::new(Config::default().engine_settings())
}

/// Settings that forget borrowers without loans soon (and keep few of them), so restores and
/// recounts meet deletions and the index moves they cause.
/// Short class bands too, so that the generated histories cross every class boundary (the
/// classification changes figures, never messages).
fn forgetful() -> Arc<Settings> {
    let config = Config::from_toml(
        r#"
[limits]
forget_borrowers_without_loans_after_days = 20
max_borrowers_without_loans = 2
[classification]
bands = [
  { class = "normal", from_dpd = 0 },
  { class = "special_mention", from_dpd = 1 },
  { class = "substandard", from_dpd = 11 },
  { class = "doubtful", from_dpd = 41 },
  { class = "loss", from_dpd = 75 },
]
"#,
    )
    .unwrap();
    Arc::new(config.engine_settings())
}

/// Runs `payloads` like `run` but with `settings`.
fn run_with(settings: Arc<Settings>, payloads: &[String], end: DateTime<Utc>) -> Vec<String> {
    let mut engine = Engine::new(settings, ClockMode::Event);
    let mut out = Vec::new();
    feed(&mut engine, payloads, 0, payloads.len(), &mut out);
    let mut tail = Vec::new();
    engine.advance_to(end, &mut tail);
    out.extend(tail.iter().map(|m| m.to_json()));
    out
}

/// Minutes from 2026-01-01 00:00 +08:00.
fn instant(minutes: u32) -> String {
    let base = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap();
    (base + Duration::minutes(i64::from(minutes))).to_rfc3339()
}

/// A plausible event over a tiny id space, so that events collide on loans, payments and alerts.
fn event() -> impl Strategy<Value = Value> {
    let borrower = prop::sample::select(vec!["B1", "B2", "B3"]);
    let loan = prop::sample::select(vec!["L1", "L2"]);
    // Extremes included: arithmetic on any valid amount must neither panic nor lose exactness.
    let amount = prop::sample::select(vec![
        "0",
        "1.00",
        "999.99",
        "3000.00",
        "6000",
        "12000.50",
        "0.0000000000000000000000000001",
        "79228162514264337593543950335",
    ]);
    let minutes = 0u32..(60 * 24 * 400);
    (0u8..10, borrower, loan, amount, minutes, 0u8..6, 1u32..28).prop_map(
        |(kind, b, l, amount, m, pick, day)| {
            let at = instant(m);
            let collateral = ["50000", "70000", "90000"][usize::from(pick % 3)];
            let status = ["received", "received", "received", "failed", "failed", "reversed"][usize::from(pick)];
            let mut v = json!({"type": "", "borrower_id": b, "occurred_at": at});
            let fields = match kind {
                0 => json!({"type": "loan_opened", "loan_id": l, "principal": "60000",
                    "currency": "CNY", "annual_rate": "0.07", "term_months": 6 + u32::from(pick) * 6,
                    "first_due_date": format!("2026-{:02}-{:02}", 1 + pick, day),
                    "installment_amount": if pick == 5 { amount } else { "3000.00" }, "collateral_value": collateral,
                    "branch_id": "BR1"}),
                1 | 2 => json!({"type": "repayment", "loan_id": l, "payment_id": format!("P{pick}"),
                    "amount": if amount == "0" { "3000.00" } else { amount }, "currency": "CNY",
                    "status": status}),
                3 => json!({"type": "income", "monthly_income": amount, "currency": "CNY", "source": "payroll"}),
                4 => json!({"type": "collateral_valuation", "loan_id": l,
                    "value": if amount == "0" { "40000" } else { amount }, "currency": "CNY", "source": "appraisal"}),
                5 => json!({"type": "loan_closed", "loan_id": l, "reason": "paid_off"}),
                6 => {
                    let alert = if pick < 4 { format!("{b}/{l}/dpd/1") } else { format!("{b}/-/stale_income/1") };
                    json!({"type": "alert_ack", "alert_id": alert, "acked_by": format!("c{pick}")})
                }
                // Holidays effective before or after a due date, sometimes in the past.
                7 => json!({"type": "loan_modified", "loan_id": l, "kind": "deferral",
                    "effective_date": format!("2026-{:02}-{:02}", 1 + pick, day),
                    "months": if day == 27 { 24 } else { 1 + day % 6 }}),
                8 => json!({"type": "loan_modified", "loan_id": l, "kind": "restructure",
                    "effective_date": format!("2026-{:02}-{:02}", 1 + pick, day),
                    // Cent amounts: book totals are exact only while sums fit 28 digits, which
                    // 1e-28 next to 60,000 does not (real principals have two decimals).
                    "principal": (["50000", "12000.50", "999.99"][usize::from(pick % 3)]), "annual_rate": "0.05",
                    "term_months": 12, "first_due_date": format!("2026-{:02}-{:02}", 2 + pick, day),
                    "installment_amount": "2500.00"}),
                // Grants, replacements and revocations (an `until` already past) of three ids.
                _ => {
                    let signals = match pick % 3 {
                        0 => json!(["*"]),
                        1 => json!(["dpd", "payment_failed"]),
                        _ => json!(["stale_income", "early_warning"]),
                    };
                    let mut v = json!({"type": "suppression", "suppression_id": format!("S{}", day % 3),
                        "signals": signals, "until": format!("2026-{:02}-{:02}", 1 + pick * 2, day),
                        "reason": "hardship", "granted_by": "r1"});
                    if pick % 2 == 0 {
                        v["loan_id"] = json!(l);
                    }
                    v
                }
            };
            for (k, x) in fields.as_object().unwrap() {
                v[k] = x.clone();
            }
            v
        },
    )
}

fn events() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(event(), 1..60).prop_map(|mut evs| {
        // Mostly in time order, as producers send them, with the odd late one left in place.
        evs.sort_by_key(|e| e["occurred_at"].as_str().unwrap_or("").to_owned());
        for (i, e) in evs.iter_mut().enumerate() {
            e["event_id"] = json!(format!("E{i}"));
        }
        evs
    })
}

/// Runs the engine; returns every message as JSON and each input's outcome.
fn run(payloads: &[String], steps: &[DateTime<Utc>]) -> (Vec<String>, Vec<Outcome>) {
    let mut engine = Engine::new(settings(), ClockMode::Event);
    let mut out = Vec::new();
    let mut outcomes = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let source = format!("f/{i}");
        outcomes.push(engine.apply(
            Input {
                payload: p.as_bytes(),
                source: &source,
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut out,
        ));
    }
    for t in steps {
        engine.advance_to(*t, &mut out);
    }
    (out.iter().map(|o| o.to_json()).collect(), outcomes)
}

fn end() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2027-12-31T00:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

/// A rejection's source names a position, which insertions shift; everything else must match.
fn without_sources(msgs: Vec<String>) -> Vec<String> {
    msgs.into_iter()
        .map(|m| {
            let mut v: Value = serde_json::from_str(&m).unwrap();
            if v["kind"] == "rejected" {
                v["source"] = Value::Null;
                v["message_id"] = Value::Null;
            }
            v.to_string()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn same_input_same_bytes(evs in events()) {
        let payloads: Vec<String> = evs.iter().map(Value::to_string).collect();
        let a = run(&payloads, &[end()]);
        let b = run(&payloads, &[end()]);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn duplicates_change_nothing(evs in events(), picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..10)) {
        let payloads: Vec<String> = evs.iter().map(Value::to_string).collect();
        let (base, outcomes) = run(&payloads, &[end()]);
        let applied: Vec<usize> = outcomes.iter().enumerate()
            .filter(|(_, o)| matches!(o, Outcome::Applied(_))).map(|(i, _)| i).collect();
        prop_assume!(!applied.is_empty());
        // Insert copies of applied events at random positions after their original.
        let mut with_copies: Vec<(usize, String)> = payloads.iter().cloned().enumerate().collect();
        for (which, whereto) in picks {
            let orig = applied[which.index(applied.len())];
            let pos = with_copies.iter().position(|(i, _)| *i == orig).unwrap();
            let at = pos + 1 + whereto.index(with_copies.len() - pos);
            with_copies.insert(at, (usize::MAX, payloads[orig].clone()));
        }
        let copies: Vec<String> = with_copies.into_iter().map(|(_, p)| p).collect();
        let (dup, dup_outcomes) = run(&copies, &[end()]);
        prop_assert_eq!(without_sources(base), without_sources(dup));
        let dups = dup_outcomes.iter().filter(|o| matches!(o, Outcome::Duplicate(_))).count();
        prop_assert_eq!(dups, copies.len() - payloads.len());
    }

    #[test]
    fn small_steps_equal_one_big_step(evs in events(), cuts in prop::collection::vec(0i64..(800 * 24 * 60), 1..40)) {
        let payloads: Vec<String> = evs.iter().map(Value::to_string).collect();
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap().with_timezone(&Utc);
        let mut steps: Vec<DateTime<Utc>> = cuts.iter().map(|m| start + Duration::minutes(*m)).collect();
        // Cuts past the end would advance the stepped run further than the single step.
        steps.retain(|t| *t <= end());
        steps.sort();
        steps.push(end());
        prop_assert_eq!(run(&payloads, &[end()]), run(&payloads, &steps));
    }

    #[test]
    fn no_line_makes_replay_fail(evs in events(), mutations in prop::collection::vec((any::<prop::sample::Index>(), 0u8..6, any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 0..40)), 0..30)) {
        let mut lines: Vec<Vec<u8>> = evs.iter().map(|e| e.to_string().into_bytes()).collect();
        for (which, how, cut, junk) in mutations {
            let i = which.index(lines.len());
            let line = &mut lines[i];
            match how {
                0 => line.truncate(cut.index(line.len().max(1))),
                1 => *line = junk.clone(),
                2 => { let at = cut.index(line.len().max(1)); line.splice(at..at, junk.iter().copied()); }
                3 => *line = line.iter().copied().filter(|c| *c != b'"').collect(),
                4 => { let s = String::from_utf8_lossy(line).replace("3000.00", "-3e400").replace("CNY", "cny"); *line = s.into_bytes(); }
                _ => { let s = String::from_utf8_lossy(line).replacen(':', ":{\"x\":[[[[", 1); *line = s.into_bytes(); }
            }
            // A raw newline would split the line in two; keep one input per line.
            for c in line.iter_mut() { if *c == b'\n' { *c = b' '; } }
        }
        let mut text = Vec::new();
        for l in &lines { text.extend_from_slice(l); text.push(b'\n'); }
        let mut out = Vec::new();
        let summary = postloan_monitor::replay::replay(settings(), &mut text.as_slice(), "f", Some(end()), &mut out, &mut |_| {});
        let summary = summary.expect("replay never fails on bad input");
        let outcomes: u64 = summary.applied.values().chain(summary.duplicates.values()).chain(summary.rejected.values()).sum();
        prop_assert_eq!(outcomes, summary.events());
        let rejected_lines = String::from_utf8_lossy(&out).lines().filter(|l| l.contains("\"kind\":\"rejected\"")).count() as u64;
        prop_assert_eq!(rejected_lines, summary.rejected.values().sum::<u64>());
    }
}

/// Applies `payloads[from..to]` to `engine`, collecting message JSON.
fn feed(engine: &mut Engine, payloads: &[String], from: usize, to: usize, out: &mut Vec<String>) {
    let mut msgs = Vec::new();
    for (i, p) in payloads.iter().enumerate().take(to).skip(from) {
        let source = format!("f/{i}");
        engine.apply(
            Input {
                payload: p.as_bytes(),
                source: &source,
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut msgs,
        );
    }
    out.extend(msgs.iter().map(|m| m.to_json()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn restoring_from_snapshots_continues_exactly(evs in events(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..4)) {
        let payloads: Vec<String> = evs.iter().map(Value::to_string).collect();
        let reference = run_with(forgetful(), &payloads, end());

        // Crash at each cut: keep only what the changelog holds (every snapshot and deletion
        // written, not compacted, and the clock), restore it into a fresh engine, carry on.
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(payloads.len() + 1)).collect();
        cuts.sort_unstable();
        let mut changelog: Vec<(String, Vec<u8>)> = Vec::new();
        let mut engine = Engine::new(forgetful(), ClockMode::Event);
        let mut out = Vec::new();
        let mut from = 0;
        for cut in cuts {
            feed(&mut engine, &payloads, from, cut, &mut out);
            let mut dirty = Vec::new();
            engine.take_dirty(&mut dirty);
            changelog.extend(dirty.into_iter().map(|(id, bytes)| (id.to_string(), bytes)));
            let clock = engine.clock();
            engine = Engine::new(forgetful(), ClockMode::Event);
            for (id, bytes) in &changelog {
                if bytes.is_empty() {
                    engine.restore_deletion(id);
                } else {
                    engine.restore_borrower(bytes).unwrap();
                }
            }
            engine.finish_restore(clock);
            from = cut;
        }
        feed(&mut engine, &payloads, from, payloads.len(), &mut out);
        let mut tail = Vec::new();
        engine.advance_to(end(), &mut tail);
        out.extend(tail.iter().map(|m| m.to_json()));
        prop_assert_eq!(reference, out);
    }
}

/// An engine rebuilt from `engine`'s snapshots: its portfolio is counted from scratch.
fn recounted(
    engine: &mut Engine,
    changelog: &mut std::collections::BTreeMap<String, Vec<u8>>,
) -> Engine {
    let mut dirty = Vec::new();
    engine.take_dirty(&mut dirty);
    for (id, bytes) in dirty {
        // A compacted changelog: a deletion removes the key.
        if bytes.is_empty() {
            changelog.remove(&*id);
        } else {
            changelog.insert(id.to_string(), bytes);
        }
    }
    let mut fresh = Engine::new(forgetful(), ClockMode::Event);
    for bytes in changelog.values() {
        fresh.restore_borrower(bytes).unwrap();
    }
    fresh.finish_restore(engine.clock());
    fresh
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn incremental_portfolio_equals_a_recount(evs in events(), steps in prop::collection::vec(0i64..(800 * 24 * 60), 0..8)) {
        let payloads: Vec<String> = evs.iter().map(Value::to_string).collect();
        let mut engine = Engine::new(forgetful(), ClockMode::Event);
        let mut changelog = Default::default();
        let mut out = Vec::new();
        for i in 0..payloads.len() {
            feed(&mut engine, &payloads, i, i + 1, &mut out);
            let fresh = recounted(&mut engine, &mut changelog);
            prop_assert_eq!(engine.portfolio(), fresh.portfolio(), "after event {}", i);
        }
        // Then the clock alone moves loans along the ladder.
        let mut steps: Vec<DateTime<Utc>> = steps
            .iter()
            .map(|m| DateTime::parse_from_rfc3339(&instant(0)).unwrap().with_timezone(&Utc) + Duration::minutes(*m))
            .collect();
        steps.sort_unstable();
        for t in steps {
            let mut msgs = Vec::new();
            engine.advance_to(t, &mut msgs);
            let fresh = recounted(&mut engine, &mut changelog);
            prop_assert_eq!(engine.portfolio(), fresh.portfolio(), "at {}", t);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// `report` stops the replay just before every month-end cut (`Engine::apply_before`):
    /// wherever the stops fall, what is published is replay's, message for message, and at
    /// each stop the clock stands before it.
    #[test]
    fn stopping_before_any_instants_publishes_what_replay_publishes(evs in events(), stops in prop::collection::vec(0i64..(800 * 24 * 60), 0..10)) {
        let payloads: Vec<String> = evs.iter().map(Value::to_string).collect();
        let reference = run_with(settings(), &payloads, end());
        let base = DateTime::parse_from_rfc3339(&instant(0)).unwrap().with_timezone(&Utc);
        let mut stops: Vec<DateTime<Utc>> = stops.iter().map(|m| base + Duration::minutes(*m)).collect();
        stops.sort_unstable();
        stops.dedup();
        let mut engine = Engine::new(settings(), ClockMode::Event);
        let mut msgs = Vec::new();
        let mut next = 0;
        for (i, p) in payloads.iter().enumerate() {
            let source = format!("f/{i}");
            let input = Input { payload: p.as_bytes(), source: &source, key: None, full_size: None, occurred_at: None };
            loop {
                let Some(stop) = stops.get(next) else {
                    engine.apply(input, &mut msgs);
                    break;
                };
                // As `apply` does: no look at the events after a clock jump.
                match engine.apply_before(input, &mut |_| Followers::Ended { seen: 0 }, *stop, &mut msgs) {
                    Ok(_) => break,
                    Err(_) => {
                        prop_assert!(engine.clock().is_some_and(|c| c < *stop));
                        next += 1;
                    }
                }
            }
        }
        engine.advance_to(end(), &mut msgs);
        let out: Vec<String> = msgs.iter().map(|m| m.to_json()).collect();
        prop_assert_eq!(reference, out);
    }
}
