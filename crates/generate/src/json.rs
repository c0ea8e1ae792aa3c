//! Events as JSON through serde: one `#[derive(Serialize)]` struct per event type whose field
//! order is the wire order (the crate doc's "Format"), values in their [`wire`](super::wire)
//! forms. Every string written is ASCII and needs no escaping.

use serde::Serialize;

use super::borrower::BorrowerPlan;
use super::ctx::Ctx;
use super::event::{
    granter_role, Change, Event, Kind, NewTerms, PayStatus, ACK_NOTES, CARS, DEFERRAL_REASONS,
    FAILURE_REASONS, RESTRUCTURE_REASONS,
};
use super::loan::LoanPlan;
use super::wire::{
    AlertId, BorrowerId, Coded, Date, EventId, Instant, LoanId, Money, Numbered, Padded, PaymentId,
    Period, Rate, SuppressionId, Vin,
};

/// The only currency the book uses.
const CNY: &str = "CNY";

/// The fields every event starts with, then the type's own.
#[derive(Serialize)]
struct Line {
    event_id: EventId,
    #[serde(rename = "type")]
    kind: &'static str,
    borrower_id: BorrowerId,
    occurred_at: Instant,
    #[serde(flatten)]
    body: Option<Body>,
}

#[derive(Serialize)]
struct Vehicle {
    vin: Vin,
    make: &'static str,
    model: &'static str,
    year: i32,
}

#[derive(Serialize)]
struct LoanOpened {
    loan_id: LoanId,
    principal: Money,
    currency: &'static str,
    annual_rate: Rate,
    term_months: u32,
    first_due_date: Date,
    installment_amount: Money,
    collateral_value: Money,
    vehicle: Vehicle,
    manager_id: Coded,
    branch_id: Coded,
    dealer_id: Coded,
}

#[derive(Serialize)]
struct Repayment {
    loan_id: LoanId,
    payment_id: PaymentId,
    amount: Money,
    currency: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'static str>,
}

#[derive(Serialize)]
struct Income {
    monthly_income: Money,
    currency: &'static str,
    source: &'static str,
    period: Period,
}

#[derive(Serialize)]
struct Valuation {
    loan_id: LoanId,
    value: Money,
    currency: &'static str,
    source: &'static str,
    mileage_km: u32,
}

#[derive(Serialize)]
struct Closed {
    loan_id: LoanId,
    reason: &'static str,
}

#[derive(Serialize)]
struct Ack {
    alert_id: AlertId,
    acked_by: Numbered,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

/// The terms a restructure sets, in `loan_opened`'s forms.
#[derive(Serialize)]
struct RestructuredTerms {
    principal: Money,
    annual_rate: Rate,
    term_months: u32,
    first_due_date: Date,
    installment_amount: Money,
}

impl From<NewTerms> for RestructuredTerms {
    fn from(n: NewTerms) -> Self {
        RestructuredTerms {
            principal: Money(n.principal),
            annual_rate: Rate(n.rate_bp),
            term_months: n.term,
            first_due_date: Date(n.first_due),
            installment_amount: Money(n.inst),
        }
    }
}

#[derive(Serialize)]
struct Modified {
    loan_id: LoanId,
    kind: &'static str,
    effective_date: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    months: Option<u8>,
    /// Always planned with the event (the terms live on the loan).
    #[serde(flatten)]
    terms: Option<RestructuredTerms>,
    reason: &'static str,
    approved_by: Numbered,
}

#[derive(Serialize)]
struct Suppression {
    suppression_id: SuppressionId,
    #[serde(skip_serializing_if = "Option::is_none")]
    loan_id: Option<LoanId>,
    signals: &'static [&'static str],
    until: Date,
    reason: &'static str,
    granted_by: Numbered,
}

/// The fields of one event type.
#[derive(Serialize)]
#[serde(untagged)]
enum Body {
    LoanOpened(LoanOpened),
    Repayment(Repayment),
    Income(Income),
    Valuation(Valuation),
    Closed(Closed),
    Ack(Ack),
    Modified(Modified),
    Suppression(Suppression),
}

/// `table[i]`, or `fallback` for an index out of the table (unreachable by construction).
fn pick(table: &[&'static str], i: u8, fallback: &'static str) -> &'static str {
    table.get(usize::from(i)).copied().unwrap_or(fallback)
}

/// Appends one event as a JSON object (no trailing newline).
pub(crate) fn render(
    buf: &mut Vec<u8>,
    ctx: &Ctx,
    b: &BorrowerPlan,
    ev: &Event,
    id: EventId,
) -> serde_json::Result<()> {
    let who = Padded {
        num: b.num,
        width: ctx.id_width,
    };
    let line = Line {
        event_id: id,
        kind: ev.kind.event_type().as_str(),
        borrower_id: BorrowerId(who),
        occurred_at: Instant {
            t: ev.t,
            off: ev.off,
        },
        body: body(who, b.loans.get(usize::from(ev.loan)), ev.kind),
    };
    serde_json::to_writer(buf, &line)
}

