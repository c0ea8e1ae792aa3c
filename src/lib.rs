//! postloan-monitor: a streaming post-loan risk monitor for auto-loan books — the application.
//!
//! The workspace is a sans-I/O core with thin adapters around it:
//!
//! - `postloan-engine` (`crates/engine`) — the core, its own crate. Per-borrower state, the
//!   nine early-warning signals, timers, the alert lifecycle and escalations, and the
//!   `[rules]`/`[escalation]`/`[limits]` sections it is configured with. Deterministic and
//!   I/O-free: bytes and instants in, messages out. No tokio, Kafka, Prometheus or wall clock
//!   (its Cargo.toml cannot name them; CI checks).
//! - `postloan-generate` (`crates/generate`) — a deterministic synthetic auto-loan book for
//!   demos, tests and benchmarks.
//!
//! This crate, the application, holds everything that touches the world.
//!
//! # Layers
//!
//! One line per module, bottom to top; a module imports only modules above it in this list
//! (`tests/layering.rs` fails otherwise, and on any import cycle between files or folders):
//!
//! - [`shutdown`] — the one cancellation signal, wired to SIGINT/SIGTERM.
//! - [`config`] — the whole TOML configuration file (the engine's sections plus clock, Kafka and
//!   HTTP), environment overrides, validation with every problem reported at once.
//! - [`replay`] — the replay driver behind `replay`, `report` and `backtest`: the engine over a
//!   JSONL file with the event clock, seen through a visitor (`postloan-monitor replay`).
//! - [`report`] — the monthly risk report (`postloan-monitor report`): the replay read at
//!   every month-end, and one self-contained HTML page (plus CSVs) of classification, NPL,
//!   flows, vintages and rankings; [`report::html`] renders it and knows nothing of loans.
//! - [`backtest`] — a rule change before it ships (`postloan-monitor backtest`): two
//!   configurations over the same events in parallel, their alert episodes matched, scored
//!   against the loans' defaults, workload compared; `--fail-if` gates a review pipeline.
//! - [`stream`] — the vocabulary both streaming loops share (clock, consumed record, rebalance,
//!   client error), below both and free of rdkafka.
//! - [`runtime`] — the streaming runtime: tasks, merge order, changelog restore, the worker and
//!   its commit cycles, generic over a Kafka client trait (no rdkafka inside).
//! - [`kafka`] — rdkafka adapters for `run` and `notify` alike: the group member, topic checks,
//!   the runtime's client, `run`'s loop and the real clocks, producing, the embedded broker.
//! - [`notify`] — escalation notices to Alertmanager (`postloan-monitor notify`): the notice
//!   book (I/O-free), the worker generic over Kafka and Alertmanager, and their adapters; it
//!   reads the engine's messages through `postloan_engine::wire`.
//! - [`metrics`] — Prometheus metrics, fed by the worker's observer events.
//! - [`http`] — `/metrics`, `/healthz` and `/readyz`.
//! - [`service`] — the process around every long-running command: tokio runtime, the
//!   cancellation signal ([`shutdown`]), the metrics and health endpoint, the loop's thread,
//!   exit status.
//! - [`cli`] — the command line; `main.rs` only parses arguments and calls into it.
//!
//! The wire contract is documented in `docs/contract.md`; where a new signal, event, metric or
//! command goes, in `CONTRIBUTING.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backtest;
pub mod cli;
pub mod config;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod notify;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod service;
pub mod shutdown;
pub mod stream;

/// The monitor's version, stamped on every alert.
pub const VERSION: &str = postloan_engine::VERSION;
