//! postloan-layering: the import rules the workspace's tests enforce, read from the source text.
//!
//! Every crate of the workspace keeps a "# Layers" list in its `lib.rs` doc: its top-level
//! modules bottom to top, one line each. Its `tests/layering.rs` calls [`check`], which fails on
//!
//! - a top-level module that imports one listed above it (a layer broken), and
//! - an import cycle anywhere below the top: between the files of a folder (`runtime/client.rs`
//!   ↔ `runtime/task.rs`), or between the sub-folders of a module.
//!
//! What counts as an import is a path the source names: `crate::a::b`, `super::x` (any number
//! of `super::`), `self::x`, with `{…}` groups nested to any depth, in code and in the links of
//! doc comments (an intra-doc link is a dependency of the docs; a path quoted in backticks is
//! not). Plain `//` comments are ignored, and so is test code: files of a `tests` module and the
//! `#[cfg(test)] mod tests` tail of a file.
//!
//! Parts: [`modules`] (files → module paths and the paths each one names), [`graph`] (the
//! sibling graph and its cycles), and [`check`] (the two rules over one crate).
//!
//! Test-only: the crates name this one as a dev-dependency, and nothing ships with it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod graph;
pub mod modules;

use std::path::Path;

/// The module names in the order the crate's `lib.rs` lists them under `# Layers` (lines of the
/// form ``//! - [`name`] — what it is`` or ``//! - `name` — …``), bottom first.
pub fn layers(lib_rs: &str) -> Vec<String> {
    let Some(section) = lib_rs.split("//! # Layers").nth(1) else {
        return Vec::new();
    };
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

/// Everything wrong with the crate whose sources are in `src`: one line per broken layer or
/// import cycle. Empty when the crate keeps its rules.
///
/// `exempt` names top-level modules outside the layering (a test kit, say).
pub fn check(src: &Path, exempt: &[&str]) -> Result<Vec<String>, std::io::Error> {
    let lib = std::fs::read_to_string(src.join("lib.rs"))?;
    let order = layers(&lib);
    let files = modules::read(src)?;
    let mut problems = Vec::new();
    if order.is_empty() {
        problems.push("lib.rs has no \"# Layers\" list".to_owned());
    }
    for file in &files {
        let Some(top) = file.module.first() else {
            continue;
        };
        if exempt.contains(&top.as_str()) {
            continue;
        }
        let Some(rank) = order.iter().position(|m| m == top) else {
            problems.push(format!("{top} is not listed in lib.rs's layers"));
            continue;
        };
        for target in &file.imports {
            let Some(theirs) = target.first() else {
                continue;
            };
            let Some(their_rank) = order.iter().position(|m| m == theirs) else {
                continue;
            };
            if their_rank > rank {
                problems.push(format!(
                    "{} imports {}, which lib.rs lists above {top}",
                    file.path,
                    target.join("::")
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    for cycle in graph::cycles(&files) {
        problems.push(format!("import cycle: {}", cycle.join(" → ")));
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::layers;

    #[test]
    fn layers_are_read_in_order_and_prose_lines_are_skipped() {
        let lib = "//! Intro.\n//!\n//! # Layers\n//!\n//! - [`types`] — words.\n//! - `serde_forms` — \
                   forms.\n//! - [`engine`] — the engine;\n//!   continued here.\n//! - the rest — prose\n\nmod x;";
        assert_eq!(layers(lib), ["types", "serde_forms", "engine"]);
        assert!(layers("//! no list").is_empty());
    }
}
