//! Hand-written JSON rendering of events (fixed field order, no allocation per line).
//!
//! Every string written here is ASCII and free of characters that need escaping.

use super::borrower::BorrowerPlan;
use super::ctx::{civil, Ctx};
use super::event::{
    Change, Event, Kind, PayStatus, ACK_NOTES, DEFERRAL_REASONS, FAILURE_REASONS,
    RESTRUCTURE_REASONS,
};
use super::loan::{LoanPlan, CARS};
use super::suppress::granter_role;

/// Which id an event is written with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EventId {
    /// `E-<borrower>-<eid>`.
    Good,
    /// `X-<n>` for a malformed line.
    Bad(u64),
}

pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

pub(crate) fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `n` zero-padded to at least `width` digits.
pub(crate) fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let digits = n.checked_ilog10().map_or(1, |d| d as usize + 1);
    for _ in digits..width {
        buf.push(b'0');
    }
    push_u64(buf, n);
}

/// Cents as a decimal with two places, e.g. `4557.63`.
pub(crate) fn push_money(buf: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        buf.push(b'-');
    }
    let c = cents.unsigned_abs();
    push_u64(buf, c / 100);
    buf.push(b'.');
    push_padded(buf, c % 100, 2);
}

fn push_2(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10 % 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

fn push_date_parts(buf: &mut Vec<u8>, y: i64, m: u32, d: u32) {
    push_padded(buf, y.unsigned_abs(), 4);
    buf.push(b'-');
    push_2(buf, m);
    buf.push(b'-');
    push_2(buf, d);
}

pub(crate) fn push_date(buf: &mut Vec<u8>, d: chrono::NaiveDate) {
    let (y, m, dd) = civil(super::ctx::days(d));
    push_date_parts(buf, y, m, dd);
}

/// RFC 3339 local time with offset, seconds precision: `2025-03-10T09:15:00+08:00`.
pub(crate) fn push_datetime(buf: &mut Vec<u8>, t: i64, off: i32) {
    let local = t + i64::from(off);
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400) as u32);
    let (y, m, d) = civil(days);
    push_date_parts(buf, y, m, d);
    buf.push(b'T');
    push_2(buf, secs / 3600);
    buf.push(b':');
    push_2(buf, secs / 60 % 60);
    buf.push(b':');
    push_2(buf, secs % 60);
    buf.push(if off < 0 { b'-' } else { b'+' });
    let a = off.unsigned_abs() / 60;
    push_2(buf, a / 60);
    buf.push(b':');
    push_2(buf, a % 60);
}

fn key(buf: &mut Vec<u8>, name: &str) {
    buf.extend_from_slice(b",\"");
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"\":");
}

fn str_field(buf: &mut Vec<u8>, name: &str, value: &str) {
    key(buf, name);
    buf.push(b'"');
    buf.extend_from_slice(value.as_bytes());
    buf.push(b'"');
}

fn date_field(buf: &mut Vec<u8>, name: &str, d: chrono::NaiveDate) {
    key(buf, name);
    buf.push(b'"');
    push_date(buf, d);
    buf.push(b'"');
}

/// `"annual_rate":"0.0588"` from units of 0.0001 (< 1).
fn rate_field(buf: &mut Vec<u8>, rate_bp: u32) {
    key(buf, "annual_rate");
    buf.extend_from_slice(b"\"0.");
    push_padded(buf, u64::from(rate_bp), 4);
    buf.push(b'"');
}

/// `"name":"<prefix><n, two digits>"`, e.g. `"acked_by":"collector-07"`.
fn numbered_field(buf: &mut Vec<u8>, name: &str, prefix: &str, n: u8) {
    key(buf, name);
    buf.push(b'"');
    buf.extend_from_slice(prefix.as_bytes());
    push_padded(buf, u64::from(n), 2);
    buf.push(b'"');
}

fn money_field(buf: &mut Vec<u8>, name: &str, cents: i64) {
    key(buf, name);
    buf.push(b'"');
    push_money(buf, cents);
    buf.push(b'"');
}

pub(crate) fn push_borrower_id(buf: &mut Vec<u8>, ctx: &Ctx, num: u64) {
    buf.push(b'B');
    push_padded(buf, num, ctx.id_width);
}

pub(crate) fn push_loan_id(buf: &mut Vec<u8>, ctx: &Ctx, num: u64, seq: u8) {
    buf.push(b'L');
    push_padded(buf, num, ctx.id_width);
    buf.push(b'-');
    push_u64(buf, u64::from(seq));
}

