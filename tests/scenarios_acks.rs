//! Contract v2 acknowledgements end to end through `replay`, expected messages computed by hand
//! (arithmetic in the comments). Times are Asia/Shanghai (+08:00).

mod common;

use common::{ev, find, jsonl, lines, replay_json};
use serde_json::{json, Value};

fn ack(id: &str, at: &str, by: &str, note: Option<&str>) -> Value {
    let mut v = ev(
        id,
        "alert_ack",
        "B200",
        at,
        json!({"alert_id": "B200/L200/dpd/1", "acked_by": by}),
    );
    if let Some(n) = note {
        v["note"] = json!(n);
    }
    v
}

/// Acknowledged at medium, the alert rises to high: the ack no longer covers it, so level 1
/// goes 24 h later naming who acknowledged before. Acknowledged again at high, it turns
/// critical: level 2 at once. A repeat ack while covered publishes nothing.
#[test]
fn an_ack_covers_only_up_to_the_severity_acknowledged() {
    // Nothing is ever paid; installment 1 is due Mar 31, so DPD on date D is D − Mar 31:
    // 1 on Apr 1 (low), 7 on Apr 7 (medium), 30 on Apr 30 (high), 90 on Jun 29 (critical:
    // 30 days of April + 31 of May + 29 of June).
    let events = [
        ev(
            "o1",
            "loan_opened",
            "B200",
            "2026-03-01T09:00:00+08:00",
            json!({
            "loan_id": "L200", "principal": "60000.00", "currency": "CNY", "annual_rate": "0.12",
            "term_months": 12, "first_due_date": "2026-03-31", "installment_amount": "5330.93",
            "collateral_value": "80000.00", "branch_id": "BR07", "manager_id": "M12"}),
        ),
        // At medium (DPD 8): covers the alert while it stays at or below medium.
        ack(
            "a1",
            "2026-04-08T10:00:00+08:00",
            "col-7",
            Some("promised to pay Friday"),
        ),
        // At high, after level 1: covers it again, up to high.
        ack("a2", "2026-05-01T09:00:00+08:00", "lead-2", None),
        // Still high and covered: a repeat changes nothing and publishes nothing.
        ack("a3", "2026-05-02T09:00:00+08:00", "lead-2", Some("again")),
    ];
    let msgs = replay_json(&jsonl(&events), Some("2026-07-01T00:00:00+08:00"));
    let dpd: Vec<String> = lines(&msgs)
        .into_iter()
        .filter(|l| l.starts_with("B200/L200/dpd/"))
        .collect();
    assert_eq!(
        dpd,
        [
            "B200/L200/dpd/1#1 firing low 2026-04-01T00:00:00+08:00",
            "B200/L200/dpd/1#2 updated medium 2026-04-07T00:00:00+08:00",
            "B200/L200/dpd/1#3 acknowledged medium 2026-04-08T10:00:00+08:00",
            // DPD 30: above medium, so the ack stops covering; high from Apr 30 00:00.
            "B200/L200/dpd/1#4 updated high 2026-04-30T00:00:00+08:00",
            // 24 h at high, uncovered since the same instant: level 1 on May 1 00:00.
            "B200/L200/dpd/1/L1 high 2026-05-01T00:00:00+08:00",
            "B200/L200/dpd/1#5 acknowledged high 2026-05-01T09:00:00+08:00",
            // Covered at high: no level 2 at 72 h (May 3). DPD 90 on Jun 29: critical, above
            // the acknowledged high, so level 2 at once.
            "B200/L200/dpd/1#6 updated critical 2026-06-29T00:00:00+08:00",
            "B200/L200/dpd/1/L2 critical 2026-06-29T00:00:00+08:00",
        ]
    );
    let first = find(&msgs, "B200/L200/dpd/1#3");
    assert_eq!(first["acked_by"], "col-7");
    assert_eq!(first["note"], "promised to pay Friday");
    assert_eq!(first["cause_event_id"], "a1");
    let second = find(&msgs, "B200/L200/dpd/1#5");
    assert_eq!(
        (&second["acked_by"], &second["note"]),
        (&json!("lead-2"), &json!(null))
    );
    // Messages that are not acknowledgements carry no ack fields.
    assert!(find(&msgs, "B200/L200/dpd/1#4").get("acked_by").is_none());
    let l1 = find(&msgs, "B200/L200/dpd/1/L1");
    assert_eq!(l1["previously_acked_by"], "col-7");
    assert_eq!(l1["cause_event_id"], json!(null));
    // Apr 1 00:00 (opened) to May 1 00:00: 30 days.
    assert_eq!(l1["unacknowledged_hours"], json!(720));
    let l2 = find(&msgs, "B200/L200/dpd/1/L2");
    assert_eq!(l2["previously_acked_by"], "lead-2");
}
