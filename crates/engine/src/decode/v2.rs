//! The events contract v2 adds: `loan_modified` (deferral, restructure) and `suppression`.

use std::borrow::Cow;

use super::{annual_rate, invalid, loan_id, shown, Field, Reader, MAX_ID_CHARS};
use crate::event::{LoanModified, Modification, NewTerms, Suppression};
use crate::reject::Rejection;
use crate::types::{ModificationKind, Signal, SignalSet, SuppressionReason};

/// Longest `loan_modified` reason, in characters.
pub const MAX_REASON_CHARS: usize = 256;
/// Longest deferral, in months.
pub const MAX_DEFERRAL_MONTHS: u32 = 24;

pub(super) fn loan_modified<'a>(r: &Reader<'a>) -> Result<LoanModified<'a>, Rejection> {
    let loan_id = loan_id(r)?;
    let kind = r.one_of(
        Field::Kind,
        &[
            ("deferral", ModificationKind::Deferral),
            ("restructure", ModificationKind::Restructure),
        ],
    )?;
    let effective_date = r.date(Field::EffectiveDate)?;
    let change = match kind {
        ModificationKind::Deferral => Modification::Deferral {
            months: r.int_in(Field::Months, 1..=MAX_DEFERRAL_MONTHS)?,
        },
        ModificationKind::Restructure => {
            let principal = r.amount(Field::Principal, true)?;
            let annual_rate = annual_rate(r)?;
            let term_months = r.int_in(Field::TermMonths, 1..=120)?;
            let first_due_date = r.date(Field::FirstDueDate)?;
            if first_due_date <= effective_date {
                return Err(invalid(
                    Field::FirstDueDate,
                    format_args!(
                        "{first_due_date} must be after `effective_date` {effective_date}"
                    ),
                ));
            }
            let installment_amount = r.amount(Field::InstallmentAmount, true)?;
            Modification::Restructure(NewTerms {
                principal,
                annual_rate,
                term_months,
                first_due_date,
                installment_amount,
            })
        }
    };
    r.opt_text(Field::Reason, MAX_REASON_CHARS)?;
    r.opt_id(Field::ApprovedBy)?;
    Ok(LoanModified {
        loan_id,
        effective_date,
        change,
    })
}

pub(super) fn suppression<'a>(r: &Reader<'a>) -> Result<Suppression<'a>, Rejection> {
    let suppression_id = r.id(Field::SuppressionId, MAX_ID_CHARS)?;
    let loan_id = match r.slots.get(Field::LoanId) {
        Some(_) => Some(loan_id(r)?),
        None => None,
    };
    let signals = signals(r.raw(Field::Signals)?)?;
    let until = r.date(Field::Until)?;
    let reason = r.one_of(
        Field::Reason,
        &SuppressionReason::ALL.map(|reason| (reason.as_str(), reason)),
    )?;
    let granted_by = r.id(Field::GrantedBy, MAX_ID_CHARS)?;
    Ok(Suppression {
        suppression_id,
        loan_id,
        signals,
        until,
        reason,
        granted_by,
    })
}

/// `signals`: a non-empty array of signal names, or `["*"]` for all nine.
fn signals(raw: &str) -> Result<SignalSet, Rejection> {
    let names: Vec<Cow<'_, str>> = serde_json::from_str(raw).map_err(|_| {
        invalid(
            Field::Signals,
            format_args!(
                "must be an array of signal names or [\"*\"], got {}",
                shown(raw)
            ),
        )
    })?;
    if names.is_empty() {
        return Err(invalid(
            Field::Signals,
            "must name at least one signal (or be [\"*\"] for all)",
        ));
    }
    if names.iter().any(|n| n == "*") {
        if names.len() > 1 {
            return Err(invalid(
                Field::Signals,
                "must be [\"*\"] alone or a list of signal names, not both",
            ));
        }
        return Ok(SignalSet::ALL);
    }
    names.iter().try_fold(SignalSet::default(), |set, name| {
        let signal = Signal::parse(name).ok_or_else(|| {
            let shown: String = name.chars().take(60).collect();
            let known: Vec<&str> = Signal::ALL.iter().map(|s| s.as_str()).collect();
            invalid(
                Field::Signals,
                format_args!(
                    "names no signal: {shown:?} (known: {}, or \"*\")",
                    known.join(", ")
                ),
            )
        })?;
        Ok(set.with(signal))
    })
}
