//! Publishing and the commit cycle (see the module docs of the worker): flush or transaction,
//! changelog, input positions; abort and rewind.

use super::*;

impl<C: Client> Worker<C> {
    /// Graceful stop: commits what was processed. (The caller then leaves the group.)
    pub fn shutdown(&mut self) -> Result<(), RuntimeError> {
        // An aborted final transaction is redone by the partitions' next owner.
        if self.cycle()? == Cycle::Done {
            self.report_portfolio();
        }
        Ok(())
    }
    /// Sends the messages of this step; under exactly-once, inside the open transaction.
    pub(super) fn publish(&mut self) -> Result<Cycle, RuntimeError> {
        if self.buf.out.is_empty() {
            return Ok(Cycle::Done);
        }
        self.begin()?;
        let mut out = std::mem::take(&mut self.buf.out);
        let mut result = Ok(Cycle::Done);
        for msg in out.drain(..) {
            let sink = match msg.kind() {
                OutputKind::Alert => Sink::Alerts,
                OutputKind::Escalation => Sink::Escalations,
                OutputKind::Rejected => Sink::Rejected,
            };
            self.buf.json.clear();
            msg.write_json(&mut self.buf.json);
            let key = msg.key().unwrap_or_default().as_bytes();
            if let Err(e) = self.client.send(sink, key, &self.buf.json) {
                result = self.failed(e, "Publishing failed");
                break;
            }
            self.commits.uncommitted.output(&msg, &self.buf.json);
        }
        self.buf.out = out;
        self.buf.out.clear();
        result
    }
    /// A send failed: fatal, or (exactly-once) abort the transaction.
    pub(super) fn failed(&mut self, e: ClientError, what: &str) -> Result<Cycle, RuntimeError> {
        match e {
            e @ ClientError::Fatal(_) => Err(RuntimeError::Kafka(e)),
            e if self.policy.eos => {
                tracing::warn!(error = %e, "{what}; aborting the transaction");
                self.abort()?;
                Ok(Cycle::Aborted)
            }
            e => Err(RuntimeError::Delivery(e)),
        }
    }
    pub(super) fn begin(&mut self) -> Result<(), RuntimeError> {
        if self.policy.eos && !self.commits.in_txn {
            self.client.begin_transaction()?;
            self.commits.in_txn = true;
        }
        Ok(())
    }
    /// The commit cycle (see the module docs).
    pub(super) fn cycle(&mut self) -> Result<Cycle, RuntimeError> {
        let started = self.clock.now();
        if !self.policy.eos {
            self.client.flush().map_err(RuntimeError::Delivery)?;
        }
        self.commits.cycles += 1;
        let cycle_id = self.commits.cycle_base.wrapping_add(self.commits.cycles);
        let mut records = Vec::new();
        self.buf.changelog.clear();
        for (p, task) in self.owned.tasks.iter_mut() {
            task.take_changelog(cycle_id, &mut records);
            self.buf
                .changelog
                .extend(records.drain(..).map(|(k, v)| (*p, k, v)));
        }
        if self.policy.eos && !self.commits.in_txn && self.buf.changelog.is_empty() {
            return Ok(Cycle::Done);
        }
        self.begin()?;
        let changelog = std::mem::take(&mut self.buf.changelog);
        for (p, key, value) in &changelog {
            if let Err(e) = self.client.send_changelog(*p, key.as_bytes(), value) {
                self.buf.changelog = changelog;
                return self.failed(e, "Writing the changelog failed");
            }
        }
        self.buf.changelog = changelog;
        let positions: Vec<Position> = self
            .owned
            .tasks
            .iter()
            .flat_map(|(p, t)| t.offsets().map(move |(i, o)| (i, *p, o)))
            .collect();
        if self.policy.eos {
            let sent = retry(|| self.client.send_offsets_to_transaction(&positions))
                .and_then(|()| retry(|| self.client.commit_transaction()));
            if let Err(e) = sent {
                return self.failed(e, "Committing the transaction failed");
            }
            self.commits.in_txn = false;
        } else {
            self.client.flush().map_err(RuntimeError::Delivery)?;
            if !positions.is_empty() {
                if let Err(e) = self.client.commit_offsets(&positions) {
                    // The changelog already records the position; a failed commit (e.g. during
                    // a rebalance) costs at most some re-reading by the next owner.
                    tracing::warn!(error = %e, "Offset commit failed; the changelog keeps the position");
                }
            }
        }
        let done = self.clock.now().mono_ms;
        self.commits.uncommitted.commit_at(done);
        self.observer.committed(
            &self.commits.uncommitted,
            done.saturating_sub(started.mono_ms),
        );
        self.commits.uncommitted = Work::default();
        for (input, p, lag) in self.client.lag_behind(&positions) {
            self.observer.lag(&self.policy.inputs[input], p, lag);
        }
        self.report.pending = true;
        Ok(Cycle::Done)
    }
    /// Tells the observer the owned partitions' book, summed. Called after commits (so under
    /// exactly-once it is the committed state) and when ownership changes.
    pub(super) fn report_portfolio(&mut self) {
        self.report.pending = false;
        self.report.portfolio.clear();
        for task in self.owned.tasks.values() {
            self.report.portfolio.merge(task.engine().portfolio());
        }
        self.observer.portfolio(&self.report.portfolio);
    }
    /// Aborts the open transaction and forgets the work it held.
    pub(super) fn abort(&mut self) -> Result<(), RuntimeError> {
        retry(|| self.client.abort_transaction()).map_err(|e| match e {
            e @ ClientError::Fatal(_) => RuntimeError::Kafka(e),
            e => RuntimeError::Abort(e),
        })?;
        self.commits.in_txn = false;
        self.commits.uncommitted = Work::default();
        self.buf.out.clear();
        self.observer.aborted();
        Ok(())
    }
    /// After an abort: every owned task goes back to its last committed state and position.
    pub(super) fn rewind(&mut self) -> Result<(), RuntimeError> {
        let owned = self.owned();
        self.owned.tasks.clear();
        for p in owned {
            let task = self.restore_task(p)?;
            self.owned.tasks.insert(p, task);
        }
        Ok(())
    }
}

/// Repeats a call while it fails retriably, at most [`TXN_ATTEMPTS`] times; then the last
/// error stands (a retriable transactional error that persists aborts the transaction).
pub(super) fn retry(mut call: impl FnMut() -> Result<(), ClientError>) -> Result<(), ClientError> {
    let mut attempt = 1;
    loop {
        match call() {
            Err(ClientError::Retriable(e)) if attempt < TXN_ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "Retrying");
                attempt += 1;
            }
            r => return r,
        }
    }
}
