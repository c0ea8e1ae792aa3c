//! The fuzz harness and its invariants, in one place for both users: the libFuzzer targets in
//! `fuzz/fuzz_targets/` and `crates/engine/tests/fuzz_corpus.rs` (which replays the committed
//! corpus under `cargo test`). Both include this file with `#[path]`; it depends only on the
//! engine crate, `chrono` and `serde_json`.
//!
//! [`check_engine`]: the first byte (the control byte) picks how far the clock moves before each
//! message, whether the clock jumps 400 days after the last one, whether messages carry the
//! Kafka key `B1`, and the default or a tight `[limits]` configuration ([`tight_limits`], so
//! that the caps are reached by a few messages). The rest is split on `\n` into at most
//! [`MAX_MESSAGES`] messages, applied in order to an engine on the external clock that already
//! holds a prelude (borrower `B1` with loan `L1`, two repayments, an income and a valuation,
//! and open `dpd` and `payment_failed` alerts), so fuzzed events meet real state.
//! [`check_decode`]: arbitrary bytes through the decoder and the rejection record; the
//! `occurred_at` read ahead (as the runtime's merge does) agrees with the decoder.
//!
//! Invariants, beyond "no panic":
//! - `Rejected(kind)` appends exactly one message, a rejection of that kind whose
//!   `message_id` is `rejected/{source}`, and changes no state: borrower count, open loans,
//!   timers, clock, portfolio aggregates and every borrower's snapshot are as before.
//! - `Duplicate` appends nothing and changes no state either.
//! - A payload the decoder refuses is rejected. `Applied` appends no rejection and leaves the
//!   event's borrower with state; every borrower held is one of the ids seen here.
//! - Timers (`advance_to`) never publish rejections; every message is valid JSON and every
//!   `message_id` is unique over the run (a borrower forgotten under `[limits]` never had an
//!   alert, so no id comes again: docs/contract.md, decision 29).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use postloan_engine::decode::{
    borrower_id_hint, decode, decode_with, peek_occurred_at, OccurredAt,
};
use postloan_engine::jump::{Followers, JumpRule};
use postloan_engine::output::Output;
use postloan_engine::portfolio::Portfolio;
use postloan_engine::settings::{self, LimitsConfig, Problems};
use postloan_engine::snapshot;
use postloan_engine::{rejected_message_within, ClockMode, Engine, Input, Outcome, Settings};

/// Messages read from one input at most (the rest is ignored).
pub const MAX_MESSAGES: usize = 32;

/// The clock when the prelude is applied.
pub const START: &str = "2026-03-20T00:00:00Z";

/// Valid events applied after the clock is set to [`START`]: by then `L1`'s second installment
/// (due 2026-03-10) is 10 days late and one debit has bounced, so `B1/L1/dpd/1` and
/// `B1/L1/payment_failed/1` are open.
pub const PRELUDE: [&str; 5] = [
    r#"{"event_id":"p-1","type":"loan_opened","borrower_id":"B1","occurred_at":"2026-01-05T09:00:00+08:00","loan_id":"L1","principal":"100000.00","currency":"CNY","annual_rate":"0.06","term_months":36,"first_due_date":"2026-02-10","installment_amount":"3000.00","collateral_value":"150000.00","branch_id":"BR01","manager_id":"M01","dealer_id":"D001"}"#,
    r#"{"event_id":"p-2","type":"repayment","borrower_id":"B1","occurred_at":"2026-02-09T10:00:00+08:00","loan_id":"L1","payment_id":"P1","amount":"3000.00","currency":"CNY","status":"received"}"#,
    r#"{"event_id":"p-3","type":"income","borrower_id":"B1","occurred_at":"2026-02-15T10:00:00+08:00","monthly_income":"20000","currency":"CNY","source":"payroll"}"#,
    r#"{"event_id":"p-4","type":"collateral_valuation","borrower_id":"B1","occurred_at":"2026-02-20T10:00:00+08:00","loan_id":"L1","value":"140000","currency":"CNY","source":"market_index"}"#,
    r#"{"event_id":"p-5","type":"repayment","borrower_id":"B1","occurred_at":"2026-03-10T10:00:00+08:00","loan_id":"L1","payment_id":"P2","amount":"3000.00","currency":"CNY","status":"failed","failure_reason":"insufficient_funds"}"#,
];

