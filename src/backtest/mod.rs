//! Backtesting a rule change (`postloan-monitor backtest`, issue 17, in progress): the same
//! events through two configurations, their alert episodes matched and compared.
//!
//! Parts: `episodes` — an alert from firing to resolved, and how two runs' episodes match;
//! `workload` — alerts needing a collector's contact per business date.

pub mod episodes;
pub mod workload;
