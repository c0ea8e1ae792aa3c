//! Configuration loading: defaults, the shipped file, every problem at once.

use super::*;
use postloan_engine::types::Severity;

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

/// A `[kafka]` section for SCRAM over TLS with a client certificate; the passwords come from
/// [`secret_env`].
const SCRAM_TLS: &str = "[kafka]\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"\nsasl_username = \"monitor\"\nssl_ca_location = \"/etc/kafka/ca.pem\"\nssl_certificate_location = \"/etc/kafka/client.pem\"\nssl_key_location = \"/etc/kafka/client.key\"\n";

fn secret_env() -> Vec<(String, String)> {
    env(&[
        ("POSTLOAN__KAFKA__SASL_PASSWORD", "sasl-pw-0xCAFE"),
        ("POSTLOAN__KAFKA__SSL_KEY_PASSWORD", "key-pw-0xBEEF"),
    ])
}

fn problems_of(text: &str, vars: Vec<(String, String)>) -> String {
    match Config::from_toml_with_env(text, vars) {
        Err(ConfigError::Invalid { problems }) => problems.to_string(),
        other => panic!("should fail: {other:?}"),
    }
}

#[test]
fn tls_and_scram_settings_from_file_and_environment_reach_librdkafka() {
    let c = Config::from_toml_with_env(SCRAM_TLS, secret_env()).unwrap();
    assert_eq!(c.kafka.sasl_password.expose(), "sasl-pw-0xCAFE");
    assert_eq!(c.kafka.ssl_key_password.expose(), "key-pw-0xBEEF");
    let props = c.kafka.client_properties();
    for (k, v) in [
        ("security.protocol", "sasl_ssl"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "monitor"),
        ("sasl.password", "sasl-pw-0xCAFE"),
        ("ssl.ca.location", "/etc/kafka/ca.pem"),
        ("ssl.certificate.location", "/etc/kafka/client.pem"),
        ("ssl.key.location", "/etc/kafka/client.key"),
        ("ssl.key.password", "key-pw-0xBEEF"),
        ("ssl.endpoint.identification.algorithm", "https"),
    ] {
        assert!(
            props.contains(&(k.to_owned(), v.to_owned())),
            "{k} = {v} missing"
        );
    }
    let mut vars = secret_env();
    vars.push((
        "POSTLOAN__KAFKA__SSL_ENDPOINT_IDENTIFICATION".into(),
        "false".into(),
    ));
    let off = Config::from_toml_with_env(SCRAM_TLS, vars).unwrap();
    assert!(off.kafka.client_properties().contains(&(
        "ssl.endpoint.identification.algorithm".to_owned(),
        "none".to_owned()
    )));
    // Plaintext (the default) sets no TLS property at all.
    assert!(!Config::default()
        .kafka
        .client_properties()
        .iter()
        .any(|(k, _)| k.starts_with("ssl.") || k.starts_with("sasl.")));
}

#[test]
fn secrets_are_redacted_in_debug_display_and_serialization() {
    let c = Config::from_toml_with_env(SCRAM_TLS, secret_env()).unwrap();
    let dumped = toml::to_string(&c).unwrap();
    let json = serde_json::to_string(&c).unwrap();
    for shown in [
        format!("{c:?}"),
        format!("{:#?}", c.kafka),
        dumped.clone(),
        json,
        c.kafka.sasl_password.to_string(),
        c.kafka.ssl_key_password.to_string(),
    ] {
        assert!(
            !shown.contains("0xCAFE") && !shown.contains("0xBEEF"),
            "{shown}"
        );
    }
    assert!(dumped.contains("sasl_password = \"***\""), "{dumped}");
    assert!(dumped.contains("ssl_key_password = \"***\""), "{dumped}");
    // Unset stays visibly unset.
    assert_eq!(Secret::default().to_string(), "");
    assert_eq!(format!("{:?}", Secret::new("x")), "\"***\"");
}

