//! Engine behaviour: lifecycle, escalation, acks, duplicates, the clock, rejections.

mod limits;
mod plausible;
mod v2;

use serde_json::json;

use crate::reject::ErrorKind;
use crate::testkit::*;
use crate::Outcome;

const OPEN: &str = "2026-01-05T10:00:00+08:00";

fn opened() -> Kit {
    let mut k = Kit::new();
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    k.take();
    k
}

fn matching(lines: Vec<String>, pat: &str) -> Vec<String> {
    lines.into_iter().filter(|l| l.contains(pat)).collect()
}

#[test]
fn message_ids_count_lifecycle_messages_and_alert_ids_count_alerts() {
    let mut k = opened();
    k.advance("2026-02-17T00:00:00+08:00");
    k.send(pay(
        "B1",
        "L1",
        "2026-02-18T10:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    k.advance("2026-03-11T00:00:00+08:00");
    let msgs: Vec<_> = k
        .take()
        .into_iter()
        .filter(|m| m["signal"] == "dpd")
        .collect();
    let ids: Vec<(&str, &str)> = msgs
        .iter()
        .map(|m| {
            (
                m["message_id"].as_str().unwrap(),
                m["alert_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("B1/L1/dpd/1#1", "B1/L1/dpd/1"),
            ("B1/L1/dpd/1#2", "B1/L1/dpd/1"),
            ("B1/L1/dpd/1#3", "B1/L1/dpd/1"),
            ("B1/L1/dpd/2#1", "B1/L1/dpd/2"),
        ]
    );
    // Resolution repeats the last severity and keeps opened_at.
    assert_eq!(msgs[2]["status"], "resolved");
    assert_eq!(msgs[2]["severity"], "medium");
    assert_eq!(msgs[2]["opened_at"], "2026-02-11T00:00:00+08:00");
    assert_eq!(msgs[2]["recommended_action"], "none");
    assert_eq!(msgs[0]["branch_id"], "BR01");
    assert_eq!(msgs[0]["manager_id"], "M01");
    assert_eq!(msgs[0]["dealer_id"], "D001");
    assert_eq!(msgs[0]["monitor_version"], crate::VERSION);
}

#[test]
fn level_1_after_24h_and_level_2_after_72h_at_high() {
    let mut k = opened();
    // DPD 30 (high) at 2026-03-12 00:00.
    k.advance("2026-03-16T00:00:00+08:00");
    let esc = matching(k.lines(), "/dpd/1/L");
    assert_eq!(
        esc,
        [
            "B1/L1/dpd/1/L1 high 2026-03-13T00:00:00+08:00",
            "B1/L1/dpd/1/L2 high 2026-03-15T00:00:00+08:00",
        ]
    );
}

#[test]
fn escalation_notices_carry_the_contract_fields() {
    let mut k = opened();
    k.advance("2026-03-13T00:00:00+08:00");
    let e = k
        .take()
        .into_iter()
        .find(|m| m["kind"] == "escalation")
        .unwrap();
    assert_eq!(e["escalation_id"], "B1/L1/dpd/1/L1");
    assert_eq!(e["message_id"], "B1/L1/dpd/1/L1");
    assert_eq!(e["alert_id"], "B1/L1/dpd/1");
    assert_eq!(e["level"], 1);
    assert_eq!(e["notify"], "team_lead");
    assert_eq!(e["loan_id"], "L1");
    assert_eq!(e["signal"], "dpd");
    assert_eq!(e["severity"], "high");
    assert_eq!(e["alert_opened_at"], "2026-02-11T00:00:00+08:00");
    assert_eq!(e["event_time"], "2026-03-13T00:00:00+08:00");
    // From 2026-02-11 00:00 to 2026-03-13 00:00: 30 days.
    assert_eq!(e["unacknowledged_hours"], json!(720));
}

#[test]
fn an_ack_covers_the_alert_up_to_its_severity() {
    let mut k = opened();
    k.advance("2026-03-13T00:00:00+08:00"); // L1 sent
    k.take();
    assert_eq!(
        k.send(ack("B1", "2026-03-14T00:00:00+08:00", "B1/L1/dpd/1")),
        Outcome::Applied(crate::event::EventType::AlertAck)
    );
    let acked = k.take();
    assert_eq!(acked.len(), 1, "{acked:?}");
    assert_eq!(acked[0]["status"], "acknowledged");
    assert_eq!(acked[0]["severity"], "high");
    assert_eq!(acked[0]["acked_by"], "collector-1");
    assert_eq!(acked[0]["note"], json!(null));
    // A repeat while the alert is still covered changes nothing and publishes nothing.
    let mut again = ack("B1", "2026-03-20T00:00:00+08:00", "B1/L1/dpd/1");
    again["note"] = json!("called again");
    assert_eq!(
        k.send(again),
        Outcome::Applied(crate::event::EventType::AlertAck)
    );
    assert!(k.take().is_empty());
    k.advance("2026-06-01T00:00:00+08:00");
    let msgs = k.take();
    let lines: Vec<String> = msgs.iter().map(line).collect();
    let l2 = msgs.iter().find(|m| m["kind"] == "escalation");
    assert_eq!(
        l2.map(|m| m["previously_acked_by"].clone()),
        Some(json!("collector-1"))
    );
    assert_eq!(l2.map(|m| m["cause_event_id"].clone()), Some(json!(null)));
    // Covered while high: no level 2 at 72 h. At DPD 90 it turns critical, above the severity
    // acknowledged: the ack stops covering it and level 2 goes at once.
    assert_eq!(
        matching(lines.clone(), "/dpd/1"),
        [
            "B1/L1/dpd/1#5 updated critical 2026-05-11T00:00:00+08:00",
            "B1/L1/dpd/1/L2 critical 2026-05-11T00:00:00+08:00",
        ],
        "{lines:?}"
    );
}

#[test]
fn critical_gets_level_2_at_once_and_level_1_never_after() {
    let mut k = Kit::new();
    // Opened with the first installment 100 days overdue: DPD 100 → critical at once.
    k.send(loan("B1", "L1", "2026-05-21T10:00:00+08:00", "2026-02-10"));
    let lines = k.lines();
    assert_eq!(
        matching(lines, "/dpd/"),
        [
            "B1/L1/dpd/1#1 firing critical 2026-05-21T10:00:00+08:00",
            "B1/L1/dpd/1/L2 critical 2026-05-21T10:00:00+08:00",
        ]
    );
    k.advance("2026-09-01T00:00:00+08:00");
    assert!(matching(k.lines(), "/dpd/1/L").is_empty());
}

#[test]
fn dropping_below_high_resets_the_escalation_count() {
    let mut k = opened();
    // High at 2026-03-12 00:00; at 12:00 a payment brings DPD back under 30 (installment 2 due
    // 2026-03-10 is then the first unpaid one: DPD 2 → low).
    k.advance("2026-03-12T12:00:00+08:00");
    k.send(pay(
        "B1",
        "L1",
        "2026-03-12T12:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    // Installment 2 (due 2026-03-10) reaches DPD 30 on 2026-04-09: high again, L1 24 h later.
    k.advance("2026-04-11T00:00:00+08:00");
    let lines = k.lines();
    assert_eq!(
        matching(lines, "/dpd/1"),
        [
            "B1/L1/dpd/1#1 firing low 2026-02-11T00:00:00+08:00",
            "B1/L1/dpd/1#2 updated medium 2026-02-17T00:00:00+08:00",
            "B1/L1/dpd/1#3 updated high 2026-03-12T00:00:00+08:00",
            "B1/L1/dpd/1#4 updated low 2026-03-12T12:00:00+08:00",
            "B1/L1/dpd/1#5 updated medium 2026-03-17T00:00:00+08:00",
            "B1/L1/dpd/1#6 updated high 2026-04-09T00:00:00+08:00",
            "B1/L1/dpd/1/L1 high 2026-04-10T00:00:00+08:00",
        ]
    );
}

#[test]
fn acks_of_unknown_resolved_and_foreign_alerts() {
    let mut k = opened();
    k.advance("2026-02-11T00:00:00+08:00");
    k.send(pay(
        "B1",
        "L1",
        "2026-02-12T10:00:00+08:00",
        "P1",
        "3000.00",
        "received",
    ));
    k.take();
    for (alert_id, want) in [
        ("B1/L1/dpd/1", None), // resolved: accepted, no change
        ("B1/L1/dpd/2", Some(ErrorKind::UnknownAlert)),
        ("B1/L2/dpd/1", Some(ErrorKind::UnknownAlert)),
        ("B1/-/dpd/1", Some(ErrorKind::UnknownAlert)),
        ("B2/L1/dpd/1", Some(ErrorKind::UnknownAlert)),
        ("B1/L1/dpd/01", Some(ErrorKind::UnknownAlert)),
        ("B1/L1/nosuch/1", Some(ErrorKind::UnknownAlert)),
        ("garbage", Some(ErrorKind::UnknownAlert)),
    ] {
        let got = k.send(ack("B1", "2026-02-13T10:00:00+08:00", alert_id));
        match want {
            None => assert!(matches!(got, Outcome::Applied(_)), "{alert_id}: {got:?}"),
            Some(kind) => assert_eq!(got, Outcome::Rejected(kind), "{alert_id}"),
        }
    }
    // Unknown borrower.
    assert_eq!(
        k.send(ack("B9", "2026-02-13T10:00:00+08:00", "B9/L1/dpd/1")),
        Outcome::Rejected(ErrorKind::UnknownAlert)
    );
    let rejected = k.take();
    assert_eq!(rejected.len(), 8);
    assert!(rejected.iter().all(|m| m["error_kind"] == "unknown_alert"));
}

#[test]
fn a_duplicate_changes_nothing_however_late_and_does_not_move_the_clock() {
    let mut k = opened();
    let p = json!({"event_id": "pay-1", "type": "repayment", "borrower_id": "B1",
        "occurred_at": "2026-02-09T10:00:00+08:00", "loan_id": "L1", "payment_id": "P1",
        "amount": "3000.00", "currency": "CNY", "status": "received"});
    assert!(matches!(k.send(p.clone()), Outcome::Applied(_)));
    k.advance("2027-06-01T00:00:00+08:00");
    k.take();
    let clock = k.engine.clock();
    assert!(matches!(k.send(p.clone()), Outcome::Duplicate(_)));
    // The same payload with its fields in another order and other whitespace is the same.
    let reordered = "{ \"status\": \"received\", \"currency\": \"CNY\", \"amount\": \"3000.00\",\n \"payment_id\": \"P1\", \"loan_id\": \"L1\", \"occurred_at\": \"2026-02-09T10:00:00+08:00\", \"borrower_id\": \"B1\", \"type\": \"repayment\", \"event_id\": \"pay-1\" }";
    assert!(matches!(k.raw(reordered.as_bytes()), Outcome::Duplicate(_)));
    assert_eq!(k.engine.clock(), clock);
    assert!(k.take().is_empty());
}

#[test]
fn a_repeat_with_another_payload_is_a_conflicting_duplicate_that_changes_nothing() {
    let mut k = opened();
    let p = json!({"event_id": "pay-1", "type": "repayment", "borrower_id": "B1",
        "occurred_at": "2026-02-09T10:00:00+08:00", "loan_id": "L1", "payment_id": "P1",
        "amount": "10194.87", "currency": "CNY", "status": "received"});
    assert!(matches!(k.send(p.clone()), Outcome::Applied(_)));
    k.take();
    let clock = k.engine.clock();
    let before = k.engine.snapshot("B1").unwrap();
    for (field, value) in [
        ("amount", json!("1.00")),
        ("occurred_at", json!("2028-01-01T00:00:00+08:00")),
        ("note", json!("re-keyed")),
    ] {
        let mut other = p.clone();
        other[field] = value;
        assert_eq!(
            k.send(other),
            Outcome::Rejected(ErrorKind::ConflictingDuplicate),
            "{field}"
        );
        let m = k.take();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["error_kind"], "conflicting_duplicate");
        assert_eq!(
            m[0]["error"],
            "field `event_id` \"pay-1\" was applied before (the event of 2026-02-09T10:00:00+08:00) with a different payload; the first is kept — a correction needs a new event_id"
        );
    }
    assert_eq!(k.engine.clock(), clock);
    assert_eq!(k.engine.snapshot("B1").unwrap(), before);
    // The identical redelivery is still a silent duplicate.
    assert!(matches!(k.send(p), Outcome::Duplicate(_)));
    assert!(k.take().is_empty());
}

#[test]
fn a_rejected_event_id_is_not_remembered() {
    let mut k = opened();
    let mut p = json!({"event_id": "pay-1", "type": "repayment", "borrower_id": "B1",
        "occurred_at": "2026-02-09T10:00:00+08:00", "loan_id": "L1", "payment_id": "P1",
        "amount": "3000.00", "currency": "USD", "status": "received"});
    assert_eq!(
        k.send(p.clone()),
        Outcome::Rejected(ErrorKind::CurrencyMismatch)
    );
    p["currency"] = json!("CNY");
    assert!(matches!(k.send(p), Outcome::Applied(_)));
}

#[test]
fn invalid_events_do_not_move_the_clock_but_state_rejections_do() {
    let mut k = opened();
    let clock = k.engine.clock();
    let mut bad = pay(
        "B1",
        "L1",
        "2026-03-01T10:00:00+08:00",
        "P1",
        "-5",
        "received",
    );
    assert_eq!(
        k.send(bad.clone()),
        Outcome::Rejected(ErrorKind::InvalidValue)
    );
    assert_eq!(k.engine.clock(), clock);
    bad["amount"] = json!("5");
    bad["loan_id"] = json!("L9");
    // Well-formed but for an unknown loan: the clock moves and the DPD timer fires first.
    assert_eq!(k.send(bad), Outcome::Rejected(ErrorKind::UnknownLoan));
    assert_eq!(
        k.lines(),
        [
            "rejected invalid_value",
            "B1/L1/dpd/1#1 firing low 2026-02-11T00:00:00+08:00",
            "B1/L1/dpd/1#2 updated medium 2026-02-17T00:00:00+08:00",
            "rejected unknown_loan",
        ]
    );
}

#[test]
fn state_rejections_have_their_kinds() {
    let mut k = opened();
    let cases = [
        (
            loan("B1", "L1", OPEN, "2026-02-10"),
            ErrorKind::DuplicateLoan,
        ),
        (
            pay("B1", "L9", OPEN, "P1", "1", "received"),
            ErrorKind::UnknownLoan,
        ),
        (
            pay("B2", "L1", OPEN, "P1", "1", "received"),
            ErrorKind::UnknownLoan,
        ),
        (
            pay("B1", "L1", OPEN, "P1", "1", "reversed"),
            ErrorKind::UnknownPayment,
        ),
        (valuation("B1", "L9", OPEN, "1"), ErrorKind::UnknownLoan),
        (close("B1", "L9", OPEN, "paid_off"), ErrorKind::UnknownLoan),
    ];
    for (event, kind) in cases {
        assert_eq!(k.send(event.clone()), Outcome::Rejected(kind), "{event}");
    }
    assert!(matches!(
        k.send(pay("B1", "L1", OPEN, "P1", "10", "received")),
        Outcome::Applied(_)
    ));
    assert_eq!(
        k.send(pay("B1", "L1", OPEN, "P1", "10", "received")),
        Outcome::Rejected(ErrorKind::DuplicatePayment)
    );
    assert!(matches!(
        k.send(pay("B1", "L1", OPEN, "P1", "10", "reversed")),
        Outcome::Applied(_)
    ));
    assert_eq!(
        k.send(pay("B1", "L1", OPEN, "P1", "10", "reversed")),
        Outcome::Rejected(ErrorKind::DuplicatePayment)
    );
    let mut usd = income("B1", OPEN, "100");
    usd["currency"] = json!("USD");
    assert_eq!(k.send(usd), Outcome::Rejected(ErrorKind::CurrencyMismatch));
    let mut usd = valuation("B1", "L1", OPEN, "100");
    usd["currency"] = json!("USD");
    assert_eq!(k.send(usd), Outcome::Rejected(ErrorKind::CurrencyMismatch));
}

#[test]
fn closing_a_loan_resolves_its_alerts_and_the_id_can_open_again() {
    let mut k = opened();
    k.advance("2026-02-11T00:00:00+08:00");
    k.send(pay(
        "B1",
        "L1",
        "2026-02-11T10:00:00+08:00",
        "P1",
        "3000.00",
        "failed",
    ));
    k.take();
    k.send(close(
        "B1",
        "L1",
        "2026-02-12T10:00:00+08:00",
        "repossessed",
    ));
    let msgs = k.take();
    let lines: Vec<String> = msgs.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "B1/L1/dpd/1#2 resolved low 2026-02-12T10:00:00+08:00",
            "B1/L1/payment_failed/1#2 resolved medium 2026-02-12T10:00:00+08:00",
        ]
    );
    assert_eq!(msgs[0]["reason"], "Resolved: Loan closed (repossessed).");
    // Reopening the same loan id continues its alert numbering.
    k.send(loan("B1", "L1", "2026-02-13T10:00:00+08:00", "2026-02-10"));
    k.advance("2026-02-14T00:00:00+08:00");
    assert_eq!(
        matching(k.lines(), "/dpd/"),
        ["B1/L1/dpd/2#1 firing low 2026-02-13T10:00:00+08:00"]
    );
}

#[test]
fn wall_clock_mode_rejects_events_too_far_ahead() {
    let mut k = Kit::external(300);
    k.advance("2026-01-05T10:00:00+08:00");
    assert!(matches!(
        k.send(loan("B1", "L1", "2026-01-05T10:05:00+08:00", "2026-02-10")),
        Outcome::Applied(_)
    ));
    assert_eq!(
        k.send(loan("B1", "L2", "2026-01-05T10:05:01+08:00", "2026-02-10")),
        Outcome::Rejected(ErrorKind::ImplausibleTime)
    );
    // Events do not move an external clock; late events are applied at it.
    assert_eq!(k.engine.clock(), Some(at("2026-01-05T10:00:00+08:00")));
}

#[test]
fn timers_fire_in_time_order_across_borrowers() {
    let mut k = Kit::new();
    k.send(loan("B1", "L1", OPEN, "2026-02-12"));
    k.send(loan("B2", "L2", OPEN, "2026-02-10"));
    k.advance("2026-02-14T00:00:00+08:00");
    assert_eq!(
        k.lines(),
        [
            "B2/L2/dpd/1#1 firing low 2026-02-11T00:00:00+08:00",
            "B1/L1/dpd/1#1 firing low 2026-02-13T00:00:00+08:00",
        ]
    );
    assert_eq!(k.engine.pending_timers(), 2);
}

#[test]
fn rejections_carry_source_key_and_payload() {
    let mut k = Kit::new();
    k.raw(b"{\"borrower_id\":\"B7\",\"type\":\"nope\"}");
    k.raw(&[0xff, 0xfe, b'{']);
    let msgs = k.take();
    assert_eq!(msgs[0]["kind"], "rejected");
    assert_eq!(msgs[0]["message_id"], "rejected/test/1");
    assert_eq!(msgs[0]["source"], "test/1");
    assert_eq!(msgs[0]["error_kind"], "unknown_type");
    assert_eq!(msgs[0]["key"], "B7");
    assert_eq!(
        msgs[0]["payload"],
        "{\"borrower_id\":\"B7\",\"type\":\"nope\"}"
    );
    assert_eq!(msgs[1]["error_kind"], "malformed_json");
    assert_eq!(msgs[1]["payload_base64"], "//57");
    assert!(msgs[1].get("payload").is_none());
    assert_eq!(msgs[1]["key"], serde_json::Value::Null);
}
