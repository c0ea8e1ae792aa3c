//! Why a changelog partition could not be read back. Its own file, below both the client
//! (whose changelog reader stops with it) and the restore (which raises it), so that neither
//! imports the other for it.

/// What is wrong with one changelog record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The task record does not parse.
    #[error("unreadable task record")]
    TaskRecord,
    /// A borrower record shorter than its commit-cycle prefix.
    #[error("truncated borrower record")]
    Truncated,
    /// A deleted borrower's key is not UTF-8 (the monitor writes borrower ids).
    #[error("borrower key is not UTF-8")]
    Key,
    /// A borrower snapshot this build cannot read (applied when the task record vouching for
    /// it arrives).
    #[error("borrower snapshot")]
    Snapshot(#[from] postloan_engine::snapshot::SnapshotError),
}

/// Why a changelog partition could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A record that cannot be applied.
    #[error("changelog partition {partition} offset {offset}")]
    Record {
        /// The changelog partition.
        partition: i32,
        /// The record's offset.
        offset: i64,
        /// What is wrong with it.
        #[source]
        source: RecordError,
    },
    /// The read did not reach the end in time.
    #[error("changelog {topic}/{partition}: stopped at offset {next} of {high} after {secs} s")]
    Stalled {
        /// The changelog topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The next offset it would have read.
        next: i64,
        /// The end it had to reach.
        high: i64,
        /// How long it tried.
        secs: u64,
    },
}
