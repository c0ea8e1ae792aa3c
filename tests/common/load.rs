//! Adversity for end-to-end tests: CPU starvation and a deliberately slow worker loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postloan_engine::portfolio::Portfolio;
use postloan_monitor::runtime::restore::Restored;
use postloan_monitor::runtime::worker::{Observer, Work, WorkerStats};

/// Threads that keep every core busy until dropped (bounded by the test that holds them).
pub struct Busy {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Busy {
    /// Starts `n` spinning threads.
    pub fn start(n: usize) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Busy { stop, threads }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Counts like [`WorkerStats`], and holds up the worker's loop for `delay` at every commit: a
/// worker thread that gets the CPU late and rarely.
pub struct SlowObserver {
    pub stats: Arc<WorkerStats>,
    pub delay: Duration,
}

impl Observer for SlowObserver {
    fn committed(&self, work: &Work, took_ms: u64) {
        std::thread::sleep(self.delay);
        self.stats.committed(work, took_ms);
    }
    fn aborted(&self) {
        self.stats.aborted();
    }
    fn restored(&self, partition: i32, restored: &Restored, took_ms: u64) {
        self.stats.restored(partition, restored, took_ms);
    }
    fn assignment(&self, partitions: &[i32], ready: bool) {
        self.stats.assignment(partitions, ready);
    }
    fn lag(&self, topic: &str, partition: i32, records: i64) {
        self.stats.lag(topic, partition, records);
    }
    fn portfolio(&self, portfolio: &Portfolio) {
        self.stats.portfolio(portfolio);
    }
}
