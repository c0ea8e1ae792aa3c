//! The engine's inner layering, as its lib.rs doc lists it, holds in the code: every module
//! imports only modules listed before it (bottom to top), so there is no import cycle between
//! the engine's files. A module's own tests and the test kit are exempt.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module names in the order lib.rs's "Layers" section lists them.
fn layers() -> Vec<String> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let section = lib
        .split("//! # Layers")
        .nth(1)
        .expect("lib.rs has a \"# Layers\" section");
    section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("//!"))
        .filter_map(|l| l.strip_prefix("//! - "))
        .filter_map(|l| {
            let name = l.split(" — ").next()?;
            let name = name.trim_matches(|c| c == '[' || c == ']' || c == '`');
            (!name.contains(' ')).then(|| name.to_owned())
        })
        .collect()
}

/// The top-level engine modules a piece of source names as `crate::m` or (from a top-level
/// file) `super::m`, including inside `{...}` groups.
fn referenced(text: &str, top_level: bool, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let prefixes: &[&str] = if top_level {
        &["crate::", "super::"]
    } else {
        &["crate::"]
    };
    for prefix in prefixes {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or(""))
                    .collect()
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                vec![&rest[..end]]
            };
            found.extend(
                names
                    .into_iter()
                    .filter(|n| known.contains(*n))
                    .map(str::to_owned),
            );
        }
    }
    found
}

/// Source without its `#[cfg(test)]` tail (unit tests sit at the end of a file).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i])
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let order = layers();
    assert!(order.len() > 10, "layers read from lib.rs: {order:?}");
    let known: BTreeSet<String> = order.iter().cloned().collect();
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut checked = BTreeSet::new();
    let mut broken = Vec::new();
    for path in all {
        let rel = path.strip_prefix(src()).expect("under src");
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        let top = parts[0].as_str();
        if top == "lib" || top == "testkit" || top == "tests" || parts.iter().any(|p| p == "tests")
        {
            continue;
        }
        let Some(rank) = order.iter().position(|m| m == top) else {
            broken.push(format!("{top} is not listed in lib.rs's layers"));
            continue;
        };
        let text = fs::read_to_string(&path).expect("readable source");
        for m in referenced(without_tests(&text), parts.len() == 1, &known) {
            let theirs = order.iter().position(|o| *o == m).unwrap_or(usize::MAX);
            if m != top && theirs > rank {
                broken.push(format!(
                    "{} imports {m}, which lib.rs lists above it",
                    rel.display()
                ));
            }
        }
        checked.insert(top.to_owned());
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
    assert!(checked.len() > 10, "checked only {checked:?}");
}

#[test]
fn the_scanner_sees_grouped_and_plain_imports() {
    let known: BTreeSet<String> = ["state", "money", "signals"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let text = "use crate::{state::Borrower, money};\nuse super::signals::Figures;";
    let top = referenced(text, true, &known);
    assert_eq!(top.len(), 3, "{top:?}");
    let nested = referenced(text, false, &known);
    assert!(!nested.contains("signals"), "{nested:?}");
}
