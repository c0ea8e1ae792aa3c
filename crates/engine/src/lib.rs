//! postloan-engine: the risk engine of postloan-monitor — deterministic, I/O-free, clock
//! passed in.
//!
//! [`Engine::apply`] takes one raw input message and [`Engine::advance_to`] takes the passage
//! of time; both append the messages to publish. Nothing here reads the wall clock, touches a
//! socket or a file, or knows about Kafka or Prometheus: adapters (replay, the Kafka runtime in
//! the application crate) own all of that. This crate's Cargo.toml names no runtime, Kafka,
//! metrics, HTTP or CLI crate, and it builds without chrono's `clock` feature (CI checks both).
//!
//! # Layers
//!
//! One line per module, bottom to top; a module imports only modules above it in this list
//! (`tests/layering.rs` fails otherwise):
//!
//! - [`types`] — the vocabulary: signals, severities, scopes.
//! - [`swar`] — the bytes that end a plain JSON string, found eight at a time.
//! - [`money`] — exact decimal parsing, comparisons and formatting.
//! - [`time`] — business dates and local midnights in the configured zone.
//! - [`canonical`] — a payload's hash with field order and whitespace not counting (conflicting
//!   duplicates).
//! - [`event`] — typed input events, borrowed from their bytes.
//! - [`reject`] — why an input could not be applied: the `error_kind` vocabulary.
//! - `serde_forms` — compact exact serde forms (decimal, instant, date) for snapshots.
//! - [`bands`] — DPD buckets, LTV and score bands; what a loan or alert last counted.
//! - [`settings`] — the `[rules]`, `[escalation]`, `[limits]` sections, their checks, [`Settings`].
//! - [`jump`] — the clock-jump rule: when a big move of the event clock is believed.
//! - [`cut`] — how adapters keep an oversized message before the engine sees it.
//! - [`decode`] — bytes → typed event, or a rejection naming the field.
//! - [`schedule`] — due dates (month-end clamping), DPD, amortisation.
//! - [`state`] — per-borrower state: loans, payments, observations, alert slots, event ids.
//! - [`snapshot`] — one borrower's state as versioned bytes for the changelog.
//! - [`signals`] — what each of the nine signals should be now, by exact comparisons.
//! - [`portfolio`] — book-level aggregates, kept as borrowers change; roll and ack notes.
//! - [`output`] — the messages (alert, escalation, rejection) and their JSON.
//! - [`wire`] — the read side of those messages, for the monitor's own consumers (`notify`).
//! - [`render`] — reason sentences, metrics and recommended actions of alerts.
//! - [`lifecycle`] — alerts from firing to resolved; escalation levels.
//! - [`input`] — a raw input message, what became of it, the rejection record built for it.
//! - [`wake`] — when a borrower next needs the clock (one timer per borrower).
//! - [`engine`] — [`Engine`]: the book, its clock and timers, retention, changelog tracking,
//!   portfolio; `engine::apply` holds one handler per event type and a dispatcher that routes.
//!
//! With the `testkit` feature, [`testkit`] feeds an engine compact JSON events (tests only).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bands;
pub mod canonical;
pub mod cut;
pub mod decode;
pub mod engine;
pub mod event;
pub mod input;
pub mod jump;
pub mod lifecycle;
pub mod money;
pub mod output;
pub mod portfolio;
pub mod reject;
pub mod render;
pub mod schedule;
mod serde_forms;
pub mod settings;
pub mod signals;
pub mod snapshot;
pub mod state;
pub mod swar;
pub mod time;
pub mod types;
pub mod wake;
pub mod wire;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use engine::{ClockMode, Engine};
pub use input::{rejected_message, rejected_message_within, Input, Outcome};
pub use settings::Settings;

/// The monitor's version, stamped on every alert (the workspace's crates share one version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
