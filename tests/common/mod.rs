//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod alertmanager;
pub mod chromium;
pub mod e2e;
pub mod hostile;
pub mod http;
pub mod kafka;
pub mod load;
pub mod notify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postloan_monitor::config::Config;
use postloan_monitor::replay::{replay, Summary};
use serde_json::Value;

/// The input name rejections are sourced from.
pub const NAME: &str = "events.jsonl";

/// Replays JSONL text with the default (or given) configuration; returns the raw output.
pub fn replay_text(input: &str, until: Option<&str>, config: Option<&str>) -> (String, Summary) {
    let config = Config::from_toml(config.unwrap_or("")).expect("test config is valid");
    let settings = Arc::new(config.engine_settings());
    let until = until.map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc));
    let mut out = Vec::new();
    let summary = replay(
        settings,
        &mut input.as_bytes(),
        NAME,
        until,
        &mut out,
        &mut |_| {},
    )
    .expect("replay of in-memory input cannot fail");
    (String::from_utf8(out).expect("output is UTF-8"), summary)
}

/// Replays and parses every output line.
pub fn replay_json(input: &str, until: Option<&str>) -> Vec<Value> {
    let (out, _) = replay_text(input, until, None);
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Joins JSON values into JSONL.
pub fn jsonl(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Compact view: alert `message_id status severity event_time`, escalation
/// `escalation_id severity event_time`, rejection `rejected error_kind source`.
pub fn line(m: &Value) -> String {
    let s = |k: &str| m[k].as_str().unwrap_or("").to_owned();
    match s("kind").as_str() {
        "alert" => format!(
            "{} {} {} {}",
            s("message_id"),
            s("status"),
            s("severity"),
            s("event_time")
        ),
        "escalation" => format!(
            "{} {} {}",
            s("escalation_id"),
            s("severity"),
            s("event_time")
        ),
        "rejected" => format!("rejected {} {}", s("error_kind"), s("source")),
        other => panic!("unknown kind {other:?}"),
    }
}

pub fn lines(msgs: &[Value]) -> Vec<String> {
    msgs.iter().map(line).collect()
}

/// Replays raw bytes (which need not be UTF-8) with the default configuration.
pub fn replay_bytes(input: &[u8]) -> (String, Summary) {
    let settings = Arc::new(Config::default().engine_settings());
    let mut out = Vec::new();
    let summary = replay(settings, &mut &input[..], NAME, None, &mut out, &mut |_| {})
        .expect("replay of in-memory input cannot fail");
    (String::from_utf8(out).expect("output is UTF-8"), summary)
}

/// Polls `f` every 100 ms until it gives a value; panics after `secs` seconds.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An input event with the common fields and the type's `fields`.
pub fn ev(id: &str, kind: &str, borrower: &str, at: &str, fields: Value) -> Value {
    let mut v = serde_json::json!({
        "event_id": id, "type": kind, "borrower_id": borrower, "occurred_at": at
    });
    for (k, x) in fields.as_object().expect("fields are an object") {
        v[k] = x.clone();
    }
    v
}

/// The compact lines (see [`lines`]) of the messages whose id starts with `prefix`: one alert
/// slot's lifecycle and escalations, e.g. `B1/L1/dpd/`.
pub fn slot(msgs: &[Value], prefix: &str) -> Vec<String> {
    lines(msgs)
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

/// The published message with this `message_id`.
pub fn find<'a>(msgs: &'a [Value], message_id: &str) -> &'a Value {
    msgs.iter()
        .find(|m| m["message_id"] == message_id)
        .unwrap_or_else(|| panic!("no message {message_id}"))
}
