//! Test helpers: a replay-clock engine fed with compact JSON events. Built for the engine's own
//! tests and, with the `testkit` feature, for the application's; never in a release build.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::jump::Followers;
use super::output::Output;
use super::{ClockMode, Engine, Input, Outcome, Settings};
use crate::settings::{
    self, ClassificationConfig, EscalationConfig, LimitsConfig, Problems, RulesConfig,
};

/// The engine's sections of a configuration file, as the application embeds them.
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    #[serde(default)]
    rules: RulesConfig,
    #[serde(default)]
    escalation: EscalationConfig,
    #[serde(default)]
    limits: LimitsConfig,
    #[serde(default)]
    classification: ClassificationConfig,
}

/// Settings from `[rules]`, `[escalation]`, `[limits]` and `[classification]` TOML; panics with every problem when
/// they do not validate.
pub fn settings_from_toml(toml: &str) -> Settings {
    let s: Sections = toml::from_str(toml).unwrap();
    let mut problems = Problems::default();
    settings::validate(&s.rules, &s.escalation, &s.limits, &mut problems);
    s.classification.validate(&mut problems);
    assert!(problems.0.is_empty(), "invalid settings:\n{problems}");
    Settings::new(
        s.rules,
        s.escalation,
        s.limits,
        chrono_tz::Tz::Asia__Shanghai,
    )
    .with_classification(&s.classification)
}

/// An engine plus the messages it published.
pub struct Kit {
    /// The engine under test.
    pub engine: Engine,
    /// Messages published and not yet taken.
    pub out: Vec<Output>,
    /// What the events after a suspected clock jump say ([`Followers::Confirmed`] unless a
    /// test sets it: the kit cannot look ahead, the jump rule's own tests can).
    pub followers: Followers,
    seq: u32,
}

/// An RFC 3339 instant (panics on anything else).
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl Default for Kit {
    fn default() -> Self {
        Kit::new()
    }
}

impl Kit {
    /// An engine with the default settings.
    pub fn new() -> Self {
        Kit::with_config("")
    }

    /// An engine with `[rules]`, `[escalation]` and `[limits]` from TOML.
    pub fn with_config(toml: &str) -> Self {
        Kit {
            engine: Engine::new(Arc::new(settings_from_toml(toml)), ClockMode::Event),
            out: Vec::new(),
            followers: Followers::Confirmed,
            seq: 0,
        }
    }

    /// An engine on an external clock that tolerates `skew_secs` of lead.
    pub fn external(skew_secs: i64) -> Self {
        let mut k = Kit::new();
        let settings = Arc::new(Settings::default());
        k.engine = Engine::new(
            settings,
            ClockMode::External {
                max_future_skew: chrono::Duration::seconds(skew_secs),
            },
        );
        k
    }

    /// Sends a raw payload.
    pub fn raw(&mut self, payload: &[u8]) -> Outcome {
        self.input(payload, None, None)
    }

    /// Sends a raw payload with a Kafka key and, for a cut payload, the message's whole size.
    pub fn input(
        &mut self,
        payload: &[u8],
        key: Option<&[u8]>,
        full_size: Option<usize>,
    ) -> Outcome {
        self.seq += 1;
        let source = format!("test/{}", self.seq);
        let followers = self.followers;
        self.engine.apply_with(
            Input {
                payload,
                source: &source,
                key,
                full_size,
                // Read ahead, as the runtime's merge does.
                occurred_at: crate::decode::peek_occurred_at(payload),
            },
            // The kit sends one event at a time and cannot look ahead: it says what the
            // events after a clock jump would (confirm it, unless a test says otherwise).
            &mut |_| followers,
            &mut self.out,
        )
    }

    /// Sends an event; `event_id` is generated when absent.
    pub fn send(&mut self, mut v: Value) -> Outcome {
        if v.get("event_id").is_none() {
            v["event_id"] = json!(format!("auto-{}", self.seq + 1));
        }
        self.raw(v.to_string().as_bytes())
    }

    /// Advances the clock to an RFC 3339 instant.
    pub fn advance(&mut self, t: &str) {
        self.engine.advance_to(at(t), &mut self.out);
    }

    /// Drains published messages as JSON values.
    pub fn take(&mut self) -> Vec<Value> {
        self.out
            .drain(..)
            .map(|o| serde_json::from_str(&o.to_json()).unwrap())
            .collect()
    }

    /// Drains messages as compact `id status severity event_time` lines.
    pub fn lines(&mut self) -> Vec<String> {
        self.take().iter().map(line).collect()
    }
}

