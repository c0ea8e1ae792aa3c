//! Why an input could not be applied: the `error_kind` vocabulary of `risk.rejected`.

use std::fmt;

/// The contract's error kinds. Every input that cannot be applied gets exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// Not UTF-8 JSON, not an object, or syntactically broken.
    MalformedJson,
    /// A required field is absent (or `null`).
    MissingField,
    /// A field is present but of the wrong type, format or range.
    InvalidValue,
    /// `type` names no event type of the contract.
    UnknownType,
    /// The event names a loan the borrower does not have open.
    UnknownLoan,
    /// The event's currency differs from its loan's (or the borrower's open loans').
    CurrencyMismatch,
    /// `schema_version` is not 1.
    UnsupportedVersion,
    /// `occurred_at` cannot be true: too far ahead of the wall clock (`max_future_skew_ms`), a
    /// jump of the event clock the events after it do not confirm (`limits.max_clock_jump_days`),
    /// before the loan it refers to was opened, or outside the years the contract accepts.
    /// Never applied, never moves a clock.
    ImplausibleTime,
    /// An `event_id` applied before for this borrower, now with a different payload (compared
    /// in canonical form: key order and whitespace do not count). Not applied.
    ConflictingDuplicate,
    /// `loan_opened` for a loan that is already open.
    DuplicateLoan,
    /// A reversal of a payment that was never received.
    UnknownPayment,
    /// A second `received` (or a second reversal) for the same payment.
    DuplicatePayment,
    /// An ack for an alert that was never opened.
    UnknownAlert,
    /// The message is longer than `limits.max_event_bytes`; it is not decoded.
    TooLarge,
    /// The Kafka key is not the payload's `borrower_id`: the message was partitioned by
    /// something else, so its borrower's state may live in another partition.
    KeyMismatch,
    /// Applying it would pass a `[limits]` cap (e.g. `max_open_loans_per_borrower`).
    LimitExceeded,
}

impl ErrorKind {
    /// Every kind, in a stable order for summaries.
    pub const ALL: [ErrorKind; 16] = [
        ErrorKind::MalformedJson,
        ErrorKind::MissingField,
        ErrorKind::InvalidValue,
        ErrorKind::UnknownType,
        ErrorKind::UnknownLoan,
        ErrorKind::CurrencyMismatch,
        ErrorKind::UnsupportedVersion,
        ErrorKind::ImplausibleTime,
        ErrorKind::DuplicateLoan,
        ErrorKind::UnknownPayment,
        ErrorKind::DuplicatePayment,
        ErrorKind::UnknownAlert,
        ErrorKind::TooLarge,
        ErrorKind::KeyMismatch,
        ErrorKind::LimitExceeded,
        ErrorKind::ConflictingDuplicate,
    ];

    /// Whether the event was well-formed and only did not fit the state (an unknown loan, a
    /// currency that differs, ...): such an event still moves the event clock, as the contract's
    /// time rule says; one whose own fields are invalid does not.
    pub fn is_state_conflict(self) -> bool {
        matches!(
            self,
            ErrorKind::UnknownLoan
                | ErrorKind::CurrencyMismatch
                | ErrorKind::DuplicateLoan
                | ErrorKind::UnknownPayment
                | ErrorKind::DuplicatePayment
                | ErrorKind::UnknownAlert
                | ErrorKind::LimitExceeded
        )
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::MalformedJson => "malformed_json",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::InvalidValue => "invalid_value",
            ErrorKind::UnknownType => "unknown_type",
            ErrorKind::UnknownLoan => "unknown_loan",
            ErrorKind::CurrencyMismatch => "currency_mismatch",
            ErrorKind::UnsupportedVersion => "unsupported_version",
            ErrorKind::ImplausibleTime => "implausible_time",
            ErrorKind::ConflictingDuplicate => "conflicting_duplicate",
            ErrorKind::DuplicateLoan => "duplicate_loan",
            ErrorKind::UnknownPayment => "unknown_payment",
            ErrorKind::DuplicatePayment => "duplicate_payment",
            ErrorKind::UnknownAlert => "unknown_alert",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::KeyMismatch => "key_mismatch",
            ErrorKind::LimitExceeded => "limit_exceeded",
        }
    }

    /// True for kinds decided from the event's own fields alone. Such events do not move the
    /// event clock; events rejected because they do not fit the state do.
    pub fn is_own_fields(self) -> bool {
        matches!(
            self,
            ErrorKind::MalformedJson
                | ErrorKind::MissingField
                | ErrorKind::InvalidValue
                | ErrorKind::UnknownType
                | ErrorKind::UnsupportedVersion
                | ErrorKind::TooLarge
                | ErrorKind::KeyMismatch
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An input that cannot be applied: its kind and a precise human message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Rejection {
    /// The contract's error kind.
    pub kind: ErrorKind,
    /// What was wrong, naming the field.
    pub message: String,
}

impl Rejection {
    /// A rejection of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Rejection {
            kind,
            message: message.into(),
        }
    }
}
