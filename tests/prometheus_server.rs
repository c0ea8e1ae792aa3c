//! A real Prometheus (Debian package `prometheus`, on 127.0.0.1, scraping every second, with
//! the shipped configuration and rules) scrapes the demo, and every PromQL expression of the
//! dashboards and the rules runs through its HTTP API:
//! - every dashboard panel query and template variable returns data, with only metrics the
//!   monitor exports;
//! - every rule is loaded and evaluates without error (`notify`'s rules against its metrics,
//!   served by the test); recording rules return data; an alert,
//!   which returns data only while it fires, is run with its threshold comparisons made `bool`
//!   (`x > bool 0.05`), which returns a sample for every series the condition looks at — so an
//!   alert watching a misspelt metric or label fails here even while it is quiet.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{encode, free_port, get};
use common::wait_for;
use serde_json::Value;

/// Grafana's variables, as the test fills them in: every branch, dealer and instance, and
/// intervals that hold several 1 s scrapes.
const VARIABLES: [(&str, &str); 6] = [
    ("$__rate_interval", "10s"),
    ("$__interval", "2s"),
    ("$__range", "1m"),
    ("$branch", ".*"),
    ("$dealer", ".*"),
    ("$instance", ".*"),
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Kills a child process when dropped (a failing assertion must not leave servers behind).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "postloan-prometheus-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo, kept running after its book, serving metrics on `port`; and its stderr so far.
fn start_demo(port: u16) -> (Guard, Arc<Mutex<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
        .args([
            "demo",
            "--borrowers",
            "1500",
            "--months",
            "24",
            "--keep-running",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
    (Guard(child), log)
}

/// `notify`'s metrics (all zero: no notify runs) served on a free port, as `notify` serves
/// them; returns the port and the exposition.
fn serve_notify_metrics() -> (u16, String, tokio::runtime::Runtime) {
    use postloan_monitor::metrics::{NotifyMetrics, Scrape};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let metrics = Arc::new(NotifyMetrics::new().unwrap());
    let exposition = metrics.encode().unwrap();
    let listener = runtime
        .block_on(postloan_monitor::http::bind("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(postloan_monitor::http::serve(
        listener,
        metrics as Arc<dyn Scrape>,
        tokio_util::sync::CancellationToken::new(),
    ));
    (port, exposition, runtime)
}

/// Prometheus with the shipped configuration, pointed at `target` (the monitor) and
/// `notify_target`, scraping and evaluating every second, sending its alerts nowhere.
fn start_prometheus(dir: &Path, port: u16, target: &str, notify_target: &str) -> Guard {
    let shipped = std::fs::read_to_string(repo().join("config/prometheus/prometheus.yml")).unwrap();
    for needle in [
        "127.0.0.1:9464",
        "127.0.0.1:9465",
        "127.0.0.1:9093",
        "scrape_interval: 15s",
        "evaluation_interval: 15s",
    ] {
        assert!(
            shipped.contains(needle),
            "prometheus.yml no longer has {needle:?}"
        );
    }
    let config = shipped
        .replace("127.0.0.1:9464", target)
        .replace("127.0.0.1:9465", notify_target)
        // An Alertmanager on this machine's default port must not get the test's alerts.
        .replace("127.0.0.1:9093", &format!("127.0.0.1:{}", free_port()))
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    std::fs::copy(
        repo().join("config/prometheus/postloan-monitor.rules.yml"),
        dir.join("postloan-monitor.rules.yml"),
    )
    .unwrap();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian package prometheus; .ci/run installs it)");
    Guard(child)
}

/// Runs an instant query: Err(what went wrong) or the number of samples it returned.
fn query(port: u16, expr: &str) -> Result<usize, String> {
    let (status, body) = get(port, &format!("/api/v1/query?query={}", encode(expr)))
        .ok_or_else(|| "no answer from Prometheus".to_owned())?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if status != 200 || v["status"] != "success" {
        return Err(format!("HTTP {status}: {}", v["error"]));
    }
    let result = &v["data"]["result"];
    Ok(match v["data"]["resultType"].as_str() {
        Some("scalar") | Some("string") => 1,
        _ => result.as_array().map_or(0, Vec::len),
    })
}

/// Every `expr` in a dashboard, and each query variable's `label_values(metric, label)` as the
/// PromQL that answers it.
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(e)) = m.get("expr") {
                    out.push(e.clone());
                }
                for x in m.values() {
                    walk(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    for var in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if var["type"] != "query" {
            continue;
        }
        let q = var["query"]["query"]
            .as_str()
            .or(var["query"].as_str())
            .or(var["definition"].as_str())
            .unwrap_or_default();
        let args = q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| {
                panic!(
                    "variable {} is not label_values(metric, label): {q}",
                    var["name"]
                )
            });
        let (metric, label) = args.split_once(',').unwrap();
        out.push(format!("count by ({}) ({})", label.trim(), metric.trim()));
    }
    out
}

fn substitute(expr: &str) -> String {
    let mut e = expr.to_owned();
    for (var, value) in VARIABLES {
        e = e.replace(var, value);
        e = e.replace(&format!("${{{}}}", &var[1..]), value);
    }
    assert!(!e.contains('$'), "unknown Grafana variable in {expr}");
    e
}

