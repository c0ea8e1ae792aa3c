//! What goes into the engine and what becomes of it: one raw input message ([`Input`]), its
//! [`Outcome`], and the `risk.rejected` record built for an input the engine refuses.

use super::decode;
use super::event::EventType;
use super::output::RejectedMessage;
use super::reject::{ErrorKind, Rejection};
use super::settings::LimitsConfig;

/// One raw input message and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The message bytes (one JSON object).
    pub payload: &'a [u8],
    /// `topic/partition/offset` or `file/line`; names the rejection.
    pub source: &'a str,
    /// The Kafka key, if any.
    pub key: Option<&'a [u8]>,
    /// The message's whole length when `payload` holds only its first bytes (an adapter that
    /// met a message longer than `limits.max_event_bytes` keeps no more than a rejection
    /// shows); `None` when `payload` is the whole message.
    pub full_size: Option<usize>,
    /// Its `occurred_at` when the adapter has read it already
    /// ([`decode::peek_occurred_at`] of this payload), so it is not parsed twice.
    pub occurred_at: Option<decode::OccurredAt>,
}

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to state.
    Applied(EventType),
    /// Its event_id was applied before for this borrower: skipped.
    Duplicate(EventType),
    /// Could not be applied; a rejection was published.
    Rejected(ErrorKind),
}

/// Builds the `risk.rejected` message for an input, with at most the default
/// `limits.max_rejected_payload_bytes` of its payload.
pub fn rejected_message(input: &Input<'_>, rejection: Rejection) -> RejectedMessage {
    rejected_message_within(
        input,
        rejection,
        LimitsConfig::default().max_rejected_payload_bytes,
    )
}

/// Builds the `risk.rejected` message for an input, carrying at most `max_payload_bytes` of
/// its payload.
pub fn rejected_message_within(
    input: &Input<'_>,
    rejection: Rejection,
    max_payload_bytes: usize,
) -> RejectedMessage {
    let size = input.full_size.unwrap_or(input.payload.len());
    let bytes = &input.payload[..input.payload.len().min(max_payload_bytes)];
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => Some(s),
        // Cut inside a character (by us or by the adapter): the text up to it is still the
        // payload's, so keep it as text.
        Err(e) if e.error_len().is_none() && size > bytes.len() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    let (payload, payload_base64, kept) = match text {
        Some(s) => (Some(s.to_owned()), None, s.len()),
        None => {
            use base64::Engine as _;
            (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                bytes.len(),
            )
        }
    };
    let truncated = kept < size;
    let key = match input.key {
        Some(k) => Some(String::from_utf8_lossy(&k[..k.len().min(max_payload_bytes)]).into_owned()),
        // Files have no keys; a producer would have keyed the message by its borrower_id.
        None => decode::borrower_id_hint(input.payload),
    };
    RejectedMessage {
        kind: "rejected",
        message_id: format!("rejected/{}", input.source),
        error_kind: rejection.kind,
        error: rejection.message,
        source: input.source.to_owned(),
        key,
        payload,
        payload_base64,
        payload_truncated: truncated,
        payload_size_bytes: truncated.then_some(size),
    }
}
