//! Bytes → typed [`Event`], or a [`Rejection`] that names the field.
//!
//! One pass collects the known top-level fields as borrowed raw JSON slices and the payload's
//! canonical hash (`slots.rs`; unknown fields are skipped, so producers may add fields): the
//! hand-written scanner (`scan.rs`) reads the plain objects producers send, serde_json reads
//! whatever it declines and names what is wrong with a bad one. Each slot is then checked on
//! its own, so every error names its field and gets the contract's `error_kind`. Money is read
//! from the raw text (see [`super::money`]), never through `f64`.

mod calendar;
mod json_error;
mod occurred_at;
mod scan;
mod slots;
mod v2;

use slots::Slots;

use occurred_at::parse_occurred_at;
pub use occurred_at::{peek_occurred_at, OccurredAt};

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::event::{
    Body, CloseReason, Currency, Event, EventType, Income, LoanOpened, Repayment, RepaymentStatus,
    Valuation,
};
use super::money;
use super::reject::{ErrorKind, Rejection};

/// Longest `event_id`, in characters.
pub const MAX_EVENT_ID_CHARS: usize = 128;
/// Longest `borrower_id`, in characters.
pub const MAX_BORROWER_ID_CHARS: usize = 64;
/// Longest other id (loan, payment, alert, portfolio labels), in characters.
pub const MAX_ID_CHARS: usize = 128;
/// Longest `alert_ack` note, in characters.
pub const MAX_NOTE_CHARS: usize = 1024;
/// Earliest and latest accepted `occurred_at` year: outside, a timestamp is a typo.
const YEAR_RANGE: std::ops::RangeInclusive<i32> = 1900..=2999;

macro_rules! fields {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Known top-level fields.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        enum Field { $($variant,)* Unknown }
        const FIELD_COUNT: usize = Field::Unknown as usize;
        const FIELD_NAMES: [&str; FIELD_COUNT] = [$($name,)*];
        fn field_of(key: &str) -> Field {
            match key { $($name => Field::$variant,)* _ => Field::Unknown }
        }
    };
}

fields! {
    EventId => "event_id", Type => "type", BorrowerId => "borrower_id",
    OccurredAt => "occurred_at", SchemaVersion => "schema_version", LoanId => "loan_id",
    Principal => "principal", Currency => "currency", AnnualRate => "annual_rate",
    TermMonths => "term_months", FirstDueDate => "first_due_date",
    InstallmentAmount => "installment_amount", CollateralValue => "collateral_value",
    Vehicle => "vehicle", ManagerId => "manager_id", BranchId => "branch_id",
    DealerId => "dealer_id", PaymentId => "payment_id", Amount => "amount", Status => "status",
    FailureReason => "failure_reason", MonthlyIncome => "monthly_income", Source => "source",
    Period => "period", Value => "value", MileageKm => "mileage_km", Reason => "reason",
    AlertId => "alert_id", AckedBy => "acked_by", Note => "note", Kind => "kind",
    EffectiveDate => "effective_date", Months => "months", ApprovedBy => "approved_by",
    SuppressionId => "suppression_id", Signals => "signals", Until => "until",
    GrantedBy => "granted_by",
}

/// Fills `slots` with the fields of a JSON object: the scanner's fast pass when it reads the
/// text, serde_json (and its error for text that is not an object) when it declines. Filled in
/// place: the slots are a few hundred bytes, and a decode is short enough for copies to show.
fn read_slots<'a>(text: &'a str, slots: &mut Slots<'a>) -> Result<(), serde_json::Error> {
    if scan::object(text, slots).is_none() {
        *slots = serde_json::from_str(text)?;
    }
    Ok(())
}

fn missing(f: Field) -> Rejection {
    Rejection::new(
        ErrorKind::MissingField,
        format!("required field `{}` is missing", FIELD_NAMES[f as usize]),
    )
}

fn invalid(f: Field, what: impl fmt::Display) -> Rejection {
    Rejection::new(
        ErrorKind::InvalidValue,
        format!("field `{}` {what}", FIELD_NAMES[f as usize]),
    )
}

/// A value of the right shape that is still wrong; `why` starts with the value itself
/// ("2025-02-30 is not a date …"), so a colon sets it off from the field name.
fn invalid_because(f: Field, why: impl fmt::Display) -> Rejection {
    Rejection::new(
        ErrorKind::InvalidValue,
        format!("field `{}`: {why}", FIELD_NAMES[f as usize]),
    )
}

/// Shows a raw value in an error message without echoing megabytes back.
fn shown(raw: &str) -> String {
    let text = raw;
    if text.chars().count() <= 60 {
        text.to_owned()
    } else {
        let head: String = text.chars().take(60).collect();
        format!("{head}…")
    }
}

struct Reader<'a> {
    slots: Slots<'a>,
}

