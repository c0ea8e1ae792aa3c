//! Decoding: every field's errors, table-driven.

use serde_json::{json, Value};

use super::decode;
use crate::event::Body;
use crate::reject::ErrorKind;

pub(super) fn base(kind: &str) -> Value {
    let common = json!({"event_id": "E1", "type": kind, "borrower_id": "B1",
        "occurred_at": "2026-01-05T10:00:00+08:00"});
    let extra = match kind {
        "loan_opened" => json!({"loan_id": "L1", "principal": "100000.00", "currency": "CNY",
            "annual_rate": "0.0588", "term_months": 36, "first_due_date": "2026-02-10",
            "installment_amount": "3040.00", "collateral_value": "120000.00",
            "vehicle": {"vin": "LSV123", "make": "BYD", "model": "Han", "year": 2025},
            "manager_id": "M1", "branch_id": "BR1", "dealer_id": "D1"}),
        "repayment" => json!({"loan_id": "L1", "payment_id": "P1", "amount": "3040.00",
            "currency": "CNY", "status": "failed", "failure_reason": "insufficient_funds"}),
        "income" => json!({"monthly_income": "12000", "currency": "CNY", "source": "payroll",
            "period": "2026-01"}),
        "collateral_valuation" => json!({"loan_id": "L1", "value": 98000, "currency": "CNY",
            "source": "appraisal", "mileage_km": 12000}),
        "loan_closed" => json!({"loan_id": "L1", "reason": "paid_off"}),
        "alert_ack" => json!({"alert_id": "B1/L1/dpd/1", "acked_by": "c7", "note": "called"}),
        "loan_modified" => json!({"loan_id": "L1", "kind": "deferral",
            "effective_date": "2026-01-10", "months": 3, "reason": "payment holiday",
            "approved_by": "ops-1"}),
        // Not a type: `loan_modified` of kind restructure.
        "restructure" => json!({"type": "loan_modified", "loan_id": "L1", "kind": "restructure",
            "effective_date": "2026-01-10", "principal": "90000.00", "annual_rate": "0.05",
            "term_months": 48, "first_due_date": "2026-02-10", "installment_amount": "2072.66",
            "reason": "arrears capitalised", "approved_by": "committee"}),
        "suppression" => json!({"suppression_id": "S1", "loan_id": "L1",
            "signals": ["dpd", "payment_failed"], "until": "2026-03-31", "reason": "hardship",
            "granted_by": "risk-1"}),
        _ => json!({}),
    };
    let mut v = common;
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn kind_of(v: &Value) -> Result<(), (ErrorKind, String)> {
    decode(v.to_string().as_bytes())
        .map(|_| ())
        .map_err(|r| (r.kind, r.message))
}

const TYPES: [&str; 9] = [
    "loan_opened",
    "repayment",
    "income",
    "collateral_valuation",
    "loan_closed",
    "alert_ack",
    "loan_modified",
    "restructure",
    "suppression",
];

#[test]
fn every_well_formed_example_decodes() {
    for t in TYPES {
        assert_eq!(kind_of(&base(t)), Ok(()), "{t}");
    }
}

#[test]
fn every_required_field_is_required_and_null_counts_as_missing() {
    let required: &[(&str, &[&str])] = &[
        (
            "loan_opened",
            &[
                "loan_id",
                "principal",
                "currency",
                "annual_rate",
                "term_months",
                "first_due_date",
                "installment_amount",
                "collateral_value",
            ],
        ),
        (
            "repayment",
            &["loan_id", "payment_id", "amount", "currency", "status"],
        ),
        ("income", &["monthly_income", "currency", "source"]),
        (
            "collateral_valuation",
            &["loan_id", "value", "currency", "source"],
        ),
        ("loan_closed", &["loan_id", "reason"]),
        ("alert_ack", &["alert_id", "acked_by"]),
        (
            "loan_modified",
            &["loan_id", "kind", "effective_date", "months"],
        ),
        (
            "restructure",
            &[
                "loan_id",
                "kind",
                "effective_date",
                "principal",
                "annual_rate",
                "term_months",
                "first_due_date",
                "installment_amount",
            ],
        ),
        (
            "suppression",
            &["suppression_id", "signals", "until", "reason", "granted_by"],
        ),
    ];
    for (t, fields) in required {
        for f in fields
            .iter()
            .chain(&["event_id", "type", "borrower_id", "occurred_at"])
        {
            for null in [false, true] {
                let mut v = base(t);
                if null {
                    v[*f] = Value::Null;
                } else {
                    v.as_object_mut().unwrap().remove(*f);
                }
                let (kind, msg) = kind_of(&v).unwrap_err();
                assert_eq!(kind, ErrorKind::MissingField, "{t}.{f}");
                assert!(msg.contains(&format!("`{f}`")), "{t}.{f}: {msg}");
            }
        }
    }
}

#[test]
fn optional_fields_may_be_absent() {
    for (t, f) in [
        ("loan_opened", "vehicle"),
        ("loan_opened", "manager_id"),
        ("loan_opened", "branch_id"),
        ("loan_opened", "dealer_id"),
        ("repayment", "failure_reason"),
        ("income", "period"),
        ("collateral_valuation", "mileage_km"),
        ("alert_ack", "note"),
        ("loan_modified", "reason"),
        ("loan_modified", "approved_by"),
        ("restructure", "reason"),
        ("restructure", "approved_by"),
        ("suppression", "loan_id"),
    ] {
        let mut v = base(t);
        v.as_object_mut().unwrap().remove(f);
        assert_eq!(kind_of(&v), Ok(()), "{t}.{f}");
    }
}

#[test]
fn invalid_values_name_their_field() {
    let long = "x".repeat(129);
    let cases: Vec<(&str, &str, Value)> = vec![
        ("income", "event_id", json!("")),
        ("income", "event_id", json!(long)),
        ("income", "event_id", json!(7)),
        ("income", "borrower_id", json!("b".repeat(65))),
        ("income", "occurred_at", json!("2026-01-05 10:00:00")),
        ("income", "occurred_at", json!("2026-01-05T10:00:00")),
        ("income", "occurred_at", json!("2026-13-05T10:00:00Z")),
        ("income", "occurred_at", json!(1767578400)),
        ("loan_opened", "principal", json!("0")),
        ("loan_opened", "principal", json!("-1")),
        ("loan_opened", "principal", json!("NaN")),
        ("loan_opened", "principal", json!("Infinity")),
        ("loan_opened", "principal", json!("1e5")),
        ("loan_opened", "principal", json!("12,000.00")),
        (
            "loan_opened",
            "principal",
            json!("79228162514264337593543950336"),
        ),
        ("loan_opened", "principal", json!(true)),
        ("loan_opened", "currency", json!("cny")),
        ("loan_opened", "currency", json!("CNYX")),
        ("loan_opened", "annual_rate", json!("1")),
        ("loan_opened", "annual_rate", json!("-0.01")),
        ("loan_opened", "term_months", json!(0)),
        ("loan_opened", "term_months", json!(121)),
        ("loan_opened", "term_months", json!(12.5)),
        ("loan_opened", "term_months", json!("36")),
        ("loan_opened", "first_due_date", json!("2026-2-10")),
        ("loan_opened", "first_due_date", json!("2026-02-30")),
        ("loan_opened", "installment_amount", json!(0)),
        ("loan_opened", "collateral_value", json!("-120000")),
        ("loan_opened", "vehicle", json!("BYD Han")),
        ("loan_opened", "vehicle", json!({"year": "2025"})),
        ("loan_opened", "loan_id", json!("-")),
        ("loan_opened", "branch_id", json!(5)),
        ("repayment", "amount", json!("0.00")),
        ("repayment", "status", json!("pending")),
        ("repayment", "payment_id", json!("")),
        ("income", "monthly_income", json!("-1")),
        ("income", "source", json!("rumour")),
        ("income", "period", json!("2026-13")),
        ("income", "period", json!("202601")),
        ("collateral_valuation", "value", json!(0)),
        ("collateral_valuation", "source", json!("guess")),
        ("collateral_valuation", "mileage_km", json!(-5)),
        ("loan_closed", "reason", json!("lost")),
        ("alert_ack", "acked_by", json!("")),
        ("alert_ack", "note", json!(5)),
        ("loan_modified", "kind", json!("holiday")),
        ("loan_modified", "effective_date", json!("2026-01-32")),
        ("loan_modified", "months", json!(0)),
        ("loan_modified", "months", json!(25)),
        ("loan_modified", "months", json!(-1)),
        ("loan_modified", "months", json!(2.5)),
        ("loan_modified", "months", json!("3")),
        ("loan_modified", "reason", json!("r".repeat(257))),
        ("loan_modified", "approved_by", json!("")),
        ("loan_modified", "loan_id", json!("-")),
        ("restructure", "principal", json!("0")),
        ("restructure", "annual_rate", json!("1.0")),
        ("restructure", "term_months", json!(121)),
        ("restructure", "installment_amount", json!("-5")),
        // Not after effective_date (2026-01-10): the same day, and before it.
        ("restructure", "first_due_date", json!("2026-01-10")),
        ("restructure", "first_due_date", json!("2025-12-10")),
        ("suppression", "signals", json!([])),
        ("suppression", "signals", json!(["dpd", "nope"])),
        ("suppression", "signals", json!(["*", "dpd"])),
        ("suppression", "signals", json!("dpd")),
        ("suppression", "signals", json!([1])),
        ("suppression", "until", json!("2026-04-31")),
        ("suppression", "until", json!("soon")),
        ("suppression", "reason", json!("vacation")),
        ("suppression", "suppression_id", json!("s".repeat(129))),
        ("suppression", "granted_by", json!("")),
        ("suppression", "loan_id", json!(7)),
    ];
    for (t, f, bad) in cases {
        let mut v = base(t);
        v[f] = bad.clone();
        if t == "restructure" && f == "first_due_date" {
            // The message names both fields.
            let (kind, msg) = kind_of(&v).unwrap_err();
            assert_eq!(kind, ErrorKind::InvalidValue, "{bad}: {msg}");
            assert!(msg.contains("`first_due_date`") && msg.contains("`effective_date`"));
        }
        let (kind, msg) = kind_of(&v).unwrap_err();
        assert_eq!(kind, ErrorKind::InvalidValue, "{t}.{f} = {bad}: {msg}");
        assert!(msg.contains(&format!("`{f}`")), "{t}.{f}: {msg}");
    }
}

#[test]
fn money_accepts_strings_and_exact_numbers() {
    for (raw, want) in [
        (json!("4557.63"), "4557.63"),
        (json!(4557.63), "4557.63"),
        (json!(98000), "98000"),
    ] {
        let mut v = base("collateral_valuation");
        v["value"] = raw;
        let text = v.to_string();
        let ev = decode(text.as_bytes()).unwrap();
        let Body::CollateralValuation(val) = ev.body else {
            panic!()
        };
        assert_eq!(val.value.to_string(), want);
    }
    // A number with more digits than f64 holds stays exact.
    let text = base("collateral_valuation")
        .to_string()
        .replace("98000", "12345678901234567890.123456789");
    let ev = decode(text.as_bytes()).unwrap();
    let Body::CollateralValuation(val) = ev.body else {
        panic!()
    };
    assert_eq!(val.value.to_string(), "12345678901234567890.123456789");
}

#[test]
fn envelope_errors_have_their_kinds() {
    let cases: Vec<(Vec<u8>, ErrorKind)> = vec![
        (b"not json".to_vec(), ErrorKind::MalformedJson),
        (b"{\"event_id\":".to_vec(), ErrorKind::MalformedJson),
        (b"[1,2]".to_vec(), ErrorKind::MalformedJson),
        (b"\"text\"".to_vec(), ErrorKind::MalformedJson),
        (b"{} {}".to_vec(), ErrorKind::MalformedJson),
        (vec![b'{', 0xff, b'}'], ErrorKind::MalformedJson),
        (
            [
                b"\xef\xbb\xbf".as_slice(),
                base("income").to_string().as_bytes(),
            ]
            .concat(),
            ErrorKind::MalformedJson,
        ),
        (
            format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
            ErrorKind::MalformedJson,
        ),
    ];
    for (payload, kind) in cases {
        assert_eq!(
            decode(&payload).unwrap_err().kind,
            kind,
            "{}",
            String::from_utf8_lossy(&payload)
        );
    }
    let mut v = base("income");
    v["type"] = json!("salary");
    assert_eq!(kind_of(&v).unwrap_err().0, ErrorKind::UnknownType);
    for (version, kind) in [
        (json!(2), Some(ErrorKind::UnsupportedVersion)),
        (json!(0), Some(ErrorKind::UnsupportedVersion)),
        (json!("1"), Some(ErrorKind::UnsupportedVersion)),
        (json!(1.0), Some(ErrorKind::UnsupportedVersion)),
        (json!(-1), Some(ErrorKind::UnsupportedVersion)),
        (json!(1), None),
        (Value::Null, None),
    ] {
        let mut v = base("income");
        v["schema_version"] = version.clone();
        assert_eq!(kind_of(&v).err().map(|e| e.0), kind, "{version}");
    }
}

#[test]
fn duplicate_keys_are_refused_and_unknown_keys_ignored() {
    let text = base("income")
        .to_string()
        .replacen('{', "{\"monthly_income\":\"1\",", 1);
    let (kind, msg) = kind_of(&serde_json::from_str::<Value>("{}").unwrap()).unwrap_err();
    assert_eq!(kind, ErrorKind::MissingField, "{msg}");
    let r = decode(text.as_bytes()).unwrap_err();
    assert_eq!(r.kind, ErrorKind::InvalidValue);
    assert!(
        r.message
            .contains("`monthly_income` appears more than once"),
        "{}",
        r.message
    );
    let mut v = base("income");
    v["x_extra"] = json!({"nested": [1, 2, {"deep": null}]});
    assert_eq!(kind_of(&v), Ok(()));
}

#[test]
fn escaped_strings_are_unescaped() {
    let text = base("income").to_string().replace("\"B1\"", "\"B\\u0031\"");
    let ev = decode(text.as_bytes()).unwrap();
    assert_eq!(ev.borrower_id, "B1");
}

/// Wrong JSON types in every field of every event type: a boolean, an array and an object
/// where the contract wants a string or a number (or a scalar where it wants the `vehicle`
/// object), each rejected naming its field.
#[test]
fn wrong_types_in_every_field_are_rejected_naming_the_field() {
    let mut wrong = Vec::new();
    for t in TYPES {
        let fields: Vec<String> = base(t).as_object().unwrap().keys().cloned().collect();
        for field in fields {
            for bad in [json!(true), json!([1]), json!({"a": 1}), json!("x")] {
                // An object is `vehicle`'s type, and a string many fields'.
                let right_type = if field == "vehicle" {
                    bad.is_object()
                } else {
                    bad.is_string()
                };
                if right_type {
                    continue;
                }
                let mut v = base(t);
                v[&field] = bad.clone();
                let shown = format!("`{field}`");
                match kind_of(&v) {
                    Err((kind, msg))
                        if matches!(
                            kind,
                            ErrorKind::InvalidValue | ErrorKind::UnsupportedVersion
                        ) && msg.contains(&shown) => {}
                    other => wrong.push(format!("{t}.{field} = {bad}: {other:?}")),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn v2_events_decode_into_their_bodies() {
    use crate::event::Modification;
    use crate::types::{Signal, SignalSet, SuppressionReason};
    let text = base("loan_modified").to_string();
    let Body::LoanModified(m) = decode(text.as_bytes()).unwrap().body else {
        panic!("not a loan_modified")
    };
    assert_eq!(m.change, Modification::Deferral { months: 3 });
    assert_eq!(m.effective_date.to_string(), "2026-01-10");
    let text = base("restructure").to_string();
    let Body::LoanModified(m) = decode(text.as_bytes()).unwrap().body else {
        panic!("not a loan_modified")
    };
    let Modification::Restructure(t) = m.change else {
        panic!("not a restructure")
    };
    assert_eq!(
        (
            t.principal.to_string(),
            t.term_months,
            t.first_due_date.to_string()
        ),
        ("90000.00".to_owned(), 48, "2026-02-10".to_owned())
    );
    let mut v = base("suppression");
    let text = v.to_string();
    let Body::Suppression(s) = decode(text.as_bytes()).unwrap().body else {
        panic!("not a suppression")
    };
    assert_eq!(
        s.signals,
        SignalSet::default()
            .with(Signal::Dpd)
            .with(Signal::PaymentFailed)
    );
    assert_eq!(s.reason, SuppressionReason::Hardship);
    assert_eq!(s.loan_id.as_deref(), Some("L1"));
    // Every reason is accepted; ["*"] is all nine signals; a repeated name is harmless.
    for reason in SuppressionReason::ALL {
        v["reason"] = json!(reason.as_str());
        v["signals"] = json!(["*"]);
        let text = v.to_string();
        let Body::Suppression(s) = decode(text.as_bytes()).unwrap().body else {
            panic!("not a suppression")
        };
        assert_eq!((s.reason, s.signals), (reason, SignalSet::ALL));
    }
    v["signals"] = json!(["ltv", "ltv"]);
    let text = v.to_string();
    let Body::Suppression(s) = decode(text.as_bytes()).unwrap().body else {
        panic!("not a suppression")
    };
    assert_eq!(s.signals, SignalSet::default().with(Signal::Ltv));
}

/// The decoder's one-pass payload hash is the canonical one, whatever the field order,
/// whitespace or unknown fields.
#[test]
fn the_decoders_payload_hash_is_the_canonical_one() {
    let payloads = [
        r#"{"event_id":"e1","type":"income","borrower_id":"B1","occurred_at":"2026-01-01T00:00:00Z","monthly_income":"100","currency":"CNY","source":"payroll"}"#,
        "{ \"source\" : \"payroll\", \"currency\":\"CNY\",\n\t\"monthly_income\":\"100\", \"occurred_at\":\"2026-01-01T00:00:00Z\", \"borrower_id\":\"B1\", \"type\":\"income\", \"event_id\":\"e1\" }",
        r#"{"event_id":"e1","type":"income","borrower_id":"B1","occurred_at":"2026-01-01T00:00:00Z","monthly_income":"100","currency":"CNY","source":"payroll","extra":{"a": [1, 2]},"note":null}"#,
        r#"{"event_id":"s1","type":"suppression","borrower_id":"B1","occurred_at":"2026-01-01T00:00:00Z","suppression_id":"S1","signals":[ "dpd" , "ltv" ],"until":"2026-03-31","reason":"hardship","granted_by":"r1"}"#,
    ];
    for p in payloads {
        let event = decode(p.as_bytes()).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(
            Some(event.payload_hash),
            crate::canonical::payload_hash(p.as_bytes()),
            "{p}"
        );
    }
    let first = decode(payloads[0].as_bytes()).unwrap().payload_hash;
    assert_eq!(decode(payloads[1].as_bytes()).unwrap().payload_hash, first);
    assert_ne!(decode(payloads[2].as_bytes()).unwrap().payload_hash, first);
}
