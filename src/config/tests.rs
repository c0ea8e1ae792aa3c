//! Configuration loading: defaults, the shipped file, every problem at once.

use super::*;
use crate::engine::types::Severity;

#[test]
fn an_empty_file_gives_the_contract_defaults() {
    let c = Config::from_toml("").unwrap();
    assert_eq!(c.clock.time_zone, "Asia/Shanghai");
    assert_eq!(c.clock.max_future_skew_ms, 300_000);
    assert_eq!(c.rules.arrears_tolerance.0.to_string(), "1.00");
    assert_eq!(c.rules.dpd.severity.get(&Severity::High), Some(&30));
    assert_eq!(c.rules.stale_income.after_days, 120);
    assert_eq!(c.rules.stale_valuation.after_days, 180);
    assert_eq!(c.escalation.level1_after_hours, 24);
    assert_eq!(c.escalation.level2_after_hours, 72);
}

#[test]
fn the_shipped_config_file_is_valid_and_equals_the_defaults() {
    let text = include_str!("../../config/monitor.toml");
    let shipped = Config::from_toml(text).unwrap();
    assert_eq!(format!("{shipped:?}"), format!("{:?}", Config::default()));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
[clock]
time_zone = "Mars/Olympus"
colour = "red"

[rules]
arrears_tolerance = "-1"

[rules.dpd]
severity = { low = 10, medium = 7, high = 30, critical = 90 }

[rules.income_drop]
severity = { medium = "0.30", high = "0.50", severe = "0.9" }

[rules.unknown_signal]
enabled = true

[rules.ltv]
severity = { medium = "-1.0" }

[escalation]
level1_after_hours = 48
level2_after_hours = 24
min_severity = "urgent"
"#;
    let Err(ConfigError::Invalid { problems }) = Config::from_toml(text) else {
        panic!("should fail");
    };
    let all = problems.to_string();
    for needle in [
        "clock.colour",
        "clock.time_zone",
        "Mars/Olympus",
        "rules.arrears_tolerance",
        "rules.dpd.severity: thresholds must rise with severity",
        "rules.income_drop.severity",
        "severe",
        "rules.unknown_signal",
        "rules.ltv.severity",
        "escalation.level2_after_hours",
        "escalation.min_severity",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    assert!(problems.0.len() >= 9, "{all}");
}

#[test]
fn syntax_errors_are_reported() {
    let Err(ConfigError::Invalid { problems }) = Config::from_toml("[rules\n") else {
        panic!()
    };
    assert!(problems.to_string().contains("not valid TOML"));
}

#[test]
fn thresholds_accept_strings_and_numbers_exactly() {
    let c =
        Config::from_toml("[rules.ltv]\nseverity = { medium = 0.95, high = \"1.15\" }\n").unwrap();
    let v: Vec<String> = c
        .rules
        .ltv
        .severity
        .values()
        .map(|t| t.0.to_string())
        .collect();
    assert_eq!(v, ["0.95", "1.15"]);
}

#[test]
fn a_partial_table_keeps_the_other_defaults_of_that_table() {
    let c = Config::from_toml(
        "[rules.stale_valuation]\nseverity = \"medium\"\n[rules.stale_income]\nenabled = false\n",
    )
    .unwrap();
    assert_eq!(c.rules.stale_valuation.after_days, 180);
    assert_eq!(c.rules.stale_valuation.severity, Severity::Medium);
    assert_eq!(c.rules.stale_income.after_days, 120);
    assert!(!c.rules.stale_income.enabled);
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn environment_overrides_take_the_type_of_the_default() {
    let c = Config::from_toml_with_env(
        "[kafka]\nbootstrap_servers = \"file:9092\"\n",
        env(&[
            ("POSTLOAN__KAFKA__BOOTSTRAP_SERVERS", "env-broker:9093"),
            ("POSTLOAN__KAFKA__GROUP_ID", "12345"),
            ("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS", "250"),
            ("POSTLOAN__KAFKA__CREATE_TOPICS", "true"),
            ("POSTLOAN__KAFKA__TOPICS__ALERTS", "bank.risk.alerts"),
            ("POSTLOAN__KAFKA__PROPERTIES__COMPRESSION_TYPE", "lz4"),
            ("POSTLOAN__KAFKA__SASL_MECHANISM", "SCRAM-SHA-512"),
            ("POSTLOAN__RULES__DPD__SEVERITY", "{ low = 2, high = 40 }"),
            ("POSTLOAN__CLOCK__MODE", "event"),
            ("UNRELATED", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.kafka.bootstrap_servers, "env-broker:9093");
    assert_eq!(c.kafka.group_id, "12345");
    assert_eq!(c.kafka.commit_interval_ms, 250);
    assert!(c.kafka.create_topics);
    assert_eq!(c.kafka.topics.alerts, "bank.risk.alerts");
    assert_eq!(
        c.kafka
            .properties
            .get("compression.type")
            .map(String::as_str),
        Some("lz4")
    );
    assert_eq!(c.kafka.sasl_mechanism.as_deref(), Some("SCRAM-SHA-512"));
    assert_eq!(c.rules.dpd.severity.get(&Severity::High), Some(&40));
    assert_eq!(c.clock.mode, ClockSource::Event);
}

#[test]
fn bad_environment_values_are_problems_that_never_echo_the_value() {
    let Err(ConfigError::Invalid { problems }) = Config::from_toml_with_env(
        "",
        env(&[
            ("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS", "s3cr3t-soon"),
            ("POSTLOAN__KAFKA__NO_SUCH_KEY", "x"),
        ]),
    ) else {
        panic!("should fail")
    };
    let all = problems.to_string();
    assert!(
        all.contains("POSTLOAN__KAFKA__COMMIT_INTERVAL_MS: expected an integer"),
        "{all}"
    );
    assert!(all.contains("kafka.no_such_key"), "{all}");
    assert!(!all.contains("s3cr3t"), "{all}");
}

#[test]
fn secrets_never_show_in_debug_output() {
    let c = Config::from_toml_with_env(
        "[kafka]\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"\nsasl_username = \"monitor\"\n",
        env(&[("POSTLOAN__KAFKA__SASL_PASSWORD", "hunter2-very-secret")]),
    )
    .unwrap();
    assert_eq!(c.kafka.sasl_password.expose(), "hunter2-very-secret");
    assert!(!format!("{c:?}").contains("hunter2"));
    assert!(c
        .kafka
        .client_properties()
        .contains(&("sasl.password".to_owned(), "hunter2-very-secret".to_owned())));
}

#[test]
fn kafka_settings_are_validated() {
    let Err(ConfigError::Invalid { problems }) = Config::from_toml(
        "[kafka]\nsecurity_protocol = \"sasl_ssl\"\ncommit_interval_ms = 0\ntransaction_timeout_ms = 500\ninstance_id = \"a b\"\n[kafka.topics]\nalerts = \"risk.rejected\"\nincome = \"bad topic!\"\n[kafka.properties]\n\"group.id\" = \"x\"\n[http]\nlisten = \"localhost\"\n",
    ) else {
        panic!("should fail")
    };
    let all = problems.to_string();
    for needle in [
        "kafka.sasl_mechanism",
        "kafka.commit_interval_ms",
        "\"risk.rejected\" is used for two roles",
        "\"bad topic!\" is not a valid Kafka topic name",
        "\"group.id\" is set by the monitor itself",
        "kafka.transaction_timeout_ms",
        "kafka.instance_id",
        "http.listen",
    ] {
        assert!(all.contains(needle), "missing {needle} in\n{all}");
    }
}
