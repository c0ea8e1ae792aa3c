//! `run`'s HTTP endpoint against a monitor at work on the embedded broker: `/healthz` answers
//! at once, `/readyz` turns 200 once the partitions are restored, `/metrics` counts every input
//! of the book, reports the book's portfolio as replaying it gives, and passes `promtool check
//! metrics` (Debian package `prometheus`; `.ci/run` installs it).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::e2e;
use common::http::{free_port, get, sum, total};
use common::wait_for;
use postloan_engine::portfolio::Portfolio;
use postloan_engine::{ClockMode, Engine, Input};
use postloan_monitor::config::Config;
use postloan_monitor::kafka::broker::EmbeddedBroker;

/// The book's portfolio as one engine replaying it sees it.
fn replayed(lines: &[String]) -> Portfolio {
    let settings = Arc::new(Config::default().engine_settings());
    let mut engine = Engine::new(settings, ClockMode::Event);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let source = format!("book/{i}");
        engine.apply(
            Input {
                payload: l.as_bytes(),
                source: &source,
                key: None,
                full_size: None,
                occurred_at: None,
            },
            &mut out,
        );
    }
    engine.portfolio().clone()
}

#[test]
fn health_readiness_and_metrics_of_a_working_monitor() {
    let topics = e2e::topics("http");
    let broker = EmbeddedBroker::start(1, e2e::PARTITIONS, &topics).unwrap();
    let kafka = e2e::kafka(broker.bootstrap_servers(), "http-monitor", &topics);
    let lines = e2e::book(40, 6, 3);
    e2e::produce_book(&kafka, &lines, &topics, 1);

    let port = free_port();
    let mut child = common::kafka::monitor_command(&kafka)
        .env("POSTLOAN__HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("POSTLOAN__CLOCK__MODE", "event")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let (status, body) = wait_for("/healthz", 60, || get(port, "/healthz"));
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    wait_for("/readyz to turn 200", 60, || {
        get(port, "/readyz").filter(|(s, _)| *s == 200)
    });
    wait_for("every input counted", 60, || {
        let (_, text) = get(port, "/metrics")?;
        let seen =
            total(&text, "postloan_events_total") + total(&text, "postloan_rejections_total");
        (seen == lines.len() as u64).then_some(())
    });
    // The book as the partitions report it (after their last commit, at most a second later)
    // is the book replay sees: counts and amounts do not depend on the partitions' clocks.
    let book = replayed(&lines);
    assert!(book.open_loans() > 20, "{}", book.open_loans());
    let outstanding: f64 = book
        .book
        .values()
        .map(|e| e.outstanding.to_string().parse::<f64>().unwrap())
        .sum();
    // The last commit's book is reported within a second of it: wait for that report, not an
    // earlier one that happens to have the same number of loans.
    let exposition = wait_for("the book reported", 30, || {
        let (_, text) = get(port, "/metrics")?;
        let reported = sum(&text, "postloan_outstanding_principal");
        (total(&text, "postloan_open_loans") == book.open_loans()
            && (reported - outstanding).abs() < 0.01)
            .then_some(text)
    });
    assert_eq!(total(&exposition, "postloan_borrowers"), book.borrowers);
    assert_eq!(
        total(&exposition, "postloan_active_borrowers"),
        book.active_borrowers()
    );
    for family in [
        "postloan_loans",
        "postloan_dealer_loans",
        "postloan_loans_by_ltv",
    ] {
        assert_eq!(total(&exposition, family), book.open_loans(), "{family}");
    }
    assert_eq!(
        total(&exposition, "postloan_borrowers_by_score"),
        book.active_borrowers()
    );
    assert_eq!(total(&exposition, "postloan_assigned_partitions"), 3);
    assert_eq!(total(&exposition, "postloan_ready"), 1);
    assert!(total(&exposition, "postloan_alerts_total") > 0);
    assert!(exposition.contains("# HELP postloan_commit_duration_seconds "));
    // Every input partition that had events reports its lag; all is consumed, so it is 0.
    let lag_series = exposition
        .lines()
        .filter(|l| l.starts_with("postloan_consumer_lag_records{"))
        .count();
    assert!(lag_series >= 3, "{lag_series} lag series");
    assert_eq!(total(&exposition, "postloan_consumer_lag_records"), 0);
    assert_eq!(
        total(&exposition, "postloan_processing_latency_seconds_count"),
        lines.len() as u64
    );
    let last_event: f64 = exposition
        .lines()
        .find_map(|l| l.strip_prefix("postloan_last_event_time_seconds "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // The book runs through 2025.
    assert!(last_event > 1.7e9, "last event time {last_event}");

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; .ci/run installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(
        get(port, "/healthz").is_none(),
        "the endpoint outlived the monitor"
    );
    drop(broker);
}
