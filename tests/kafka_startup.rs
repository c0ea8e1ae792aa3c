//! `run` refuses to start, with one clear line and exit code 1, when the topics are wrong.

mod common;

use std::process::Command;

use common::e2e;
use postloan_monitor::kafka::broker::EmbeddedBroker;

fn run_against(
    bootstrap: &str,
    topics: &postloan_monitor::config::Topics,
) -> (Option<i32>, String) {
    let kafka = e2e::kafka(bootstrap.to_owned(), "startup", topics);
    let out = common::kafka::monitor_command(&kafka)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inputs_that_are_not_co_partitioned_are_refused() {
    let topics = e2e::topics("copart");
    let broker = EmbeddedBroker::start(1, 3, &e2e::topics("unused")).unwrap();
    for t in topics
        .inputs()
        .into_iter()
        .chain(topics.outputs())
        .chain([topics.changelog.as_str()])
    {
        let partitions = if t == topics.income { 4 } else { 3 };
        broker.create_topic(t, partitions).unwrap();
    }
    let (code, stderr) = run_against(&broker.bootstrap_servers(), &topics);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("must be co-partitioned"), "{stderr}");
    assert!(stderr.contains("copart.income=4"), "{stderr}");
}

#[test]
fn a_missing_output_topic_is_refused() {
    let topics = e2e::topics("missing");
    let broker = EmbeddedBroker::start(1, 3, &e2e::topics("unused2")).unwrap();
    for t in topics.inputs().into_iter().chain([
        topics.alerts.as_str(),
        topics.rejected.as_str(),
        topics.changelog.as_str(),
    ]) {
        broker.create_topic(t, 3).unwrap();
    }
    let (code, stderr) = run_against(&broker.bootstrap_servers(), &topics);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("topic \"missing.escalations\" does not exist"),
        "{stderr}"
    );
}

#[test]
fn a_bad_configuration_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
        .arg("run")
        .env("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS"));
}
