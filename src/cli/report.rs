//! `postloan-monitor report`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;

use crate::report::figures::Withheld;
use crate::report::{html, report};
use postloan_engine::time::business_date;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSONL events, one object per line, in the order to apply them; `-` reads stdin.
    #[arg(long)]
    pub input: String,
    /// Configuration file (default: the built-in defaults, as in config/monitor.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// After the last event, advance the clock to this RFC 3339 instant: month-ends up to it
    /// are reported too (e.g. the local midnight that closes the book's last month).
    #[arg(long)]
    pub until: Option<DateTime<FixedOffset>>,
    /// The HTML report to write (one self-contained file).
    #[arg(long)]
    pub output: PathBuf,
    /// Also write each table as `<section>.csv` into this directory (created if missing).
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// What the report says of the month-ends it left out.
fn withheld(w: &Withheld, tz: chrono_tz::Tz, until: bool) -> String {
    let months = if w.months == 1 {
        format!("1 month-end ({})", w.first.format("%Y-%m"))
    } else {
        format!(
            "{} month-ends ({} to {})",
            w.months,
            w.first.format("%Y-%m"),
            w.last.format("%Y-%m")
        )
    };
    let verb = if w.months == 1 { "is" } else { "are" };
    let pass = if until { "a later --until" } else { "--until" };
    let why = match w.last_applied {
        Some(t) => format!(
            "after the last accepted event ({}){} {verb} not written (only rejected lines moved the clock there)",
            business_date(t, tz),
            if until { " and --until" } else { "" }
        ),
        None => format!(
            "{}{verb} not written (no line was accepted; only rejected lines moved the clock there)",
            if until { "after --until " } else { "" }
        ),
    };
    format!("report: {months} {why}; pass {pass} to write them")
}

/// Replays the book, writes the report (and CSVs); the replay summary goes to stderr.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let settings = Arc::new(config.engine_settings());
    let tz = settings.tz;
    let (mut input, size) = super::replay::open_input(&args.input)?;
    let bar = super::replay::progress_bar(size, "report");
    let until = args.until.map(|t| t.with_timezone(&Utc));
    let (figures, page, text) = report(settings, &mut input, &args.input, until, &mut |bytes| {
        bar.set_position(bytes)
    })?;
    bar.finish_and_clear();
    std::fs::write(&args.output, text)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprint!("{}", super::summary::render(&figures.summary, tz));
    eprint!(
        "{}",
        super::summary::rejections("report", &figures.summary, &figures.bad_lines)
    );
    if let Some(w) = &figures.withheld {
        eprintln!("{}", withheld(w, tz, args.until.is_some()));
    }
    eprintln!(
        "report: {} month-ends → {}",
        figures.months.len(),
        args.output.display()
    );
    if let Some(dir) = &args.csv {
        let written = html::write_csvs(dir, &page)?;
        eprintln!("csv: {} files → {}", written.len(), dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[test]
    fn withheld_names_the_months_the_last_event_and_the_way_out() {
        let tz = chrono_tz::Asia::Shanghai;
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        // 23:30 UTC is the next morning in Shanghai: the business date is what is named.
        let last = Utc.with_ymd_and_hms(2025, 12, 15, 23, 30, 0).unwrap();
        let w = Withheld {
            first: d(2025, 12),
            last: d(2026, 1),
            months: 2,
            last_applied: Some(last),
        };
        assert_eq!(
            withheld(&w, tz, false),
            "report: 2 month-ends (2025-12 to 2026-01) after the last accepted event (2025-12-16) \
             are not written (only rejected lines moved the clock there); pass --until to write them"
        );
        let one = Withheld {
            last: d(2025, 12),
            months: 1,
            last_applied: None,
            ..w
        };
        assert_eq!(
            withheld(&one, tz, true),
            "report: 1 month-end (2025-12) after --until is not written (no line was accepted; only \
             rejected lines moved the clock there); pass a later --until to write them"
        );
    }
}
