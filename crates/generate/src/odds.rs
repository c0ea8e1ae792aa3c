//! The named shares of the contract-v2 behaviour the crate doc describes (modifications,
//! suppressions, acknowledgements), in one place below every part of the schedule that draws
//! against them. (The v1 shares — repayment classes, lateness, valuations — stay inline where
//! they are drawn, as the crate doc lists them.)

// --- loan modifications ---
/// Share of loans (outside the default class) that get a payment holiday drawn up front.
pub(crate) const P_DEFERRAL: f64 = 0.017;
/// Share of borrowers who lose their job (outside the default class) and then get a payment
/// holiday on their first loan.
pub(crate) const P_JOB_LOSS_DEFERRAL: f64 = 0.25;
/// Share of deferrals granted after a missed due date, effective on or before it.
pub(crate) const P_RETRO: f64 = 1.0 / 3.0;
/// Share of deferred loans that get a second holiday later.
pub(crate) const P_SECOND: f64 = 0.15;
/// Share of defaulting loans restructured at 60–120 DPD instead of going to recovery.
pub(crate) const P_RESTRUCTURE: f64 = 0.35;
/// Share of restructured loans that default again.
pub(crate) const P_REDEFAULT: f64 = 0.3;

// --- suppressions ---
/// Share of borrowers who lose their job that get a hardship suppression after it.
pub(crate) const P_JOB_LOSS_HARDSHIP: f64 = 0.25;
/// Share of defaulting loans that get a hardship suppression.
pub(crate) const P_DEFAULT_HARDSHIP: f64 = 0.25;
/// Share of defaulting loans that get a legal hold (when no hardship suppression).
pub(crate) const P_DEFAULT_LEGAL_HOLD: f64 = 0.05;
/// Shares of late payers that get a hardship suppression or a dispute at their first
/// installment 8 or more days behind (partial payers: [`P_PARTIAL_DISPUTE`]).
pub(crate) const P_LATE_HARDSHIP: f64 = 0.02;
/// Share of late payers that get a dispute.
pub(crate) const P_LATE_DISPUTE: f64 = 0.035;
/// Share of partial payers that get a dispute.
pub(crate) const P_PARTIAL_DISPUTE: f64 = 0.03;
/// Share of borrowers hit by a natural disaster.
pub(crate) const P_DISASTER: f64 = 0.001;
/// Share of suppressions revoked early.
pub(crate) const P_REVOKE: f64 = 0.22;
/// Share of suppressions extended shortly before they lapse.
pub(crate) const P_EXTEND: f64 = 0.15;

// --- acknowledgements ---
/// Share of installments paid 9 or more days late (late and partial payers, and on-time payers
/// struggling after a job loss) whose DPD alert is acknowledged at medium (DPD 7–29).
pub(crate) const P_MEDIUM_ACK: f64 = 0.2;
/// Share of acknowledgements followed by a repeat ack of the same alert some days later.
pub(crate) const P_REPEAT_ACK: f64 = 0.2;
/// Share of acknowledgements that carry a `note`.
pub(crate) const P_ACK_NOTE: f64 = 0.7;
