//! The replay summary table printed to stderr.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::replay::Summary;
use postloan_engine::event::EventType;
use postloan_engine::output::AlertStatus;
use postloan_engine::reject::ErrorKind;
use postloan_engine::types::{Severity, Signal};

/// Renders the summary as aligned text tables.
pub fn render(s: &Summary, tz: chrono_tz::Tz) -> String {
    let mut o = String::new();
    let secs = s.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.events() as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(o, "\nReplay summary");
    let _ = writeln!(
        o,
        "  {} events ({} lines, {} blank) in {:.2} s ({:.0} events/s); {} messages written",
        s.events(),
        s.lines,
        s.blank_lines,
        secs,
        rate,
        s.messages
    );
    let _ = writeln!(
        o,
        "  {} borrowers, {} open loans; clock {}",
        s.borrowers,
        s.open_loans,
        s.clock.map_or_else(
            || "unset".to_owned(),
            |c| postloan_engine::time::format_instant(c, tz)
        )
    );

    let _ = writeln!(
        o,
        "\n  {:<22} {:>10} {:>10}",
        "event type", "applied", "duplicate"
    );
    for t in EventType::ALL {
        let a = s.applied.get(&t).copied().unwrap_or(0);
        let d = s.duplicates.get(&t).copied().unwrap_or(0);
        let _ = writeln!(o, "  {:<22} {a:>10} {d:>10}", t.as_str());
    }
    let total_rejected: u64 = s.rejected.values().sum();
    let _ = writeln!(o, "\n  {:<22} {:>10}", "rejected", total_rejected);
    for k in ErrorKind::ALL {
        if let Some(n) = s.rejected.get(&k) {
            let _ = writeln!(o, "  {:<22} {n:>10}", k.as_str());
        }
    }

    let sev_cols = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    let _ = write!(o, "\n  {:<20}", "alerts fired");
    for sev in sev_cols {
        let _ = write!(o, " {:>9}", sev.as_str());
    }
    let _ = writeln!(o, " {:>9} {:>9}", "updated", "resolved");
    let mut by: BTreeMap<(Signal, Severity, AlertStatus), u64> = BTreeMap::new();
    for (k, v) in &s.alerts {
        *by.entry(*k).or_default() += v;
    }
    for sig in Signal::ALL {
        let count = |sev: Option<Severity>, st: AlertStatus| -> u64 {
            by.iter()
                .filter(|((g, sv, t), _)| *g == sig && *t == st && sev.is_none_or(|x| x == *sv))
                .map(|(_, n)| *n)
                .sum()
        };
        let _ = write!(o, "  {:<20}", sig.as_str());
        for sev in sev_cols {
            let _ = write!(o, " {:>9}", count(Some(sev), AlertStatus::Firing));
        }
        let _ = writeln!(
            o,
            " {:>9} {:>9}",
            count(None, AlertStatus::Updated),
            count(None, AlertStatus::Resolved)
        );
    }
    let _ = writeln!(
        o,
        "\n  {:<22} {:>10}",
        "escalations",
        s.escalations.values().sum::<u64>()
    );
    for (level, n) in &s.escalations {
        let _ = writeln!(o, "  {:<22} {n:>10}", format!("level {level}"));
    }
    o
}
