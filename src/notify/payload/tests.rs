//! The Alertmanager body of a notice: labels, annotations, times, the filled-in link.

use super::*;
use crate::notify::book::End;
use crate::notify::book::Escalation;
use postloan_engine::output::AlertStatus;
use postloan_engine::testkit::at;

fn notice(ended: Option<End>) -> Notice {
    Notice {
        escalation: Escalation {
            escalation_id: "B 1/L1/dpd/1/L2".to_owned(),
            alert_id: "B 1/L1/dpd/1".to_owned(),
            level: 2,
            notify: "risk_head".to_owned(),
            borrower_id: "B 1".to_owned(),
            loan_id: Some("L1".to_owned()),
            manager_id: None,
            branch_id: Some("SH01".to_owned()),
            signal: "dpd".to_owned(),
            severity: "critical".to_owned(),
            alert_opened_at: "2026-03-11T00:00:00+08:00".to_owned(),
            at: at("2026-04-08T16:00:00Z"),
            unacknowledged_hours: serde_json::json!(688),
            reason: "dpd alert (critical) unacknowledged".to_owned(),
            cause: None,
            previously_acked_by: Some("collector-017".to_owned()),
        },
        ended,
        told: Told::Nothing,
    }
}

#[test]
fn an_open_notice_fires_for_the_lease_with_its_routing_labels_and_link() {
    let n = notice(None);
    let text = body(
        &[(&n, Told::Firing)],
        at("2026-04-09T00:00:00Z"),
        Duration::minutes(10),
        "https://cases.example/b/{borrower_id}?alert={alert_id}",
    );
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let a = &v[0];
    assert_eq!(a["labels"]["alertname"], "PostloanEscalation");
    assert_eq!(a["labels"]["level"], "2");
    assert_eq!(a["labels"]["notify"], "risk_head");
    assert_eq!(a["labels"]["branch_id"], "SH01");
    assert_eq!(a["labels"]["borrower_id"], "B 1");
    // No manager: no label (Alertmanager reads an empty label as absent anyway).
    assert!(a["labels"].get("manager_id").is_none());
    assert_eq!(a["startsAt"], "2026-04-08T16:00:00Z");
    assert_eq!(a["endsAt"], "2026-04-09T00:10:00Z");
    let link = "https://cases.example/b/B%201?alert=B%201%2FL1%2Fdpd%2F1";
    assert_eq!(a["annotations"]["link"], link);
    assert_eq!(a["generatorURL"], link);
    assert_eq!(a["annotations"]["previously_acked_by"], "collector-017");
    assert_eq!(a["annotations"]["unacknowledged_hours"], "688");
    assert_eq!(a["annotations"]["loan_id"], "L1");
}

#[test]
fn a_notice_due_after_the_wall_clock_still_ends_after_it_starts() {
    // A replayed book's deadline, ahead of the wall clock.
    let n = notice(None);
    let v: serde_json::Value = serde_json::from_slice(&body(
        &[(&n, Told::Firing)],
        at("2026-01-01T00:00:00Z"),
        Duration::minutes(10),
        "",
    ))
    .unwrap();
    assert_eq!(v[0]["startsAt"], "2026-04-08T16:00:00Z");
    assert_eq!(v[0]["endsAt"], "2026-04-08T16:10:00Z");
    // Ended after the wall clock: it ends now, or at its start when that is later.
    let ended = |end: &str, now: &str| {
        let n = notice(Some(End {
            at: at(end),
            status: AlertStatus::Resolved,
        }));
        let v: serde_json::Value = serde_json::from_slice(&body(
            &[(&n, Told::Ended)],
            at(now),
            Duration::minutes(10),
            "",
        ))
        .unwrap();
        v[0]["endsAt"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        ended("2026-04-20T00:00:00Z", "2026-04-10T00:00:00Z"),
        "2026-04-10T00:00:00Z"
    );
    assert_eq!(
        ended("2026-04-20T00:00:00Z", "2026-01-01T00:00:00Z"),
        "2026-04-08T16:00:00Z"
    );
}

#[test]
fn an_ended_notice_ends_at_its_end_and_no_template_means_no_link() {
    let n = notice(Some(End {
        at: at("2026-04-10T02:00:00Z"),
        status: AlertStatus::Acknowledged,
    }));
    let v: serde_json::Value = serde_json::from_slice(&body(
        &[(&n, Told::Ended)],
        at("2026-04-11T00:00:00Z"),
        Duration::minutes(10),
        "",
    ))
    .unwrap();
    assert_eq!(v[0]["endsAt"], "2026-04-10T02:00:00Z");
    assert!(v[0]["annotations"].get("link").is_none());
    assert!(v[0].get("generatorURL").is_none());
}
