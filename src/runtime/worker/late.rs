//! The warn line for late events.

use super::Processed;

/// The warn line for late events, at most one per [`LATE_LOG_EVERY_MS`]: a badly skewed
/// producer must not flood the log, and the counter carries the full count.
#[derive(Default)]
pub(super) struct LateLog {
    last_ms: Option<u64>,
    /// Late events since the last line.
    unlogged: u64,
}

/// At most this often a late event is logged.
const LATE_LOG_EVERY_MS: u64 = 10_000;

impl LateLog {
    pub(super) fn late(&mut self, topic: &str, p: &Processed, by: chrono::Duration, now_ms: u64) {
        self.unlogged += 1;
        if self
            .last_ms
            .is_some_and(|t| now_ms.saturating_sub(t) < LATE_LOG_EVERY_MS)
        {
            return;
        }
        tracing::warn!(
            topic,
            partition = p.partition,
            offset = p.offset,
            lateness_s = by.num_milliseconds() as f64 / 1000.0,
            late_events = self.unlogged,
            "Late event: applied after a newer one of its partition (order degraded; see postloan_late_events_total)"
        );
        self.last_ms = Some(now_ms);
        self.unlogged = 0;
    }
}
