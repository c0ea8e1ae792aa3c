//! Events as JSON through serde: one `#[derive(Serialize)]` struct per event type whose field
//! order is the wire order (the crate doc's "Format"): the four common fields, then the type's
//! own, values in their [`wire`](super::wire) forms. Every string written is ASCII and needs
//! no escaping.
//!
//! The common fields are declared in each struct (by [`event_struct!`]) rather than flattened
//! in: serde's `flatten` goes through a map and halves the generator's throughput.

use serde::Serialize;

use super::borrower::BorrowerPlan;
use super::ctx::Ctx;
use super::event::{
    granter_role, Change, Event, Kind, PayStatus, ACK_NOTES, CARS, DEFERRAL_REASONS,
    FAILURE_REASONS, RESTRUCTURE_REASONS,
};
use super::loan::LoanPlan;
use super::wire::{
    AlertId, BorrowerId, Coded, Date, EventId, Instant, LoanId, Money, Numbered, Padded, PaymentId,
    Period, Rate, SuppressionId, Vin,
};

/// The only currency the book uses.
const CNY: &str = "CNY";

/// The fields every event starts with.
#[derive(Debug, Clone, Copy)]
struct Head {
    event_id: EventId,
    event_type: &'static str,
    borrower_id: BorrowerId,
    occurred_at: Instant,
}

/// Declares an event type's wire struct: the common fields of [`Head`], then the type's own.
macro_rules! event_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Serialize)]
        struct $name {
            event_id: EventId,
            #[serde(rename = "type")]
            event_type: &'static str,
            borrower_id: BorrowerId,
            occurred_at: Instant,
            $($(#[$fm])* $field: $ty,)*
        }
    };
}

/// Builds an event struct from a [`Head`] and the type's own fields.
macro_rules! with_head {
    ($h:expr, $name:ident { $($body:tt)* }) => {{
        let h: Head = $h;
        $name {
            event_id: h.event_id,
            event_type: h.event_type,
            borrower_id: h.borrower_id,
            occurred_at: h.occurred_at,
            $($body)*
        }
    }};
}

#[derive(Serialize)]
struct Vehicle {
    vin: Vin,
    make: &'static str,
    model: &'static str,
    year: i32,
}

event_struct!(
    /// `loan_opened`.
    LoanOpened {
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
);

event_struct!(
    /// `repayment`; `failure_reason` for a failed debit only.
    Repayment {
        loan_id: LoanId,
        payment_id: PaymentId,
        amount: Money,
        currency: &'static str,
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure_reason: Option<&'static str>,
    }
);

event_struct!(
    /// `income`.
    Income {
        monthly_income: Money,
        currency: &'static str,
        source: &'static str,
        period: Period,
    }
);

event_struct!(
    /// `collateral_valuation`.
    Valuation {
        loan_id: LoanId,
        value: Money,
        currency: &'static str,
        source: &'static str,
        mileage_km: u32,
    }
);

event_struct!(
    /// `loan_closed`.
    Closed {
        loan_id: LoanId,
        reason: &'static str,
    }
);

event_struct!(
    /// `alert_ack`; `note` when given.
    Ack {
        alert_id: AlertId,
        acked_by: Numbered,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'static str>,
    }
);

event_struct!(
    /// `loan_modified`: `months` for a deferral, the new terms for a restructure (always
    /// planned with the event: the terms live on the loan).
    Modified {
        loan_id: LoanId,
        kind: &'static str,
        effective_date: Date,
        #[serde(skip_serializing_if = "Option::is_none")]
        months: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        principal: Option<Money>,
        #[serde(skip_serializing_if = "Option::is_none")]
        annual_rate: Option<Rate>,
        #[serde(skip_serializing_if = "Option::is_none")]
        term_months: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        first_due_date: Option<Date>,
        #[serde(skip_serializing_if = "Option::is_none")]
        installment_amount: Option<Money>,
        reason: &'static str,
        approved_by: Numbered,
    }
);

event_struct!(
    /// `suppression`; `loan_id` for a loan-scoped one only.
    Suppression {
        suppression_id: SuppressionId,
        #[serde(skip_serializing_if = "Option::is_none")]
        loan_id: Option<LoanId>,
        signals: &'static [&'static str],
        until: Date,
        reason: &'static str,
        granted_by: Numbered,
    }
);

