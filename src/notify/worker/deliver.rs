//! Delivery: every notice that changed (and every open one when a resend is due) to every
//! Alertmanager, retried with capped exponential backoff while the consumer is paused.

use super::*;

impl<F: Feed, D: Deliver> Worker<F, D> {
    fn items(&self, resend: bool) -> Vec<Item> {
        let mut out = Vec::new();
        for (p, book) in &self.books {
            for n in book.notices() {
                let change = n.pending();
                if change || (resend && n.ended.is_none()) {
                    out.push(Item {
                        partition: *p,
                        borrower: n.escalation.borrower_id.clone(),
                        alert: n.escalation.alert_id.clone(),
                        level: n.escalation.level,
                        state: n.state(),
                        change,
                    });
                }
            }
        }
        out
    }

    fn bodies(&self, items: &[Item]) -> Vec<Vec<u8>> {
        let now = self.clock.now().utc;
        items
            .chunks(self.settings.per_request)
            .map(|chunk| {
                let notices: Vec<_> = chunk
                    .iter()
                    .filter_map(|i| {
                        let n =
                            self.books
                                .get(&i.partition)?
                                .notice(&i.borrower, &i.alert, i.level)?;
                        Some((n, i.state))
                    })
                    .collect();
                payload::body(
                    &notices,
                    now,
                    self.settings.lease,
                    &self.settings.link_template,
                )
            })
            .collect()
    }

    /// Delivers; `Ok(false)` when cancelled before every Alertmanager accepted.
    pub(super) fn deliver(&mut self, resend: bool) -> Result<bool, NotifyError> {
        let items = self.items(resend);
        if items.is_empty() {
            return Ok(true);
        }
        let bodies = self.bodies(&items);
        let targets = self.deliver.targets();
        let mut done = vec![vec![false; targets]; bodies.len()];
        let mut backoff = self.settings.backoff_ms;
        let mut paused = false;
        loop {
            for (body, done) in bodies.iter().zip(done.iter_mut()) {
                for (target, ok) in done.iter_mut().enumerate().filter(|(_, ok)| !**ok) {
                    match self.deliver.post(target, body) {
                        Posted::Accepted => *ok = true,
                        Posted::Rejected { status, body } => {
                            tracing::error!(target, status, response = %body, "Alertmanager refused notices; not retrying them");
                            self.observer.delivery_failed("rejected");
                            *ok = true;
                        }
                        Posted::Retry(reason) => self.observer.delivery_failed(reason),
                    }
                }
            }
            if done.iter().flatten().all(|ok| *ok) {
                break;
            }
            if self.cancel.is_cancelled() {
                return Ok(false);
            }
            if !paused {
                tracing::warn!(
                    notices = items.len(),
                    "An Alertmanager did not accept notices; pausing consumption and retrying"
                );
                self.feed.pause()?;
                paused = true;
            }
            self.wait(backoff)?;
            backoff = (backoff.saturating_mul(2)).min(self.settings.max_backoff_ms);
        }
        if paused {
            self.feed.resume()?;
            tracing::info!("Alertmanager accepted the notices again; consuming");
        }
        for i in items.iter().filter(|i| i.change) {
            let Some(book) = self.books.get_mut(&i.partition) else {
                continue;
            };
            book.told(&i.borrower, &i.alert, i.level, i.state);
            match i.state {
                Told::Firing => self.observer.notice_sent(i.level),
                Told::Ended => {
                    let status = book
                        .notice(&i.borrower, &i.alert, i.level)
                        .and_then(|n| n.ended.as_ref().map(|e| e.status));
                    if let Some(s) = status {
                        self.observer.notice_ended(s);
                    }
                }
                Told::Nothing => {}
            }
        }
        self.observer.delivered(self.clock.now().utc);
        Ok(true)
    }

    /// Waits `ms` while polling the paused feed, so the group membership stays alive; a
    /// record that still arrives is kept for the next step; stops early when cancelled.
    fn wait(&mut self, ms: u64) -> Result<(), NotifyError> {
        let until = self.clock.now().mono_ms + ms;
        while !self.cancel.is_cancelled() {
            let now = self.clock.now().mono_ms;
            if now >= until {
                break;
            }
            let slice = StdDuration::from_millis((until - now).min(100));
            if let Some(r) = self.feed.poll(slice)? {
                self.stash.push_back(r);
            }
            // A revoked partition's notices need no delivery from here any more.
            self.rebalance()?;
        }
        Ok(())
    }
}
