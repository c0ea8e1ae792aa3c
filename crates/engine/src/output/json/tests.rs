//! The hand-written JSON is serde_json's, byte for byte.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::write;
use crate::output::{
    AckFields, AlertMessage, AlertMetrics, AlertStatus, EscalationMessage, MetricValue, Output,
    RejectedMessage, SuppressionFields,
};
use crate::reject::ErrorKind;
use crate::types::{Severity, Signal, SuppressionReason};

fn same_as_serde(m: &Output) {
    let mut ours = Vec::new();
    write(m, &mut ours);
    let theirs = serde_json::to_vec(m).expect("serialize");
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
}

/// Every byte a string can hold that JSON treats specially, and some it does not.
fn awkward() -> String {
    let mut s: String = (0u8..0x80).map(char::from).collect();
    s.push_str("/é中文\u{2028}\u{10FFFF}\"\\end");
    s
}

fn metrics() -> AlertMetrics {
    let mut inner = AlertMetrics::default();
    inner
        .put("n", MetricValue::Int(-3))
        .put("t", MetricValue::Text(awkward()));
    let mut m = AlertMetrics::default();
    m.put("int", MetricValue::Int(i64::MIN))
        .put("big", MetricValue::Int(i64::MAX))
        .put("num", MetricValue::Num(Decimal::new(12_500, 4)))
        .put("num_zero", MetricValue::Num(Decimal::new(0, 3)))
        .put("num_neg", MetricValue::Num(Decimal::new(-70, 1)))
        .put("money0", MetricValue::Money(Decimal::new(10_000, 0)))
        .put("money1", MetricValue::Money(Decimal::new(-15, 1)))
        .put("money3", MetricValue::Money(Decimal::new(123_456, 3)))
        .put("text", MetricValue::Text("plain".into()))
        .put("null", MetricValue::Null)
        .put("map", MetricValue::Map(inner))
        .put("empty", MetricValue::Map(AlertMetrics::default()));
    m
}

fn alert(i: usize) -> AlertMessage {
    let some = |s: &str| (i % 2 == 0).then(|| s.to_owned());
    AlertMessage {
        kind: "alert",
        message_id: format!("m-{i}"),
        alert_id: awkward(),
        status: AlertStatus::ALL[i % AlertStatus::ALL.len()],
        signal: Signal::ALL[i % Signal::ALL.len()],
        severity: Severity::ALL[i % Severity::ALL.len()],
        borrower_id: "B1".into(),
        loan_id: some("L1"),
        manager_id: some("M\n1"),
        branch_id: some("BR"),
        dealer_id: some("D"),
        opened_at: "2025-01-01T00:00:00+08:00".into(),
        event_time: "2025-02-01T00:00:00+08:00".into(),
        reason: awkward(),
        metrics: if i % 3 == 0 {
            AlertMetrics::default()
        } else {
            metrics()
        },
        recommended_action: "call",
        monitor_version: crate::VERSION,
        rules_version: Arc::from("r\t1"),
        cause_event_id: some("E1"),
        ack: (i % 3 == 1).then(|| AckFields {
            acked_by: "u".into(),
            note: some("a \"note\""),
        }),
        suppression: (i % 4 == 2).then(|| SuppressionFields {
            suppression_id: "S1".into(),
            suppressed_until: "2025-03-01T00:00:00+08:00".into(),
            suppression_reason: SuppressionReason::ALL[i % SuppressionReason::ALL.len()],
        }),
    }
}

#[test]
fn alerts_of_every_status_signal_severity_and_shape() {
    for i in 0..60 {
        same_as_serde(&Output::Alert(alert(i)));
    }
}

#[test]
fn escalations() {
    for i in 0..6 {
        let some = |s: &str| (i % 2 == 0).then(|| s.to_owned());
        same_as_serde(&Output::Escalation(EscalationMessage {
            kind: "escalation",
            message_id: "m".into(),
            escalation_id: "e".into(),
            alert_id: awkward(),
            level: [0, 1, 9, 10, 99, 255][i],
            notify: "manager".into(),
            borrower_id: "B".into(),
            loan_id: some("L"),
            manager_id: some("M"),
            branch_id: some("BR"),
            signal: Signal::ALL[i],
            severity: Severity::ALL[i % Severity::ALL.len()],
            alert_opened_at: "t0".into(),
            event_time: "t1".into(),
            unacknowledged_hours: MetricValue::Num(Decimal::new(4850, 2 + i as u32)),
            reason: awkward(),
            rules_version: Arc::from("1"),
            cause_event_id: some("E"),
            previously_acked_by: some("u"),
        }));
    }
}

#[test]
fn rejections_of_every_kind_and_shape() {
    for (i, kind) in ErrorKind::ALL.iter().enumerate() {
        let some = |s: &str| (i % 2 == 0).then(|| s.to_owned());
        same_as_serde(&Output::Rejected(RejectedMessage {
            kind: "rejected",
            message_id: "m".into(),
            error_kind: *kind,
            error: awkward(),
            source: "book.jsonl:3".into(),
            key: some("B\u{1}"),
            payload: (i % 3 == 0).then(awkward),
            payload_base64: (i % 3 == 1).then(|| "AAEC".to_owned()),
            payload_truncated: i % 4 == 0,
            payload_size_bytes: (i % 5 != 0).then_some(i * 1_000_003),
        }));
    }
}

#[test]
fn every_message_of_a_generated_book() {
    let lines = crate::testkit::generated_lines(150, 18, 4, 0.02);
    let mut engine = crate::Engine::new(
        Arc::new(crate::Settings::default()),
        crate::ClockMode::Event,
    );
    let mut out = Vec::new();
    for line in &lines {
        engine.apply(
            crate::Input {
                payload: line.as_bytes(),
                source: "t",
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut out,
        );
    }
    let kinds = |k| out.iter().filter(|m| m.kind() == k).count();
    use crate::output::OutputKind::{Alert, Escalation, Rejected};
    assert!(kinds(Alert) > 100 && kinds(Escalation) > 10 && kinds(Rejected) > 10);
    for m in &out {
        same_as_serde(m);
    }
}
