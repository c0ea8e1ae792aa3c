//! The committed fuzz corpus (`fuzz/corpus/`), run under `cargo test` with the same harness and
//! invariants as the libFuzzer targets (`common/fuzz_check.rs`): every input that ever
//! found new behaviour, including past crashes, stays a regression test without libFuzzer.

#[path = "common/fuzz_check.rs"]
mod fuzz_check;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The files of `fuzz/corpus/{target}`, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    // The fuzz crate sits at the top of the repository, beside the workspace it fuzzes.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of a corpus through `check`; fails naming each file that panics or breaks
/// an invariant.
fn run(target: &str, check: fn(&[u8]) -> Result<(), String>) {
    let files = corpus(target);
    assert!(!files.is_empty(), "fuzz/corpus/{target} is empty");
    let mut failures = Vec::new();
    for path in &files {
        let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        match panic::catch_unwind(AssertUnwindSafe(|| check(&data))) {
            Ok(Ok(())) => {}
            Ok(Err(broken)) => failures.push(format!("{target}/{name}: {broken}")),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                failures.push(format!("{target}/{name}: panicked: {message}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn engine_corpus_keeps_every_invariant() {
    run("engine", fuzz_check::check_engine);
}

#[test]
fn decode_corpus_keeps_every_invariant() {
    run("decode", fuzz_check::check_decode);
}
