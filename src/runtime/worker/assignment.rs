//! Partition ownership: rebalances (commit and drop revoked tasks, restore assigned ones from
//! the changelog) and back-pressure (pause an input partition whose buffer is full).

use super::*;

impl<C: Client> Worker<C> {
    /// Acts on the rebalances queued during the last poll: revoked partitions commit and drop
    /// their tasks; assigned ones are restored from the changelog and resume where their state
    /// stands.
    pub(super) fn on_rebalance(&mut self) -> Result<(), RuntimeError> {
        for event in self.client.take_rebalances() {
            match event {
                Rebalance::Revoked(ps) => {
                    // Under at-least-once this is best effort: the next owner may re-read what
                    // it would have covered. Under exactly-once a commit refused because the
                    // group moved on aborts, and the next owner redoes the work.
                    let ended = self.cycle()?;
                    for p in ps {
                        self.owned.tasks.remove(&p);
                    }
                    if ended == Cycle::Aborted {
                        self.rewind()?;
                    }
                    self.observer.assignment(&self.owned(), false);
                    self.report_portfolio();
                }
                Rebalance::Assigned(ps) => {
                    for p in ps {
                        if !self.owned.tasks.contains_key(&p) {
                            let task = self.restore_task(p)?;
                            self.owned.tasks.insert(p, task);
                        }
                    }
                    self.observer.assignment(&self.owned(), true);
                    self.report_portfolio();
                }
            }
        }
        Ok(())
    }
    pub(super) fn restore_task(&mut self, p: i32) -> Result<Task, RuntimeError> {
        let started = self.clock.now();
        let (mut engine, meta, restored) =
            restore(&mut self.client, &self.policy.settings, self.policy.mode, p)?;
        // On the wall clock, the state is restored at the time it was written and caught up
        // by the task's first step: what fell due while no one owned the partition (a DPD
        // band, a deadline, a lapse) fires then, at the instant it fell due. Restored at the
        // wall clock, timers would be armed only after it, and those changes would wait for
        // the borrower's next event or band.
        let start_clock = match self.policy.clock_source {
            ClockSource::Wall => meta.clock.or(Some(started.utc)),
            ClockSource::Event => meta.clock,
        };
        let catch_up = self.policy.clock_source == ClockSource::Wall && meta.clock.is_some();
        engine.finish_restore(start_clock);
        // Resume exactly where the restored state stands, whatever offsets the group holds:
        // state and input position must agree.
        for (input, next) in meta.next_offsets.iter().enumerate() {
            retry(|| self.client.seek(input, p, *next))?;
            // A fresh task holds nothing: fetch again what was paused for its predecessor
            // (kept paused across a revocation, as the client may remember it).
            if self.owned.paused.remove(&(input, p)) {
                retry(|| self.client.pause(input, p, false))?;
            }
        }
        let ms = self.clock.now().mono_ms.saturating_sub(started.mono_ms);
        tracing::info!(
            partition = p,
            borrowers = restored.borrowers,
            records = restored.records,
            discarded = restored.discarded,
            ms,
            "Restored task from the changelog"
        );
        self.observer.restored(p, &restored, ms);
        let mut task = Task::new(
            p,
            self.policy.inputs.clone(),
            engine,
            self.policy.max_task_idle_ms,
        );
        task.resume_from(&meta);
        if catch_up {
            task.catch_up_first();
        }
        Ok(task)
    }
    /// Pauses fetching an input partition whose buffer is full and resumes it once half of it
    /// is applied: while the merge waits for a slow input, fast ones cannot fill memory.
    /// A partition whose head is a suspected clock jump waiting for the records after it is
    /// resumed whatever it holds: they can only come by fetching.
    pub(super) fn throttle_inputs(&mut self) {
        let max = self.policy.max_buffered_bytes;
        let drained: Vec<(usize, i32)> = self
            .owned
            .paused
            .iter()
            .copied()
            .filter(|(input, p)| {
                self.owned.tasks.get(p).is_some_and(|t| {
                    t.queued_bytes(*input) <= max / 2 || t.awaits_followers(*input)
                })
            })
            .collect();
        for (input, p) in drained {
            self.set_paused(input, p, false);
        }
    }
    /// Pauses or resumes one input partition (once: the set remembers which are paused).
    pub(super) fn set_paused(&mut self, input: usize, partition: i32, pause: bool) {
        if self.owned.paused.contains(&(input, partition)) == pause {
            return;
        }
        match self.client.pause(input, partition, pause) {
            Ok(()) if pause => {
                self.owned.paused.insert((input, partition));
            }
            Ok(()) => {
                self.owned.paused.remove(&(input, partition));
            }
            Err(e) => tracing::warn!(
                error = %e,
                input,
                partition,
                pause,
                "Cannot pause or resume an input partition"
            ),
        }
    }
}
