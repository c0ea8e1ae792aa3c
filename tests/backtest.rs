//! `backtest`: identical configurations change nothing; the docs' worked-example books with a
//! DPD threshold moved give the diff computed by hand below; swapping baseline and candidate
//! mirrors everything.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::Value;

use postloan_engine::types::{Severity, Signal};
use postloan_engine::Settings;
use postloan_generate::{generate, GenerateOptions};
use postloan_monitor::backtest::compare::Changes;
use postloan_monitor::backtest::{backtest, diff, gate, Backtest, Options};
use postloan_monitor::config::Config;
use postloan_monitor::replay::replay;

const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn settings(toml: &str) -> Arc<Settings> {
    Arc::new(Config::from_toml(toml).unwrap().engine_settings())
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn options(a: &str, b: &str, until: Option<&str>) -> Options {
    Options {
        baseline: settings(a),
        candidate: settings(b),
        until: until.map(at),
        outcome_dpd: 90,
        horizon: Duration::days(180),
        contact_severity: Severity::Medium,
    }
}

fn run(book: &Path, opts: &Options) -> Backtest {
    backtest(opts, book, "book.jsonl", &mut |_| {}).unwrap()
}

fn docs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/examples/{name}.jsonl"))
}

/// A file of `lines` under the temp directory, unique to `test`.
fn book_file(test: &str, text: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "postloan-backtest-{test}-{}.jsonl",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

fn generated(borrowers: u32, months: u32, seed: u64, bad_ratio: f64) -> Vec<u8> {
    let mut out = Vec::new();
    generate(
        &GenerateOptions {
            borrowers,
            months,
            seed,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            bad_ratio,
            time_zone: SHANGHAI,
        },
        &mut out,
    )
    .unwrap();
    out
}

/// The business dates where A's workload differs from B's, with A − B.
fn workload_diff(bt: &Backtest) -> Vec<(String, i64)> {
    let (a, b) = (&bt.baseline.workload, &bt.candidate.workload);
    assert_eq!((a.first, a.counts.len()), (b.first, b.counts.len()));
    (0..)
        .zip(a.counts.iter().zip(&b.counts))
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| {
            let date = a.first + Duration::days(i);
            (date.to_string(), *x as i64 - *y as i64)
        })
        .collect()
}

