//! `[limits]`: caps on what any input can make the monitor hold. Each one bounds memory that
//! producers — or a faulty or hostile one — would otherwise grow without end; what happens at
//! each cap is documented on its field and in docs/contract.md (decision 29).

use serde::{Deserialize, Serialize};

use super::Problems;

/// `[limits]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest input message, in bytes. A longer one is rejected (`too_large`) without being
    /// decoded, and the adapters never hold more of it than `max_rejected_payload_bytes`.
    /// Default 1048576 (1 MiB, Kafka's default `message.max.bytes`); real events are < 2 KiB.
    #[serde(default = "default_max_event_bytes")]
    pub max_event_bytes: usize,
    /// Bytes of the original payload a `risk.rejected` record carries. A longer payload is cut
    /// at a character boundary (at a byte for `payload_base64`) and the record says so with
    /// `payload_truncated: true` and `payload_size_bytes`. Default 65536.
    #[serde(default = "default_max_rejected_payload_bytes")]
    pub max_rejected_payload_bytes: usize,
    /// Applied events remembered per borrower to recognise a redelivery (24 bytes each: the
    /// id's hash, the canonical payload's hash, the time); beyond it the oldest is forgotten. A redelivery older than that many of the borrower's later
    /// events is no longer recognised by its `event_id` (payments are still checked by
    /// `payment_id`, loans by `loan_id`). Default 4096 (about 40 years of a busy loan).
    #[serde(default = "default_max_event_ids_per_borrower")]
    pub max_event_ids_per_borrower: usize,
    /// Entries kept per loan in each of its histories — received payments (for reversals),
    /// reversed payment ids, consecutive failed debits, valuations in the collateral-drop
    /// window; beyond it the oldest entry is forgotten. A reversal of a forgotten payment is
    /// rejected `unknown_payment`; the consecutive-failure count stops growing at this number.
    /// Default 1024.
    #[serde(default = "default_max_history_per_loan")]
    pub max_history_per_loan: usize,
    /// Open loans per borrower; a `loan_opened` beyond it is rejected (`limit_exceeded`).
    /// Every event of a borrower re-evaluates all of its loans, so this also bounds the work
    /// one event can cause. Default 64.
    #[serde(default = "default_max_open_loans_per_borrower")]
    pub max_open_loans_per_borrower: usize,
    /// Suppressions in force per borrower; a new `suppression_id` beyond it is rejected
    /// (`limit_exceeded`) while a replacement or revocation of one in force is always applied.
    /// Every evaluation looks through them, so this also bounds its work. Default 64.
    #[serde(default = "default_max_suppressions_per_borrower")]
    pub max_suppressions_per_borrower: usize,
    /// Days a borrower with no open loan and no alert history (income seen before any loan,
    /// or every loan closed without ever alerting) is kept after its last applied event; then
    /// it is forgotten (state and remembered event ids) and its changelog entry deleted.
    /// Borrowers that ever had an alert are kept, so alert ids are never reused. Default 730
    /// (two years).
    #[serde(default = "default_forget_borrowers_without_loans_after_days")]
    pub forget_borrowers_without_loans_after_days: u32,
    /// Borrowers with no open loan and no alert history kept per partition (per engine in
    /// `replay`); beyond it the one whose last event is oldest is forgotten first. Bounds the
    /// memory a flood of income events for unknown borrower ids can take (about 400 bytes
    /// each). Default 100000.
    #[serde(default = "default_max_borrowers_without_loans")]
    pub max_borrowers_without_loans: usize,
    /// Days an event may move the event clock forward at once. An event further ahead of the
    /// clock is held until the events after it in its stream confirm the new time (a feed
    /// restarting after a gap) or refute it (a typo: `implausible_time`); see
    /// `clock_jump_confirmations`. A real book never goes a month without a single event; a
    /// mistyped year does so by decades. Default 31. Not used with the wall clock, where
    /// `[clock] max_future_skew_ms` bounds how far ahead an event may be.
    #[serde(default = "default_max_clock_jump_days")]
    pub max_clock_jump_days: u32,
    /// Readable events after a clock jump that must all lie no more than
    /// `max_clock_jump_days` before it for the jump to be applied; one that lies further back
    /// refutes it, and an input that ends first leaves it unconfirmed (rejected). Default 1:
    /// the next event decides. At most 16.
    #[serde(default = "default_clock_jump_confirmations")]
    pub clock_jump_confirmations: u32,
}

fn default_max_event_bytes() -> usize {
    1_048_576
}

fn default_max_rejected_payload_bytes() -> usize {
    65_536
}

fn default_max_event_ids_per_borrower() -> usize {
    4096
}

fn default_max_history_per_loan() -> usize {
    1024
}

fn default_max_open_loans_per_borrower() -> usize {
    64
}

fn default_max_suppressions_per_borrower() -> usize {
    64
}

fn default_forget_borrowers_without_loans_after_days() -> u32 {
    730
}

fn default_max_borrowers_without_loans() -> usize {
    100_000
}

fn default_max_clock_jump_days() -> u32 {
    31
}

fn default_clock_jump_confirmations() -> u32 {
    1
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_event_bytes: default_max_event_bytes(),
            max_rejected_payload_bytes: default_max_rejected_payload_bytes(),
            max_event_ids_per_borrower: default_max_event_ids_per_borrower(),
            max_history_per_loan: default_max_history_per_loan(),
            max_open_loans_per_borrower: default_max_open_loans_per_borrower(),
            max_suppressions_per_borrower: default_max_suppressions_per_borrower(),
            forget_borrowers_without_loans_after_days:
                default_forget_borrowers_without_loans_after_days(),
            max_borrowers_without_loans: default_max_borrowers_without_loans(),
            max_clock_jump_days: default_max_clock_jump_days(),
            clock_jump_confirmations: default_clock_jump_confirmations(),
        }
    }
}

impl LimitsConfig {
    /// Adds every impossible value to `p`. `max_failures` is the largest consecutive-failure
    /// threshold the rules use: the history must be able to count that far.
    pub fn validate(&self, max_failures: u32, p: &mut Problems) {
        // A rejection of a valid-looking event must fit: a few KiB at least.
        if self.max_event_bytes < 4096 {
            p.push("limits.max_event_bytes", "must be at least 4096");
        }
        for (key, value) in [
            (
                "limits.max_rejected_payload_bytes",
                self.max_rejected_payload_bytes,
            ),
            (
                "limits.max_event_ids_per_borrower",
                self.max_event_ids_per_borrower,
            ),
            (
                "limits.max_open_loans_per_borrower",
                self.max_open_loans_per_borrower,
            ),
            (
                "limits.max_suppressions_per_borrower",
                self.max_suppressions_per_borrower,
            ),
            (
                "limits.max_borrowers_without_loans",
                self.max_borrowers_without_loans,
            ),
        ] {
            if value == 0 {
                p.push(key, "must be at least 1");
            }
        }
        if self.max_history_per_loan < max_failures.max(1) as usize {
            p.push(
                "limits.max_history_per_loan",
                format!(
                    "must be at least {} (the largest consecutive-failure threshold in [rules])",
                    max_failures.max(1)
                ),
            );
        }
        if self.max_clock_jump_days == 0 {
            p.push("limits.max_clock_jump_days", "must be at least 1");
        }
        if !(1..=16).contains(&self.clock_jump_confirmations) {
            p.push("limits.clock_jump_confirmations", "must be from 1 to 16");
        }
        if self.forget_borrowers_without_loans_after_days == 0 {
            p.push(
                "limits.forget_borrowers_without_loans_after_days",
                "must be at least 1",
            );
        }
    }
}
