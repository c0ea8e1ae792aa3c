//! A generated book replayed through the engine (event clock, default settings): every valid
//! line applies, every ack addresses an open alert, and the v2 lifecycle statuses all occur.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use postloan_engine::output::{AlertStatus, Output};
use postloan_engine::settings::{EscalationConfig, LimitsConfig, RulesConfig};
use postloan_engine::types::Severity;
use postloan_engine::{ClockMode, Engine, Input, Outcome, Settings};
use serde_json::Value;

use super::{opts, run};

/// What a replay published, counted.
#[derive(Debug, Default)]
pub(super) struct Replay {
    pub statuses: BTreeMap<String, u64>,
    pub rejections: BTreeMap<String, u64>,
    /// Rejections by `type` of the payload (as far as it can be read) and error kind.
    pub rejected: BTreeMap<(String, String), u64>,
    pub escalations: u64,
    /// Acked alerts whose severity later rose (an `updated` above the acknowledged severity).
    pub rose_after_ack: u64,
    /// Acks applied to an alert that was not open at the ack's instant.
    pub acks_not_open: Vec<String>,
    /// Repeat acks that published nothing (the alert still covered).
    pub silent_repeats: u64,
    /// `acknowledged` messages of an alert already acknowledged before.
    pub repeat_acknowledged: u64,
}

/// Replays `text` line by line (default settings, business zone `tz`) and advances the clock
/// to `end`.
pub(super) fn replay_in(text: &str, end: DateTime<Utc>, tz: chrono_tz::Tz) -> Replay {
    let settings = Settings::new(
        RulesConfig::default(),
        EscalationConfig::default(),
        LimitsConfig::default(),
        tz,
    );
    let mut engine = Engine::new(Arc::new(settings), ClockMode::Event);
    let mut r = Replay::default();
    let mut t = Tracker::default();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let source = format!("book/{}", i + 1);
        let outcome = engine.apply(
            Input {
                payload: line.as_bytes(),
                source: &source,
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut out,
        );
        let ack = (line.contains("\"type\":\"alert_ack\"")
            && matches!(outcome, Outcome::Applied(_)))
        .then(|| {
            let v: Value = serde_json::from_str(line).unwrap();
            let id = v["alert_id"].as_str().unwrap().to_string();
            let published = out.iter().any(|o| {
                matches!(o, Output::Alert(m)
                    if m.alert_id == id && matches!(m.status, AlertStatus::Acknowledged))
            });
            (id, published)
        });
        t.take(&mut out, &mut r);
        if let Some((id, published)) = ack {
            // Timers before the ack were published first: the alert must be open now.
            if !t.open.contains_key(&id) {
                r.acks_not_open.push(line.to_string());
            } else if !published {
                r.silent_repeats += 1;
            }
        }
    }
    engine.advance_to(end, &mut out);
    t.take(&mut out, &mut r);
    r
}

/// [`replay_in`] the default business zone (Asia/Shanghai).
pub(super) fn replay(text: &str, end: DateTime<Utc>) -> Replay {
    replay_in(text, end, chrono_tz::Asia::Shanghai)
}

/// Open alerts and their acknowledgements, as published.
#[derive(Default)]
struct Tracker {
    open: HashMap<String, Severity>,
    acked: HashMap<String, Severity>,
    ever_acked: HashMap<String, u32>,
}

