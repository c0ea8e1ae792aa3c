//! The clock-jump rule in the streaming runtime (event clock): a suspect is held until the
//! records after it in its own input partition judge it. A feed restarting after a 40-day gap is
//! applied; an isolated typo is rejected; nothing is lost or reordered, and a crash at any step
//! judges exactly as an uninterrupted run.

use super::*;

/// Three borrowers (spread over the partitions) whose feed stops on 2025-03-01 and restarts
/// 40 days later, and one income event mistyped as 2095 in the middle of February.
fn book() -> (String, String) {
    let mut lines = Vec::new();
    let typo = r#"{"event_id":"typo","type":"income","borrower_id":"B1","occurred_at":"2095-02-20T10:00:00+08:00","monthly_income":"1","currency":"CNY","source":"payroll"}"#;
    for b in ["B1", "B2", "B3"] {
        lines.push(format!(
            r#"{{"event_id":"{b}-o","type":"loan_opened","borrower_id":"{b}","occurred_at":"2025-01-05T10:00:00+08:00","loan_id":"L1","principal":"60000.00","currency":"CNY","annual_rate":"0.06","term_months":24,"first_due_date":"2025-02-10","installment_amount":"2659.24","collateral_value":"150000.00"}}"#
        ));
        let days = ["2025-02-10", "2025-02-15", "2025-02-25", "2025-03-01"];
        let after = ["2025-04-10", "2025-04-11", "2025-04-12"];
        for (n, day) in days.iter().chain(after.iter()).enumerate() {
            lines.push(format!(
                r#"{{"event_id":"{b}-i{n}","type":"income","borrower_id":"{b}","occurred_at":"{day}T11:00:00+08:00","monthly_income":"20000","currency":"CNY","source":"payroll"}}"#
            ));
            if b == "B1" && *day == "2025-02-15" {
                lines.push(typo.to_owned());
            }
            if n == 0 || n >= days.len() {
                lines.push(format!(
                    r#"{{"event_id":"{b}-p{n}","type":"repayment","borrower_id":"{b}","occurred_at":"{day}T12:00:00+08:00","loan_id":"L1","payment_id":"P{n}","amount":"1.00","currency":"CNY","status":"received"}}"#
                ));
            }
        }
    }
    (lines.join("\n"), typo.to_owned())
}

fn rejections(msgs: &[(String, String)]) -> Vec<Value> {
    msgs.iter()
        .map(|(_, m)| serde_json::from_str::<Value>(m).unwrap())
        .filter(|v| v["kind"] == "rejected")
        .collect()
}

#[test]
fn a_restart_after_a_gap_is_applied_and_a_typo_rejected_nothing_lost_or_reordered() {
    let config = eos();
    let (text, typo) = book();
    let cluster = cluster_with_lines(&config, 1, &text);
    let (reference, _, _, applied) = reference_book(&config, &cluster);
    // Every line but the typo is applied: the restart too.
    assert_eq!(applied, text.lines().count() as u64 - 1);
    let rejected = rejections(&reference);
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["error_kind"], "implausible_time");
    assert_eq!(rejected[0]["payload"], typo);
    assert!(
        rejected[0]["error"].as_str().unwrap().contains(
            "the event after it, at 2025-02-25T11:00:00+08:00, is back more than 31 days earlier"
        ),
        "{}",
        rejected[0]["error"]
    );
    // Nothing is applied out of time order: the typo's later neighbours in its input were not
    // held back behind it (it merges at the time of the record that refuted it).
    for p in 0..PARTITIONS {
        let settings = Arc::new(config.engine_settings());
        let inputs = config.kafka.topics.inputs().map(Arc::from);
        let mut task = Task::new(p, inputs, Engine::new(settings, ClockMode::Event), 0);
        for input in 0..INPUTS {
            for r in cluster.borrow().input(input, p) {
                task.push(input, r.clone());
            }
        }
        let (mut out, mut outcomes) = (Vec::new(), Vec::new());
        task.process(0, &mut |_| Lag::CaughtUp, &mut out, &mut outcomes);
        let late: Vec<_> = outcomes.iter().filter(|o| o.late_by.is_some()).collect();
        assert!(late.is_empty(), "partition {p}: {late:?}");
    }
    // The restart moved each partition's clock past the unpaid March installments.
    let dpd = reference
        .iter()
        .filter(|(_, m)| m.contains("\"signal\":\"dpd\""))
        .count();
    assert!(dpd >= 3, "every borrower is past due after the gap: {dpd}");

    // The worker, stepping through the cluster, publishes exactly that — uninterrupted, and
    // after a crash at any step (the suspect may be held across the crash).
    let clock = TestClock::new();
    let mut w = worker(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    drive(&mut [&mut w], &cluster, &clock).unwrap();
    assert_same_small(published(&cluster), reference.clone(), "run");
    for crash_after in [1, 2, 3, 5, 8] {
        let cluster = cluster_with_lines(&config, 1, &text);
        crash_then_finish(&config, &cluster, crash_after);
        let (got, dups) = dedup(published(&cluster));
        assert_eq!(dups, 0, "crash after {crash_after}");
        assert_same_small(
            got,
            reference.clone(),
            &format!("crash after {crash_after}"),
        );
    }
}

