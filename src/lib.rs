//! postloan-monitor: a streaming post-loan risk monitor for auto-loan books.
//!
//! The crate is a sans-I/O core with thin adapters around it:
//!
//! - [`engine`] — the core. Per-borrower state, the nine early-warning signals, timers, the
//!   alert lifecycle and escalations. Deterministic and I/O-free: bytes and instants in,
//!   messages out. No tokio, Kafka, Prometheus or wall clock inside.
//! - [`config`] — the TOML configuration (rules, escalation, clock), validated with every
//!   problem reported at once.
//! - [`replay`] — the file adapter: runs the engine over a JSONL file with the event clock
//!   (`postloan-monitor replay`).
//! - [`runtime`] — the streaming runtime: tasks, merge order, changelog restore, the worker and
//!   its commit cycles, generic over a Kafka client trait (no rdkafka inside).
//! - [`kafka`] — rdkafka adapters: the runtime's client, `run`'s loop, producing, the embedded
//!   broker.
//! - [`metrics`] — Prometheus metrics, fed by the worker's observer events; [`http`] serves them
//!   with health and readiness.
//! - [`generate`] — a deterministic synthetic auto-loan book for demos, tests and benchmarks.
//! - [`cli`] — the command line; `main.rs` only parses arguments and calls into it.
//!
//! The wire contract is documented in `docs/contract.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod engine;
pub mod generate;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod replay;
pub mod runtime;
pub mod shutdown;

/// The monitor's version, stamped on every alert.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
