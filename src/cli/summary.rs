//! The replay summary table printed to stderr, and the short account of rejected lines
//! `report` and `backtest` print after it.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::replay::{BadLine, Summary};
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
    let _ = writeln!(o, "\n  {:<22} {:>10}", "rejected", rejected(s));
    for (k, n) in by_kind(s) {
        let _ = writeln!(o, "  {:<22} {n:>10}", k.as_str());
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

/// Rejected lines [`rejections`] lists; the report's page lists more, `replay` every one.
pub const LINES_SHOWN: usize = 5;

/// Longest error message [`rejections`] shows of a line, in characters.
const ERROR_CHARS: usize = 200;

fn rejected(s: &Summary) -> u64 {
    s.rejected.values().sum()
}

/// Rejections by kind, in [`ErrorKind::ALL`] order (a stable order, whatever the map's).
fn by_kind(s: &Summary) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
    ErrorKind::ALL
        .into_iter()
        .filter_map(|k| s.rejected.get(&k).map(|n| (k, *n)))
}

/// How many input lines were rejected and why, and the first few of them, each line starting
/// with `who` (`report`, `backtest`, …); one line when none was.
///
/// ```text
/// report: 2 input lines rejected (malformed_json 1, unknown_loan 1); the first:
///   book.jsonl/2  malformed_json  expected value at line 1 column 1
///   book.jsonl/9  unknown_loan  repayment of loan L9, which borrower B1 does not have
/// ```
pub fn rejections(who: &str, s: &Summary, bad_lines: &[BadLine]) -> String {
    let total = rejected(s);
    if total == 0 {
        return format!("{who}: no input lines rejected\n");
    }
    let kinds: Vec<String> = by_kind(s)
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect();
    let mut o = format!(
        "{who}: {total} input line{} rejected ({})",
        if total == 1 { "" } else { "s" },
        kinds.join(", ")
    );
    let shown = bad_lines.len().min(LINES_SHOWN);
    if shown == 0 {
        o.push('\n');
        return o;
    }
    let _ = writeln!(o, "; the first:");
    for b in &bad_lines[..shown] {
        let mut error: String = b.error.chars().take(ERROR_CHARS).collect();
        if error.len() < b.error.len() {
            error.push('…');
        }
        let _ = writeln!(o, "  {}  {}  {error}", b.source, b.error_kind);
    }
    let more = total.saturating_sub(shown as u64);
    if more > 0 {
        let _ = writeln!(
            o,
            "  … and {more} more (`postloan-monitor replay` writes every one)"
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(line: u32, kind: ErrorKind) -> BadLine {
        BadLine {
            source: format!("book.jsonl/{line}"),
            error_kind: kind.as_str(),
            error: format!("line {line} is wrong"),
        }
    }

    fn summary(lines: &[BadLine]) -> Summary {
        let mut s = Summary::default();
        for b in lines {
            let kind = ErrorKind::ALL
                .into_iter()
                .find(|k| k.as_str() == b.error_kind)
                .expect("a kind");
            s.count_outcome(postloan_engine::Outcome::Rejected(kind));
        }
        s
    }

    #[test]
    fn rejections_count_kinds_in_stable_order_and_list_the_first_lines() {
        let none = Summary::default();
        assert_eq!(
            rejections("report", &none, &[]),
            "report: no input lines rejected\n"
        );

        let one = [bad(3, ErrorKind::UnknownLoan)];
        assert_eq!(
            rejections("report", &summary(&one), &one),
            "report: 1 input line rejected (unknown_loan 1); the first:\n  \
             book.jsonl/3  unknown_loan  line 3 is wrong\n"
        );

        // Kinds follow ErrorKind::ALL, not input order; past LINES_SHOWN only a count.
        let first = ErrorKind::ALL[0];
        let second = ErrorKind::ALL[1];
        let many: Vec<BadLine> = (1..=LINES_SHOWN as u32 + 2)
            .map(|i| bad(i, if i == 1 { second } else { first }))
            .collect();
        let text = rejections("backtest", &summary(&many), &many);
        let head = format!(
            "backtest: {} input lines rejected ({} {}, {} 1); the first:\n",
            LINES_SHOWN + 2,
            first.as_str(),
            LINES_SHOWN + 1,
            second.as_str()
        );
        assert!(text.starts_with(&head), "{text}");
        let last = format!("book.jsonl/{LINES_SHOWN} ");
        let past = format!("book.jsonl/{} ", LINES_SHOWN + 1);
        assert!(text.contains(&last) && !text.contains(&past), "{text}");
        assert!(text.ends_with("  … and 2 more (`postloan-monitor replay` writes every one)\n"));
    }

    #[test]
    fn rejections_without_kept_lines_and_long_errors() {
        // A summary may count more than the replay kept (MAX_BAD_LINES).
        let one = [bad(1, ErrorKind::UnknownLoan)];
        assert_eq!(
            rejections("report", &summary(&one), &[]),
            "report: 1 input line rejected (unknown_loan 1)\n"
        );
        let mut long = bad(1, ErrorKind::UnknownLoan);
        long.error = "é".repeat(ERROR_CHARS + 1);
        let text = rejections("report", &summary(&one), &[long]);
        assert!(
            text.contains(&format!("{}…\n", "é".repeat(ERROR_CHARS))),
            "{text}"
        );
    }
}
