//! Input buffers, pauses and the merge: memory stays bounded, nothing deadlocks, and the output
//! is still exactly the reference.

use super::*;

/// A merge waiting for one input cannot let the others fill memory: each input partition's
/// buffer stays under the cap (plus the record that reached it), fetching resumes as it
/// drains, and the output is still exactly the reference.
#[test]
fn full_input_buffers_pause_fetching_and_the_output_is_unchanged() {
    let mut config = eos();
    let cap = 3_000;
    config.kafka.max_buffered_bytes_per_partition = cap;
    let cluster = cluster_with_borrowers(&config, 4, 120);
    let clock = TestClock::new();
    let mut w = worker(&config, &cluster, 0, &clock);
    cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
    let longest = (0..INPUTS)
        .flat_map(|i| (0..PARTITIONS).map(move |p| (i, p)))
        .map(|(i, p)| {
            cluster
                .borrow()
                .input(i, p)
                .iter()
                .map(|r| r.payload.len() + r.key.as_ref().map_or(0, Vec::len))
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let mut finished = false;
    for _ in 0..10_000 {
        clock.tick();
        w.step().unwrap();
        for p in w.owned() {
            for input in 0..INPUTS {
                let held = w.owned.tasks[&p].queued_bytes(input);
                assert!(held < cap + longest, "input {input}/{p} holds {held} bytes");
            }
        }
        if cluster.borrow().consumed() && w.buffered() == 0 {
            w.shutdown().unwrap();
            finished = true;
            break;
        }
    }
    assert!(finished, "the worker did not finish the book");
    assert!(cluster.borrow().pauses > 0, "the cap never paused an input");
    assert_exact(&config, &cluster, "throttled run");
}

/// The merge under the conditions of a starved consumer: partition ends learnt only every few
/// polls (unknown at first, then stale), fetches interleaved at random, and a buffer cap so
/// small that every input partition is paused at some point. A task waiting for an input that
/// is behind must neither run ahead of it (the output is exactly the reference) nor deadlock
/// on a paused one (the book finishes).
#[test]
fn with_stale_ends_and_every_input_paused_the_merge_neither_runs_ahead_nor_deadlocks() {
    for (guarantee, seed) in [
        (ProcessingGuarantee::ExactlyOnce, 5),
        (ProcessingGuarantee::AtLeastOnce, 6),
    ] {
        let mut config = config(guarantee);
        // Below one record: every record buffered pauses its partition until it is applied.
        config.kafka.max_buffered_bytes_per_partition = 200;
        let cluster = cluster_with_borrowers(&config, seed, 120);
        cluster.borrow_mut().stale_ends = 7;
        let clock = TestClock::new();
        let mut w = worker(&config, &cluster, 0, &clock);
        cluster.borrow_mut().rebalance(&[(0, vec![0, 1, 2])]);
        drive(&mut [&mut w], &cluster, &clock).unwrap();
        let all: std::collections::BTreeSet<(usize, i32)> = (0..INPUTS)
            .flat_map(|i| (0..PARTITIONS).map(move |p| (i, p)))
            .filter(|(i, p)| !cluster.borrow().input(*i, *p).is_empty())
            .collect();
        assert_eq!(
            cluster.borrow().paused_ever,
            all,
            "every non-empty input partition was paused at some point"
        );
        let got = published(&cluster);
        let (got, _) = dedup(got);
        assert_same(got, reference(&config, &cluster), "starved run");
    }
}