#[test]
fn a_secret_of_the_wrong_type_is_refused_without_quoting_it() {
    let all = problems_of(
        "[kafka]\nsasl_password = 987654321\nssl_key_password = true\n",
        vec![],
    );
    assert!(
        all.contains("kafka.sasl_password: expected a string"),
        "{all}"
    );
    assert!(
        all.contains("kafka.ssl_key_password: expected a string"),
        "{all}"
    );
    assert!(!all.contains("987654321"), "{all}");
}

#[test]
fn sasl_and_tls_problems_are_all_reported_at_once_without_the_secrets() {
    // SASL without its parts, PLAIN in clear, TLS files without TLS, a lone certificate, a key
    // password without a key, a mechanism librdkafka would refuse.
    let all = problems_of(
        "[kafka]\nsecurity_protocol = \"sasl_plaintext\"\nsasl_mechanism = \"PLAIN\"\nssl_ca_location = \"ca.pem\"\nssl_certificate_location = \"c.pem\"\n",
        env(&[("POSTLOAN__KAFKA__SSL_KEY_PASSWORD", "key-pw-0xBEEF")]),
    );
    for needle in [
        "kafka.sasl_username: is required with security_protocol \"sasl_plaintext\"",
        "kafka.sasl_password: is required with security_protocol \"sasl_plaintext\"",
        "kafka.sasl_mechanism: PLAIN sends the password itself, in clear",
        "kafka.ssl_ca_location: is set but security_protocol \"sasl_plaintext\" does not use TLS",
        "kafka.ssl_certificate_location: is set but",
        "kafka.ssl_key_password: is set but security_protocol",
        "kafka.ssl_key_location: is required with ssl_certificate_location",
        "kafka.ssl_key_password: is set but there is no ssl_key_location",
    ] {
        assert!(all.contains(needle), "missing {needle} in\n{all}");
    }
    assert!(!all.contains("0xBEEF"), "{all}");

    let all = problems_of(
        "[kafka]\nsecurity_protocol = \"SASL_SSL\"\nsasl_mechanism = \"scram-sha-512\"\nsasl_username = \" \"\nssl_key_location = \"k.pem\"\n",
        env(&[("POSTLOAN__KAFKA__SASL_PASSWORD", "nul\0-0xCAFE")]),
    );
    for needle in [
        "kafka.sasl_mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, got \"scram-sha-512\"",
        "kafka.sasl_username: must not be empty",
        "kafka.sasl_password: must not contain a NUL character",
        "kafka.ssl_certificate_location: is required with ssl_key_location",
    ] {
        assert!(all.contains(needle), "missing {needle} in\n{all}");
    }
    assert!(!all.contains("0xCAFE"), "{all}");
}

#[test]
fn a_password_with_a_protocol_without_sasl_is_a_problem() {
    for protocol in ["plaintext", "ssl"] {
        let all = problems_of(
            &format!("[kafka]\nsecurity_protocol = \"{protocol}\"\n"),
            env(&[("POSTLOAN__KAFKA__SASL_PASSWORD", "sasl-pw-0xCAFE")]),
        );
        assert!(
            all.contains(&format!(
                "kafka.sasl_password: is set but security_protocol \"{protocol}\" does not authenticate with SASL"
            )),
            "{all}"
        );
        assert!(!all.contains("0xCAFE"), "{all}");
    }
}

#[test]
fn pass_through_properties_refuse_owned_and_secret_keys_and_are_checked_by_librdkafka() {
    let all = problems_of(
        "[kafka.properties]\n\"sasl.oauthbearer.client.secret\" = \"v-0xC1\"\n\"ssl.keystore.password\" = \"v-0xC2\"\n\"ssl.key.pem\" = \"v-0xC3\"\n\"sasl.oauthbearer.config\" = \"v-0xC4\"\n\"SSL.KEY.PASSWORD\" = \"v-0xC5\"\n\"security.protocol\" = \"ssl\"\n\"ssl.endpoint.identification.algorithm\" = \"none\"\n\"no.such.property\" = \"v-0xC6\"\n\"compression.type\" = \"bogus\"\n\"linger.ms\" = \"20\"\n",
        env(&[(
            "POSTLOAN__KAFKA__PROPERTIES__SASL_PASSWORD",
            "v-0xC7",
        )]),
    );
    for needle in [
        "\"sasl.oauthbearer.client.secret\" carries a secret",
        "\"ssl.keystore.password\" carries a secret",
        "\"ssl.key.pem\" carries a secret",
        "\"sasl.oauthbearer.config\" carries a secret",
        "\"SSL.KEY.PASSWORD\" is set by the monitor itself; use kafka.ssl_key_password",
        "\"sasl.password\" is set by the monitor itself; use kafka.sasl_password",
        "\"security.protocol\" is set by the monitor itself; use kafka.security_protocol",
        "\"ssl.endpoint.identification.algorithm\" is set by the monitor itself",
        "No such configuration property: \"no.such.property\"",
        "\"compression.type\"",
    ] {
        assert!(all.contains(needle), "missing {needle} in\n{all}");
    }
    assert!(!all.contains("linger.ms"), "{all}");
    assert!(!all.contains("0xC"), "{all}");
    assert!(kafka::is_secret_property("ssl.certificate.pem"));
    assert!(!kafka::is_secret_property("ssl.keystore.location"));
}

