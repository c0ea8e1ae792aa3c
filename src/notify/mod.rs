//! `postloan-monitor notify`: escalation notices delivered to Alertmanager.
//!
//! Parts:
//! - [`error`] — why `notify` stops (its fatal errors), below the parts that raise them;
//! - [`book`] — the notices and what opens and ends them, without I/O; the monitor's messages
//!   are read with the engine's own read side (`postloan_engine::wire`);
//! - [`payload`] — notices as Alertmanager API v2 alerts;
//! - [`worker`] — the loop, generic over Kafka, Alertmanager and the clock
//!   ([`crate::stream`]'s vocabulary, shared with `run`'s runtime);
//! - [`feed`] — the worker's Kafka side, over `crate::kafka`'s group member and topic checks;
//! - [`alertmanager`] — the worker's Alertmanager side over HTTP;
//! - [`service`] — the worker on the real clocks, until cancelled (the process around it is
//!   the application's `service`);

pub mod alertmanager;
pub mod book;
pub mod error;
pub mod feed;
pub mod payload;
#[cfg(test)]
mod scenario;
pub mod service;
pub mod worker;