impl<'a> Reader<'a> {
    fn raw(&self, f: Field) -> Result<&'a str, Rejection> {
        self.slots.get(f).ok_or_else(|| missing(f))
    }

    fn opt_str(&self, f: Field) -> Result<Option<Cow<'a, str>>, Rejection> {
        let Some(raw) = self.slots.get(f) else {
            return Ok(None);
        };
        let text = raw;
        if !text.starts_with('"') {
            return Err(invalid(
                f,
                format_args!("must be a string, got {}", shown(raw)),
            ));
        }
        if self.slots.plain || !text.contains('\\') {
            return Ok(Some(Cow::Borrowed(&text[1..text.len() - 1])));
        }
        serde_json::from_str::<String>(text)
            .map(|s| Some(Cow::Owned(s)))
            .map_err(|e| invalid(f, format_args!("is not a valid string: {e}")))
    }

    fn str(&self, f: Field) -> Result<Cow<'a, str>, Rejection> {
        self.opt_str(f)?.ok_or_else(|| missing(f))
    }

    fn id(&self, f: Field, max_chars: usize) -> Result<Cow<'a, str>, Rejection> {
        let s = self.str(f)?;
        check_id_len(f, &s, max_chars)?;
        Ok(s)
    }

    fn opt_id(&self, f: Field) -> Result<Option<Cow<'a, str>>, Rejection> {
        match self.opt_str(f)? {
            Some(s) => {
                check_id_len(f, &s, MAX_ID_CHARS)?;
                Ok(Some(s))
            }
            None => Ok(None),
        }
    }

    fn decimal(&self, f: Field) -> Result<Decimal, Rejection> {
        let raw = self.raw(f)?;
        let text = raw;
        let parsed = if let Some(inner) = text.strip_prefix('"') {
            let inner = inner.strip_suffix('"').unwrap_or(inner);
            money::parse_decimal_string(inner)
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            money::parse_json_number(text)
        } else {
            Err(format!(
                "must be a decimal as a string or number, got {}",
                shown(raw)
            ))
        };
        parsed.map_err(|e| invalid(f, e))
    }

    /// A decimal that must be > 0 (`positive`) or ≥ 0.
    fn amount(&self, f: Field, positive: bool) -> Result<Decimal, Rejection> {
        let v = self.decimal(f)?;
        if v.is_sign_negative() && !v.is_zero() {
            return Err(invalid(f, format_args!("must not be negative, got {v}")));
        }
        if positive && v.is_zero() {
            return Err(invalid(f, format_args!("must be greater than 0, got {v}")));
        }
        Ok(v)
    }

    fn currency(&self) -> Result<Currency, Rejection> {
        let s = self.str(Field::Currency)?;
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(invalid(
                Field::Currency,
                format_args!("must be an ISO 4217 code of three capital letters, got {s:?}"),
            ))
        }
    }

    fn date(&self, f: Field) -> Result<NaiveDate, Rejection> {
        calendar::date_field(f, &self.str(f)?)
    }

    fn integer(&self, f: Field) -> Result<Option<i64>, Rejection> {
        let Some(raw) = self.slots.get(f) else {
            return Ok(None);
        };
        raw.parse::<i64>()
            .map(Some)
            .map_err(|_| invalid(f, format_args!("must be an integer, got {}", shown(raw))))
    }

    /// A required integer within `range`.
    fn int_in(&self, f: Field, range: std::ops::RangeInclusive<u32>) -> Result<u32, Rejection> {
        match self.integer(f)? {
            Some(v) if u32::try_from(v).is_ok_and(|v| range.contains(&v)) => Ok(v as u32),
            Some(v) => Err(invalid(
                f,
                format_args!("must be {}–{}, got {v}", range.start(), range.end()),
            )),
            None => Err(missing(f)),
        }
    }

    /// An optional string of at most `max_chars` characters.
    fn opt_text(&self, f: Field, max_chars: usize) -> Result<Option<Cow<'a, str>>, Rejection> {
        let text = self.opt_str(f)?;
        if let Some(t) = &text {
            let chars = t.chars().count();
            if chars > max_chars {
                return Err(invalid(
                    f,
                    format_args!("is {chars} characters long; at most {max_chars}"),
                ));
            }
        }
        Ok(text)
    }

    fn one_of<T: Copy>(&self, f: Field, choices: &[(&str, T)]) -> Result<T, Rejection> {
        let s = self.str(f)?;
        choices
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                invalid(
                    f,
                    format_args!("must be one of {}, got {s:?}", names.join(", ")),
                )
            })
    }
}

