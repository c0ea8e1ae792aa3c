//! How adapters keep an input message before the engine sees it: whole when it fits
//! `limits.max_event_bytes`, otherwise only as much as its rejection will show, so a huge
//! message is never held (or queued behind others) in full.

use crate::settings::LimitsConfig;

/// The two sizes that decide what is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Longest message kept whole.
    pub max_bytes: usize,
    /// Bytes kept of a longer one (and of any key).
    pub keep_bytes: usize,
}

impl Cut {
    /// The cut the limits ask for.
    pub fn from_limits(limits: &LimitsConfig) -> Self {
        Cut {
            max_bytes: limits.max_event_bytes,
            keep_bytes: limits.max_rejected_payload_bytes,
        }
    }

    /// The payload to keep and, when cut, the message's whole length.
    pub fn payload(&self, payload: &[u8]) -> (Vec<u8>, Option<usize>) {
        if payload.len() <= self.max_bytes {
            (payload.to_vec(), None)
        } else {
            (
                payload[..self.keep_bytes.min(payload.len())].to_vec(),
                Some(payload.len()),
            )
        }
    }

    /// The key to keep: a key is a borrower id (≤ 64 characters), so anything longer than a
    /// rejection shows is cut as well (it is rejected as `key_mismatch` either way).
    pub fn key(&self, key: &[u8]) -> Vec<u8> {
        key[..self.keep_bytes.max(256).min(key.len())].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_whole_up_to_the_limit_and_a_prefix_beyond() {
        let cut = Cut {
            max_bytes: 10,
            keep_bytes: 4,
        };
        assert_eq!(cut.payload(b"0123456789"), (b"0123456789".to_vec(), None));
        assert_eq!(cut.payload(b"0123456789A"), (b"0123".to_vec(), Some(11)));
        assert_eq!(cut.key(&[b'k'; 1000]).len(), 256);
        assert_eq!(cut.key(b"B1"), b"B1".to_vec());
    }
}
