//! The monthly risk report (`postloan-monitor report`): the engine over a JSONL book with the
//! event clock, a snapshot of the book at every month-end, and one self-contained HTML page
//! (plus CSV files) of the figures a bank grades its book on.
//!
//! Parts: `html` — charts (SVG) and the page template, knowing nothing of loans.

pub mod html;