impl Tracker {
    fn take(&mut self, out: &mut Vec<Output>, r: &mut Replay) {
        let Tracker {
            open,
            acked,
            ever_acked,
        } = self;
        for o in out.drain(..) {
            match o {
                Output::Alert(m) => {
                    *r.statuses.entry(m.status.as_str().to_string()).or_default() += 1;
                    match m.status {
                        AlertStatus::Resolved => {
                            open.remove(&m.alert_id);
                            acked.remove(&m.alert_id);
                        }
                        AlertStatus::Acknowledged => {
                            let n = ever_acked.entry(m.alert_id.clone()).or_default();
                            if *n > 0 {
                                r.repeat_acknowledged += 1;
                            }
                            *n += 1;
                            acked.insert(m.alert_id.clone(), m.severity);
                            open.insert(m.alert_id, m.severity);
                        }
                        AlertStatus::Updated => {
                            if acked.get(&m.alert_id).is_some_and(|a| m.severity > *a) {
                                r.rose_after_ack += 1;
                                acked.remove(&m.alert_id);
                            }
                            open.insert(m.alert_id, m.severity);
                        }
                        _ => {
                            open.insert(m.alert_id, m.severity);
                        }
                    }
                }
                Output::Escalation(_) => r.escalations += 1,
                Output::Rejected(m) => {
                    let kind = format!("{:?}", m.error_kind);
                    let payload = m.payload.unwrap_or_default();
                    let ty = payload
                        .split_once("\"type\":\"")
                        .and_then(|(_, rest)| rest.split_once('"'))
                        .map_or("?", |(t, _)| t);
                    *r.rejected
                        .entry((ty.to_string(), kind.clone()))
                        .or_default() += 1;
                    *r.rejections.entry(kind).or_default() += 1;
                }
            }
        }
    }
}

#[test]
fn a_generated_book_replays_without_rejections_and_with_every_v2_status() {
    let (text, sum) = run(&opts(3000, 24, 42, 0.0));
    let end = DateTime::parse_from_rfc3339("2027-01-01T00:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc);
    let r = replay(&text, end);
    eprintln!("{sum:?}\n{r:#?}");
    assert!(r.rejections.is_empty(), "rejections: {:?}", r.rejections);
    assert!(
        r.acks_not_open.is_empty(),
        "acks of alerts not open: {:#?}",
        &r.acks_not_open[..r.acks_not_open.len().min(5)]
    );
    for s in [
        "firing",
        "updated",
        "resolved",
        "acknowledged",
        "suppressed",
        "reinstated",
    ] {
        assert!(r.statuses.get(s).copied().unwrap_or(0) > 0, "no {s}: {r:?}");
    }
    assert!(r.rose_after_ack > 0, "no acked alert rose: {r:?}");
    assert!(r.repeat_acknowledged > 0 && r.silent_repeats > 0, "{r:?}");
}

#[test]
fn malformed_lines_are_each_rejected_and_change_nothing() {
    let end = DateTime::parse_from_rfc3339("2027-01-01T00:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc);
    let (clean, _) = run(&opts(1500, 24, 8, 0.0));
    let (dirty, sum) = run(&opts(1500, 24, 8, 0.3));
    let a = replay(&clean, end);
    let b = replay(&dirty, end);
    assert!(a.rejections.is_empty(), "{:?}", a.rejections);
    assert_eq!(b.rejections.values().sum::<u64>(), sum.bad_lines);
    assert_eq!(
        (&a.statuses, a.escalations),
        (&b.statuses, b.escalations),
        "malformed lines changed what was published"
    );
    eprintln!("{:#?}", b.rejected);
    for (ty, kind) in [
        ("loan_modified", "MissingField"),
        ("loan_modified", "InvalidValue"),
        ("loan_modified", "UnknownLoan"),
        ("suppression", "MissingField"),
        ("suppression", "InvalidValue"),
    ] {
        let n = b.rejected.get(&(ty.into(), kind.into())).copied();
        assert!(n.unwrap_or(0) > 0, "no {ty} rejected as {kind}");
    }
}

/// The DPD mirror and the suppressions' business dates follow the zone, DST included (Santiago
/// moves its clocks at midnight, so some local midnights do not exist).
#[test]
fn books_in_other_zones_replay_in_those_zones_without_rejections() {
    for tz in [chrono_tz::America::Santiago, chrono_tz::America::New_York] {
        let mut o = opts(1500, 24, 21, 0.0);
        o.time_zone = tz;
        let (text, _) = run(&o);
        let end = DateTime::parse_from_rfc3339("2027-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let r = replay_in(&text, end, tz);
        assert!(r.rejections.is_empty(), "{tz}: {:?}", r.rejections);
        assert!(r.acks_not_open.is_empty(), "{tz}: {:?}", r.acks_not_open);
        assert!(r.statuses.contains_key("reinstated"), "{tz}: {r:?}");
    }
}