fn loan_id_field(buf: &mut Vec<u8>, ctx: &Ctx, num: u64, loan: &LoanPlan) {
    key(buf, "loan_id");
    buf.push(b'"');
    push_loan_id(buf, ctx, num, loan.seq);
    buf.push(b'"');
}

/// Appends one event as a JSON object (no trailing newline).
pub(crate) fn render(buf: &mut Vec<u8>, ctx: &Ctx, b: &BorrowerPlan, ev: &Event, id: EventId) {
    buf.extend_from_slice(b"{\"event_id\":\"");
    match id {
        EventId::Good => {
            buf.extend_from_slice(b"E-");
            push_padded(buf, b.num, ctx.id_width);
            buf.push(b'-');
            push_u64(buf, u64::from(ev.eid));
        }
        EventId::Bad(n) => {
            buf.extend_from_slice(b"X-");
            push_u64(buf, n);
        }
    }
    buf.push(b'"');
    str_field(buf, "type", ev.kind.event_type().as_str());
    key(buf, "borrower_id");
    buf.push(b'"');
    push_borrower_id(buf, ctx, b.num);
    buf.push(b'"');
    key(buf, "occurred_at");
    buf.push(b'"');
    push_datetime(buf, ev.t, ev.off);
    buf.push(b'"');
    let loan = b.loans.get(usize::from(ev.loan));
    match (ev.kind, loan) {
        (Kind::LoanOpened, Some(l)) => {
            loan_id_field(buf, ctx, b.num, l);
            money_field(buf, "principal", l.principal);
            str_field(buf, "currency", "CNY");
            rate_field(buf, l.rate_bp);
            key(buf, "term_months");
            push_u64(buf, u64::from(l.term));
            date_field(buf, "first_due_date", l.terms.first_due_date);
            money_field(buf, "installment_amount", l.inst);
            money_field(buf, "collateral_value", l.collateral);
            let (make, model) = CARS
                .get(usize::from(l.car))
                .copied()
                .unwrap_or(("BYD", "Han"));
            buf.extend_from_slice(b",\"vehicle\":{\"vin\":\"");
            buf.extend_from_slice(&l.vin);
            buf.extend_from_slice(b"\",\"make\":\"");
            buf.extend_from_slice(make.as_bytes());
            buf.extend_from_slice(b"\",\"model\":\"");
            buf.extend_from_slice(model.as_bytes());
            buf.extend_from_slice(b"\",\"year\":");
            push_i64(buf, i64::from(l.year));
            buf.push(b'}');
            key(buf, "manager_id");
            buf.extend_from_slice(b"\"M");
            push_padded(buf, u64::from(l.manager), 3);
            buf.push(b'"');
            key(buf, "branch_id");
            buf.extend_from_slice(b"\"BR");
            push_padded(buf, u64::from(l.branch), 2);
            buf.push(b'"');
            key(buf, "dealer_id");
            buf.extend_from_slice(b"\"D");
            push_padded(buf, u64::from(l.dealer), 3);
            buf.push(b'"');
        }
        (
            Kind::Repayment {
                pay_no,
                amount,
                status,
            },
            Some(l),
        ) => {
            loan_id_field(buf, ctx, b.num, l);
            key(buf, "payment_id");
            buf.extend_from_slice(b"\"P-");
            push_loan_id(buf, ctx, b.num, l.seq);
            buf.push(b'-');
            push_u64(buf, u64::from(pay_no));
            buf.push(b'"');
            money_field(buf, "amount", amount);
            str_field(buf, "currency", "CNY");
            match status {
                PayStatus::Received => str_field(buf, "status", "received"),
                PayStatus::Reversed => str_field(buf, "status", "reversed"),
                PayStatus::Failed(r) => {
                    str_field(buf, "status", "failed");
                    let reason = FAILURE_REASONS
                        .get(usize::from(r))
                        .copied()
                        .unwrap_or("insufficient_funds");
                    str_field(buf, "failure_reason", reason);
                }
            }
        }
        (
            Kind::Income {
                amount,
                source,
                period,
            },
            _,
        ) => {
            money_field(buf, "monthly_income", amount);
            str_field(buf, "currency", "CNY");
            str_field(buf, "source", source.as_str());
            key(buf, "period");
            buf.push(b'"');
            push_padded(buf, u64::from(period.0.unsigned_abs()), 4);
            buf.push(b'-');
            push_2(buf, period.1);
            buf.push(b'"');
        }
        (
            Kind::Valuation {
                value,
                source,
                mileage,
            },
            Some(l),
        ) => {
            loan_id_field(buf, ctx, b.num, l);
            money_field(buf, "value", value);
            str_field(buf, "currency", "CNY");
            str_field(buf, "source", source.as_str());
            key(buf, "mileage_km");
            push_u64(buf, u64::from(mileage));
        }
        (Kind::Closed { reason }, Some(l)) => {
            loan_id_field(buf, ctx, b.num, l);
            str_field(buf, "reason", reason.as_str());
        }
        (
            Kind::Ack {
                episode,
                collector,
                note,
            },
            Some(l),
        ) => {
            key(buf, "alert_id");
            buf.push(b'"');
            push_borrower_id(buf, ctx, b.num);
            buf.push(b'/');
            push_loan_id(buf, ctx, b.num, l.seq);
            buf.extend_from_slice(b"/dpd/");
            push_u64(buf, u64::from(episode));
            buf.push(b'"');
            numbered_field(buf, "acked_by", "collector-", collector);
            if let Some(note) = note {
                let note = ACK_NOTES
                    .get(usize::from(note))
                    .copied()
                    .unwrap_or(ACK_NOTES[0]);
                str_field(buf, "note", note);
            }
        }
        (
            Kind::Modified {
                effective,
                change,
                reason,
                approver,
            },
            Some(l),
        ) => {
            loan_id_field(buf, ctx, b.num, l);
            let reasons: &[&str] = match change {
                Change::Deferral { months } => {
                    str_field(buf, "kind", "deferral");
                    date_field(buf, "effective_date", effective);
                    key(buf, "months");
                    push_u64(buf, u64::from(months));
                    &DEFERRAL_REASONS
                }
                Change::Restructure => {
                    str_field(buf, "kind", "restructure");
                    date_field(buf, "effective_date", effective);
                    // Always planned with the event (the terms live on the loan).
                    if let Some(n) = l.restructure {
                        money_field(buf, "principal", n.principal);
                        rate_field(buf, n.rate_bp);
                        key(buf, "term_months");
                        push_u64(buf, u64::from(n.term));
                        date_field(buf, "first_due_date", n.first_due);
                        money_field(buf, "installment_amount", n.inst);
                    }
                    &RESTRUCTURE_REASONS
                }
            };
            let reason = reasons.get(usize::from(reason)).copied().unwrap_or("");
            str_field(buf, "reason", reason);
            numbered_field(buf, "approved_by", "credit-officer-", approver);
        }
        (
            Kind::Suppression {
                no,
                loan_scoped,
                signals,
                until,
                reason,
                granter,
                ..
            },
            Some(l),
        ) => {
            key(buf, "suppression_id");
            buf.extend_from_slice(b"\"S-");
            push_padded(buf, b.num, ctx.id_width);
            buf.push(b'-');
            push_u64(buf, u64::from(no));
            buf.push(b'"');
            if loan_scoped {
                loan_id_field(buf, ctx, b.num, l);
            }
            key(buf, "signals");
            buf.extend_from_slice(signals.json().as_bytes());
            date_field(buf, "until", until);
            str_field(buf, "reason", reason.as_str());
            numbered_field(buf, "granted_by", granter_role(reason), granter);
        }
        // Unreachable by construction (every loan-scoped event names an existing loan and
        // candidates are resolved before release); nothing more to write.
        _ => {}
    }
    buf.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers_and_times() {
        assert_eq!(s(|b| push_money(b, 455_763)), "4557.63");
        assert_eq!(s(|b| push_money(b, 5)), "0.05");
        assert_eq!(s(|b| push_money(b, -120)), "-1.20");
        assert_eq!(s(|b| push_padded(b, 42, 6)), "000042");
        assert_eq!(s(|b| push_padded(b, 1_234_567, 6)), "1234567");
        assert_eq!(s(|b| push_padded(b, 0, 2)), "00");
        // 2025-03-10T01:15:00Z shown at +08:00.
        let t = 1_741_569_300;
        assert_eq!(
            s(|b| push_datetime(b, t, 8 * 3600)),
            "2025-03-10T09:15:00+08:00"
        );
        assert_eq!(
            s(|b| push_datetime(b, t, -(5 * 3600 + 30 * 60))),
            "2025-03-09T19:45:00-05:30"
        );
        assert_eq!(s(|b| push_datetime(b, t, 0)), "2025-03-10T01:15:00+00:00");
    }
}