/// Limits small enough for a few fuzzed messages to reach every cap.
pub fn tight_limits() -> LimitsConfig {
    LimitsConfig {
        max_event_bytes: 4096,
        max_rejected_payload_bytes: 24,
        max_event_ids_per_borrower: 6,
        max_history_per_loan: 2,
        max_open_loans_per_borrower: 2,
        max_suppressions_per_borrower: 2,
        forget_borrowers_without_loans_after_days: 20,
        max_borrowers_without_loans: 2,
        max_clock_jump_days: 2,
        clock_jump_confirmations: 2,
    }
}

/// Control byte, bits 0–2: how far the clock moves before each message.
const STEPS_SECS: [i64; 8] = [
    0,
    60,
    3_600,
    86_400,
    7 * 86_400,
    31 * 86_400,
    100 * 86_400,
    0,
];
/// Control byte, bit 3: after the last message, advance 400 days (fires every timer).
const FINAL_ADVANCE: u8 = 1 << 3;
/// Control byte, bit 4: messages carry the Kafka key `B1`.
const KEYED: u8 = 1 << 4;
/// Control byte, bit 5: [`tight_limits`] instead of the default configuration.
const TIGHT: u8 = 1 << 5;
/// Control byte, bit 6: the event clock, with the clock-jump rule judged by a real look-ahead
/// over the messages that follow (as replay does); the clock steps then only fire timers.
const EVENT_CLOCK: u8 = 1 << 6;

fn settings(tight: bool) -> Arc<Settings> {
    static DEFAULT: OnceLock<Arc<Settings>> = OnceLock::new();
    static TIGHTENED: OnceLock<Arc<Settings>> = OnceLock::new();
    let (cell, limits) = if tight {
        (&TIGHTENED, tight_limits())
    } else {
        (&DEFAULT, LimitsConfig::default())
    };
    Arc::clone(cell.get_or_init(|| {
        let defaults = Settings::default();
        let mut problems = Problems::default();
        settings::validate(
            &defaults.rules,
            &defaults.escalation,
            &limits,
            &mut problems,
        );
        assert!(
            problems.0.is_empty(),
            "the harness's limits are valid: {problems}"
        );
        Arc::new(Settings::new(
            defaults.rules,
            defaults.escalation,
            limits,
            defaults.tz,
        ))
    }))
}

/// The one place an [`Input`] is built; `full_size` is the whole message's length when
/// `payload` is only its first bytes (as adapters cut an oversized message).
fn input<'a>(
    payload: &'a [u8],
    source: &'a str,
    key: Option<&'a [u8]>,
    full_size: Option<usize>,
) -> Input<'a> {
    Input {
        payload,
        source,
        key,
        full_size,
        // As the runtime does: read ahead by the merge, handed to the decoder.
        occurred_at: peek_occurred_at(payload),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid instant")
        .with_timezone(&Utc)
}

/// Everything a rejection or a duplicate must leave as it was.
#[derive(PartialEq, Debug)]
struct State {
    borrowers: usize,
    open_loans: usize,
    timers: usize,
    clock: Option<DateTime<Utc>>,
    portfolio: Portfolio,
    snapshots: Vec<Option<Vec<u8>>>,
}

impl State {
    fn of(engine: &Engine, ids: &[String]) -> State {
        State {
            borrowers: engine.borrower_count(),
            open_loans: engine.open_loan_count(),
            timers: engine.pending_timers(),
            clock: engine.clock(),
            portfolio: engine.portfolio().clone(),
            snapshots: ids.iter().map(|id| engine.snapshot(id)).collect(),
        }
    }