fn check_id_len(f: Field, s: &str, max_chars: usize) -> Result<(), Rejection> {
    // A string has at most as many characters as bytes: counting is needed only past that.
    if !s.is_empty() && s.len() <= max_chars {
        return Ok(());
    }
    let n = s.chars().count();
    if n == 0 || n > max_chars {
        return Err(invalid(
            f,
            format_args!("must be 1–{max_chars} characters, got {n}"),
        ));
    }
    Ok(())
}

/// Parses exactly `YYYY-MM-DD`, a day that exists.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    calendar::date(s).ok()
}

/// Decodes one input message. Pure: no state, no clock.
pub fn decode(payload: &[u8]) -> Result<Event<'_>, Rejection> {
    decode_with(payload, None)
}

/// [`decode`], with the `occurred_at` already read by [`peek_occurred_at`] from the same
/// payload (or `None` to read it here).
pub fn decode_with(payload: &[u8], peeked: Option<OccurredAt>) -> Result<Event<'_>, Rejection> {
    if payload.starts_with(b"\xef\xbb\xbf") {
        // serde's message ("expected value at line 1 column 1") would not say why.
        return Err(Rejection::new(
            ErrorKind::MalformedJson,
            "payload starts with a UTF-8 byte-order mark (EF BB BF), which JSON text must not carry (RFC 8259 §8.1)",
        ));
    }
    // Checked whole, ahead of parsing: serde_json checks only the strings it reads, not those
    // of unknown fields it skips, and could not say which byte is wrong in plain words.
    let text = std::str::from_utf8(payload).map_err(|e| json_error::not_utf8(payload, e))?;
    let mut r = Reader {
        slots: Slots::empty(),
    };
    read_slots(text, &mut r.slots).map_err(|e| json_error::not_an_object(text, &e))?;
    if let Some(f) = r.slots.repeated {
        return Err(invalid(f, "appears more than once"));
    }

    // "Optional integer, default 1; any other value is rejected": anything but the integer 1
    // (a string "1", 1.0, 2, …) is a version this monitor does not read.
    if let Some(raw) = r.slots.get(Field::SchemaVersion) {
        if raw != "1" {
            return Err(Rejection::new(
                ErrorKind::UnsupportedVersion,
                format!(
                    "field `schema_version` {} is not supported; this monitor reads version 1",
                    shown(raw)
                ),
            ));
        }
    }
    let type_name = r.str(Field::Type)?;
    let event_type = EventType::parse(&type_name).ok_or_else(|| {
        let shown: String = type_name.chars().take(60).collect();
        Rejection::new(
            ErrorKind::UnknownType,
            format!("field `type` names no known event type: {shown:?}"),
        )
    })?;
    let event_id = r.id(Field::EventId, MAX_EVENT_ID_CHARS)?;
    let borrower_id = r.id(Field::BorrowerId, MAX_BORROWER_ID_CHARS)?;
    let occurred_at = match peeked {
        Some(at) => at.0,
        None => parse_occurred_at(&r.str(Field::OccurredAt)?)?,
    };

    let body = match event_type {
        EventType::LoanOpened => Body::LoanOpened(loan_opened(&r)?),
        EventType::LoanClosed => Body::LoanClosed {
            loan_id: loan_id(&r)?,
            reason: r.one_of(
                Field::Reason,
                &[
                    ("paid_off", CloseReason::PaidOff),
                    ("charged_off", CloseReason::ChargedOff),
                    ("repossessed", CloseReason::Repossessed),
                    ("refinanced", CloseReason::Refinanced),
                ],
            )?,
        },
        EventType::Repayment => Body::Repayment(repayment(&r)?),
        EventType::Income => {
            let monthly_income = r.amount(Field::MonthlyIncome, false)?;
            let currency = r.currency()?;
            r.one_of(
                Field::Source,
                &[
                    ("payroll", ()),
                    ("bank_statement", ()),
                    ("tax_record", ()),
                    ("self_reported", ()),
                ],
            )?;
            if let Some(p) = r.opt_str(Field::Period)? {
                calendar::month_field(Field::Period, &p)?;
            }
            Body::Income(Income {
                monthly_income,
                currency,
            })
        }
        EventType::CollateralValuation => {
            let loan_id = loan_id(&r)?;
            let value = r.amount(Field::Value, true)?;
            let currency = r.currency()?;
            r.one_of(
                Field::Source,
                &[
                    ("market_index", ()),
                    ("appraisal", ()),
                    ("auction", ()),
                    ("dealer_quote", ()),
                ],
            )?;
            if let Some(raw) = r.slots.get(Field::MileageKm) {
                let ok = money::parse_json_number(raw)
                    .map(|m| !m.is_sign_negative() || m.is_zero())
                    .unwrap_or(false);
                if !ok {
                    return Err(invalid(
                        Field::MileageKm,
                        format_args!("must be a non-negative number, got {}", shown(raw)),
                    ));
                }
            }
            Body::CollateralValuation(Valuation {
                loan_id,
                value,
                currency,
            })
        }
        EventType::AlertAck => {
            let alert_id = r.id(Field::AlertId, MAX_ID_CHARS * 3)?;
            let acked_by = r.id(Field::AckedBy, MAX_ID_CHARS)?;
            let note = r.opt_text(Field::Note, MAX_NOTE_CHARS)?;
            Body::AlertAck {
                alert_id,
                acked_by,
                note,
            }
        }
        EventType::LoanModified => Body::LoanModified(v2::loan_modified(&r)?),
        EventType::Suppression => Body::Suppression(v2::suppression(&r)?),
    };
    Ok(Event {
        event_id,
        borrower_id,
        occurred_at,
        body,
        payload_hash: r.slots.hash,
    })
}

