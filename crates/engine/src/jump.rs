//! The clock-jump rule: how far one event may move the event clock, and what the events after
//! it must say for a bigger move to be believed.
//!
//! With the event clock, one mistyped year (2095 for 2025) would move a partition's clock by
//! decades and fire every timer on it. A real book never goes `max_clock_jump_days` without a
//! single event, but a feed may genuinely restart after a gap; the two are told apart by what
//! follows. An event that would move the clock further than that (or the first event, which has
//! no clock to be judged against) is a *suspect*; the adapter looks at the next readable events
//! of its stream (the following lines of a file; the following records of the same Kafka input
//! partition) and gives the engine a [`Followers`] verdict:
//!
//! - [`Followers::Refuted`]: one of the next `clock_jump_confirmations` readable events lies
//!   more than `max_clock_jump_days` *before* the suspect — the stream went back to where it
//!   was, so the suspect is a typo;
//! - [`Followers::Confirmed`]: that many readable events follow and none lies that far before
//!   it — the feed restarted;
//! - [`Followers::Ended`]: the input ended (or the hold expired, or [`MAX_HELD_AFTER`] records
//!   came without enough readable ones) first.
//!
//! The engine applies a jump only when it is confirmed, and rejects a first event only when it
//! is refuted. The verdict depends on the stream's own records alone, never on when they
//! arrived, so a restarted run judges a record exactly as before.

use chrono::{DateTime, Duration, Utc};

use crate::settings::LimitsConfig;

/// Records after a suspect an adapter holds, at most, while looking for readable ones: past it
/// the suspect is judged [`Followers::Ended`].
pub const MAX_HELD_AFTER: usize = 64;

/// What the events after a suspect say about its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followers {
    /// The next `clock_jump_confirmations` readable events all lie no more than
    /// `max_clock_jump_days` before it.
    Confirmed,
    /// This follower's time lies more than `max_clock_jump_days` before the suspect's.
    Refuted {
        /// The follower's `occurred_at`.
        by: DateTime<Utc>,
    },
    /// The input ended after `seen` readable followers, none of them against it, before enough
    /// confirmed it.
    Ended {
        /// Readable followers seen.
        seen: usize,
    },
}

/// The rule's two numbers, from `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JumpRule {
    /// `max_clock_jump_days` as a duration.
    pub max_jump: Duration,
    /// `clock_jump_confirmations`.
    pub confirmations: usize,
}

impl JumpRule {
    /// The rule of a `[limits]` section.
    pub fn from_limits(limits: &LimitsConfig) -> Self {
        JumpRule {
            max_jump: Duration::days(i64::from(limits.max_clock_jump_days)),
            confirmations: limits.clock_jump_confirmations.max(1) as usize,
        }
    }

    /// Whether an event at `t` needs a verdict: it would move `clock` forward by more than the
    /// rule allows, or there is no clock yet.
    pub fn is_suspect(&self, clock: Option<DateTime<Utc>>, t: DateTime<Utc>) -> bool {
        clock.is_none_or(|c| t > c + self.max_jump)
    }

    /// The verdict on a suspect at `t` from the `occurred_at` of the records after it, in
    /// order (`None` for one whose time cannot be read: it neither confirms nor refutes).
    /// `None` when more records are needed and `ended` is false.
    pub fn judge(
        &self,
        t: DateTime<Utc>,
        followers: impl IntoIterator<Item = Option<DateTime<Utc>>>,
        ended: bool,
    ) -> Option<Followers> {
        let floor = t - self.max_jump;
        let mut seen = 0;
        for (held, follower) in followers.into_iter().enumerate() {
            if let Some(at) = follower {
                if at < floor {
                    return Some(Followers::Refuted { by: at });
                }
                seen += 1;
                if seen >= self.confirmations {
                    return Some(Followers::Confirmed);
                }
            }
            if held + 1 >= MAX_HELD_AFTER {
                return Some(Followers::Ended { seen });
            }
        }
        ended.then_some(Followers::Ended { seen })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn rule(confirmations: usize) -> JumpRule {
        JumpRule {
            max_jump: Duration::days(31),
            confirmations,
        }
    }

    #[test]
    fn a_suspect_is_more_than_the_jump_ahead_or_first() {
        let r = rule(1);
        let c = at("2025-03-01T00:00:00Z");
        assert!(
            !r.is_suspect(Some(c), at("2025-04-01T00:00:00Z")),
            "31 days exactly"
        );
        assert!(r.is_suspect(Some(c), at("2025-04-01T00:00:01Z")));
        assert!(
            !r.is_suspect(Some(c), at("1990-01-01T00:00:00Z")),
            "late, not ahead"
        );
        assert!(r.is_suspect(None, c));
    }

    #[test]
    fn verdicts_at_their_edges() {
        let t = at("2025-05-01T00:00:00Z");
        let floor = at("2025-03-31T00:00:00Z");
        let just_below = floor - Duration::seconds(1);
        // (confirmations, followers' times, input ended, verdict)
        type Case<'a> = (usize, &'a [Option<DateTime<Utc>>], bool, Option<Followers>);
        let cases: &[Case<'_>] = &[
            (1, &[], false, None),
            (1, &[], true, Some(Followers::Ended { seen: 0 })),
            (1, &[Some(floor)], false, Some(Followers::Confirmed)),
            (
                1,
                &[Some(just_below)],
                false,
                Some(Followers::Refuted { by: just_below }),
            ),
            (1, &[None, None], false, None),
            (1, &[None, Some(t)], false, Some(Followers::Confirmed)),
            (2, &[Some(t)], false, None),
            (2, &[Some(t)], true, Some(Followers::Ended { seen: 1 })),
            (
                2,
                &[Some(t), Some(just_below)],
                false,
                Some(Followers::Refuted { by: just_below }),
            ),
            (
                2,
                &[Some(t), None, Some(t)],
                false,
                Some(Followers::Confirmed),
            ),
        ];
        for (k, followers, ended, want) in cases {
            let got = rule(*k).judge(t, followers.iter().copied(), *ended);
            assert_eq!(got, *want, "k={k} followers={followers:?} ended={ended}");
        }
    }

    #[test]
    fn unreadable_records_are_held_only_so_long() {
        let t = at("2025-05-01T00:00:00Z");
        let many = vec![None; MAX_HELD_AFTER];
        assert_eq!(
            rule(1).judge(t, many[..MAX_HELD_AFTER - 1].iter().copied(), false),
            None
        );
        assert_eq!(
            rule(1).judge(t, many.iter().copied(), false),
            Some(Followers::Ended { seen: 0 })
        );
    }
}
