//! The shipped Prometheus files, checked by Prometheus' own tool (`promtool`, Debian package
//! `prometheus`; `.ci/run` installs it): the example configuration and the rules parse, the
//! rules' unit tests pass, and every alert has a unit test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/prometheus")
}

/// Runs `promtool args…` in `cwd`; panics with its output unless it succeeds.
fn promtool(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("promtool (Debian package prometheus) is installed; .ci/run installs it");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// Names following `key: ` at the start of a (trimmed) YAML line.
fn names(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().trim_start_matches("- ").strip_prefix(key))
        .map(|n| n.trim().to_owned())
        .collect()
}

#[test]
fn example_configuration_and_rules_are_valid() {
    let out = promtool(&dir(), &["check", "config", "prometheus.yml"]);
    assert!(out.contains("1 rule files found"), "{out}");
    let out = promtool(&dir(), &["check", "rules", "postloan-monitor.rules.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn rule_unit_tests_pass() {
    let out = promtool(
        &dir().join("tests"),
        &["test", "rules", "postloan-monitor.test.yml"],
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_alert_has_a_unit_test() {
    let rules = std::fs::read_to_string(dir().join("postloan-monitor.rules.yml")).unwrap();
    let tests = std::fs::read_to_string(dir().join("tests/postloan-monitor.test.yml")).unwrap();
    let alerts = names(&rules, "alert:");
    assert!(alerts.len() >= 9, "{alerts:?}");
    let tested = names(&tests, "alertname:");
    for a in &alerts {
        assert!(tested.contains(a), "alert {a} has no promtool unit test");
    }
    // Each recording rule the alerts build on is checked too (a wrong recording rule would
    // make its alert test pass or fail for the wrong reason).
    for record in names(&rules, "record:") {
        assert!(
            rules.matches(record.as_str()).count() > 1 || tests.contains(&record),
            "recording rule {record} is neither used by an alert nor tested"
        );
    }
}