/// One message as a compact line: alert `message_id status severity event_time`,
/// escalation `escalation_id severity event_time`, rejection `rejected error_kind`.
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
        _ => format!("rejected {}", s("error_kind")),
    }
}

/// A 36-month CNY loan of 100,000 with 3,000 installments due on the 10th.
pub fn loan(borrower: &str, loan: &str, occurred_at: &str, first_due: &str) -> Value {
    json!({
        "type": "loan_opened", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "principal": "100000.00", "currency": "CNY", "annual_rate": "0.06",
        "term_months": 36, "first_due_date": first_due, "installment_amount": "3000.00",
        "collateral_value": "150000.00", "branch_id": "BR01", "manager_id": "M01", "dealer_id": "D001"
    })
}

/// A repayment of `amount` CNY with `status` (`received`, `failed`, `reversed`).
pub fn pay(
    borrower: &str,
    loan: &str,
    occurred_at: &str,
    payment: &str,
    amount: &str,
    status: &str,
) -> Value {
    json!({
        "type": "repayment", "borrower_id": borrower, "occurred_at": occurred_at, "loan_id": loan,
        "payment_id": payment, "amount": amount, "currency": "CNY", "status": status
    })
}

/// A payroll income observation of `amount` CNY a month.
pub fn income(borrower: &str, occurred_at: &str, amount: &str) -> Value {
    json!({
        "type": "income", "borrower_id": borrower, "occurred_at": occurred_at,
        "monthly_income": amount, "currency": "CNY", "source": "payroll"
    })
}

/// A market-index valuation of a loan's vehicle.
pub fn valuation(borrower: &str, loan: &str, occurred_at: &str, value: &str) -> Value {
    json!({
        "type": "collateral_valuation", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "value": value, "currency": "CNY", "source": "market_index"
    })
}

/// An acknowledgement of `alert_id` by `collector-1`.
pub fn ack(borrower: &str, occurred_at: &str, alert_id: &str) -> Value {
    json!({
        "type": "alert_ack", "borrower_id": borrower, "occurred_at": occurred_at,
        "alert_id": alert_id, "acked_by": "collector-1"
    })
}

/// A loan closing with `reason`.
pub fn close(borrower: &str, loan: &str, occurred_at: &str, reason: &str) -> Value {
    json!({
        "type": "loan_closed", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "reason": reason
    })
}

/// A payment holiday of `months` from `effective_date`.
pub fn deferral(
    borrower: &str,
    loan: &str,
    occurred_at: &str,
    effective_date: &str,
    months: u32,
) -> Value {
    json!({
        "type": "loan_modified", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "kind": "deferral", "effective_date": effective_date, "months": months
    })
}

/// A restructure to 24 installments of 2,000 from `first_due`, principal 45,000 at 5 %.
pub fn restructure(
    borrower: &str,
    loan: &str,
    occurred_at: &str,
    effective_date: &str,
    first_due: &str,
) -> Value {
    json!({
        "type": "loan_modified", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "kind": "restructure", "effective_date": effective_date,
        "principal": "45000.00", "annual_rate": "0.05", "term_months": 24,
        "first_due_date": first_due, "installment_amount": "2000.00"
    })
}

/// A hardship suppression `id` of `signals` through `until`; `loan` None = borrower-wide.
pub fn suppress(
    borrower: &str,
    occurred_at: &str,
    id: &str,
    loan: Option<&str>,
    signals: Value,
    until: &str,
) -> Value {
    let mut v = json!({
        "type": "suppression", "borrower_id": borrower, "occurred_at": occurred_at,
        "suppression_id": id, "signals": signals, "until": until, "reason": "hardship",
        "granted_by": "risk-1"
    });
    if let Some(l) = loan {
        v["loan_id"] = json!(l);
    }
    v
}

/// xorshift64: a fixed sequence for the randomized tests, so that a failure names a case that
/// replays.
pub struct Xorshift(pub u64);

impl Xorshift {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The lines of a generated book starting 2025-01-01 in Shanghai time (the engine's unit tests
/// only: the generator is a dev-dependency).
#[cfg(test)]
pub fn generated_lines(borrowers: u32, months: u32, seed: u64, bad_ratio: f64) -> Vec<String> {
    let opts = postloan_generate::GenerateOptions {
        borrowers,
        months,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
        bad_ratio,
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let mut text = Vec::new();
    postloan_generate::generate(&opts, &mut text).expect("generate");
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::to_owned)
        .collect()
}