event_struct!(
    /// The common fields alone: an event that is never released (an unresolved ack
    /// candidate, a missing loan) would be written so.
    Bare {}
);

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
    let h = Head {
        event_id: id,
        event_type: ev.kind.event_type().as_str(),
        borrower_id: BorrowerId(who),
        occurred_at: Instant {
            t: ev.t,
            off: ev.off,
        },
    };
    let loan = b.loans.get(usize::from(ev.loan));
    match (ev.kind, loan) {
        (
            Kind::Income {
                amount,
                source,
                period,
            },
            _,
        ) => serde_json::to_writer(
            buf,
            &with_head!(
                h,
                Income {
                    monthly_income: Money(amount),
                    currency: CNY,
                    source: source.as_str(),
                    period: Period(period),
                }
            ),
        ),
        (Kind::LoanOpened, Some(l)) => {
            serde_json::to_writer(buf, &opened(h, LoanId(who, l.seq), l))
        }
        (
            Kind::Repayment {
                pay_no,
                amount,
                status,
            },
            Some(l),
        ) => serde_json::to_writer(
            buf,
            &repayment(h, LoanId(who, l.seq), pay_no, amount, status),
        ),
        (
            Kind::Valuation {
                value,
                source,
                mileage,
            },
            Some(l),
        ) => serde_json::to_writer(
            buf,
            &with_head!(
                h,
                Valuation {
                    loan_id: LoanId(who, l.seq),
                    value: Money(value),
                    currency: CNY,
                    source: source.as_str(),
                    mileage_km: mileage,
                }
            ),
        ),
        (Kind::Closed { reason }, Some(l)) => serde_json::to_writer(
            buf,
            &with_head!(
                h,
                Closed {
                    loan_id: LoanId(who, l.seq),
                    reason: reason.as_str(),
                }
            ),
        ),
        (
            Kind::Ack {
                episode,
                collector,
                note,
            },
            Some(l),
        ) => serde_json::to_writer(
            buf,
            &with_head!(
                h,
                Ack {
                    alert_id: AlertId(LoanId(who, l.seq), episode),
                    acked_by: Numbered("collector-", collector),
                    note: note.map(|n| pick(&ACK_NOTES, n, ACK_NOTES[0])),
                }
            ),
        ),
        (
            Kind::Modified {
                effective,
                change,
                reason,
                approver,
            },
            Some(l),
        ) => serde_json::to_writer(
            buf,
            &modified(h, who, l, effective, change, (reason, approver)),
        ),
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
        ) => serde_json::to_writer(
            buf,
            &with_head!(
                h,
                Suppression {
                    suppression_id: SuppressionId(who, no),
                    loan_id: loan_scoped.then_some(LoanId(who, l.seq)),
                    signals: signals.names(),
                    until: Date(until),
                    reason: reason.as_str(),
                    granted_by: Numbered(granter_role(reason), granter),
                }
            ),
        ),
        // Unreachable by construction (every loan-scoped event names an existing loan and
        // candidates are resolved before release): the common fields alone.
        _ => serde_json::to_writer(buf, &with_head!(h, Bare {})),
    }
}

/// A `repayment`: attempt `pay_no` of `amount` cents.
fn repayment(h: Head, loan_id: LoanId, pay_no: u32, amount: i64, status: PayStatus) -> Repayment {
    let (status, failure_reason) = match status {
        PayStatus::Received => ("received", None),
        PayStatus::Reversed => ("reversed", None),
        PayStatus::Failed(r) => (
            "failed",
            Some(pick(&FAILURE_REASONS, r, "insufficient_funds")),
        ),
    };
    with_head!(
        h,
        Repayment {
            loan_id,
            payment_id: PaymentId(loan_id, pay_no),
            amount: Money(amount),
            currency: CNY,
            status,
            failure_reason,
        }
    )
}

/// A `loan_modified` of loan `l` effective on `effective`; `(reason, approver)` index the
/// kind's reasons and number the credit officer.
fn modified(
    h: Head,
    who: Padded,
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
            l.script.restructure,
            &RESTRUCTURE_REASONS[..],
        ),
    };
    with_head!(
        h,
        Modified {
            loan_id: LoanId(who, l.seq),
            kind,
            effective_date: Date(effective),
            months,
            principal: terms.map(|n| Money(n.principal)),
            annual_rate: terms.map(|n| Rate(n.rate_bp)),
            term_months: terms.map(|n| n.term),
            first_due_date: terms.map(|n| Date(n.first_due)),
            installment_amount: terms.map(|n| Money(n.inst)),
            reason: pick(reasons, reason, ""),
            approved_by: Numbered("credit-officer-", approver),
        }
    )
}

/// The `loan_opened` of loan `l`.
fn opened(h: Head, loan_id: LoanId, l: &LoanPlan) -> LoanOpened {
    let (make, model) = CARS
        .get(usize::from(l.vehicle.car))
        .copied()
        .unwrap_or(("BYD", "Han"));
    with_head!(
        h,
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
    )
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
