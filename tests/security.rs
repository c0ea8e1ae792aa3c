//! Security (issue 5, item 4): secrets never reach the output, librdkafka accepts the TLS and
//! SASL/SCRAM settings, the HTTP endpoint serves only metrics and health. See
//! docs/security.md. Fast: no broker, nothing waits on the network.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postloan_monitor::config::{Config, KafkaConfig, Secret};
use postloan_monitor::kafka::client_config;
use postloan_monitor::metrics::Metrics;
use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::BaseProducer;

/// Passed as secrets; none may appear in any output.
const SASL_PASSWORD: &str = "sasl-secret-Zq7xW2";
/// The test key's real passphrase (tests/data/tls/README.md): test-only.
const KEY_PASSWORD: &str = "test-only-key-password";
const WRONG_KEY_PASSWORD: &str = "wrong-key-secret-Hk93p";
const PROPERTY_SECRET: &str = "property-secret-Vb51n";

fn tls(file: &str) -> String {
    format!("{}/tests/data/tls/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plm-security-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `[kafka]` for SCRAM-SHA-512 over TLS with a client certificate, nothing listening.
fn scram_tls_toml(ca: &str) -> String {
    format!(
        "[kafka]\nbootstrap_servers = \"127.0.0.1:1\"\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"\nsasl_username = \"postloan-monitor\"\nssl_ca_location = {ca:?}\nssl_certificate_location = {:?}\nssl_key_location = {:?}\n",
        tls("client.pem"),
        tls("client.key"),
    )
}

/// Runs the binary with `vars` and the most verbose logging; kills it after 20 s.
fn run_bin(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postloan-monitor"));
    cmd.args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn assert_no_secret(what: &str, out: &Output, secrets: &[&str]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for s in secrets {
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "{what}: secret {s:?} printed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
}

// (a) check-config and run: secrets from the environment and the file never printed.

#[test]
fn check_config_never_prints_secrets_from_the_environment() {
    let file = temp_file("scram.toml", &scram_tls_toml(&tls("ca.pem")));
    let file = file.to_str().unwrap();
    let secrets = [
        ("POSTLOAN__KAFKA__SASL_PASSWORD", SASL_PASSWORD),
        ("POSTLOAN__KAFKA__SSL_KEY_PASSWORD", KEY_PASSWORD),
    ];
    let out = run_bin(&["check-config", "--config", file], &secrets);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK: "));
    assert_no_secret("valid", &out, &[SASL_PASSWORD, KEY_PASSWORD]);

    // Invalid: passwords with plaintext, a secret-carrying pass-through property (from the
    // environment), an unknown one whose value is a secret: every problem, no value.
    let vars = [
        ("POSTLOAN__KAFKA__SASL_PASSWORD", SASL_PASSWORD),
        ("POSTLOAN__KAFKA__SSL_KEY_PASSWORD", KEY_PASSWORD),
        ("POSTLOAN__KAFKA__SECURITY_PROTOCOL", "plaintext"),
        (
            "POSTLOAN__KAFKA__PROPERTIES__SASL_OAUTHBEARER_CLIENT_SECRET",
            PROPERTY_SECRET,
        ),
        ("POSTLOAN__KAFKA__PROPERTIES__SASL_PASSWD", PROPERTY_SECRET),
    ];
    let out = run_bin(&["check-config", "--config", file], &vars);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "kafka.sasl_password: is set but security_protocol \"plaintext\"",
        "kafka.ssl_key_password: is set but security_protocol \"plaintext\" does not use TLS",
        "\"sasl.oauthbearer.client.secret\" carries a secret",
        "No such configuration property: \"sasl.passwd\"",
    ] {
        assert!(stderr.contains(needle), "missing {needle} in\n{stderr}");
    }
    assert_no_secret(
        "invalid",
        &out,
        &[SASL_PASSWORD, KEY_PASSWORD, PROPERTY_SECRET],
    );
}

#[test]
fn check_config_never_prints_secrets_written_in_a_broken_file() {
    for (name, text) in [
        // Wrong type: serde would quote it.
        ("int.toml", "[kafka]\nsasl_password = 73519264\n".to_owned()),
        // Not TOML: an unterminated string holding the secret.
        (
            "syntax.toml",
            format!("[kafka]\nsasl_password = \"{SASL_PASSWORD}\n"),
        ),
        // Unquoted.
        (
            "bare.toml",
            format!("[kafka]\nsasl_password = {SASL_PASSWORD}\n"),
        ),
        // Valid TOML, invalid configuration.
        (
            "unused.toml",
            format!("[kafka]\nsasl_password = \"{SASL_PASSWORD}\"\nssl_key_password = \"{KEY_PASSWORD}\"\n[kafka.properties]\n\"ssl.key.pem\" = \"{PROPERTY_SECRET}\"\n"),
        ),
    ] {
        let file = temp_file(name, &text);
        let out = run_bin(&["check-config", "--config", file.to_str().unwrap()], &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_secret(
            name,
            &out,
            &["73519264", SASL_PASSWORD, KEY_PASSWORD, PROPERTY_SECRET],
        );
    }
}

#[test]
fn run_failing_to_create_its_clients_never_prints_the_secrets() {
    // A missing CA file, then a wrong key passphrase: librdkafka refuses each at client
    // creation; the error goes to stderr (and trace logging is on).
    let missing = temp_file("missing.toml", &scram_tls_toml("/nonexistent/ca.pem"));
    let good_ca = temp_file("wrong-key.toml", &scram_tls_toml(&tls("ca.pem")));
    for (file, key_password, expect) in [
        (&missing, KEY_PASSWORD, "ssl.ca.location"),
        (&good_ca, WRONG_KEY_PASSWORD, "ssl.key.location"),
    ] {
        let out = run_bin(
            &["run", "--config", file.to_str().unwrap()],
            &[
                ("POSTLOAN__KAFKA__SASL_PASSWORD", SASL_PASSWORD),
                ("POSTLOAN__KAFKA__SSL_KEY_PASSWORD", key_password),
                ("POSTLOAN__HTTP__LISTEN", "127.0.0.1:0"),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expect), "{expect} not in\n{stderr}");
        assert_no_secret(expect, &out, &[SASL_PASSWORD, key_password]);
    }
}

// (b) librdkafka takes the settings (this fails without rdkafka's `ssl` feature:
// `Unsupported value "sasl_ssl" for configuration property "security.protocol": OpenSSL not
// available at build time`).

fn scram_tls_config(mechanism: &str, protocol: &str) -> KafkaConfig {
    let c = Config::from_toml_with_env(
        &scram_tls_toml(&tls("ca.pem")),
        [
            ("POSTLOAN__KAFKA__SASL_PASSWORD", SASL_PASSWORD),
            ("POSTLOAN__KAFKA__SSL_KEY_PASSWORD", KEY_PASSWORD),
            ("POSTLOAN__KAFKA__SASL_MECHANISM", mechanism),
            ("POSTLOAN__KAFKA__SECURITY_PROTOCOL", protocol),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap();
    c.kafka
}

#[test]
fn librdkafka_accepts_tls_with_a_client_certificate_and_every_sasl_mechanism() {
    for mechanism in ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] {
        let k = scram_tls_config(mechanism, "sasl_ssl");
        let producer = client_config(&k).create::<BaseProducer>();
        assert!(producer.is_ok(), "{mechanism}: {:?}", producer.err());
        let consumer = client_config(&k)
            .set("group.id", "security-test")
            .create::<BaseConsumer>();
        assert!(consumer.is_ok(), "{mechanism}: {:?}", consumer.err());
    }
    // TLS alone (no SASL), without checking the broker's host name.
    let tls_only = format!(
        "[kafka]\nbootstrap_servers = \"127.0.0.1:1\"\nsecurity_protocol = \"ssl\"\nssl_ca_location = {:?}\nssl_endpoint_identification = false\n",
        tls("ca.pem")
    );
    let k = Config::from_toml(&tls_only).unwrap().kafka;
    let producer = client_config(&k).create::<BaseProducer>();
    assert!(producer.is_ok(), "ssl: {:?}", producer.err());
}

#[test]
fn librdkafka_errors_about_tls_files_do_not_quote_the_key_password() {
    let mut k = scram_tls_config("SCRAM-SHA-512", "sasl_ssl");
    k.ssl_key_password = Secret::new(WRONG_KEY_PASSWORD);
    let e = client_config(&k)
        .create::<BaseProducer>()
        .err()
        .expect("a wrong key passphrase is refused at creation");
    let (shown, debug) = (e.to_string(), format!("{e:?}"));
    assert!(shown.contains("ssl.key.location"), "{shown}");
    for text in [&shown, &debug] {
        assert!(!text.contains(WRONG_KEY_PASSWORD) && !text.contains(SASL_PASSWORD));
    }
    // rdkafka's own Debug of the client configuration leaves the secret keys out.
    let debug = format!("{:?}", client_config(&k));
    assert!(debug.contains("ssl.key.location"), "{debug}");
    assert!(!debug.contains(WRONG_KEY_PASSWORD) && !debug.contains(SASL_PASSWORD));
}

// (c) The HTTP endpoint: loopback by default, metrics and health only.

/// One HTTP/1.0 request; the status code.
fn status(port: u16, method: &str, path: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_endpoint_listens_on_loopback_by_default() {
    let addr = Config::default().http.addr().unwrap();
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_eq!(addr.port(), 9464);
}

#[test]
fn the_endpoint_serves_metrics_and_health_and_nothing_else() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let metrics = Arc::new(Metrics::new(500).unwrap());
    let cancel = tokio_util::sync::CancellationToken::new();
    let listener = runtime
        .block_on(postloan_monitor::http::bind("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = runtime.spawn(postloan_monitor::http::serve(
        listener,
        Arc::clone(&metrics) as Arc<dyn postloan_monitor::metrics::Scrape>,
        cancel.clone(),
    ));
    let serving = std::thread::spawn(move || runtime.block_on(server));

    assert_eq!(status(port, "GET", "/metrics"), 200);
    assert_eq!(status(port, "GET", "/healthz"), 200);
    assert_eq!(status(port, "GET", "/readyz"), 503, "nothing restored yet");
    for path in [
        "/",
        "/metrics/",
        "/Metrics",
        "/metrics.txt",
        "/healthz/x",
        "/debug/pprof",
        "/admin",
        "/config",
        "/.env",
        "/../etc/passwd",
        "/metrics/../config",
        "/%2e%2e/etc/passwd",
    ] {
        assert_eq!(status(port, "GET", path), 404, "GET {path}");
    }
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"] {
        for path in ["/metrics", "/healthz", "/readyz"] {
            assert_eq!(status(port, method, path), 405, "{method} {path}");
        }
    }
    // HEAD is GET without the body (axum answers it on every GET route): no other content.
    assert_eq!(status(port, "HEAD", "/metrics"), 200);
    assert_eq!(status(port, "HEAD", "/admin"), 404);
    cancel.cancel();
    serving.join().unwrap().unwrap().unwrap();
}

#[test]
fn metrics_carry_no_configuration() {
    // The registry is built from a label-value cap only; later samples are labelled by the
    // data (branch, dealer, signal, …) and by topic name and partition. No security setting
    // reaches it: there is no path from KafkaConfig's secrets to a label or a sample.
    let text = Metrics::new(500).unwrap().encode().unwrap();
    assert!(!text.is_empty());
    let lower = text.to_ascii_lowercase();
    for word in ["password", "secret", "sasl", "ssl", "bootstrap", "username"] {
        assert!(!lower.contains(word), "{word} in the exposition");
    }
}
