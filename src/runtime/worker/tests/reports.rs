//! What the worker reports to its observer: the committed book and notes, exactly once.

use super::*;

/// Records what the worker reports about the book.
#[derive(Default)]
struct BookRecorder {
    last: Mutex<Option<Portfolio>>,
    rolls: AtomicU64,
    acks: AtomicU64,
}

impl Observer for BookRecorder {
    fn committed(&self, work: &Work, _took_ms: u64) {
        self.rolls
            .fetch_add(work.rolls().len() as u64, Ordering::Relaxed);
        self.acks
            .fetch_add(work.acks().len() as u64, Ordering::Relaxed);
    }
    fn aborted(&self) {}
    fn restored(&self, _: i32, _: &crate::runtime::restore::Restored, _: u64) {}
    fn assignment(&self, _: &[i32], _: bool) {}
    fn lag(&self, _: &str, _: i32, _: i64) {}
    fn portfolio(&self, p: &Portfolio) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(p.clone());
        }
    }
}

/// The book the worker reports at the end, and the inputs, rolls and acks it counted, equal the
/// reference run's, however many transactions were aborted and redone on the way: what an
/// aborted transaction counted is dropped with it.
#[test]
fn the_reported_book_and_notes_survive_aborts_exactly() {
    let config = eos();
    // Large enough for a few defaults (2 % of borrowers): rolls and acks.
    let cluster = cluster_with_borrowers(&config, 4, 400);
    // Every other commit of the run's ~50 fails: most rolls and acks are in aborted work once.
    for n in (1..=40).step_by(2) {
        cluster.borrow_mut().fail(
            "commit_transaction",
            n,
            ClientError::abortable(format!("injected #{n}")),
        );
    }
    let clock = TestClock::new();
    let recorder = Arc::new(BookRecorder::default());
    let stats = Arc::new(WorkerStats::default());
    let client = FakeClient::connect(&cluster, 0, true);
    let observer: Arc<dyn Observer> = Arc::new((Arc::clone(&recorder), Arc::clone(&stats)));
    let mut w = Worker::new(&config, client, Box::new(clock.clone()), observer, 0);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    drive(&mut [&mut w], &cluster, &clock).unwrap();
    assert_eq!(stats.aborts.load(Ordering::Relaxed), 20);

    let (_, book, notes, applied) = reference_book(&config, &cluster);
    assert_eq!(stats.applied.load(Ordering::Relaxed), applied);
    let rolls = notes
        .iter()
        .filter(|n| matches!(n, Note::Rolled { .. }))
        .count() as u64;
    let acks = notes
        .iter()
        .filter(|n| matches!(n, Note::Acked { .. }))
        .count() as u64;
    assert!(
        rolls > 0 && acks > 0,
        "the book has rolls ({rolls}) and acks ({acks})"
    );
    assert!(book.open_loans() > 10, "{book:?}");
    assert_eq!(recorder.rolls.load(Ordering::Relaxed), rolls);
    assert_eq!(recorder.acks.load(Ordering::Relaxed), acks);
    let last = recorder.last.lock().unwrap().clone().unwrap_or_default();
    assert!(
        last == book,
        "reported {} open loans in {} keys, the reference has {} in {}",
        last.open_loans(),
        last.book.len(),
        book.open_loans(),
        book.book.len()
    );
}

/// An idle worker still reports the book it last committed: reports are rate-limited, and a
/// quiet worker commits nothing more that would trigger one.
#[test]
fn an_idle_worker_reports_its_last_committed_book() {
    let config = eos();
    let cluster = cluster_with_book(&config, 5);
    let clock = TestClock::new();
    let recorder = Arc::new(BookRecorder::default());
    let client = FakeClient::connect(&cluster, 0, true);
    let mut w = Worker::new(
        &config,
        client,
        Box::new(clock.clone()),
        Arc::clone(&recorder) as Arc<dyn Observer>,
        0,
    );
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    let mut steps = 0;
    while !(cluster.borrow().consumed() && w.buffered() == 0) {
        clock.tick();
        w.step().unwrap();
        steps += 1;
        assert!(steps < 10_000, "the worker did not finish the book");
    }
    // No shutdown: the worker idles for two seconds of its clock.
    for _ in 0..200 {
        clock.tick();
        w.step().unwrap();
    }
    let (_, book, _, _) = reference_book(&config, &cluster);
    let last = recorder.last.lock().unwrap().clone().unwrap_or_default();
    assert!(
        last == book,
        "reported {} open loans, the reference has {}",
        last.open_loans(),
        book.open_loans()
    );
}
