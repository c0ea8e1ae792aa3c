//! The shipped Alertmanager routing tree (config/alertmanager/alertmanager.yml), checked by
//! Alertmanager's own tool (`amtool`, Debian package `prometheus-alertmanager`; `.ci/run`
//! installs it): the file is valid, every kind of alert reaches the receiver the README names,
//! and the file keeps the layout tests/common/alertmanager.rs rewrites for a real Alertmanager.

use std::path::{Path, PathBuf};
use std::process::Command;

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/alertmanager/alertmanager.yml")
}

/// Runs `amtool args…`; panics with its output unless it succeeds. Returns its stdout (amtool
/// writes warnings such as "--config.file flag overrides the --alertmanager.url" to stderr).
fn amtool(args: &[&str]) -> String {
    let out = Command::new("amtool").args(args).output().expect(
        "amtool (Debian package prometheus-alertmanager) is installed; .ci/run installs it",
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "amtool {args:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn configuration_is_valid() {
    let file = config();
    let out = amtool(&["check-config", file.to_str().unwrap()]);
    assert!(out.contains("SUCCESS"), "{out}");
    for found in ["global config", "route", "1 inhibit rules", "5 receivers"] {
        assert!(out.contains(found), "amtool found no {found:?}:\n{out}");
    }
}

#[test]
fn each_alert_reaches_the_receiver_the_readme_names() {
    // (labels of the alert, the receivers amtool prints)
    let cases: &[(&[&str], &str)] = &[
        (
            &["alertname=PostloanEscalation", "level=1", "branch_id=SH01"],
            "team-lead-SH01",
        ),
        (
            &["alertname=PostloanEscalation", "level=1", "branch_id=BR01"],
            "team-lead-BR01",
        ),
        (
            &["alertname=PostloanEscalation", "level=1", "branch_id=ZZ99"],
            "team-lead-default",
        ),
        (
            &["alertname=PostloanEscalation", "level=1"],
            "team-lead-default",
        ),
        // As notify labels it: the routes must not depend on the other labels.
        (
            &[
                "alertname=PostloanEscalation",
                "level=1",
                "notify=team_lead",
                "signal=dpd",
                "severity=high",
                "borrower_id=B000123",
                "branch_id=SH01",
                "manager_id=M07",
                "alert_id=B000123/L000123-1/dpd/1",
                "escalation_id=B000123/L000123-1/dpd/1/L1",
            ],
            "team-lead-SH01",
        ),
        (
            &["alertname=PostloanEscalation", "level=2", "branch_id=SH01"],
            "risk-head",
        ),
        (
            &["alertname=PostloanEscalation", "level=2", "branch_id=BR01"],
            "risk-head",
        ),
        (
            &["alertname=PostloanEscalation", "level=2", "branch_id=ZZ99"],
            "risk-head",
        ),
        (&["alertname=PostloanEscalation", "level=2"], "risk-head"),
        (
            &[
                "alertname=PostloanBranchNplRatioHigh",
                "notify=risk_head",
                "severity=ticket",
                "team=risk",
                "branch=BR01",
                "currency=USD",
            ],
            "risk-head",
        ),
        (
            &[
                "alertname=PostloanNotifyDeliveryFailing",
                "severity=page",
                "team=platform",
                "job=postloan-notify",
                "instance=127.0.0.1:9465",
            ],
            "ops",
        ),
        (
            &[
                "alertname=PostloanNotifyDown",
                "severity=page",
                "team=platform",
            ],
            "ops",
        ),
    ];
    let file = format!("--config.file={}", config().display());
    let mut wrong = Vec::new();
    for (labels, want) in cases {
        let mut args = vec!["config", "routes", "test", file.as_str()];
        args.extend_from_slice(labels);
        let got = amtool(&args);
        if got.trim() != *want {
            wrong.push(format!("{labels:?}: {} instead of {want}", got.trim()));
        }
    }
    assert!(wrong.is_empty(), "misrouted:\n{}", wrong.join("\n"));
}

/// The layout tests/common/alertmanager.rs relies on when it swaps the receivers for webhooks.
#[test]
fn file_keeps_the_layout_the_integration_test_rewrites() {
    let text = std::fs::read_to_string(config()).unwrap();
    let top_level: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with([' ', '#']))
        .collect();
    assert_eq!(
        top_level,
        ["global:", "route:", "inhibit_rules:", "receivers:"],
        "top-level keys: global first (SMTP only), receivers last, nothing else"
    );
    let (head, receivers) = text
        .split_once("\nreceivers:\n")
        .expect("a line `receivers:` alone");
    let global: Vec<&str> = head
        .lines()
        .skip_while(|l| *l != "global:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with([' ', '#']))
        .filter_map(|l| l.trim_start().split(':').next())
        .filter(|k| !k.is_empty() && !k.starts_with('#'))
        .collect();
    assert!(
        global.iter().all(|k| k.starts_with("smtp_")),
        "global holds SMTP settings only: {global:?}"
    );
    let names: Vec<&str> = receivers
        .lines()
        .filter_map(|l| l.strip_prefix("  - name: "))
        .collect();
    assert_eq!(
        names,
        [
            "team-lead-SH01",
            "team-lead-BR01",
            "team-lead-default",
            "risk-head",
            "ops"
        ]
    );
    // Every receiver item starts `  - name: ` (no other two-space list item in the list).
    let items = receivers.lines().filter(|l| l.starts_with("  - ")).count();
    assert_eq!(items, names.len(), "{receivers}");
    // Each integration of each receiver sends resolved notifications.
    let integrations = receivers
        .lines()
        .filter(|l| l.starts_with("      - "))
        .count();
    assert_eq!(
        receivers.matches("send_resolved: true").count(),
        integrations,
        "every integration has send_resolved: true"
    );
    assert!(
        head.contains(
            "  - source_matchers: [alertname=\"PostloanEscalation\", level=\"2\"]\n    \
             target_matchers: [alertname=\"PostloanEscalation\", level=\"1\"]\n    \
             equal: [alert_id]\n"
        ),
        "level 2 of an alert inhibits its level 1"
    );
}