    /// Names what differs, for the failure message.
    fn diff(&self, after: &State, ids: &[String]) -> String {
        let mut d = Vec::new();
        if self.borrowers != after.borrowers {
            d.push(format!(
                "borrowers {} -> {}",
                self.borrowers, after.borrowers
            ));
        }
        if self.open_loans != after.open_loans {
            d.push(format!(
                "open loans {} -> {}",
                self.open_loans, after.open_loans
            ));
        }
        if self.timers != after.timers {
            d.push(format!("timers {} -> {}", self.timers, after.timers));
        }
        if self.clock != after.clock {
            d.push(format!("clock {:?} -> {:?}", self.clock, after.clock));
        }
        if self.portfolio != after.portfolio {
            d.push("portfolio aggregates".to_owned());
        }
        for (id, (a, b)) in ids.iter().zip(self.snapshots.iter().zip(&after.snapshots)) {
            if a != b {
                d.push(format!("snapshot of {id} ({})", snapshot_diff(a, b)));
            }
        }
        d.join(", ")
    }
}

/// The lines of two snapshots' decoded state (`{:#?}`) that differ, at most five.
fn snapshot_diff(a: &Option<Vec<u8>>, b: &Option<Vec<u8>>) -> String {
    let show = |s: &Option<Vec<u8>>| match s.as_deref().map(snapshot::decode) {
        None => "absent".to_owned(),
        Some(Ok(borrower)) => format!("{borrower:#?}"),
        Some(Err(e)) => format!("undecodable: {e}"),
    };
    let (a, b) = (show(a), show(b));
    let mut lines: Vec<String> = a
        .lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("`{}` -> `{}`", x.trim(), y.trim()))
        .collect();
    if a.lines().count() != b.lines().count() {
        lines.push("length".to_owned());
    }
    lines.truncate(5);
    lines.join("; ")
}

/// The `message_id`s published so far, by borrower (rejections under `""`).
#[derive(Default)]
struct Published {
    ids: HashMap<String, HashSet<String>>,
}

impl Published {
    /// Checks what was published since `from`: valid JSON, ids not seen before, and no
    /// rejection unless `rejection_ok`.
    fn check(
        &mut self,
        out: &[Output],
        from: usize,
        rejection_ok: bool,
        what: &str,
    ) -> Result<(), String> {
        for o in &out[from..] {
            if !rejection_ok && matches!(o, Output::Rejected(_)) {
                return Err(format!("{what}: published a rejection: {}", o.to_json()));
            }
            let json = o.to_json();
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
                return Err(format!("{what}: message is not valid JSON ({e}): {json}"));
            }
            let owner = match o {
                Output::Rejected(_) => "",
                _ => o.key().unwrap_or_default(),
            };
            let fresh = self
                .ids
                .entry(owner.to_owned())
                .or_default()
                .insert(o.message_id().to_owned());
            if !fresh {
                return Err(format!(
                    "{what}: message_id {:?} published twice",
                    o.message_id()
                ));
            }
        }
        Ok(())
    }
}

