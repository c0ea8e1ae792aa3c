//! The book: every borrower's stream merged in time order (ties: borrower index, then the
//! borrower's planning order) through a binary heap, malformed lines inserted before real
//! events, lines handed to the writer in chunks, events counted by type.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use postloan_engine::event::EventType;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::bad::write_bad;
use super::ctx::Ctx;
use super::event::Event;
use super::json::render;
use super::options::{GenerateError, GenerateOptions, GenerateSummary};
use super::stream::Borrower;
use super::wire::{EventId, Padded};

/// Output is handed to the writer in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// Every borrower's stream, and a heap of their next events' (instant, borrower, planning
/// order).
struct Streams {
    borrowers: Vec<Borrower>,
    heap: BinaryHeap<Reverse<(i64, u32, u32)>>,
}

impl Streams {
    /// Every borrower of the book, each with its first event at hand.
    fn new(ctx: &Ctx, borrowers: u32) -> Streams {
        let borrowers: Vec<Borrower> = (0..borrowers).map(|i| Borrower::new(i, ctx)).collect();
        let mut streams = Streams {
            heap: BinaryHeap::with_capacity(borrowers.len()),
            borrowers,
        };
        for i in 0..streams.borrowers.len() {
            streams.refill(ctx, i);
        }
        streams
    }

    /// Takes borrower `i`'s next event into its head and the heap.
    fn refill(&mut self, ctx: &Ctx, i: usize) {
        let Some(b) = self.borrowers.get_mut(i) else {
            return;
        };
        if let Some(ev) = b.next_event(ctx) {
            self.heap.push(Reverse((ev.t, b.plan.idx, ev.seq)));
            b.head = Some(ev);
        }
    }

    /// The earliest event of the book not yet written, and its borrower's index.
    fn pop(&mut self) -> Option<(usize, Event)> {
        while let Some(Reverse((_, bi, _))) = self.heap.pop() {
            let i = bi as usize;
            if let Some(ev) = self.borrowers.get_mut(i).and_then(|b| b.head.take()) {
                return Some((i, ev));
            }
        }
        None
    }
}

/// Malformed lines: a share `p` of all lines, drawn from their own RNG so that the valid
/// events are exactly the book generated with `p` = 0.
struct Damage {
    rng: ChaCha8Rng,
    p: f64,
    /// Malformed lines written so far (the `n` of `X-<n>`).
    lines: u64,
    scratch: Vec<u8>,
}

impl Damage {
    fn new(seed: u64, p: f64) -> Damage {
        let mut k = [0u8; 32];
        k[..8].copy_from_slice(&seed.to_le_bytes());
        k[16..24].copy_from_slice(b"PLMBAD01");
        Damage {
            rng: ChaCha8Rng::from_seed(k),
            p,
            lines: 0,
            scratch: Vec::with_capacity(1024),
        }
    }

    /// Whether every event is replaced by a malformed line (`p` = 1).
    fn replaces_events(&self) -> bool {
        self.p >= 1.0
    }

    /// Malformed lines before event `ev` of borrower `b`: a geometric count, so that a share
    /// `p` of all lines is malformed; with `p` = 1 exactly one, which replaces the event.
    fn before(
        &mut self,
        buf: &mut Vec<u8>,
        ctx: &Ctx,
        b: &Borrower,
        ev: &Event,
    ) -> Result<(), GenerateError> {
        if self.p <= 0.0 {
            return Ok(());
        }
        while self.p >= 1.0 || self.rng.gen::<f64>() < self.p {
            self.lines += 1;
            let (scratch, rng) = (&mut self.scratch, &mut self.rng);
            write_bad(buf, scratch, rng, ctx, &b.plan, ev, self.lines)?;
            if self.p >= 1.0 {
                break;
            }
        }
        Ok(())
    }
}

/// Writes the whole book of `opts` to `out` and counts what it wrote.
pub(crate) fn write(
    ctx: &Ctx,
    opts: &GenerateOptions,
    out: &mut dyn Write,
) -> Result<GenerateSummary, GenerateError> {
    let mut streams = Streams::new(ctx, opts.borrowers);
    let mut damage = Damage::new(opts.seed, opts.bad_ratio);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let mut by_type = [0u64; EventType::ALL.len()];
    while let Some((i, ev)) = streams.pop() {
        if let Some(b) = streams.borrowers.get(i) {
            damage.before(&mut buf, ctx, b, &ev)?;
            if !damage.replaces_events() {
                write_event(&mut buf, ctx, b, &ev)?;
                by_type[ev.kind.event_type() as usize] += 1;
            }
        }
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
        streams.refill(ctx, i);
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(summary(opts, by_type, damage.lines))
}

/// One valid event and its newline.
fn write_event(
    buf: &mut Vec<u8>,
    ctx: &Ctx,
    b: &Borrower,
    ev: &Event,
) -> Result<(), GenerateError> {
    let who = Padded {
        num: b.plan.num,
        width: ctx.id_width,
    };
    render(buf, ctx, &b.plan, ev, EventId::Good(who, ev.eid))?;
    buf.push(b'\n');
    Ok(())
}

/// What was written: valid events by type, malformed lines.
fn summary(
    opts: &GenerateOptions,
    by_type: [u64; EventType::ALL.len()],
    bad_lines: u64,
) -> GenerateSummary {
    let good: u64 = by_type.iter().sum();
    GenerateSummary {
        lines: good + bad_lines,
        events_by_type: EventType::ALL
            .iter()
            .zip(by_type)
            .map(|(t, n)| (t.as_str().to_string(), n))
            .collect(),
        bad_lines,
        borrowers: opts.borrowers,
        loans: by_type[EventType::LoanOpened as usize],
    }
}
