//! Synthetic auto-loan portfolio generator (`postloan-monitor generate`).
//!
//! Writes a book of input events (contract v2: v1's events plus `loan_modified`, `suppression`
//! and acknowledgements that may repeat) as JSON Lines, sorted by `occurred_at`
//! (ties: borrower index, then the borrower's planning order). All of a borrower's events go
//! on the one stream. The same options always give
//! the same bytes; every borrower draws from its own ChaCha8 stream keyed by (seed, borrower
//! index), so the book does not depend on iteration order. Borrowers are generated lazily,
//! a few days ahead of what has been written, and merged with a binary heap, so memory grows
//! with the number of borrowers, not with the number of events.
//!
//! The generator reads as a pipeline: a **plan** drawn up front for each borrower (profile,
//! loans) → a **schedule** of life events planned trigger by trigger a few days ahead →
//! **events** released in time order against what the written book knows → **JSON** through
//! serde, merged into one book.
//!
//! # Layers
//!
//! One line per module, bottom to top; a module imports only modules above it in this list,
//! and calls only `BorrowerPlan` methods defined above it (`tests/layering.rs` fails
//! otherwise):
//!
//! - `options` — the public vocabulary: options, summary, errors ([`generate`]'s types).
//! - `ctx` — the run's calendar: local dates, business-zone instants, planning keys.
//! - `wire` — the wire forms of values (money, rates, dates, instants, ids), serialised as text.
//! - `event` — an event in memory and the vocabularies it indexes (reasons, notes, cars).
//! - `odds` — the named shares of the v2 behaviour: modifications, suppressions, acks.
//! - `mirror` — the engine's DPD alert of one loan, so acks address an open alert.
//! - `profile` — what is drawn once: repayment class, income mode, job loss, holidays to come.
//! - `loan` — one loan's plan in named parts (terms, vehicle, desk, script, cursor), its maths.
//! - `borrower` — one borrower's plan: drawn up front, and the queue of planned events.
//! - `suppress` — schedule: suppressions granted, revoked, extended.
//! - `modify` — schedule: payment holidays and restructures.
//! - `script` — schedule: each trigger (opening, installment, valuation, income) planned.
//! - `stream` — a borrower's events in time order, with what only the written book knows.
//! - `json` — an event as JSON through serde (wire-order structs).
//! - `bad` — malformed lines derived from real events.
//! - `merge` — the book: every stream merged in time order, written in chunks, counted.
//!
//! # Format
//! One object per line; fields in the order `event_id`, `type`, `borrower_id`,
//! `occurred_at`, then the type's fields in the contract's order:
//! - `loan_opened`: `loan_id`, `principal`, `currency`, `annual_rate`, `term_months`,
//!   `first_due_date`, `installment_amount`, `collateral_value`, `vehicle`, `manager_id`,
//!   `branch_id`, `dealer_id`;
//! - `repayment`: `loan_id`, `payment_id`, `amount`, `currency`, `status`, `failure_reason`
//!   (failed only); `income`: `monthly_income`, `currency`, `source`, `period`;
//!   `collateral_valuation`: `loan_id`, `value`, `currency`, `source`, `mileage_km`;
//!   `loan_closed`: `loan_id`, `reason`;
//! - `alert_ack`: `alert_id`, `acked_by`, `note` (when given);
//! - `loan_modified`: `loan_id`, `kind`, `effective_date`, then `months` (deferral) or
//!   `principal`, `annual_rate`, `term_months`, `first_due_date`, `installment_amount`
//!   (restructure), then `reason`, `approved_by`;
//! - `suppression`: `suppression_id`, `loan_id` (loan-scoped ones only), `signals`, `until`,
//!   `reason`, `granted_by`.
//!
//! Money is a string with two decimals, currency is always `CNY`, dates are `YYYY-MM-DD` in
//! the business zone, `occurred_at` is RFC 3339 with the business zone's offset, seconds
//! precision. No `schema_version` is written (default 1). Openings, repayments, closures,
//! income, acks, loan modifications and suppressions happen 09:00–18:00 local time, market
//! valuations 06:00–08:00.
//!
//! Ids (`N` = borrower number, 1-based, zero-padded to max(6, digits of `borrowers`)):
//! - borrower `B<N>`; loan `L<N>-<s>` (s = 1, 2); event `E-<N>-<k>` (k counts the borrower's
//!   written events from 1, in time order); payment `P-L<N>-<s>-<k>` (k counts the loan's
//!   repayment attempts, so every `failed` attempt has its own id; a `reversed` repeats the id
//!   and amount of the received payment).
//! - suppression `S-<N>-<k>` (k counts the borrower's suppressions; a revocation or extension
//!   repeats its id). People: `acked_by` `collector-NN`, `approved_by` `credit-officer-NN`,
//!   `granted_by` `hardship-desk-NN`, `complaints-desk-NN`, `legal-NN` or `risk-ops-NN`.
//! - Malformed lines use event ids `X-<n>` (n counts malformed lines from 1).
//!
//! # Behaviour (shares are per borrower unless stated)
//! - Loans open on a uniformly random day in the first half of the book (first loan); ~5 %
//!   of borrowers get a second loan 60–300 days later. Terms 12/24/36/48/60 months, rates
//!   0.0300–0.1200, principal 50k–400k, installment = annuity rounded to 0.01. Collateral
//!   1.05–1.40 × principal, ~5 % at 0.85–1.00 × (LTV ≥ 1 at origination).
//! - Repayment classes: 80 % on time (0–3 days before the due date), 10 % late (30 % of
//!   installments 5–40 days late), 5 % partial (35 % of installments 40–90 % paid, caught up
//!   later), 3 % bounce (30 % of installments: a `failed` debit, sometimes two, then the money
//!   2–7 days later), 2 % default (first loan only; stop paying at installment 2–10). 0.5 % of
//!   received installments are `reversed` 2–6 days later and paid again (90 %) 3–10 days after.
//!   Every installment is paid against the schedule as modified so far (deferral offsets, or
//!   the restructured terms with payments counted from 0).
//! - Defaults: from the stop installment on nothing is paid (a `failed` debit on the due date
//!   with 60 %, and on the next one with 40 %). 35 % of defaulting loans are restructured at
//!   60–120 DPD (below); the others are `repossessed` (60 %, after an `auction` valuation) or
//!   `charged_off` 4–6 months after the missed due date. 25 % get a hardship suppression and
//!   5 % a legal hold (below).
//! - Payment holidays (`loan_modified`, `kind: "deferral"`), ~2 % of loans: 1.7 % of loans
//!   outside the default class, around installment 2–14, and 25 % of the borrowers who lose
//!   their job (first loan, at the first installment due 10–40 days after the job loss).
//!   `months` 1–6: 30 % 1, 25 % 2, 25 % 3, 10 % 4, 5 % 5, 5 % 6. One third (after a job loss,
//!   half) are retroactive: the installment is missed (a `failed` debit with 50 %) and the
//!   holiday granted 3–20 days after its due date, `effective_date` 0–5 days before it, so the
//!   installment moves and its open DPD alert resolves at the event. The others are requested
//!   3–14 days before the due date, effective between the request and the due date. 15 % of
//!   the loans with a holiday drawn at opening get a second one 3–9 installments later. `reason` names
//!   the hardship, `approved_by` a credit officer. The generator's schedule applies each one
//!   with the engine's own `Terms::defer`, and the installment is planned again at its new due
//!   date.
//! - Restructures (`loan_modified`, `kind: "restructure"`), once per loan, at 60–120 DPD
//!   (`effective_date` the event's date): the bank tries the next installment's debit once
//!   (40 %) before; new `principal` = the balance scheduled after the installments due so far
//!   plus the arrears (the unpaid installments: what is owed, arrears capitalised; so at least
//!   the engine's outstanding principal), 2 decimals; rate 0–2 points lower (0.0300–0.1200); term
//!   12–60 months (multiples of 6); `first_due_date` 15–40 days after `effective_date`;
//!   installment = annuity of the new terms rounded to 0.01. The DPD alert resolves at the
//!   event. Then 70 % pay the new schedule (cure; `paid_off` at its end), 30 % stop again at
//!   new installment 2–7 and go to repossession or charge-off as above (no second restructure).
//! - Suppressions (`suppression`), mostly for borrowers in or about to be in arrears
//!   (about two thirds are granted while one of the borrower's loans is past due):
//!   - `hardship` (~1.5 %, 30–120 days): 25 % of borrowers who lose their job, 10–45 days
//!     after it (80 % borrower-wide `["*"]`, 20 % their first loan
//!     `["dpd","payment_failed"]`); 25 % of defaulting loans, 5–40 days after the missed due
//!     date (70 % borrower-wide); 2 % of late and partial payers, at their first installment 8
//!     or more days behind, while behind (half borrower-wide);
//!   - `dispute` (~0.5 %, 14–60 days, the loan's `["dpd"]`): 3.5 % of late and 3 % of partial
//!     payers, at that installment;
//!   - `legal_hold` (~0.1 %, 60–180 days, the loan's `["*"]`): 5 % of defaulting loans,
//!     30–90 days after the missed due date; `disaster` (0.1 %, 30–90 days, borrower-wide
//!     `["*"]`): 30–400 days after the first opening.
//!
//!   `until` = grant date + days − 1. 22 % are revoked 2 to days − 2 days after the grant (same
//!   `suppression_id`, `until` the day before the revocation's business date: it lapses at
//!   once); 15 % are extended 0–6 days before `until` by 14–60 days (same id, later `until`).
//!   A loan-scoped suppression is written only while its loan is open, a borrower-wide one
//!   only while the borrower has an open loan, a revocation or extension only while its
//!   suppression is in force.
//! - Acknowledgements (`alert_ack` of a loan's DPD alert): 60 % of defaulting loans 3 days
//!   after the missed due date (at `low`; the alert then rises, re-arming escalation); 20 % of
//!   the installments of late and partial payers (and of on-time payers struggling after a job
//!   loss) that stay unpaid 9 or more days, at DPD 7–29 (`medium`). 20 % of acks are repeated
//!   1–40 days later (for late payers, before the money comes) — the same alert only: applied
//!   silently while its severity has not risen, published again after it rose. 70 % carry a
//!   `note` (≤ 1,024 characters). The alert id `B<N>/L<N>-<s>/dpd/<n>` comes from a mirror of
//!   the engine's DPD rule (default `arrears_tolerance` 1.00, DPD ≥ 1 from local midnight
//!   after the due date) that follows deferrals and restructures (which move or clear DPD and
//!   end episodes) and suppressions (an alert whose condition starts while its slot is
//!   suppressed opens only at the lapse, if the condition still holds): `n` is the number of
//!   DPD alerts the loan has opened, and an ack is written only if that alert is open at its
//!   instant.
//! - Closures: `paid_off` 1–7 days after the last payment of the final installment; ~3 %
//!   of loans prepay everything after installment 4–15 (`paid_off`) and ~1.5 % are
//!   `refinanced` the same way.
//! - Income: origination observation right after the first `loan_opened` (income set so that
//!   installment/income is 0.12–0.45, 5 % 0.5–0.75); then 72 % monthly `payroll`, 18 %
//!   quarterly `bank_statement`, 10 % nothing more (stale income); ±3 % noise; 3 % lose their
//!   job (income × 0–0.6, half of them recover 2–8 months later; half of on-time payers among
//!   them pay late while out of work). No income once the borrower has no open loan.
//! - Collateral: 88 % of loans revalued every 3 months ± 7 days (`market_index`, 5 %
//!   `dealer_quote`): −20 % over the first year, −10 %/year after, ±2 % noise; 1 % suffer an
//!   accident (−30…−50 %, `appraisal`). 12 % are never revalued (stale valuation).
//! - With `bad_ratio` p > 0, each written line is malformed with probability p: malformed lines
//!   are inserted before real events (never replacing them, except with p = 1 where every
//!   event is replaced), so the valid events form exactly the book generated with p = 0. The
//!   damage: truncated or non-JSON lines, a missing required field (v2 kinds included:
//!   `kind`, `effective_date`, `months` or the restructure's terms; `suppression_id`,
//!   `signals`, `until`, `reason`, `granted_by`), a negative amount, an unknown type, a bad
//!   `occurred_at`, `schema_version` 2, an unknown loan, or a v2 value out of range (`months`
//!   0 or 25, `term_months` 0 or 121, `first_due_date` on `effective_date`, an unknown or
//!   empty `signals`, an unknown suppression `reason`, an impossible `until`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bad;
mod borrower;
mod ctx;
mod event;
mod json;
mod loan;
mod merge;
mod mirror;
mod modify;
mod odds;
mod options;
mod profile;
mod script;
mod stream;
mod suppress;
mod wire;

#[cfg(test)]
mod tests;

use std::io::Write;

use self::ctx::Ctx;
pub use self::options::{GenerateError, GenerateOptions, GenerateSummary, MAX_MONTHS};

/// Generates the book described by `opts` and writes it to `out` as JSON Lines.
///
/// Output is passed to `out` in chunks of about 64 KiB and `out` is flushed at the end.
pub fn generate(
    opts: &GenerateOptions,
    out: &mut dyn Write,
) -> Result<GenerateSummary, GenerateError> {
    options::validate(opts)?;
    let ctx = Ctx::new(opts)?;
    merge::write(&ctx, opts, out)
}