fn loan_id<'a>(r: &Reader<'a>) -> Result<Cow<'a, str>, Rejection> {
    let id = r.id(Field::LoanId, MAX_ID_CHARS)?;
    if id == "-" {
        // "-" stands for "no loan" in alert ids.
        return Err(invalid(Field::LoanId, "must not be \"-\" (reserved)"));
    }
    Ok(id)
}

fn loan_opened<'a>(r: &Reader<'a>) -> Result<LoanOpened<'a>, Rejection> {
    let loan_id = loan_id(r)?;
    let principal = r.amount(Field::Principal, true)?;
    let currency = r.currency()?;
    let annual_rate = annual_rate(r)?;
    let term_months = r.int_in(Field::TermMonths, 1..=120)?;
    let first_due_date = r.date(Field::FirstDueDate)?;
    let installment_amount = r.amount(Field::InstallmentAmount, true)?;
    let collateral_value = r.amount(Field::CollateralValue, true)?;
    if let Some(raw) = r.slots.get(Field::Vehicle) {
        check_vehicle(raw)?;
    }
    Ok(LoanOpened {
        loan_id,
        principal,
        currency,
        annual_rate,
        term_months,
        first_due_date,
        installment_amount,
        collateral_value,
        manager_id: r.opt_id(Field::ManagerId)?,
        branch_id: r.opt_id(Field::BranchId)?,
        dealer_id: r.opt_id(Field::DealerId)?,
    })
}

/// `annual_rate`: a fraction, 0 ≤ r < 1.
fn annual_rate(r: &Reader<'_>) -> Result<Decimal, Rejection> {
    let rate = r.amount(Field::AnnualRate, false)?;
    if rate >= Decimal::ONE {
        return Err(invalid(
            Field::AnnualRate,
            format_args!("must be a fraction below 1 (e.g. \"0.0588\"), got {rate}"),
        ));
    }
    Ok(rate)
}

fn check_vehicle(raw: &str) -> Result<(), Rejection> {
    #[derive(serde::Deserialize)]
    struct Vehicle {
        #[allow(dead_code)]
        vin: Option<String>,
        #[allow(dead_code)]
        make: Option<String>,
        #[allow(dead_code)]
        model: Option<String>,
        #[allow(dead_code)]
        year: Option<u16>,
    }
    serde_json::from_str::<Vehicle>(raw)
        .map(|_| ())
        .map_err(|e| {
            invalid(
                Field::Vehicle,
                format_args!("must be an object {{vin, make, model, year}}: {e}"),
            )
        })
}

fn repayment<'a>(r: &Reader<'a>) -> Result<Repayment<'a>, Rejection> {
    let loan_id = loan_id(r)?;
    let payment_id = r.id(Field::PaymentId, MAX_ID_CHARS)?;
    let amount = r.amount(Field::Amount, true)?;
    let currency = r.currency()?;
    let status = r.one_of(
        Field::Status,
        &[
            ("received", RepaymentStatus::Received),
            ("failed", RepaymentStatus::Failed),
            ("reversed", RepaymentStatus::Reversed),
        ],
    )?;
    let failure_reason = r.opt_str(Field::FailureReason)?;
    Ok(Repayment {
        loan_id,
        payment_id,
        amount,
        currency,
        status,
        failure_reason,
    })
}

/// Reads `borrower_id` from a payload that may be otherwise invalid, for the rejection's key.
pub fn borrower_id_hint(payload: &[u8]) -> Option<String> {
    // A payload with a bad byte elsewhere still names its borrower (serde_json reading bytes
    // checks only the strings it reads).
    let mut r = Reader {
        slots: Slots::empty(),
    };
    match std::str::from_utf8(payload) {
        Ok(text) => read_slots(text, &mut r.slots).ok()?,
        Err(_) => r.slots = serde_json::from_slice(payload).ok()?,
    }
    r.opt_str(Field::BorrowerId)
        .ok()
        .flatten()
        .map(Cow::into_owned)
}

#[cfg(test)]
mod message_tests;
#[cfg(test)]
mod tests;
