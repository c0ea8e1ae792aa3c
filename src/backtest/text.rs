//! The comparison as a plain-text table for the terminal.

use std::fmt::Write;

use super::compare::{increase_pct, Comparison, Figures};
use postloan_engine::types::Signal;

fn opt(x: Option<f64>, scale: f64, dp: usize) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{:.dp$}", v * scale))
}

fn pct(a: u64, b: u64) -> String {
    let p = increase_pct(a, b);
    if p.is_finite() {
        format!("{p:+.1}")
    } else {
        "new".to_owned()
    }
}

/// The per-signal table (rows with nothing on either side are left out) and the workload.
pub fn table(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<18} {:>17} {:>7} {:>17} {:>6} {:>7} {:>7} {:>15} {:>15} {:>13}",
        "", "episodes/1k", "", "escalations/1k", "", "", "", "precision %", "recall %", "lead days"
    );
    let _ = writeln!(
        s,
        "{:<18} {:>8} {:>8} {:>7} {:>8} {:>8} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6}",
        "signal", "A", "B", "Δ%", "A", "B", "added", "removed", "changed", "A", "B", "A", "B", "A", "B"
    );
    let row = |s: &mut String,
               name: &str,
               a: &Figures,
               b: &Figures,
               ch: &super::compare::Changes| {
        let _ = writeln!(
            s,
            "{:<18} {:>8} {:>8} {:>7} {:>8} {:>8} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6}",
            name,
            opt(c.per_thousand(a.episodes), 1.0, 1),
            opt(c.per_thousand(b.episodes), 1.0, 1),
            pct(a.episodes, b.episodes),
            opt(c.per_thousand(a.escalations), 1.0, 1),
            opt(c.per_thousand(b.escalations), 1.0, 1),
            ch.added,
            ch.removed,
            ch.changed,
            opt(a.score.precision(), 100.0, 1),
            opt(b.score.precision(), 100.0, 1),
            opt(a.score.recall(), 100.0, 1),
            opt(b.score.recall(), 100.0, 1),
            opt(a.score.median_lead_days(), 1.0, 1),
            opt(b.score.median_lead_days(), 1.0, 1),
        );
    };
    for signal in Signal::ALL {
        let (a, b, ch) = c.of(Some(signal));
        if a.episodes + b.episodes + a.escalations + b.escalations > 0 {
            row(&mut s, signal.as_str(), a, b, ch);
        }
    }
    let (a, b, ch) = c.of(None);
    row(&mut s, "all signals", a, b, ch);
    let _ = writeln!(
        s,
        "workload (alerts needing contact per day): p50 {} → {}, p95 {} → {}",
        c.baseline.workload_p50,
        c.candidate.workload_p50,
        c.baseline.workload_p95,
        c.candidate.workload_p95
    );
    s
}