fn diff_lines(bt: &Backtest) -> Vec<Value> {
    let mut out = Vec::new();
    diff::write(bt, SHANGHAI, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn changes(added: u64, removed: u64, changed: u64, same: u64) -> Changes {
    Changes {
        added,
        removed,
        changed,
        same,
    }
}

const MEDIUM_10: &str =
    "[rules.dpd]\nseverity = { low = 1, medium = 10, high = 30, critical = 90 }\n";
const LOW_3: &str = "[rules.dpd]\nseverity = { low = 3, medium = 7, high = 30, critical = 90 }\n";

/// `dpd` medium 7 → 10 days. The medium band only moves the day collections are asked to
/// call: every DPD episode still fires at DPD 1 (low) and peaks where it did, so by the
/// issue's definition nothing is added, removed or changed, and lead times stay. What changes
/// is the workload: an alert at DPD 7, 8 and 9 needs contact under A, not under B.
#[test]
fn the_docs_books_with_dpd_medium_moved_from_7_to_10_days() {
    // book.jsonl: B1/L1 is overdue from installment 2 (due 2026-03-10) until 03-28. DPD 7 on
    // 03-17 makes it medium under A, DPD 10 on 03-20 under B: A − B = 1 on 03-17, 03-18, 03-19.
    // Nothing defaults (the loan is refinanced).
    let bt = run(
        &docs("book"),
        &options("", MEDIUM_10, Some("2026-04-01T00:00:00+08:00")),
    );
    let c = &bt.comparison;
    assert_eq!((c.loans, c.outcomes), (1, 0));
    assert_eq!(c.total_changes, changes(0, 0, 0, 7));
    assert_eq!(c.baseline.total, c.candidate.total);
    assert_eq!(
        workload_diff(&bt),
        [("2026-03-17", 1), ("2026-03-18", 1), ("2026-03-19", 1)].map(|(d, n)| (d.to_owned(), n))
    );
    assert!(diff_lines(&bt).is_empty());

    // v2.jsonl: 17 episodes in each run (dpd 7, stale_income 5, stale_valuation 1,
    // early_warning 4), all the same.
    // Defaults: R1, S1, S2, S3 reach DPD 90 at 2026-05-01 00:00 (+08:00); H1's deferral keeps
    // it below. Lead times (first episode of any signal before the default): R1, S1, S3 fire
    // dpd at 02-01 → 89 days; S2's dpd fires when its dispute suppression lapses, 02-16 → 74
    // days. Median 89 on both sides.
    // Workload: R1, H1 (episode 1, until its deferral at 02-10), S1 and S3 are medium from
    // 02-07 under A and 02-10 under B (A − B = 4 on 02-07..09); S2 fires at DPD 16 (medium
    // in both); H1's second episode is medium from 05-07 vs 05-10 (A − B = 1 on 05-07..09).
    let bt = run(
        &docs("v2"),
        &options("", MEDIUM_10, Some("2026-06-08T00:00:00+08:00")),
    );
    let c = &bt.comparison;
    assert_eq!((c.loans, c.outcomes), (5, 4));
    assert_eq!(c.total_changes, changes(0, 0, 0, 17));
    assert_eq!(c.baseline.total, c.candidate.total);
    let dpd = &c.baseline.per_signal[Signal::Dpd.index()];
    assert_eq!(dpd.episodes, 7);
    // Hits R1, S1, S2, S3 episode 1; H1's two censored (no default before the end, the
    // horizon runs past it); R1's second opened after its default: late.
    assert_eq!(
        (
            dpd.score.hits,
            dpd.score.misses,
            dpd.score.censored,
            dpd.score.late
        ),
        (4, 0, 2, 1)
    );
    assert_eq!(
        c.baseline.total.score.leads_days,
        vec![74.0, 89.0, 89.0, 89.0]
    );
    assert_eq!(c.baseline.total.score.median_lead_days(), Some(89.0));
    let mut expected: Vec<(String, i64)> = ["2026-02-07", "2026-02-08", "2026-02-09"]
        .map(|d| (d.to_owned(), 4))
        .to_vec();
    expected.extend(["2026-05-07", "2026-05-08", "2026-05-09"].map(|d| (d.to_owned(), 1)));
    assert_eq!(workload_diff(&bt), expected);
}

/// `dpd` low 1 → 3 days: now the DPD episodes fire two days later.
#[test]
fn the_docs_books_with_dpd_low_moved_from_1_to_3_days() {
    // book.jsonl: B1/L1's DPD episode opens at DPD 3 (03-13) instead of DPD 1 (03-11).
    let bt = run(
        &docs("book"),
        &options("", LOW_3, Some("2026-04-01T00:00:00+08:00")),
    );
    assert_eq!(bt.comparison.total_changes, changes(0, 0, 1, 6));
    let lines = diff_lines(&bt);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["change"], "changed");
    assert_eq!(lines[0]["differs"], serde_json::json!(["opened_at"]));
    assert_eq!(
        lines[0]["baseline"]["opened_at"],
        "2026-03-11T00:00:00+08:00"
    );
    assert_eq!(
        lines[0]["candidate"]["opened_at"],
        "2026-03-13T00:00:00+08:00"
    );
    assert_eq!(
        lines[0]["candidate"]["resolved_at"],
        "2026-03-28T10:00:00+08:00"
    );

    // v2.jsonl: R1, H1, S1 and S3's first DPD episodes and H1's second open 2 days later
    // (changed: 5). R1's second (DPD 1 on 06-07, due 06-06) would reach DPD 3 on 06-09,
    // after the end: removed. S2's fires at DPD 16 in both: same.
    // Lead times: R1, S1, S3 87 days (02-03 → 05-01), S2 74: the median drops 89 → 87.
    let bt = run(
        &docs("v2"),
        &options("", LOW_3, Some("2026-06-08T00:00:00+08:00")),
    );
    let c = &bt.comparison;
    assert_eq!(c.total_changes, changes(0, 1, 5, 11));
    assert_eq!(c.changes[Signal::Dpd.index()], changes(0, 1, 5, 1));
    assert_eq!(
        c.candidate.total.score.leads_days,
        vec![74.0, 87.0, 87.0, 87.0]
    );
    assert_eq!(c.candidate.total.score.median_lead_days(), Some(87.0));
    assert_eq!(c.baseline.total.score.median_lead_days(), Some(89.0));
    // Recall stays 4 of 4.
    assert_eq!(c.candidate.total.score.recall(), Some(1.0));
    let lines = diff_lines(&bt);
    let removed: Vec<&Value> = lines.iter().filter(|l| l["change"] == "removed").collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["baseline"]["alert_id"], "R1/LR1/dpd/2");
    assert_eq!(removed[0]["baseline"]["outcome"], "late");
    assert_eq!(removed[0]["candidate"], Value::Null);
    let r1 = lines
        .iter()
        .find(|l| l["baseline"]["alert_id"] == "R1/LR1/dpd/1")
        .unwrap();
    assert_eq!(r1["baseline"]["lead_days"], 89.0);
    assert_eq!(r1["candidate"]["lead_days"], 87.0);
    assert_eq!(r1["candidate"]["outcome_at"], "2026-05-01T00:00:00+08:00");

    // The gate: lead time dropped 2 days, DPD episodes fell from 7 to 6 (−14.3 %), recall
    // held.
    let checked = gate::check(
        &gate::parse("lead_time_drop_days>1, dpd.episodes_increase_pct<-14, recall_drop_pct>0")
            .unwrap(),
        c,
    );
    let fired: Vec<bool> = checked.iter().map(|c| c.fired).collect();
    assert_eq!(fired, [true, true, false]);
    assert_eq!(checked[0].value, Some(2.0));
    assert_eq!(checked[2].value, Some(0.0));
}

