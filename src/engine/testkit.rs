//! Test helpers: a replay-clock engine fed with compact JSON events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::output::Output;
use super::{ClockMode, Engine, Input, Outcome, Settings};
use crate::config::Config;

/// An engine plus the messages it published.
pub struct Kit {
    pub engine: Engine,
    pub out: Vec<Output>,
    seq: u32,
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl Kit {
    pub fn new() -> Self {
        Kit::with_config("")
    }

    pub fn with_config(toml: &str) -> Self {
        let config = Config::from_toml(toml).unwrap();
        Kit {
            engine: Engine::new(Arc::new(Settings::from_config(&config)), ClockMode::Event),
            out: Vec::new(),
            seq: 0,
        }
    }

    pub fn external(skew_secs: i64) -> Self {
        let mut k = Kit::new();
        let settings = Arc::new(Settings::from_config(&Config::default()));
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
        self.engine.apply(
            Input {
                payload,
                source: &source,
                key,
                full_size,
            },
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

pub fn income(borrower: &str, occurred_at: &str, amount: &str) -> Value {
    json!({
        "type": "income", "borrower_id": borrower, "occurred_at": occurred_at,
        "monthly_income": amount, "currency": "CNY", "source": "payroll"
    })
}

pub fn valuation(borrower: &str, loan: &str, occurred_at: &str, value: &str) -> Value {
    json!({
        "type": "collateral_valuation", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "value": value, "currency": "CNY", "source": "market_index"
    })
}

pub fn ack(borrower: &str, occurred_at: &str, alert_id: &str) -> Value {
    json!({
        "type": "alert_ack", "borrower_id": borrower, "occurred_at": occurred_at,
        "alert_id": alert_id, "acked_by": "collector-1"
    })
}

pub fn close(borrower: &str, loan: &str, occurred_at: &str, reason: &str) -> Value {
    json!({
        "type": "loan_closed", "borrower_id": borrower, "occurred_at": occurred_at,
        "loan_id": loan, "reason": reason
    })
}
