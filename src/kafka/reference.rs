//! The reference a live run is checked against: what the monitor must publish for a book fed
//! by a [`Publisher`](super::input_feed::Publisher) that picks partitions itself
//! ([`partition_for`]). Every line goes, as in the live run, to its topic and partition with its
//! offset there; one task per partition then applies them through the same merge, with every
//! input complete. Each partition's clock therefore ends at its own last event, as the live
//! partitions' do (a single engine over the whole book would also fire the timers between a
//! partition's last event and the book's), and rejections name the same `topic/partition/offset`.

use std::sync::Arc;

use super::input_feed::{destination, partition_for};
use crate::config::Config;
use crate::runtime::client::Lag;
use crate::runtime::task::{Record, Task, INPUTS};
use postloan_engine::cut::Cut;
use postloan_engine::output::Fingerprint;
use postloan_engine::{ClockMode, Engine};

/// The fingerprint of every message the monitor publishes for `book` (JSONL) fed into
/// `partitions` partitions per topic.
pub fn reference_fingerprint(config: &Config, book: &[u8], partitions: i32) -> Fingerprint {
    let settings = Arc::new(config.engine_settings());
    let topics = config.kafka.topics.inputs();
    let names = topics.map(Arc::from);
    let cut = Cut::from_limits(&config.limits);
    let mut tasks: Vec<Task> = (0..partitions)
        .map(|p| {
            let engine = Engine::new(Arc::clone(&settings), ClockMode::Event);
            Task::new(p, names.clone(), engine, 0)
        })
        .collect();
    let mut next_offset = vec![[0i64; INPUTS]; tasks.len()];
    for line in book.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (topic, key) = destination(&config.kafka, line);
        let input = topics.iter().position(|t| *t == topic).unwrap_or(0);
        let p = partition_for(key.as_bytes(), partitions);
        let (Some(task), Some(offsets)) =
            (tasks.get_mut(p as usize), next_offset.get_mut(p as usize))
        else {
            continue;
        };
        let (payload, full_size) = cut.payload(line);
        task.push(
            input,
            Record {
                offset: offsets[input],
                key: Some(cut.key(key.as_bytes())),
                payload,
                full_size,
                received_ms: 0,
            },
        );
        offsets[input] += 1;
    }
    let mut fingerprint = Fingerprint::default();
    let (mut out, mut outcomes, mut json) = (Vec::new(), Vec::new(), Vec::new());
    for task in &mut tasks {
        // Every input is complete: nothing is left to wait for.
        task.process(0, &mut |_| Lag::CaughtUp, &mut out, &mut outcomes);
        for msg in out.drain(..) {
            json.clear();
            msg.write_json(&mut json);
            fingerprint.add(&msg, &json);
        }
        outcomes.clear();
    }
    fingerprint
}