/// The type's fields of an event of loan `loan` (income names none). `None` only for an
/// unresolved ack candidate or a missing loan, neither of which is ever released (every
/// loan-scoped event names an existing loan): nothing more is written then.
fn body(who: Padded, loan: Option<&LoanPlan>, kind: Kind) -> Option<Body> {
    if let Kind::Income {
        amount,
        source,
        period,
    } = kind
    {
        return Some(Body::Income(Income {
            monthly_income: Money(amount),
            currency: CNY,
            source: source.as_str(),
            period: Period(period),
        }));
    }
    let l = loan?;
    let loan_id = LoanId(who, l.seq);
    Some(match kind {
        Kind::LoanOpened => Body::LoanOpened(opened(loan_id, l)),
        Kind::Repayment {
            pay_no,
            amount,
            status,
        } => Body::Repayment(repayment(loan_id, pay_no, amount, status)),
        Kind::Income { .. } | Kind::AckCandidate { .. } => return None,
        Kind::Valuation {
            value,
            source,
            mileage,
        } => Body::Valuation(Valuation {
            loan_id,
            value: Money(value),
            currency: CNY,
            source: source.as_str(),
            mileage_km: mileage,
        }),
        Kind::Closed { reason } => Body::Closed(Closed {
            loan_id,
            reason: reason.as_str(),
        }),
        Kind::Ack {
            episode,
            collector,
            note,
        } => Body::Ack(Ack {
            alert_id: AlertId(loan_id, episode),
            acked_by: Numbered("collector-", collector),
            note: note.map(|n| pick(&ACK_NOTES, n, ACK_NOTES[0])),
        }),
        Kind::Modified {
            effective,
            change,
            reason,
            approver,
        } => Body::Modified(modified(loan_id, l, effective, change, (reason, approver))),
        Kind::Suppression {
            no,
            loan_scoped,
            signals,
            until,
            reason,
            granter,
            ..
        } => Body::Suppression(Suppression {
            suppression_id: SuppressionId(who, no),
            loan_id: loan_scoped.then_some(loan_id),
            signals: signals.names(),
            until: Date(until),
            reason: reason.as_str(),
            granted_by: Numbered(granter_role(reason), granter),
        }),
    })
}

/// The fields of a `repayment`: attempt `pay_no` of `amount` cents.
fn repayment(loan_id: LoanId, pay_no: u32, amount: i64, status: PayStatus) -> Repayment {
    let (status, failure_reason) = match status {
        PayStatus::Received => ("received", None),
        PayStatus::Reversed => ("reversed", None),
        PayStatus::Failed(r) => (
            "failed",
            Some(pick(&FAILURE_REASONS, r, "insufficient_funds")),
        ),
    };
    Repayment {
        loan_id,
        payment_id: PaymentId(loan_id, pay_no),
        amount: Money(amount),
        currency: CNY,
        status,
        failure_reason,
    }
}

/// The fields of a `loan_modified` of loan `l` effective on `effective`; `(reason, approver)`
/// index the kind's reasons and number the credit officer.
fn modified(
    loan_id: LoanId,
    l: &LoanPlan,
    effective: chrono::NaiveDate,
    change: Change,
    (reason, approver): (u8, u8),
) -> Modified {
    let (kind, months, terms, reasons) = match change {
        Change::Deferral { months } => ("deferral", Some(months), None, &DEFERRAL_REASONS[..]),
        Change::Restructure => (
            "restructure",
            None,
            l.script.restructure.map(RestructuredTerms::from),
            &RESTRUCTURE_REASONS[..],
        ),
    };
    Modified {
        loan_id,
        kind,
        effective_date: Date(effective),
        months,
        terms,
        reason: pick(reasons, reason, ""),
        approved_by: Numbered("credit-officer-", approver),
    }
}

/// The fields of `loan_opened` for loan `l`.
fn opened(loan_id: LoanId, l: &LoanPlan) -> LoanOpened {
    let (make, model) = CARS
        .get(usize::from(l.vehicle.car))
        .copied()
        .unwrap_or(("BYD", "Han"));
    LoanOpened {
        loan_id,
        principal: Money(l.terms.principal),
        currency: CNY,
        annual_rate: Rate(l.terms.rate_bp),
        term_months: l.terms.term,
        first_due_date: Date(l.terms.schedule.first_due_date),
        installment_amount: Money(l.terms.inst),
        collateral_value: Money(l.vehicle.collateral),
        vehicle: Vehicle {
            vin: Vin(l.vehicle.vin),
            make,
            model,
            year: l.vehicle.year,
        },
        manager_id: Coded("M", l.desk.manager, 3),
        branch_id: Coded("BR", l.desk.branch, 2),
        dealer_id: Coded("D", l.desk.dealer, 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GenerateOptions;

    /// An event with nothing to add after the common fields (never released) still makes an
    /// object: the four common fields, as the hand-written encoder wrote it.
    #[test]
    fn an_event_without_its_fields_keeps_the_common_ones() {
        let opts = GenerateOptions {
            borrowers: 1,
            months: 12,
            seed: 1,
            start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(chrono::NaiveDate::MIN),
            bad_ratio: 0.0,
            time_zone: chrono_tz::Asia::Shanghai,
        };
        let ctx = Ctx::new(&opts).unwrap_or_else(|e| panic!("{e}"));
        let b = BorrowerPlan::new(0, &ctx);
        let ev = Event {
            t: 1_741_569_300,
            off: 8 * 3600,
            seq: 1,
            loan: 0,
            eid: 3,
            kind: Kind::AckCandidate {
                collector: 1,
                note: None,
                repeat: false,
            },
        };
        let mut buf = Vec::new();
        let who = Padded { num: 1, width: 6 };
        render(&mut buf, &ctx, &b, &ev, EventId::Good(who, 3)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(&buf),
            r#"{"event_id":"E-000001-3","type":"alert_ack","borrower_id":"B000001","occurred_at":"2025-03-10T09:15:00+08:00"}"#
        );
    }
}
