//! A real Alertmanager (Debian `prometheus-alertmanager`) on a free loopback port, running the
//! shipped routing tree with its receivers swapped for webhooks to a receiver in the test.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Alertmanager binary of Debian's `prometheus-alertmanager`.
pub const BINARY: &str = "prometheus-alertmanager";

/// One webhook delivery: the receiver (path) and each alert's (escalation_id, status).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// When it arrived.
    pub at: Instant,
    /// The same, on the wall clock (to compare with Kafka record timestamps).
    pub wall: std::time::SystemTime,
    /// The receiver's name (the webhook path).
    pub receiver: String,
    /// The alerts it carried: labels and status (`firing` / `resolved`).
    pub alerts: Vec<(BTreeMap<String, String>, String)>,
}

/// A webhook receiver: every POST body, by path.
pub struct Receiver {
    /// Its port.
    pub port: u16,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    /// Listens on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let port = listener.local_addr().expect("address").port();
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let d = Arc::clone(&deliveries);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let d = Arc::clone(&d);
                std::thread::spawn(move || serve(stream, &d));
            }
        });
        Receiver { port, deliveries }
    }

    /// Everything received so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}

/// Serves one keep-alive connection: each request's body is a webhook notification.
fn serve(stream: TcpStream, deliveries: &Mutex<Vec<Delivery>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            let alerts = v["alerts"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            let labels = x["labels"]
                                .as_object()
                                .map(|l| {
                                    l.iter()
                                        .map(|(k, v)| {
                                            (k.clone(), v.as_str().unwrap_or("").to_owned())
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                            (labels, x["status"].as_str().unwrap_or("").to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Ok(mut d) = deliveries.lock() {
                d.push(Delivery {
                    at: Instant::now(),
                    wall: std::time::SystemTime::now(),
                    receiver: path.trim_start_matches('/').to_owned(),
                    alerts,
                });
            }
        }
        let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
}

/// The shipped `config/alertmanager/alertmanager.yml` for a test: its routes and inhibitions
/// as they are, timings shortened (`group_wait` 1 s, `group_interval` 1 s, `repeat_interval`
/// 24 h, so nothing repeats within a test), the smtp globals dropped, and every receiver a
/// webhook to `receiver_port` at `/<receiver name>`.
pub fn test_config(receiver_port: u16) -> (String, Vec<String>) {
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/alertmanager/alertmanager.yml"
    ))
    .expect("config/alertmanager/alertmanager.yml");
    let (head, receivers) = shipped
        .split_once("\nreceivers:\n")
        .expect("the receivers come last");
    let names: Vec<String> = receivers
        .lines()
        .filter_map(|l| l.strip_prefix("  - name: "))
        .map(|n| n.trim().trim_matches('"').to_owned())
        .collect();
    let mut out = String::new();
    let mut in_global = false;
    for line in head.lines() {
        let top_level = !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty();
        if top_level {
            in_global = line.starts_with("global:");
        }
        if in_global {
            continue;
        }
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let line = if trimmed.starts_with("group_wait:") || trimmed.starts_with("group_interval:") {
            format!(
                "{indent}{} 1s",
                trimmed.split(':').next().unwrap_or_default().to_owned() + ":"
            )
        } else if trimmed.starts_with("repeat_interval:") {
            format!("{indent}repeat_interval: 24h")
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("receivers:\n");
    for n in &names {
        out.push_str(&format!(
            "  - name: {n}\n    webhook_configs:\n      - url: http://127.0.0.1:{receiver_port}/{n}\n        send_resolved: true\n"
        ));
    }
    (out, names)
}

/// An Alertmanager process.
pub struct Alertmanager {
    /// Its port.
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Alertmanager {
    /// Starts one with `config` (its data under `dir`) and waits until it is ready.
    pub fn start(config: &str, dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("data")).expect("alertmanager dir");
        std::fs::write(dir.join("alertmanager.yml"), config).expect("alertmanager config");
        let mut am = Alertmanager {
            port: super::http::free_port(),
            dir: dir.to_owned(),
            child: None,
        };
        am.spawn();
        am
    }

    fn spawn(&mut self) {
        let child = Command::new(BINARY)
            .arg(format!("--config.file={}", self.dir.join("alertmanager.yml").display()))
            .arg(format!("--storage.path={}", self.dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            // A single instance: no gossip port.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.dir.join("alertmanager.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{BINARY} (Debian package prometheus-alertmanager) must be installed; .ci/run installs it: {e}")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while super::http::get(self.port, "/-/ready").map(|(s, _)| s) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "Alertmanager did not become ready: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown, no saved state beyond what it had written.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("alertmanager.log")).unwrap_or_default()
    }

    /// The alerts it holds now, by escalation_id: (state, inhibited), for `PostloanEscalation`.
    /// Resolved alerts are not listed (the API omits them).
    pub fn escalations(&self) -> BTreeMap<String, (String, bool)> {
        let (status, body) = super::http::get(
            self.port,
            "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&filter=alertname%3D%22PostloanEscalation%22",
        )
        .expect("GET /api/v2/alerts");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("alerts JSON");
        v.as_array()
            .map(|alerts| {
                alerts
                    .iter()
                    .map(|a| {
                        let id = a["labels"]["escalation_id"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned();
                        let state = a["status"]["state"].as_str().unwrap_or("").to_owned();
                        let inhibited = a["status"]["inhibitedBy"]
                            .as_array()
                            .is_some_and(|i| !i.is_empty());
                        (id, (state, inhibited))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        self.kill();
    }
}