/// Runs one engine input (see the module docs). `Err` names the broken invariant; a panic in
/// the engine propagates.
pub fn check_engine(data: &[u8]) -> Result<(), String> {
    let Some((&control, rest)) = data.split_first() else {
        return Ok(());
    };
    let step = Duration::seconds(STEPS_SECS[usize::from(control & 7)]);
    let key: Option<&[u8]> = (control & KEYED != 0).then_some(b"B1");
    let mode = if control & EVENT_CLOCK != 0 {
        ClockMode::Event
    } else {
        ClockMode::External {
            max_future_skew: Duration::days(3650),
        }
    };
    let settings = settings(control & TIGHT != 0);
    let rule = JumpRule::from_limits(&settings.limits);
    let mut engine = Engine::new(settings, mode);
    let mut out = Vec::new();
    let mut ids = Published::default();
    let mut t = at(START);
    engine.advance_to(t, &mut out);
    for (n, event) in PRELUDE.iter().enumerate() {
        let source = format!("prelude/{n}");
        // The prelude is the harness's own, trusted however far apart its events lie.
        let trusted = &mut |_| Followers::Confirmed;
        match engine.apply_with(
            input(event.as_bytes(), &source, None, None),
            trusted,
            &mut out,
        ) {
            Outcome::Applied(_) => {}
            other => return Err(format!("prelude event {n} was not applied: {other:?}")),
        }
    }
    ids.check(&out, 0, false, "prelude")?;
    let mut borrowers = vec!["B1".to_owned()];
    if engine.borrower_count() != 1 {
        return Err("the prelude should leave one borrower".to_owned());
    }

    let messages: Vec<&[u8]> = rest.split(|b| *b == b'\n').take(MAX_MESSAGES).collect();
    for (n, payload) in messages.iter().copied().enumerate() {
        if step > Duration::zero() {
            t += step;
            let from = out.len();
            engine.advance_to(t, &mut out);
            ids.check(&out, from, false, "advance_to")?;
        }
        let source = format!("fuzz/{n}");
        let what = format!("message {n}");
        let before = State::of(&engine, &borrowers);
        let from = out.len();
        let after = &messages[n + 1..];
        let mut followers = |t| {
            let times = after
                .iter()
                .map(|m| peek_occurred_at(m).map(OccurredAt::instant));
            rule.judge(t, times, true)
                .unwrap_or(Followers::Ended { seen: 0 })
        };
        let outcome =
            engine.apply_with(input(payload, &source, key, None), &mut followers, &mut out);
        let published = &out[from..];
        let decoded = decode(payload);
        if let Err(rejection) = &decoded {
            if !matches!(outcome, Outcome::Rejected(_)) {
                return Err(format!(
                    "{what}: the decoder rejects it ({:?}: {}) but the engine says {outcome:?}",
                    rejection.kind, rejection.message
                ));
            }
        }
        match outcome {
            // On the event clock a well-formed event that does not fit the state still moves
            // the clock (the contract's time rule), firing what falls due: the timers' messages
            // come first, then the rejection, last.
            Outcome::Rejected(kind) if mode == ClockMode::Event && kind.is_state_conflict() => {
                match published.last() {
                    Some(Output::Rejected(m)) if m.error_kind == kind => {}
                    _ => {
                        return Err(format!(
                            "{what}: rejected ({kind:?}) but not published last"
                        ))
                    }
                }
                let last = out.len() - 1;
                ids.check(&out[..last], from, false, &what)?;
                ids.check(&out, last, true, &what)?;
            }
            Outcome::Rejected(kind) => {
                match published {
                    [Output::Rejected(m)] => {
                        if m.error_kind != kind {
                            return Err(format!(
                                "{what}: outcome {kind:?} but the message says {:?}",
                                m.error_kind
                            ));
                        }
                        if m.message_id != format!("rejected/{source}") {
                            return Err(format!("{what}: message_id {:?}", m.message_id));
                        }
                    }
                    _ => {
                        return Err(format!(
                            "{what}: rejected ({kind:?}) but published {} messages: {:?}",
                            published.len(),
                            published.iter().map(Output::to_json).collect::<Vec<_>>()
                        ))
                    }
                }
                ids.check(&out, from, true, &what)?;
                let after = State::of(&engine, &borrowers);
                if before != after {
                    return Err(format!(
                        "{what}: rejected ({kind:?}) but state changed: {}",
                        before.diff(&after, &borrowers)
                    ));
                }
            }
            Outcome::Duplicate(_) => {
                if !published.is_empty() {
                    return Err(format!(
                        "{what}: duplicate but published {} messages",
                        published.len()
                    ));
                }
                let after = State::of(&engine, &borrowers);
                if before != after {
                    return Err(format!(
                        "{what}: duplicate but state changed: {}",
                        before.diff(&after, &borrowers)
                    ));
                }
            }
            Outcome::Applied(_) => {
                ids.check(&out, from, false, &what)?;
                let Ok(event) = decoded else {
                    return Err(format!("{what}: applied, yet the decoder rejects it"));
                };
                let id = &*event.borrower_id;
                if engine.snapshot(id).is_none() {
                    return Err(format!("{what}: applied, yet borrower {id:?} has no state"));
                }
                if !borrowers.iter().any(|b| b == id) {
                    borrowers.push(id.to_owned());
                }
                // Borrowers without loans may be forgotten, so not every id seen is held.
                let held = borrowers
                    .iter()
                    .filter(|b| engine.snapshot(b).is_some())
                    .count();
                if engine.borrower_count() != held {
                    return Err(format!(
                        "{what}: {} borrowers, {held} of them known",
                        engine.borrower_count()
                    ));
                }
            }
        }
    }

    if control & FINAL_ADVANCE != 0 {
        let from = out.len();
        engine.advance_to(t + Duration::days(400), &mut out);
        ids.check(&out, from, false, "final advance_to")?;
    }
    Ok(())
}

