//! Rebuilding a task's state from its changelog partition (sans-I/O: the records come through
//! [`Client::read_changelog`]).
//!
//! Each commit cycle writes its changed borrowers, then the task record that vouches for them.
//! A borrower record is applied only once the task record of its cycle has been read, so a
//! cycle cut short (at-least-once crash mid-write) leaves nothing half-applied. Under
//! exactly-once only committed transactions are read, and every cycle is whole.

use std::sync::Arc;

use super::client::Client;
pub use super::error::{RecordError, RestoreError};
use super::task::{decode_meta, split_cycle, TaskMeta, TASK_KEY};
use super::RuntimeError;
use postloan_engine::{ClockMode, Engine, Settings};

/// What a restore read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    /// Changelog records read.
    pub records: u64,
    /// Borrowers now held.
    pub borrowers: usize,
    /// Borrower records dropped because no task record vouched for them (a cycle cut short).
    pub discarded: u64,
}

/// Folds changelog records, in offset order, into an engine.
pub struct Restorer {
    engine: Engine,
    meta: TaskMeta,
    /// Borrower records (cycle, key, snapshot) of cycles not yet vouched for by a task record.
    pending: Vec<(u64, Vec<u8>, Vec<u8>)>,
    stats: Restored,
}

impl Restorer {
    /// Starts from an empty engine.
    pub fn new(settings: &Arc<Settings>, mode: ClockMode) -> Self {
        Restorer {
            engine: Engine::new(Arc::clone(settings), mode),
            meta: TaskMeta::default(),
            pending: Vec::new(),
            stats: Restored::default(),
        }
    }

    /// Takes the next changelog record.
    pub fn feed(&mut self, key: &[u8], value: &[u8]) -> Result<(), RecordError> {
        self.stats.records += 1;
        if key == TASK_KEY.as_bytes() {
            self.meta = decode_meta(value).ok_or(RecordError::TaskRecord)?;
            // Apply the cycle this record vouches for; anything else pending belongs to a cycle
            // a crash cut short, and is dropped.
            for (cycle, key, bytes) in self.pending.drain(..) {
                if cycle != self.meta.cycle {
                    self.stats.discarded += 1;
                } else if bytes.is_empty() {
                    // The borrower was forgotten (no open loan for long enough).
                    let id = std::str::from_utf8(&key).map_err(|_| RecordError::Key)?;
                    self.engine.restore_deletion(id);
                } else {
                    self.engine.restore_borrower(&bytes)?;
                }
            }
        } else {
            let (cycle, snapshot) = split_cycle(value).ok_or(RecordError::Truncated)?;
            self.pending.push((cycle, key.to_vec(), snapshot.to_vec()));
        }
        Ok(())
    }

    /// The engine (clock not yet set: see [`Engine::finish_restore`]), the task record (stream
    /// time and input positions of that state) and counts.
    pub fn finish(mut self) -> (Engine, TaskMeta, Restored) {
        self.stats.discarded += self.pending.len() as u64;
        self.stats.borrowers = self.engine.borrower_count();
        (self.engine, self.meta, self.stats)
    }
}

/// Reads changelog partition `partition` from the beginning to its end into a fresh engine.
pub fn restore(
    client: &mut impl Client,
    settings: &Arc<Settings>,
    mode: ClockMode,
    partition: i32,
) -> Result<(Engine, TaskMeta, Restored), RuntimeError> {
    let mut r = Restorer::new(settings, mode);
    client.read_changelog(partition, &mut |offset, key, value| {
        r.feed(key, value).map_err(|source| RestoreError::Record {
            partition,
            offset,
            source,
        })
    })?;
    Ok(r.finish())
}
