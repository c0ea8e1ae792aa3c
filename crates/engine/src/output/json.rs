//! The messages' JSON, written by hand into the caller's buffer: fields in the order the
//! structs declare them, strings escaped as serde_json escapes them, numbers from their decimal
//! text. Every published message goes through here, and serde's generic serializer spent more
//! on a message than the engine spent deciding it. serde_json stays the reference: the tests
//! below hold this writer to its bytes, message kind by message kind.

use std::io::Write as _;

use super::{
    AckFields, AlertMessage, AlertMetrics, EscalationMessage, MetricValue, Output, RejectedMessage,
    SuppressionFields,
};

/// Appends `m`'s JSON to `buf`.
pub(super) fn write(m: &Output, buf: &mut Vec<u8>) {
    match m {
        Output::Alert(a) => alert(a, buf),
        Output::Escalation(e) => escalation(e, buf),
        Output::Rejected(r) => rejected(r, buf),
    }
}

fn alert(a: &AlertMessage, buf: &mut Vec<u8>) {
    let mut o = Object::open(buf);
    o.str("kind", a.kind);
    o.str("message_id", &a.message_id);
    o.str("alert_id", &a.alert_id);
    o.str("status", a.status.as_str());
    o.str("signal", a.signal.as_str());
    o.str("severity", a.severity.as_str());
    o.str("borrower_id", &a.borrower_id);
    o.opt_str("loan_id", a.loan_id.as_deref());
    o.opt_str("manager_id", a.manager_id.as_deref());
    o.opt_str("branch_id", a.branch_id.as_deref());
    o.opt_str("dealer_id", a.dealer_id.as_deref());
    o.str("opened_at", &a.opened_at);
    o.str("event_time", &a.event_time);
    o.str("reason", &a.reason);
    o.key("metrics");
    metrics(&a.metrics, o.buf);
    o.str("recommended_action", a.recommended_action);
    o.str("monitor_version", a.monitor_version);
    o.str("rules_version", &a.rules_version);
    o.opt_str("cause_event_id", a.cause_event_id.as_deref());
    if let Some(AckFields { acked_by, note }) = &a.ack {
        o.str("acked_by", acked_by);
        o.opt_str("note", note.as_deref());
    }
    if let Some(SuppressionFields {
        suppression_id,
        suppressed_until,
        suppression_reason,
    }) = &a.suppression
    {
        o.str("suppression_id", suppression_id);
        o.str("suppressed_until", suppressed_until);
        o.str("suppression_reason", suppression_reason.as_str());
    }
    o.close();
}

fn escalation(e: &EscalationMessage, buf: &mut Vec<u8>) {
    let mut o = Object::open(buf);
    o.str("kind", e.kind);
    o.str("message_id", &e.message_id);
    o.str("escalation_id", &e.escalation_id);
    o.str("alert_id", &e.alert_id);
    o.key("level");
    o.buf
        .extend_from_slice(itoa::Buffer::new().format(e.level).as_bytes());
    o.str("notify", &e.notify);
    o.str("borrower_id", &e.borrower_id);
    o.opt_str("loan_id", e.loan_id.as_deref());
    o.opt_str("manager_id", e.manager_id.as_deref());
    o.opt_str("branch_id", e.branch_id.as_deref());
    o.str("signal", e.signal.as_str());
    o.str("severity", e.severity.as_str());
    o.str("alert_opened_at", &e.alert_opened_at);
    o.str("event_time", &e.event_time);
    o.key("unacknowledged_hours");
    value(&e.unacknowledged_hours, o.buf);
    o.str("reason", &e.reason);
    o.str("rules_version", &e.rules_version);
    o.opt_str("cause_event_id", e.cause_event_id.as_deref());
    o.opt_str("previously_acked_by", e.previously_acked_by.as_deref());
    o.close();
}

fn rejected(r: &RejectedMessage, buf: &mut Vec<u8>) {
    let mut o = Object::open(buf);
    o.str("kind", r.kind);
    o.str("message_id", &r.message_id);
    o.str("error_kind", r.error_kind.as_str());
    o.str("error", &r.error);
    o.str("source", &r.source);
    o.opt_str("key", r.key.as_deref());
    if let Some(p) = &r.payload {
        o.str("payload", p);
    }
    if let Some(p) = &r.payload_base64 {
        o.str("payload_base64", p);
    }
    if r.payload_truncated {
        o.key("payload_truncated");
        o.buf.extend_from_slice(b"true");
    }
    if let Some(n) = r.payload_size_bytes {
        o.key("payload_size_bytes");
        o.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    o.close();
}

fn metrics(m: &AlertMetrics, buf: &mut Vec<u8>) {
    let mut o = Object::open(buf);
    for (name, v) in &m.0 {
        o.key(name);
        value(v, o.buf);
    }
    o.close();
}

fn value(v: &MetricValue, buf: &mut Vec<u8>) {
    match v {
        MetricValue::Int(i) => buf.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        // Written from its decimal text, never via f64. (Writing into a Vec cannot fail.)
        MetricValue::Num(d) => {
            let _ = write!(buf, "{}", d.normalize());
        }
        MetricValue::Money(d) => {
            // Amounts always show cents: "10000.00", never "10000".
            let mut d = *d;
            if d.scale() < 2 {
                d.rescale(2);
            }
            let _ = write!(buf, "\"{d}\"");
        }
        MetricValue::Text(t) => string(t, buf),
        MetricValue::Null => buf.extend_from_slice(b"null"),
        MetricValue::Map(m) => metrics(m, buf),
    }
}

/// An object being written: a comma before every member but the first.
struct Object<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn open(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'{');
        Object { buf, first: true }
    }

    /// A member's name (the names are this file's own, plain ASCII: nothing to escape).
    fn key(&mut self, name: &str) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.push(b'"');
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    fn str(&mut self, name: &str, v: &str) {
        self.key(name);
        string(v, self.buf);
    }

    fn opt_str(&mut self, name: &str, v: Option<&str>) {
        self.key(name);
        match v {
            Some(v) => string(v, self.buf),
            None => self.buf.extend_from_slice(b"null"),
        }
    }

    fn close(self) {
        self.buf.push(b'}');
    }
}

/// A JSON string as serde_json writes it: `"` and `\\` escaped, control characters as `\b`,
/// `\t`, `\n`, `\f`, `\r` or `\u00XX` (lower-case hex), everything else (`/`, DEL, non-ASCII)
/// as is. Runs that need no escape are found a word at a time and copied whole.
fn string(s: &str, buf: &mut Vec<u8>) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    while let Some(i) = crate::swar::special_byte(bytes, run) {
        buf.extend_from_slice(&bytes[run..i]);
        let c = bytes[i];
        match c {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x08 => buf.extend_from_slice(b"\\b"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            0x0c => buf.extend_from_slice(b"\\f"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(c >> 4)]);
                buf.push(HEX[usize::from(c & 0xf)]);
            }
        }
        run = i + 1;
    }
    buf.extend_from_slice(&bytes[run..]);
    buf.push(b'"');
}

#[cfg(test)]
mod tests;
