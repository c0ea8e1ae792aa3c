//! The generator's layering, as its lib.rs doc lists it, holds in the code: every module
//! imports only modules listed before it (bottom to top), and calls only the `BorrowerPlan`
//! methods defined in modules listed before it (the schedule extends `BorrowerPlan` with
//! `impl` blocks spread over several files, which imports alone would not show). So there is
//! no cycle between the generator's files. A module's own tests are exempt.

use std::collections::{BTreeMap, BTreeSet};
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

/// The top-level modules a piece of source names as `crate::m` or (from a top-level file)
/// `super::m`, including inside `{...}` groups.
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

/// The functions a piece of source defines inside `impl BorrowerPlan { ... }` blocks
/// (`new` excepted: it is called by path, never as a method).
fn borrower_methods(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for block in text.split("\nimpl BorrowerPlan {\n").skip(1) {
        let body = block.split("\n}\n").next().unwrap_or("");
        for (at, _) in body.match_indices("fn ") {
            let rest = &body[at + 3..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 && &rest[..end] != "new" {
                found.insert(rest[..end].to_owned());
            }
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

/// Every checked source file: (its top-level module, path relative to src, whether it is a
/// top-level file, its text without tests).
fn sources() -> Vec<(String, PathBuf, bool, String)> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut out = Vec::new();
    for path in all {
        let rel = path.strip_prefix(src()).expect("under src").to_path_buf();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        let top = parts[0].clone();
        if top == "lib" || top == "tests" || parts.iter().any(|p| p == "tests") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("readable source");
        out.push((top, rel, parts.len() == 1, without_tests(&text).to_owned()));
    }
    out
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let order = layers();
    assert!(order.len() > 10, "layers read from lib.rs: {order:?}");
    let known: BTreeSet<String> = order.iter().cloned().collect();
    let rank = |m: &str| order.iter().position(|o| o == m);
    let sources = sources();
    // Which module defines each BorrowerPlan method.
    let mut defined_in: BTreeMap<String, String> = BTreeMap::new();
    for (top, _, _, text) in &sources {
        for m in borrower_methods(text) {
            defined_in.insert(m, top.clone());
        }
    }
    assert!(
        defined_in.len() > 10,
        "BorrowerPlan methods found: {defined_in:?}"
    );
    let mut checked = BTreeSet::new();
    let mut broken = Vec::new();
    for (top, rel, top_level, text) in &sources {
        let Some(mine) = rank(top) else {
            broken.push(format!("{top} is not listed in lib.rs's layers"));
            continue;
        };
        for m in referenced(text, *top_level, &known) {
            if m != *top && rank(&m).unwrap_or(usize::MAX) > mine {
                broken.push(format!(
                    "{} imports {m}, which lib.rs lists above it",
                    rel.display()
                ));
            }
        }
        for (method, home) in &defined_in {
            let above = rank(home).unwrap_or(usize::MAX) > mine;
            if home != top && above && text.contains(&format!(".{method}(")) {
                broken.push(format!(
                    "{} calls BorrowerPlan::{method} of {home}, which lib.rs lists above it",
                    rel.display()
                ));
            }
        }
        checked.insert(top.clone());
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
    assert!(checked.len() > 10, "checked only {checked:?}");
}

#[test]
fn the_scanner_sees_grouped_and_plain_imports_and_methods() {
    let known: BTreeSet<String> = ["loan", "ctx", "event"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let text = "use crate::{loan::LoanPlan, ctx};\nuse super::event::Kind;";
    let top = referenced(text, true, &known);
    assert_eq!(top.len(), 3, "{top:?}");
    let nested = referenced(text, false, &known);
    assert!(!nested.contains("event"), "{nested:?}");
    let text =
        "x\nimpl BorrowerPlan {\n    pub(crate) fn new() {}\n    fn grant(&mut self) {}\n}\n";
    let methods = borrower_methods(text);
    assert_eq!(methods, BTreeSet::from(["grant".to_owned()]));
}
