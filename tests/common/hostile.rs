//! The hostile-input corpus, shared by the replay and the Kafka tests: each case is a line
//! that must give exactly one rejection of the named kind whose message contains a fragment.

use serde_json::{json, Value};

/// (name, line, error_kind, fragment of the error message).
pub type Case = (&'static str, Vec<u8>, &'static str, &'static str);

/// A valid income event for borrower `B1`.
pub fn valid() -> Value {
    json!({"event_id": "ok-1", "type": "income", "borrower_id": "B1",
        "occurred_at": "2026-01-01T00:00:00Z", "monthly_income": "100",
        "currency": "CNY", "source": "payroll"})
}

/// An income event of borrower `H1` with `field` set to `value` (raw JSON text).
pub fn with(field: &str, value: &str) -> Vec<u8> {
    let mut v = valid();
    v["event_id"] = json!("h-1");
    v["borrower_id"] = json!("H1");
    v[field] = json!("__RAW__");
    v.to_string().replace("\"__RAW__\"", value).into_bytes()
}

/// A contract-v2 event of borrower `H1` (`loan_modified` deferral, or a borrower-wide
/// `suppression`) with `field` set to `value` (raw JSON text).
pub fn v2_with(kind: &str, field: &str, value: &str) -> Vec<u8> {
    let mut v = match kind {
        "suppression" => json!({"event_id": "h-2", "type": "suppression", "borrower_id": "H1",
            "occurred_at": "2026-01-01T00:00:00Z", "suppression_id": "S1", "signals": ["*"],
            "until": "2026-03-31", "reason": "hardship", "granted_by": "r1"}),
        _ => json!({"event_id": "h-2", "type": "loan_modified", "borrower_id": "H1",
            "occurred_at": "2026-01-01T00:00:00Z", "loan_id": "L1", "kind": "deferral",
            "effective_date": "2026-01-01", "months": 2}),
    };
    v[field] = json!("__RAW__");
    v.to_string().replace("\"__RAW__\"", value).into_bytes()
}

/// Every case.
pub fn corpus() -> Vec<Case> {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge_id = with("event_id", &format!("\"{}\"", "x".repeat(10_000_000)));
    let long_id = with("event_id", &format!("\"{}\"", "x".repeat(100_000)));
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(valid().to_string().bytes());
    vec![
        ("truncated", br#"{"event_id":"e1","type":"income""#.to_vec(), "malformed_json", "at byte 32, the text ends before the object is closed"),
        ("deeply nested", deep.into_bytes(), "malformed_json", "a JSON array, not an object"),
        ("10 MB event_id", huge_id, "too_large", "message of 10000146 bytes is longer than limits.max_event_bytes (1048576)"),
        ("100 kB event_id", long_id, "invalid_value", "`event_id` must be 1–128 characters"),
        ("decimal above 96 bits", with("monthly_income", "79228162514264337593543950336"), "invalid_value", "96-bit"),
        ("exponent overflow", with("monthly_income", "1e400"), "invalid_value", "96-bit"),
        ("29 decimal places", with("monthly_income", "0.00000000000000000000000000001"), "invalid_value", "28 decimal places"),
        ("NaN", with("monthly_income", "\"NaN\""), "invalid_value", "not a decimal"),
        ("nan", with("monthly_income", "\"nan\""), "invalid_value", "not a decimal"),
        ("Infinity", with("monthly_income", "\"Infinity\""), "invalid_value", "not a decimal"),
        ("-Infinity", with("monthly_income", "\"-Infinity\""), "invalid_value", "not a decimal"),
        ("+Inf", with("monthly_income", "\"+Inf\""), "invalid_value", "not a decimal"),
        ("1e999 as text", with("monthly_income", "\"1e999\""), "invalid_value", "not a decimal"),
        ("padded number", with("monthly_income", "\" 100\""), "invalid_value", "not a decimal"),
        ("hex", with("monthly_income", "\"0x10\""), "invalid_value", "not a decimal"),
        ("thousands separator", with("monthly_income", "\"1,000\""), "invalid_value", "not a decimal"),
        ("negative", with("monthly_income", "\"-1\""), "invalid_value", "monthly_income"),
        ("byte-order mark", bom, "malformed_json", "byte-order mark"),
        ("invalid UTF-8", b"{\"event_id\":\"e\xff\",\"type\":\"income\"}".to_vec(), "malformed_json", "byte 14 is not valid UTF-8 (0xFF)"),
        ("duplicate key", br#"{"event_id":"h-1","type":"income","type":"repayment","borrower_id":"H1","occurred_at":"2026-01-01T00:00:00Z","monthly_income":"100","currency":"CNY","source":"payroll"}"#.to_vec(), "invalid_value", "`type` appears more than once"),
        ("year 9999", with("occurred_at", "\"9999-12-31T23:59:59Z\""), "implausible_time", "is after 2999-12-31"),
        ("year +10000", with("occurred_at", "\"+10000-01-01T00:00:00Z\""), "invalid_value", "occurred_at"),
        ("timestamp without offset", with("occurred_at", "\"2026-01-01T00:00:00\""), "invalid_value", "2026-01-01T00:00:00 has no UTC offset"),
        ("timestamp as number", with("occurred_at", "12345"), "invalid_value", "must be a string"),
        ("money as bool", with("monthly_income", "true"), "invalid_value", "got true"),
        ("money as object", with("monthly_income", "{\"v\":1}"), "invalid_value", "monthly_income"),
        ("lower-case currency", with("currency", "\"cny\""), "invalid_value", "ISO 4217"),
        ("schema_version 1.0", with("schema_version", "1.0"), "unsupported_version", "schema_version"),
        ("schema_version 2", with("schema_version", "2"), "unsupported_version", "schema_version"),
        ("borrower_id as number", with("borrower_id", "7"), "invalid_value", "borrower_id"),
        ("empty borrower_id", with("borrower_id", "\"\""), "invalid_value", "borrower_id"),
        ("type null", with("type", "null"), "missing_field", "`type`"),
        ("unknown type", with("type", "\"income2\""), "unknown_type", "income2"),
        ("array payload", b"[1,2,3]".to_vec(), "malformed_json", "a JSON array, not an object"),
        // Contract v2 events.
        ("months beyond u32", v2_with("loan_modified", "months", "4294967298"), "invalid_value", "`months` must be 1–24"),
        ("months 1e400", v2_with("loan_modified", "months", "1e400"), "invalid_value", "`months` must be an integer"),
        ("kind as array", v2_with("loan_modified", "kind", "[\"deferral\"]"), "invalid_value", "`kind` must be a string"),
        ("effective_date year 10000", v2_with("loan_modified", "effective_date", "\"+10000-01-01\""), "invalid_value", "`effective_date` must be a date"),
        ("deferral of an unknown loan", v2_with("loan_modified", "months", "3"), "unknown_loan", "no open loan \"L1\""),
        ("signals nested", v2_with("suppression", "signals", "[[\"dpd\"]]"), "invalid_value", "`signals` must be an array of signal names"),
        ("signals object", v2_with("suppression", "signals", "{\"dpd\":true}"), "invalid_value", "`signals`"),
        ("10,000 unknown signals", v2_with("suppression", "signals", &format!("[{}]", vec!["\"nope\""; 10_000].join(","))), "invalid_value", "names no signal: \"nope\""),
        ("until as number", v2_with("suppression", "until", "20260331"), "invalid_value", "`until` must be a string"),
        ("reason unknown", v2_with("suppression", "reason", "\"vacation\""), "invalid_value", "`reason` must be one of hardship"),
        ("suppression of an unknown loan", v2_with("suppression", "loan_id", "\"L1\""), "unknown_loan", "no open loan \"L1\""),
        ("bare string", b"\"income\"".to_vec(), "malformed_json", "a JSON string, not an object"),
    ]
}