/// Runs arbitrary bytes through the decoder and, when it refuses them, the rejection record
/// (whole, cut by the engine, cut by an adapter). `Err` names the broken invariant; a panic
/// propagates.
pub fn check_decode(data: &[u8]) -> Result<(), String> {
    let hint = borrower_id_hint(data);
    // The merge's read-ahead of `occurred_at` follows the decoder's rule: handing it over
    // changes nothing about the outcome.
    let peeked = peek_occurred_at(data);
    let alone = format!("{:?}", decode(data));
    let handed = format!("{:?}", decode_with(data, peeked));
    if alone != handed {
        return Err(format!(
            "decoding with the peeked occurred_at {peeked:?} differs: {handed} vs {alone}"
        ));
    }
    if let (Some(at), Ok(event)) = (peeked, decode(data)) {
        if at.instant() != event.occurred_at {
            return Err(format!("peeked {at:?}, decoded {:?}", event.occurred_at));
        }
    }
    let rejection = match decode(data) {
        Ok(event) => {
            let chars = |s: &str| s.chars().count();
            if !(1..=128).contains(&chars(&event.event_id)) {
                return Err(format!("event_id {:?} accepted", event.event_id));
            }
            if !(1..=64).contains(&chars(&event.borrower_id)) {
                return Err(format!("borrower_id {:?} accepted", event.borrower_id));
            }
            if hint.as_deref() != Some(&*event.borrower_id) {
                return Err(format!(
                    "borrower_id_hint {hint:?} differs from borrower_id {:?}",
                    event.borrower_id
                ));
            }
            return Ok(());
        }
        Err(rejection) => rejection,
    };
    if rejection.message.is_empty() {
        return Err(format!("{:?} rejection without a message", rejection.kind));
    }
    let adapter_cut = data.len() / 3;
    let cases = [
        ("whole", data, None, usize::MAX),
        ("cut by the engine", data, None, 1 + data.len() / 2),
        (
            "cut by an adapter",
            &data[..adapter_cut],
            Some(data.len()),
            24,
        ),
    ];
    for (what, payload, full_size, max) in cases {
        let record = rejected_message_within(
            &input(payload, "fuzz/0", None, full_size),
            rejection.clone(),
            max,
        );
        if let Some(text) = &record.payload {
            if !data.starts_with(text.as_bytes()) {
                return Err(format!("{what}: payload {text:?} is not the input's"));
            }
        }
        if record.payload.is_none() && record.payload_base64.is_none() {
            return Err(format!("{what}: neither payload nor payload_base64"));
        }
        let json = Output::Rejected(record).to_json();
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
            return Err(format!("{what}: rejection is not valid JSON ({e}): {json}"));
        }
    }
    Ok(())
}
