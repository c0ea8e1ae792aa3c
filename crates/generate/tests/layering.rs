//! The generator's layering, as its lib.rs doc lists it, holds in the code: every module
//! imports only modules listed before it (bottom to top) and no files import each other in a
//! circle (the rules, and how imports are read: `crates/layering`). And every module calls only
//! the `BorrowerPlan` methods defined in modules listed before it: the schedule extends
//! `BorrowerPlan` with `impl` blocks spread over several files, which imports alone would not
//! show. A module's own tests are exempt.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use postloan_layering::modules::{code_of, module_of};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_imports_only_the_layers_below_it_and_nothing_imports_in_a_circle() {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    assert!(
        postloan_layering::layers(&lib).len() > 10,
        "layers read from lib.rs"
    );
    let problems = postloan_layering::check(&src(), &[]).expect("readable sources");
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
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

/// Every checked source file: (its top-level module, path relative to src, its code).
fn sources(dir: &Path, out: &mut Vec<(String, String, String)>) {
    for entry in fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
            continue;
        }
        let rel = path
            .strip_prefix(src())
            .expect("under src")
            .to_string_lossy();
        let Some(module) = module_of(&rel).filter(|m| !m.is_empty()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("readable source");
            out.push((module[0].clone(), rel.into_owned(), code_of(&text)));
        }
    }
}

#[test]
fn every_module_calls_only_borrower_plan_methods_of_the_layers_below_it() {
    let order =
        postloan_layering::layers(&fs::read_to_string(src().join("lib.rs")).expect("lib.rs"));
    let rank = |m: &str| order.iter().position(|o| o == m).unwrap_or(usize::MAX);
    let mut all = Vec::new();
    sources(&src(), &mut all);
    // Which module defines each BorrowerPlan method.
    let mut defined_in: BTreeMap<String, String> = BTreeMap::new();
    for (top, _, text) in &all {
        for m in borrower_methods(text) {
            defined_in.insert(m, top.clone());
        }
    }
    assert!(
        defined_in.len() > 10,
        "BorrowerPlan methods found: {defined_in:?}"
    );
    let mut broken = Vec::new();
    for (top, rel, text) in &all {
        for (method, home) in &defined_in {
            if home != top && rank(home) > rank(top) && text.contains(&format!(".{method}(")) {
                broken.push(format!(
                    "{rel} calls BorrowerPlan::{method} of {home}, which lib.rs lists above it"
                ));
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_scanner_sees_methods() {
    let text =
        "x\nimpl BorrowerPlan {\n    pub(crate) fn new() {}\n    fn grant(&mut self) {}\n}\n";
    assert_eq!(borrower_methods(text), BTreeSet::from(["grant".to_owned()]));
}