/// A suspect whose partition has nothing after it yet is held: while the input is behind, the
/// task waits for it however long; once caught up, for `max_task_idle_ms`, then the suspect is
/// judged on what came (nothing: rejected). Nothing behind it is applied meanwhile.
#[test]
fn a_suspect_waits_for_its_followers_and_is_judged_on_what_came() {
    use crate::runtime::task::Record;
    let settings = Arc::new(eos().engine_settings());
    let topics = eos().kafka.topics.inputs().map(Arc::from);
    let mut task = Task::new(0, topics, Engine::new(settings, ClockMode::Event), 1_000);
    let record = |offset: i64, id: &str, at: &str| {
        Record {
        received_ms: 0,
        offset,
        key: Some(b"B1".to_vec()),
        payload: format!(r#"{{"event_id":"{id}","type":"income","borrower_id":"B1","occurred_at":"{at}","monthly_income":"1","currency":"CNY","source":"payroll"}}"#).into_bytes(),
        full_size: None,
    }
    };
    let (mut out, mut outcomes) = (Vec::new(), Vec::new());
    let mut lags = [Lag::CaughtUp; INPUTS];
    task.push(2, record(0, "a", "2025-01-01T00:00:00Z"));
    task.push(2, record(1, "b", "2025-01-02T00:00:00Z"));
    // The first record of an input is judged too (confirmed by the second); the merge idles
    // 1 s for the empty, caught-up inputs as usual.
    assert_eq!(
        task.process(0, &mut |i| lags[i], &mut out, &mut outcomes),
        0
    );
    assert_eq!(
        task.process(1_000, &mut |i| lags[i], &mut out, &mut outcomes),
        2
    );
    // A jump with nothing after it, the input behind: held.
    task.push(2, record(2, "jump", "2025-03-01T00:00:00Z"));
    lags[2] = Lag::Behind;
    for now in [0, 10_000, 1_000_000] {
        assert_eq!(
            task.process(now, &mut |i| lags[i], &mut out, &mut outcomes),
            0
        );
    }
    // Caught up: held for max_task_idle_ms, then judged on nothing: rejected.
    lags[2] = Lag::CaughtUp;
    assert_eq!(
        task.process(2_000_000, &mut |i| lags[i], &mut out, &mut outcomes),
        0
    );
    assert_eq!(
        task.process(2_000_999, &mut |i| lags[i], &mut out, &mut outcomes),
        0
    );
    assert_eq!(
        task.process(2_001_000, &mut |i| lags[i], &mut out, &mut outcomes),
        1
    );
    assert_eq!(
        outcomes.last().map(|p| p.outcome),
        Some(postloan_engine::Outcome::Rejected(
            postloan_engine::reject::ErrorKind::ImplausibleTime
        ))
    );
    assert_eq!(task.next_offset(2), Some(3));
    // The same jump with a follower that confirms it: applied, then the follower.
    task.push(2, record(3, "jump2", "2025-03-01T00:00:00Z"));
    task.push(2, record(4, "next", "2025-03-02T00:00:00Z"));
    assert_eq!(
        task.process(2_002_000, &mut |i| lags[i], &mut out, &mut outcomes),
        2
    );
    let last: Vec<(i64, bool)> = outcomes[outcomes.len() - 2..]
        .iter()
        .map(|p| {
            (
                p.offset,
                matches!(p.outcome, postloan_engine::Outcome::Applied(_)),
            )
        })
        .collect();
    assert_eq!(last, [(3, true), (4, true)]);
}

/// [`assert_same`] for a book too small for its size check.
fn assert_same_small(got: Vec<(String, String)>, expected: Vec<(String, String)>, what: &str) {
    assert!(expected.len() > 10, "{what}: {}", expected.len());
    assert_eq!(per_key(got), per_key(expected), "{what}");
}
