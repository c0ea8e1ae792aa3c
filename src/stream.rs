//! The vocabulary every streaming loop of the monitor shares — `run`'s worker (`runtime`) and
//! `notify`'s (`notify::worker`) — and their Kafka adapters (`kafka`): time as a loop reads it, a consumed record, a rebalance, a failed client
//! call. It sits below all of them (it imports none of them) and names no rdkafka type, so a
//! loop stays generic over its client and testable with fakes.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// The time a step runs at: a monotonic millisecond clock (intervals, deadlines, backoff) and
/// the wall clock (timestamps, `[clock] mode = "wall"`).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Monotonic milliseconds since an arbitrary start.
    pub mono_ms: u64,
    /// Wall-clock time.
    pub utc: DateTime<Utc>,
}

/// A loop's clocks, injected: the real ones in production (`crate::kafka::service::SystemClock`),
/// a hand-moved one in tests.
pub trait Clock {
    /// The time now.
    fn now(&self) -> Now;
}

/// One record consumed from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Offset in its partition.
    pub offset: i64,
    /// Kafka key.
    pub key: Option<Vec<u8>>,
    /// Message bytes (empty for a tombstone): the whole message, or only its first bytes when
    /// the reader keeps less of an oversized one (see [`Record::full_size`]).
    pub payload: Vec<u8>,
    /// The message's whole length when `payload` was cut.
    pub full_size: Option<usize>,
    /// When the loop took it from Kafka, on its monotonic millisecond clock (0 where no one
    /// measures).
    pub received_ms: u64,
}

/// A consumed record with where it came from: `input` says which of the loop's topics (an
/// input index for `run`, a topic of its own for `notify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled<T = usize> {
    /// The topic it came from, in the loop's own terms.
    pub input: T,
    /// Partition number.
    pub partition: i32,
    /// The record.
    pub record: Record,
}

/// A change of the partitions a group member owns, as the group decided it. Members read
/// co-partitioned topics with the range assignor, so a partition number stands for that
/// partition of every topic read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebalance {
    /// These partition numbers are now this member's.
    Assigned(Vec<i32>),
    /// These partition numbers are no longer this member's.
    Revoked(Vec<i32>),
}

/// The error underneath a client failure (rdkafka's, or a test double's), kept whole for the
/// error chain. Shared, so that a fault can be queued and handed out more than once in tests.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A failed client call, sorted by what the loop does about it. It shows its cause's message
/// with what it means for the loop, and hands on the cause's own source.
#[derive(Debug, Clone)]
pub enum ClientError {
    /// Transient (a broker bounce, a timeout): the same call may be repeated.
    Retriable(Cause),
    /// The open transaction cannot commit: abort it, then rewind state and inputs to what the
    /// last committed transaction holds.
    Abortable(Cause),
    /// Nothing this process can fix: fenced by a newer instance, not authorised, a missing
    /// topic, a fatal client error.
    Fatal(Cause),
}

impl ClientError {
    /// A retriable failure described by text (test doubles, conditions found by the client).
    pub fn retriable(what: impl Into<String>) -> Self {
        ClientError::Retriable(cause(what))
    }

    /// An abortable failure described by text.
    pub fn abortable(what: impl Into<String>) -> Self {
        ClientError::Abortable(cause(what))
    }

    /// A fatal failure described by text.
    pub fn fatal(what: impl Into<String>) -> Self {
        ClientError::Fatal(cause(what))
    }

    /// A fatal failure with its cause kept whole.
    pub fn fatal_from(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ClientError::Fatal(Arc::new(e))
    }

    fn cause(&self) -> &Cause {
        match self {
            ClientError::Retriable(c) | ClientError::Abortable(c) | ClientError::Fatal(c) => c,
        }
    }
}

fn cause(what: impl Into<String>) -> Cause {
    let boxed: Box<dyn std::error::Error + Send + Sync> = what.into().into();
    Arc::from(boxed)
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Retriable(c) => write!(f, "{c} (retriable)"),
            ClientError::Abortable(c) => write!(f, "{c} (the transaction must be aborted)"),
            ClientError::Fatal(c) => write!(f, "{c}"),
        }
    }
}

impl std::error::Error for ClientError {
    // The cause's message is already this error's; its source comes next in the chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause().source()
    }
}
