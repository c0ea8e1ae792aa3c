//! Backtesting a rule change (`postloan-monitor backtest`, issue 17, in progress): the same
//! events through two configurations, their alert episodes matched and compared.
//!
//! Parts: `episodes` — an alert from firing to resolved, and how two runs' episodes match;
//! `outcome` — loans' first defaults and the episodes' scores against them; `workload` —
//! alerts needing a collector's contact per business date.

pub mod episodes;
pub mod outcome;
pub mod workload;
