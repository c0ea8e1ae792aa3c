//! `postloan-monitor backtest`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use clap::Args;

use super::{EXIT_CONFIG, EXIT_GATE};
use crate::backtest::{self, diff, gate, page, text, Options};
use crate::config::Config;
use crate::report::html;
use postloan_engine::types::Severity;

/// Arguments of `backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// JSONL events, one object per line, in the order to apply them. A file, not `-`: both
    /// runs read it, in parallel.
    #[arg(long)]
    pub input: PathBuf,
    /// The configuration in force (A). Environment overrides do not apply: the two files
    /// are the whole comparison.
    #[arg(long)]
    pub baseline: PathBuf,
    /// The proposed configuration (B).
    #[arg(long)]
    pub candidate: PathBuf,
    /// After the last event, advance both clocks to this RFC 3339 instant.
    #[arg(long)]
    pub until: Option<DateTime<FixedOffset>>,
    /// A loan defaults (the outcome) when its DPD reaches this, or when it closes
    /// charged_off or repossessed.
    #[arg(long, default_value_t = 90)]
    pub outcome_dpd: u32,
    /// A default counts for an episode when it comes within this many days after the
    /// episode opened.
    #[arg(long, default_value_t = 180)]
    pub horizon_days: u32,
    /// The lowest severity whose open alerts need a collector's contact (the workload).
    #[arg(long, default_value = "medium")]
    pub contact_severity: String,
    /// Write one JSON line per added, removed or changed episode here.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write the comparison as one self-contained HTML page here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also write the page's tables as CSV files into this directory.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Exit 3 when a condition holds, e.g. 'episodes_increase_pct>10' or
    /// 'dpd.recall_drop_pct>2' (comma-separated or repeated; see docs/backtest.md).
    #[arg(long = "fail-if")]
    pub fail_if: Vec<String>,
}

fn load(path: &std::path::Path, problems: &mut Vec<String>) -> Option<Config> {
    match Config::load(Some(path), std::iter::empty()) {
        Ok(c) => Some(c),
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            None
        }
    }
}

/// What each side rejected: once when both rejected the same lines for the same reasons (the
/// usual case: one book), else per side (their limits may differ).
fn rejections(bt: &backtest::Backtest) -> String {
    let (a, b) = (&bt.baseline, &bt.candidate);
    if a.summary.rejected == b.summary.rejected && a.bad_lines == b.bad_lines {
        return super::summary::rejections("backtest", &a.summary, &a.bad_lines);
    }
    super::summary::rejections("backtest baseline (A)", &a.summary, &a.bad_lines)
        + &super::summary::rejections("backtest candidate (B)", &b.summary, &b.bad_lines)
}

/// Runs both configurations, prints the comparison, writes what was asked; exit 0, 2 (bad
/// arguments or configuration: every problem is listed) or 3 (a `--fail-if` held).
pub fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let mut problems = Vec::new();
    let baseline = load(&args.baseline, &mut problems);
    let candidate = load(&args.candidate, &mut problems);
    let mut conditions = Vec::new();
    for expr in &args.fail_if {
        match gate::parse(expr) {
            Ok(c) => conditions.extend(c),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let contact = Severity::ALL
        .into_iter()
        .find(|s| s.as_str() == args.contact_severity);
    if contact.is_none() {
        problems.push(format!(
            "--contact-severity {:?}: not a severity (one of {})",
            args.contact_severity,
            Severity::ALL.map(Severity::as_str).join(", ")
        ));
    }
    if args.outcome_dpd == 0 {
        problems.push("--outcome-dpd: must be at least 1".to_owned());
    }
    if args.horizon_days == 0 {
        problems.push("--horizon-days: must be at least 1".to_owned());
    }
    if args.input.as_os_str() == "-" {
        problems.push(
            "--input: a file is needed (both runs read it; stdin can be read once)".to_owned(),
        );
    }
    let (Some(baseline), Some(candidate), Some(contact), true) =
        (baseline, candidate, contact, problems.is_empty())
    else {
        for p in &problems {
            eprintln!("error: {p}");
        }
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let opts = Options {
        baseline: Arc::new(baseline.engine_settings()),
        candidate: Arc::new(candidate.engine_settings()),
        until: args.until.map(|t| t.with_timezone(&Utc)),
        outcome_dpd: args.outcome_dpd,
        horizon: Duration::days(i64::from(args.horizon_days)),
        contact_severity: contact,
    };
    let name = args.input.display().to_string();
    let size = std::fs::metadata(&args.input).ok().map(|m| m.len());
    let bar = super::replay::progress_bar(size, "backtest");
    let bt = backtest::backtest(&opts, &args.input, &name, &mut |bytes| {
        bar.set_position(bytes)
    })?;
    bar.finish_and_clear();
    let tz = opts.baseline.tz;
    eprint!("{}", super::summary::render(&bt.baseline.summary, tz));
    eprint!("{}", rejections(&bt));
    let c = &bt.comparison;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "backtest: {} loans, {} defaults (DPD ≥ {} or a loss closing; horizon {} days), {:.1} s",
        c.loans,
        c.outcomes,
        c.outcome_dpd,
        c.horizon.num_days(),
        bt.elapsed.as_secs_f64()
    )?;
    write!(out, "{}", text::table(c))?;
    if c.outcomes_differ {
        writeln!(
            out,
            "note: the candidate counts DPD differently; defaults are the baseline's"
        )?;
    }
    if let Some(path) = &args.output {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        let n = diff::write(&bt, tz, &mut f)?;
        f.flush()?;
        writeln!(out, "diff: {n} episodes → {}", path.display())?;
    }
    if args.html.is_some() || args.csv.is_some() {
        let ctx = page::Context {
            input: name.clone(),
            baseline: (
                args.baseline.display().to_string(),
                opts.baseline.rules_version.to_string(),
            ),
            candidate: (
                args.candidate.display().to_string(),
                opts.candidate.rules_version.to_string(),
            ),
            contact_severity: contact.as_str(),
            tz,
        };
        let p = page::page(&bt, &ctx);
        if let Some(path) = &args.html {
            std::fs::write(path, html::render_page(&p)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "html: {}", path.display())?;
        }
        if let Some(dir) = &args.csv {
            let written = html::write_csvs(dir, &p)?;
            writeln!(out, "csv: {} files → {}", written.len(), dir.display())?;
        }
    }
    let checked = gate::check(&conditions, c);
    for ch in &checked {
        let value = ch
            .value
            .map_or_else(|| "undefined".to_owned(), |v| format!("{v:.2}"));
        let verdict = if ch.fired { "FAILED" } else { "ok" };
        writeln!(out, "fail-if {}: {value} → {verdict}", ch.condition)?;
    }
    if checked.iter().any(|c| c.fired) {
        return Ok(ExitCode::from(EXIT_GATE));
    }
    Ok(ExitCode::SUCCESS)
}
