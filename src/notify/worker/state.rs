//! Ownership and persistence: rebalances, restoring a partition's book from the state topic,
//! saving changed borrowers and committing offsets.

use super::*;

impl<F: Feed, D: Deliver> Worker<F, D> {
    /// Applies the rebalances the feed has seen.
    pub(super) fn rebalance(&mut self) -> Result<(), NotifyError> {
        for r in self.feed.rebalances() {
            match r {
                Rebalance::Revoked(ps) => {
                    for p in ps {
                        self.books.remove(&p);
                        self.offsets.retain(|(_, q), _| *q != p);
                        self.stash.retain(|r| r.partition != p);
                    }
                }
                Rebalance::Assigned(ps) => {
                    self.observer.ready(false);
                    for p in ps {
                        let book = self.restore(p)?;
                        self.books.insert(p, book);
                    }
                    // What Alertmanager shows of the restored notices may have lapsed while
                    // nobody owned them: send them all now.
                    self.next_resend_ms = 0;
                    self.observer.ready(true);
                }
            }
        }
        Ok(())
    }

    fn restore(&mut self, partition: i32) -> Result<Book, NotifyError> {
        let mut latest: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        for (key, value) in self.feed.restore(partition)? {
            latest.insert(key, value);
        }
        let mut book = Book::default();
        for (borrower, value) in latest {
            let Some(value) = value else { continue };
            match serde_json::from_slice::<BorrowerRecord>(&value) {
                Ok(rec) => book.restore(borrower, rec),
                // Only this program writes the topic; a record it cannot read is a bug or a
                // foreign writer. Skipping it loses that borrower's notices, so say so loudly.
                Err(error) => {
                    tracing::error!(partition, %borrower, %error, "Skipping an unreadable state record")
                }
            }
        }
        tracing::info!(
            partition,
            borrowers = book.borrowers(),
            open = book.open().count(),
            "Restored notices"
        );
        Ok(book)
    }

    /// Writes the changed borrowers and waits for the state topic to acknowledge them.
    pub(super) fn save(&mut self) -> Result<(), NotifyError> {
        let mut any = false;
        for (p, book) in &mut self.books {
            for (borrower, rec) in book.take_touched() {
                let value = rec.map(encode);
                self.feed.save(*p, &borrower, value.as_deref())?;
                any = true;
            }
        }
        if any {
            self.feed.flush()?;
        }
        Ok(())
    }

    /// Commits the offsets of the records taken in since the last commit.
    pub(super) fn commit(&mut self) -> Result<(), NotifyError> {
        if self.offsets.is_empty() {
            return Ok(());
        }
        let offsets: Vec<(Topic, i32, i64)> = self
            .offsets
            .iter()
            .map(|((t, p), o)| (*t, *p, *o))
            .collect();
        self.feed.commit(&offsets)?;
        self.offsets.clear();
        Ok(())
    }
}
