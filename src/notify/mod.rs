//! `postloan-monitor notify`: escalation notices delivered to Alertmanager (issue 18, in
//! progress).
//!
//! Parts:
//! - `wire` — the alert and escalation messages, as `notify` reads them;
//! - `book` — the notices and what opens and ends them, without I/O;
//! - `payload` — notices as Alertmanager API v2 alerts;
//! - [`worker`] — the loop, generic over Kafka, Alertmanager and the clock;
//! - `feed` — the worker's Kafka side over rdkafka;
//! - `alertmanager` — the worker's Alertmanager side over HTTP;
//! - `service` — the worker on the real clocks, until cancelled;
//! - `demo` — `demo --notify`: every escalation of the demo's book to a real Alertmanager.

pub mod alertmanager;
pub mod book;
pub mod demo;
pub mod feed;
pub mod payload;
#[cfg(test)]
mod scenario;
pub mod service;
pub mod wire;
pub mod worker;
