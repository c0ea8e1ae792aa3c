//! Headless Chromium (Debian package `chromium`, installed by `.ci/run`) as a test oracle for
//! HTML pages: load a file, get the DOM as the browser built it, the console messages it
//! logged, and optionally a screenshot.
//!
//! How console messages are found (checked against Chromium 156, see
//! `tests/report_render.rs`): with `--enable-logging=stderr --v=0` the browser writes every
//! console message — whatever its level, `console.log` included, and uncaught exceptions — to
//! stderr as `[…:INFO:CONSOLE:LINE] "message", source: URL (LINE)` (older builds:
//! `INFO:CONSOLE(LINE)]`). A failed image or stylesheet load is *not* logged that way; a page
//! with a Content-Security-Policy turns any load it blocks into such a console message, which
//! is how the report page makes stray references visible.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one page load may take before Chromium is killed and the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// What Chromium made of a page.
#[derive(Debug)]
pub struct Loaded {
    /// The serialized DOM after load (`--dump-dom`).
    pub dom: String,
    /// Every console message the page produced, as logged (message, source, line).
    pub console: Vec<String>,
    /// Chromium's whole stderr, for failure messages.
    pub log: String,
}

/// The Chromium binary: `$CHROMIUM` if set, else `chromium` on the `PATH`. Fails the test
/// when there is none: these tests must not pass by skipping.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium not found on PATH: install the Debian package \
             (apt-get install --no-install-recommends chromium; .ci/run does) \
             or point $CHROMIUM at a Chromium binary"
        )
    })
}

/// Loads `page` (an HTML file) in headless Chromium; writes a 1280×900 screenshot to
/// `screenshot` if given. Panics if Chromium fails or takes longer than [`TIMEOUT`].
pub fn load(page: &Path, screenshot: Option<&Path>) -> Loaded {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let page = page
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let work = std::env::temp_dir().join(format!(
        "plm-chromium-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).expect("create Chromium's temp dir");
    // Files, not pipes: Chromium's helper processes can outlive it and hold a pipe open.
    let stdout_path = work.join("stdout.html");
    let stderr_path = work.join("stderr.log");
    let mut command = Command::new(binary());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,900",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg("--dump-dom");
    if let Some(shot) = screenshot {
        command.arg(format!("--screenshot={}", shot.display()));
    }
    command
        .arg(file_url(&page))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"));
    // Its own process group, so the browser and all its helpers can be killed together.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < TIMEOUT => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Ok(None) | Err(_) => break None,
        }
    };
    // Also after a clean exit: helpers left behind must not pile up across tests.
    kill_group(child.id());
    let _ = child.wait();
    let log = fs::read_to_string(&stderr_path).unwrap_or_default();
    let dom = fs::read_to_string(&stdout_path).unwrap_or_default();
    let _ = fs::remove_dir_all(&work);
    let Some(status) = status else {
        panic!(
            "chromium did not finish {} within {TIMEOUT:?}; killed. Its log:\n{log}",
            page.display()
        );
    };
    assert!(
        status.success() && !dom.is_empty(),
        "chromium failed on {} ({status}). Its log:\n{log}",
        page.display()
    );
    Loaded {
        console: console_messages(&log),
        dom,
        log,
    }
}

/// The console messages in a Chromium log (see the module doc for the format).
pub fn console_messages(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| {
            let at = line.find(":CONSOLE")?;
            let rest = &line[at..];
            let end = rest.find("] ")?;
            Some(rest[end + 2..].to_owned())
        })
        .collect()
}

fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// `file://` URL of an absolute path, percent-encoding all but unreserved characters.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                url.push(*byte as char)
            }
            other => url.push_str(&format!("%{other:02X}")),
        }
    }
    url
}
