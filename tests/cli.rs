//! The binary as a user runs it: exit codes, stdout/stderr split, files.

use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("plm-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn replay_of_hostile_lines_exits_0_with_one_rejection_each() {
    let lines: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x01],
        b"\xef\xbb\xbf{\"event_id\":\"e\"}".to_vec(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        format!("{{\"event_id\":\"{}\"}}", "x".repeat(1_000_000)).into_bytes(),
        br#"{"event_id":"e1","type":"income","borrower_id":"B1","occurred_at":"2026-01-01T00:00:00Z","monthly_income":1e999999,"currency":"CNY","source":"payroll"}"#.to_vec(),
        br#"{"event_id":"e2","type":"income","borrower_id":"B1","occurred_at":"2026-01-01T00:00:00Z","monthly_income":"NaN","currency":"CNY","source":"payroll"}"#.to_vec(),
        br#"{"event_id":"e3","type":"income","borrower_id":"B1","occurred_at":"+275760-09-13T00:00:00Z","monthly_income":"1","currency":"CNY","source":"payroll"}"#.to_vec(),
    ];
    let mut child = bin()
        .args(["replay", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for l in &lines {
            stdin.write_all(l).unwrap();
            stdin.write_all(b"\n").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let msgs: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(msgs.len(), lines.len());
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(m["kind"], "rejected");
        assert_eq!(m["source"], format!("-/{}", i + 1));
    }
    assert_eq!(msgs[1]["payload_base64"], "//4AAQ==");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Replay summary"));
}

#[test]
fn replay_writes_the_output_file_and_until_fires_timers() {
    let dir = temp_dir("replay");
    let input = dir.join("events.jsonl");
    std::fs::write(
        &input,
        r#"{"event_id":"e1","type":"loan_opened","borrower_id":"B1","occurred_at":"2026-01-05T10:00:00+08:00","loan_id":"L1","principal":"1000","currency":"CNY","annual_rate":"0","term_months":10,"first_due_date":"2026-02-10","installment_amount":"100","collateral_value":"2000"}
"#,
    )
    .unwrap();
    let output = dir.join("out.jsonl");
    let status = bin()
        .args(["replay", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--until", "2026-02-11T00:00:00+08:00"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::fs::read_to_string(&output).unwrap();
    assert!(out.contains("\"message_id\":\"B1/L1/dpd/1#1\""), "{out}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn report_writes_the_page_and_csvs_and_exits_2_on_a_bad_config() {
    let dir = temp_dir("report");
    let input = dir.join("events.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"event_id":"e1","type":"loan_opened","borrower_id":"B1","occurred_at":"2026-01-05T10:00:00+08:00","loan_id":"L1","principal":"1000","currency":"CNY","annual_rate":"0","term_months":10,"first_due_date":"2026-02-10","installment_amount":"100","collateral_value":"2000"}"#,
            "\nnot json\n"
        ),
    )
    .unwrap();
    let html = dir.join("report.html");
    let out = bin()
        .args(["report", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&html)
        .arg("--csv")
        .arg(dir.join("csv"))
        .args(["--until", "2026-06-01T00:00:00+08:00"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("report: 5 month-ends"), "{stderr}");
    assert!(
        stderr.contains("malformed_json"),
        "the summary counts the bad line: {stderr}"
    );
    // January to May: 1 DPD from Feb 11, 109 on May 31 (substandard, 1,000 of 1,000 NPL).
    let npl = std::fs::read_to_string(dir.join("csv/npl.csv")).unwrap();
    assert!(
        npl.contains("2026-05,CNY,1,1000,1,1000,1.000000,1000,1.000000,1000,1.000000"),
        "{npl}"
    );
    let bad = std::fs::read_to_string(dir.join("csv/bad-lines.csv")).unwrap();
    assert!(bad.contains("events.jsonl/2,malformed_json,"), "{bad}");
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));

    let config = dir.join("bad.toml");
    std::fs::write(&config, "[classification]\nbands = []\n").unwrap();
    let out = bin()
        .args(["report", "--input"])
        .arg(&input)
        .arg("--config")
        .arg(&config)
        .arg("--output")
        .arg(dir.join("never.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("classification.bands"));
    assert!(!dir.join("never.html").exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn backtest_exits_0_writes_its_files_and_3_when_a_fail_if_holds() {
    let dir = temp_dir("backtest");
    let root = env!("CARGO_MANIFEST_DIR");
    let a = dir.join("a.toml");
    let b = dir.join("b.toml");
    std::fs::copy(format!("{root}/config/monitor.toml"), &a).unwrap();
    let moved = std::fs::read_to_string(&a)
        .unwrap()
        .replace("low = 1, medium = 7,", "low = 3, medium = 7,");
    assert_ne!(moved, std::fs::read_to_string(&a).unwrap());
    std::fs::write(&b, moved).unwrap();
    let backtest = |extra: &[&str]| {
        bin()
            .args([
                "backtest",
                "--input",
                &format!("{root}/docs/examples/v2.jsonl"),
            ])
            .arg("--baseline")
            .arg(&a)
            .arg("--candidate")
            .arg(&b)
            .args(["--until", "2026-06-08T00:00:00+08:00"])
            .args(extra)
            .output()
            .unwrap()
    };
    let diff = dir.join("diff.jsonl");
    let html = dir.join("diff.html");
    let out = backtest(&[
        "--output",
        diff.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--fail-if",
        "recall_drop_pct>0",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("5 loans, 4 defaults"), "{stdout}");
    assert!(
        stdout.contains("fail-if recall_drop_pct>0: 0.00 → ok"),
        "{stdout}"
    );
    // Five changed and one removed DPD episode (tests/backtest.rs computes them by hand).
    assert_eq!(std::fs::read_to_string(&diff).unwrap().lines().count(), 6);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for section in [
        "Collections workload per week",
        "Episodes added, removed or changed",
    ] {
        assert!(page.contains(section), "{section}");
    }
    assert!(
        page.contains("<td>removed</td>"),
        "R1's second DPD episode is listed"
    );

    let out = backtest(&[
        "--fail-if",
        "lead_time_drop_days>1",
        "--fail-if",
        "episodes_added>0",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("fail-if lead_time_drop_days>1: 2.00 → FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("fail-if episodes_added>0: 0.00 → ok"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn report_says_what_it_rejected_and_stops_at_the_last_accepted_event() {
    let dir = temp_dir("report-dirty");
    let input = dir.join("book.jsonl");
    // The last accepted event is L1's opening on 2026-01-05; line 2 (an unknown loan, a state
    // conflict) still moves the clock to 2026-03-20, past two month-ends. (A jump of 74 days:
    // this sparse book widens the clock-jump rule, which would otherwise reject line 2 as an
    // unconfirmed jump without moving the clock at all.)
    let config = dir.join("sparse.toml");
    std::fs::write(&config, "[limits]\nmax_clock_jump_days = 400\n").unwrap();
    std::fs::write(
        &input,
        concat!(
            r#"{"event_id":"e1","type":"loan_opened","borrower_id":"B1","occurred_at":"2026-01-05T10:00:00+08:00","loan_id":"L1","principal":"1000","currency":"CNY","annual_rate":"0","term_months":10,"first_due_date":"2026-02-10","installment_amount":"100","collateral_value":"2000"}"#,
            "\n",
            r#"{"event_id":"x1","type":"repayment","borrower_id":"B1","occurred_at":"2026-03-20T10:00:00+08:00","loan_id":"L9","payment_id":"P9","amount":"100","currency":"CNY","status":"received"}"#,
            "\n",
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let report = |until: Option<&str>| {
        let mut args = vec!["--config", config.as_str()];
        args.extend(until.map(|u| ["--until", u]).into_iter().flatten());
        report_months(&dir, &input, &args)
    };

    let (stderr, months) = report(None);
    let source = format!("{}/2", input.display());
    assert!(
        stderr.contains(&format!(
            "report: 1 input line rejected (unknown_loan 1); the first:\n  {source}  unknown_loan  "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "report: 2 month-ends (2026-01 to 2026-02) after the last accepted event (2026-01-05) \
             are not written (only rejected lines moved the clock there); pass --until to write them"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("report: 0 month-ends"), "{stderr}");
    assert!(months.is_empty(), "{months:?}");

    let (stderr, months) = report(Some("2026-03-01T00:00:00+08:00"));
    assert!(!stderr.contains("not written"), "{stderr}");
    assert!(stderr.contains("report: 2 month-ends"), "{stderr}");
    assert_eq!(months, ["2026-01", "2026-02"]);

    // A clean book: one short line.
    std::fs::write(
        &input,
        std::fs::read_to_string(&input)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let (stderr, _) = report(None);
    assert!(
        stderr.contains("report: no input lines rejected\n"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn backtest_says_what_each_side_rejected() {
    let dir = temp_dir("backtest-rejected");
    let root = env!("CARGO_MANIFEST_DIR");
    let monitor = std::fs::read_to_string(format!("{root}/config/monitor.toml")).unwrap();
    let a = dir.join("a.toml");
    let b = dir.join("b.toml");
    std::fs::write(&a, &monitor).unwrap();
    // B takes no line over 4 KiB: A finds the long line malformed, B too large.
    let small = monitor.replace("max_event_bytes = 1048576", "max_event_bytes = 4096");
    assert_ne!(small, monitor);
    std::fs::write(&b, small).unwrap();
    let input = dir.join("book.jsonl");
    let book = std::fs::read_to_string(format!("{root}/docs/examples/v2.jsonl")).unwrap();
    let long = "x".repeat(5000);
    std::fs::write(&input, format!("{book}not json\n{long}\n")).unwrap();
    let bad = book.lines().count() + 1;
    let backtest = |candidate: &std::path::Path| {
        let out = bin()
            .args(["backtest", "--input"])
            .arg(&input)
            .arg("--baseline")
            .arg(&a)
            .arg("--candidate")
            .arg(candidate)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        stderr
    };
    let source = format!("{}/{bad}", input.display());

    let same = backtest(&a);
    assert!(
        same.contains(&format!(
            "backtest: 2 input lines rejected (malformed_json 2); the first:\n  {source}  malformed_json  "
        )),
        "{same}"
    );
    assert!(!same.contains("baseline (A)"), "{same}");

    let differ = backtest(&b);
    assert!(
        differ.contains(&format!(
            "backtest baseline (A): 2 input lines rejected (malformed_json 2); the first:\n  {source}  "
        )),
        "{differ}"
    );
    let b_line = differ
        .lines()
        .find(|l| l.starts_with("backtest candidate (B): "))
        .expect(&differ);
    // Kinds in ErrorKind::ALL order, whatever the input's.
    assert!(
        b_line.contains("2 input lines rejected (malformed_json 1, too_large 1)"),
        "{b_line}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn backtest_lists_every_problem_of_both_configs_and_the_arguments_then_exits_2() {
    let dir = temp_dir("backtest-bad");
    let a = dir.join("a.toml");
    let b = dir.join("b.toml");
    std::fs::write(
        &a,
        "[rules.dpd]\nseverity = { low = 9, medium = 7 }\nspeling = 1\n",
    )
    .unwrap();
    std::fs::write(&b, "[classification]\nbands = []\n").unwrap();
    let out = bin()
        .args(["backtest", "--input", "-"])
        .arg("--baseline")
        .arg(&a)
        .arg("--candidate")
        .arg(&b)
        .args([
            "--fail-if",
            "alerts_increase_pct>10",
            "--contact-severity",
            "urgent",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let a_name = a.display().to_string();
    let b_name = b.display().to_string();
    // Each file's problems under its own name, every one of them.
    let a_line = stderr
        .lines()
        .position(|l| l.contains(&a_name))
        .expect(&stderr);
    let b_line = stderr
        .lines()
        .position(|l| l.contains(&b_name))
        .expect(&stderr);
    assert!(a_line < b_line, "{stderr}");
    for needle in [
        "rules.dpd.speling",
        "rules.dpd.severity",
        "classification.bands",
        "unknown metric \"alerts_increase_pct\"",
        "--contact-severity \"urgent\"",
        "--input: a file is needed",
    ] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn check_config_prints_ok_or_every_problem() {
    let ok = bin()
        .args([
            "check-config",
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/monitor.toml"),
        ])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let said = String::from_utf8_lossy(&ok.stdout);
    // config/monitor.toml spells out the defaults: the same settings, the same version.
    assert!(said.starts_with("OK"), "{said}");
    assert!(said.contains("rules_version 0a6d9ba8e217a8e7"), "{said}");

    let dir = temp_dir("config");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[rules.dpd]\nseverity = { low = 9, medium = 7 }\n[rules.nope]\n[escalation]\nlevel2_after_hours = 1\n").unwrap();
    let out = bin()
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "3 problems",
        "rules.nope",
        "rules.dpd.severity",
        "escalation.level2_after_hours",
    ] {
        assert!(err.contains(needle), "missing {needle} in {err}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn generate_is_deterministic_per_seed() {
    let run = |seed: &str| {
        bin()
            .args([
                "generate",
                "--borrowers",
                "50",
                "--months",
                "6",
                "--seed",
                seed,
            ])
            .stderr(Stdio::null())
            .output()
            .unwrap()
            .stdout
    };
    let a = run("3");
    assert!(!a.is_empty());
    assert_eq!(a, run("3"));
    assert_ne!(a, run("4"));
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::io::{BufRead, BufReader};
    let mut child = bin()
        .args(["generate", "--borrowers", "3000", "--months", "12"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone now (as with `| head -1`).
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with('{'));
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
}

/// The main job checks itself: the demo's published messages equal replay's, and it says so.
#[test]
fn demo_matches_replay_and_says_so() {
    let dir = temp_dir("demo");
    let report = dir.join("demo-report.html");
    let out = bin()
        .args([
            "demo",
            "--borrowers",
            "300",
            "--months",
            "12",
            "--show",
            "1",
        ])
        .args(["--listen", "127.0.0.1:0"])
        .arg("--report")
        .arg(&report)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}", out.status);
    // The book's monthly report, through its 12th month, and where it is.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("Month-ends 2025-01 to 2025-12 (12 months)"),
        "{html:.2000}"
    );
    let canonical = std::fs::canonicalize(&report).unwrap();
    assert!(
        stdout.contains(&format!(
            "Monthly risk report (12 month-ends): {}",
            canonical.display()
        )),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).ok();
    let verdict = stdout
        .lines()
        .find(|l| l.starts_with("Output "))
        .unwrap_or_default();
    assert!(
        verdict.starts_with("Output matches replay: "),
        "no verdict in\n{stdout}"
    );
    assert!(stdout.contains(" 0 late"), "{stdout}");
}

/// The issue's report case in small: one repayment dated 2099 in a 2026 book is rejected as an
/// implausible time, and the report's month-ends stop where the book does (not 888 of them).
#[test]
fn a_year_typo_in_a_reports_book_is_rejected_and_moves_no_month_end() {
    let dir = temp_dir("report-typo");
    let input = dir.join("book.jsonl");
    std::fs::write(
        &input,
        [
            r#"{"event_id":"e1","type":"loan_opened","borrower_id":"B1","occurred_at":"2026-01-05T10:00:00+08:00","loan_id":"L1","principal":"1000","currency":"CNY","annual_rate":"0","term_months":10,"first_due_date":"2026-02-10","installment_amount":"100","collateral_value":"2000"}"#,
            r#"{"event_id":"e2","type":"repayment","borrower_id":"B1","occurred_at":"2099-01-20T10:00:00+08:00","loan_id":"L1","payment_id":"P1","amount":"100","currency":"CNY","status":"received"}"#,
            r#"{"event_id":"e3","type":"income","borrower_id":"B1","occurred_at":"2026-02-03T10:00:00+08:00","monthly_income":"9000","currency":"CNY","source":"payroll"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let (stderr, months) = report_months(&dir, &input, &[]);
    assert!(
        stderr.contains("report: 1 input line rejected (implausible_time 1)"),
        "{stderr}"
    );
    assert!(stderr.contains("report: 1 month-ends"), "{stderr}");
    assert_eq!(months, ["2026-01"]);
}

/// Runs `report` on `input` with `args`, writing into `dir`; requires success and returns its
/// stderr and the months of its NPL table.
fn report_months(
    dir: &std::path::Path,
    input: &std::path::Path,
    args: &[&str],
) -> (String, Vec<String>) {
    let out = bin()
        .args(["report", "--input"])
        .arg(input)
        .arg("--output")
        .arg(dir.join("report.html"))
        .arg("--csv")
        .arg(dir.join("csv"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let npl = std::fs::read_to_string(dir.join("csv/npl.csv")).unwrap();
    let months = npl
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_owned())
        .collect();
    (stderr, months)
}