/// Makes every comparison against a number a `bool` comparison, outside label matchers and
/// strings: `x > 0.05` → `x > bool 0.05`.
fn with_bool(expr: &str) -> String {
    let b = expr.as_bytes();
    let mut out = String::new();
    let (mut braces, mut quoted) = (0, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        match c {
            '"' if i == 0 || b[i - 1] != b'\\' => quoted = !quoted,
            '{' if !quoted => braces += 1,
            '}' if !quoted => braces -= 1,
            _ => {}
        }
        let op_len = if quoted || braces > 0 {
            0
        } else {
            match (c, b.get(i + 1).map(|x| *x as char)) {
                ('=', Some('=')) | ('!', Some('=')) | ('>', Some('=')) | ('<', Some('=')) => 2,
                ('>', _) | ('<', _) => 1,
                _ => 0,
            }
        };
        if op_len > 0 {
            out.push_str(&expr[i..i + op_len]);
            i += op_len;
            let rest = expr[i..].trim_start();
            if rest.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
                out.push_str(" bool");
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `postloan_*` metric names an expression reads (recording rules' names have colons and are
/// checked by their own query).
fn metric_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|t| t.starts_with("postloan_") && !t.contains(':'))
        .map(str::to_owned)
        .collect()
}

/// Metric families the monitor exports, histogram series names included.
fn exported(exposition: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for l in exposition.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            names.insert(name.to_owned());
            if kind == "histogram" {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
        }
    }
    names
}

struct Check {
    what: String,
    expr: String,
}

#[test]
fn every_dashboard_and_rule_expression_returns_data_from_a_real_prometheus() {
    let dir = scratch_dir();
    let monitor_port = free_port();
    let (mut demo, log) = start_demo(monitor_port);
    let (notify_port, notify_exposition, _notify) = serve_notify_metrics();
    let prometheus_port = free_port();
    let _prometheus = start_prometheus(
        &dir,
        prometheus_port,
        &format!("127.0.0.1:{monitor_port}"),
        &format!("127.0.0.1:{notify_port}"),
    );

    wait_for("the demo to process its book", 300, || {
        let log = log.lock().ok()?;
        if let Ok(Some(status)) = demo.0.try_wait() {
            panic!("the demo exited ({status}):\n{log}");
        }
        log.contains("The book is processed").then_some(())
    });
    wait_for("Prometheus to be ready", 60, || {
        get(prometheus_port, "/-/ready").filter(|(s, _)| *s == 200)
    });
    let (_, exposition) = get(monitor_port, "/metrics").expect("the monitor serves /metrics");
    // What the monitor and `notify` export (the rules watch both).
    let mut exported = exported(&exposition);
    exported.extend(self::exported(&notify_exposition));

    let mut checks = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let queries = dashboard_queries(&dashboard);
        assert!(
            queries.len() >= 10,
            "{}: only {} queries",
            f.display(),
            queries.len()
        );
        for q in queries {
            for name in metric_names(&q) {
                assert!(
                    exported.contains(&name),
                    "{} reads {name}, which the monitor does not export",
                    f.display()
                );
            }
            checks.push(Check {
                what: format!("{} panel", f.file_name().unwrap().to_string_lossy()),
                expr: substitute(&q),
            });
        }
    }

    // The rules as Prometheus loaded them: every one evaluated, none failing.
    let rules: Vec<Value> = wait_for("every rule evaluated", 60, || {
        let (_, body) = get(prometheus_port, "/api/v1/rules")?;
        let v: Value = serde_json::from_str(&body).ok()?;
        let rules: Vec<Value> = v["data"]["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        rules.iter().all(|r| r["health"] == "ok").then_some(rules)
    });
    let shipped =
        std::fs::read_to_string(repo().join("config/prometheus/postloan-monitor.rules.yml"))
            .unwrap();
    assert_eq!(
        rules.len(),
        shipped.matches("- record:").count() + shipped.matches("- alert:").count(),
        "Prometheus loaded every rule"
    );
    for r in &rules {
        let expr = r["query"].as_str().unwrap().to_owned();
        let name = r["name"].as_str().unwrap();
        for m in metric_names(&expr) {
            assert!(
                exported.contains(&m),
                "rule {name} reads {m}, which neither the monitor nor notify exports"
            );
        }
        let expr = if r["type"] == "alerting" {
            match expr
                .strip_prefix("absent(")
                .and_then(|e| e.strip_suffix(')'))
            {
                // Quiet while the monitor is there: its argument must then have data.
                Some(inner) => inner.to_owned(),
                None => with_bool(&expr),
            }
        } else {
            expr
        };
        checks.push(Check {
            what: format!("rule {name}"),
            expr,
        });
    }

    // Series appear as scrapes and rule evaluations accumulate: retry until all answer.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let failing: Vec<String> = checks
            .iter()
            .filter_map(|c| match query(prometheus_port, &c.expr) {
                Ok(n) if n > 0 => None,
                Ok(_) => Some(format!("{}: no data from {}", c.what, c.expr)),
                Err(e) => Some(format!("{}: {e} in {}", c.what, c.expr)),
            })
            .collect();
        if failing.is_empty() {
            eprintln!("{} expressions answered with data", checks.len());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} expressions fail:\n{}",
            failing.len(),
            failing.join("\n")
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn comparisons_become_bool_outside_matchers() {
    assert_eq!(with_bool("x{a=\"1\"} > 0.05"), "x{a=\"1\"} > bool 0.05");
    assert_eq!(
        with_bool("(a == 0) and on () (hour() >= 1 and hour() < 10)"),
        "(a == bool 0) and on () (hour() >= bool 1 and hour() < bool 10)"
    );
    assert_eq!(with_bool("a{b!=\"2\"} >= b"), "a{b!=\"2\"} >= b");
    assert_eq!(
        metric_names("sum(rate(postloan_events_total[5m])) / job:postloan_inputs:rate5m"),
        BTreeSet::from(["postloan_events_total".to_owned()])
    );
}