#[test]
fn identical_configurations_give_no_diff_equal_figures_and_what_replay_publishes() {
    let text = generated(400, 18, 7, 0.002);
    let path = book_file("identical", &text);
    let bt = run(&path, &options("", "", None));
    let c = &bt.comparison;
    assert!(c.baseline.total.episodes > 500, "{:?}", c.baseline.total);
    assert!(c.outcomes > 0);
    assert_eq!(c.total_changes, changes(0, 0, 0, c.baseline.total.episodes));
    assert_eq!(c.baseline, c.candidate);
    assert!(!c.outcomes_differ);
    assert!(diff_lines(&bt).is_empty());
    // Each side publishes what replay publishes, and both saw the same bad lines.
    let mut out = Vec::new();
    let replayed = replay(
        settings(""),
        &mut text.as_slice(),
        "book.jsonl",
        None,
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    assert!(replayed.rejected.values().sum::<u64>() > 0);
    for side in [&bt.baseline, &bt.candidate] {
        assert_eq!(side.summary.fingerprint, replayed.fingerprint);
        assert_eq!(side.summary.rejected, replayed.rejected);
        assert_eq!(side.summary.messages, replayed.messages);
    }
    assert_eq!(bt.baseline.bad_lines, bt.candidate.bad_lines);
    std::fs::remove_file(path).unwrap();
}

/// A diff line as seen from the other side: added ↔ removed, baseline ↔ candidate.
fn mirrored(line: &Value) -> Value {
    let mut m = line.clone();
    m["change"] = match line["change"].as_str().unwrap() {
        "added" => "removed".into(),
        "removed" => "added".into(),
        other => other.into(),
    };
    m["baseline"] = line["candidate"].clone();
    m["candidate"] = line["baseline"].clone();
    m
}

fn sorted(mut v: Vec<Value>) -> Vec<String> {
    let mut s: Vec<String> = v.drain(..).map(|x| x.to_string()).collect();
    s.sort();
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Backtests of (A, B) and (B, A) are mirror images: figures swap sides, added and
    /// removed swap, the diff lines are each other's mirror.
    #[test]
    fn swapping_baseline_and_candidate_mirrors_the_backtest(
        seed in 0u64..1_000,
        low in 1u32..5,
        medium in 5u32..15,
        high in 20u32..45,
        level1 in prop::sample::select(vec![6u32, 24, 48]),
        drop_high in prop::sample::select(vec!["0.4", "0.5", "0.6"]),
    ) {
        let b = format!(
            "[rules.dpd]\nseverity = {{ low = {low}, medium = {medium}, high = {high}, critical = 90 }}\n\
             [rules.income_drop]\nseverity = {{ medium = \"0.30\", high = \"{drop_high}\" }}\n\
             [escalation]\nlevel1_after_hours = {level1}\n"
        );
        let path = book_file(&format!("mirror-{seed}-{low}-{medium}-{high}"), &generated(150, 14, seed, 0.0));
        let ab = run(&path, &options("", &b, None));
        let ba = run(&path, &options(&b, "", None));
        std::fs::remove_file(&path).unwrap();
        let (x, y) = (&ab.comparison, &ba.comparison);
        prop_assert_eq!(&x.baseline, &y.candidate);
        prop_assert_eq!(&x.candidate, &y.baseline);
        for (p, q) in x.changes.iter().chain([&x.total_changes]).zip(y.changes.iter().chain([&y.total_changes])) {
            prop_assert_eq!((p.added, p.removed, p.changed, p.same), (q.removed, q.added, q.changed, q.same));
        }
        prop_assert_eq!(sorted(diff_lines(&ab).iter().map(mirrored).collect()), sorted(diff_lines(&ba)));
    }
}

/// The README's worked example is what the command prints on the demo's book (all but the
/// run time).
#[test]
fn the_readme_worked_example_is_real_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("\nbacktest: ")
        .expect("the example's output in README.md")
        + 1;
    let shown: Vec<&str> = readme[start..]
        .lines()
        .take_while(|l| !l.starts_with("```"))
        .collect();
    let dir = std::env::temp_dir().join(format!("postloan-backtest-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The demo's book: `generate --borrowers 10000 --months 24 --bad-ratio 0.002` (seed 1).
    std::fs::write(dir.join("demo-book.jsonl"), generated(10_000, 24, 1, 0.002)).unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/monitor.toml");
    let candidate = std::fs::read_to_string(config)
        .unwrap()
        .replace(r#"high = "0.8" }"#, r#"high = "0.7" }"#);
    std::fs::write(dir.join("candidate.toml"), candidate).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
        .current_dir(&dir)
        .args([
            "backtest",
            "--input",
            "demo-book.jsonl",
            "--baseline",
            config,
        ])
        .args([
            "--candidate",
            "candidate.toml",
            "--until",
            "2027-01-01T00:00:00+08:00",
        ])
        .args(["--output", "diff.jsonl", "--html", "backtest.html"])
        .args(["--fail-if", "escalations_increase_pct>5, recall_drop_pct>2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed: Vec<&str> = stdout.lines().collect();
    // The first line ends with the run time.
    let without_time = |l: &str| {
        l.rsplit_once(", ")
            .map_or(l.to_owned(), |(head, _)| head.to_owned())
    };
    assert_eq!(without_time(printed[0]), without_time(shown[0]));
    assert_eq!(printed[1..], shown[1..]);
    std::fs::remove_dir_all(dir).ok();
}