#[test]
fn classification_bands_are_checked_with_the_rest() {
    let text = r#"
[clock]
time_zone = "Mars/Olympus"

[classification]
bands = [
  { class = "normal", from_dpd = 0 },
  { class = "substandard", from_dpd = 91 },
  { class = "special_mention", from_dpd = 1 },
  { class = "doubtful", from_dpd = 271 },
  { class = "loss", from_dpd = 271 },
]
"#;
    let Err(ConfigError::Invalid { problems }) = Config::from_toml(text) else {
        panic!("should fail");
    };
    let all = problems.to_string();
    for needle in [
        "clock.time_zone",
        "classification.bands: must list normal, special_mention, substandard, doubtful, loss once each in that order, got [normal, substandard, special_mention, doubtful, loss]",
        "classification.bands[2].from_dpd: must be above the previous band's (91), got 1",
        "classification.bands[4].from_dpd: must be above the previous band's (271), got 271",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in\n{all}");
    }
    // An unknown class name is a structure problem, reported with its path.
    let Err(ConfigError::Invalid { problems }) =
        Config::from_toml("[classification]\nbands = [{ class = \"watch\", from_dpd = 0 }]")
    else {
        panic!("should fail");
    };
    assert!(
        problems.to_string().contains("classification.bands"),
        "{problems}"
    );
    // The defaults put the classes where the contract does.
    let s = Config::default().engine_settings();
    assert_eq!(s.classification.starts(), [0, 1, 91, 271, 361]);
}

#[test]
fn every_notify_problem_is_reported_at_once() {
    let text = r#"
[notify]
alertmanager_urls = ["ftp://am:9093", "http://", "http://am-2:9093"]
request_timeout_ms = 0
resend_interval_ms = 60000
firing_lease_ms = 60000
retry_initial_backoff_ms = 1000
retry_max_backoff_ms = 500
basic_auth_password = "s3cret"
bearer_token = "t0ken"
link_template = "https://cases.example/{borrower_id}/{account}"
listen = "everywhere"
"#;
    let Err(ConfigError::Invalid { problems }) = Config::from_toml(text) else {
        panic!("should fail");
    };
    let all = problems.to_string();
    for needle in [
        "\"ftp://am:9093\" is not an http:// or https:// URL",
        "\"http://\" is not an http:// or https:// URL",
        "notify.request_timeout_ms",
        "notify.firing_lease_ms",
        "notify.retry_max_backoff_ms",
        "notify.basic_auth_password: is set without basic_auth_username",
        "unknown placeholder {account}",
        "notify.listen",
    ] {
        assert!(all.contains(needle), "{needle} missing from:\n{all}");
    }
    assert!(!all.contains("am-2"), "a good URL is not reported:\n{all}");
    // Secrets are never echoed back.
    assert!(!all.contains("s3cret") && !all.contains("t0ken"), "{all}");
    let ok = Config::from_toml(
        "[notify]\nbasic_auth_username = \"notify\"\nbasic_auth_password = \"x\"\nlink_template = \"https://c/{alert_id}\"\n",
    );
    assert!(ok.is_ok(), "{:?}", ok.err().map(|e| e.to_string()));
}
