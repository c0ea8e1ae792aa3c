//! A crate's source files as modules, and the module paths each one names.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// One source file of the library: its module and what it imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Its path under `src/`, with `/` separators (for messages).
    pub path: String,
    /// Its module path from the crate root (`["runtime", "task"]`); empty for `lib.rs`.
    pub module: Vec<String>,
    /// The modules it names, resolved to the longest module path that is a file of the crate
    /// (`crate::runtime::task::Record` → `["runtime", "task"]`), without duplicates.
    pub imports: BTreeSet<Vec<String>>,
}

/// Reads every library file under `src` (not `main.rs`, not test files: a `tests` folder or
/// module, a file named `tests.rs` or `*_tests.rs`) and resolves what each imports.
pub fn read(src: &Path) -> Result<Vec<File>, std::io::Error> {
    let mut paths = Vec::new();
    walk(src, src, &mut paths)?;
    paths.sort();
    let mut raw = Vec::new();
    for rel in paths {
        let Some(module) = module_of(&rel) else {
            continue;
        };
        let text = fs::read_to_string(src.join(&rel))?;
        raw.push((rel, module, text));
    }
    let known: BTreeSet<Vec<String>> = raw.iter().map(|(_, m, _)| m.clone()).collect();
    Ok(raw
        .into_iter()
        .map(|(path, module, text)| {
            let imports = named_paths(&code_of(&text), &module)
                .into_iter()
                .filter_map(|p| resolve(&p, &known))
                .filter(|t| *t != module)
                .collect();
            File {
                path,
                module,
                imports,
            }
        })
        .collect())
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), std::io::Error> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    Ok(())
}

/// The module path of a file (`a/b.rs` and `a/b/mod.rs` → `[a, b]`), or `None` for files
/// outside the library's checked code: the binary root and test files.
pub fn module_of(rel: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.iter().any(|p| p == "tests" || p.ends_with("_tests")) || rel == "main.rs" {
        return None;
    }
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    Some(parts)
}

/// The code of a file as the rules read it: without its `#[cfg(test)] mod tests` tail, without
/// plain `//` comments, and of doc comments only their intra-doc links (a link is a dependency
/// of the docs; a path merely quoted in backticks is not).
pub fn code_of(text: &str) -> String {
    let body = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i]);
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("///") || t.starts_with("//!") {
            out.push_str(&doc_links(&t[3..]).join(" "));
        } else if !t.starts_with("//") {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The targets of a doc line's links: `[`a::b`]`, `[text](a::b)`, `[text][a::b]`.
fn doc_links(doc: &str) -> Vec<&str> {
    let mut links = Vec::new();
    let mut rest = doc;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        let after = &rest[close + 1..];
        let target = [('(', ')'), ('[', ']')].into_iter().find_map(|(o, c)| {
            let inner = after.strip_prefix(o)?;
            inner
                .find(c)
                .map(|end| (&inner[..end], close + 2 + end + 1))
        });
        match target {
            Some((t, end)) => {
                links.push(t);
                rest = &rest[end..];
            }
            None => {
                links.push(&rest[open + 1..close]);
                rest = after;
            }
        }
    }
    links.into_iter().map(|l| l.trim_matches('`')).collect()
}

/// Every path the code names from `crate::`, `super::` or `self::`, made absolute against the
/// file's module, with `{…}` groups expanded.
pub fn named_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let boundary = at == 0 || !is_ident(bytes[at - 1]);
        let base = if !boundary {
            None
        } else if let Some(r) = rest.strip_prefix("crate::") {
            Some((Vec::new(), code.len() - r.len()))
        } else if let Some(r) = rest.strip_prefix("self::") {
            Some((module.to_vec(), code.len() - r.len()))
        } else if rest.starts_with("super::") {
            let mut base = module.to_vec();
            let mut r = rest;
            while let Some(next) = r.strip_prefix("super::") {
                base.pop();
                r = next;
            }
            Some((base, code.len() - r.len()))
        } else {
            None
        };
        match base {
            Some((base, tree_at)) => {
                let (trees, end) = use_tree(code, tree_at);
                out.extend(trees.into_iter().map(|t| [base.clone(), t].concat()));
                at = end.max(at + 1);
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Parses a use tree at `at` (`a::b`, `a::{b, c::{d}}`, `{a, b}`): every leaf path, and where
/// the tree ends.
fn use_tree(code: &str, mut at: usize) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let mut prefix = Vec::new();
    loop {
        if bytes.get(at) == Some(&b'{') {
            let mut leaves = Vec::new();
            at += 1;
            loop {
                while bytes
                    .get(at)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                {
                    at += 1;
                }
                match bytes.get(at) {
                    None => break,
                    Some(b'}') => {
                        at += 1;
                        break;
                    }
                    Some(_) => {
                        let (inner, end) = use_tree(code, at);
                        leaves.extend(inner.into_iter().map(|t| [prefix.clone(), t].concat()));
                        // Skip what the tree does not consume (`as name`, `*`).
                        at = end;
                        while bytes
                            .get(at)
                            .is_some_and(|b| !matches!(b, b',' | b'}' | b'{'))
                        {
                            at += 1;
                        }
                        if bytes.get(at) == Some(&b'{') {
                            at += 1;
                        }
                    }
                }
            }
            return (leaves, at);
        }
        let start = at;
        while bytes.get(at).is_some_and(|b| is_ident(*b)) {
            at += 1;
        }
        if at > start {
            prefix.push(code[start..at].to_owned());
        }
        if at > start && code[at..].starts_with("::") {
            at += 2;
            continue;
        }
        return (vec![prefix], at);
    }
}

/// The longest prefix of `path` that is a module of the crate, if any but the root.
fn resolve(path: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains(p))
}

#[cfg(test)]
mod tests {
    use super::{code_of, module_of, named_paths};

    fn m(s: &str) -> Vec<String> {
        s.split("::")
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn files_map_to_modules_and_tests_are_left_out() {
        assert_eq!(module_of("lib.rs"), Some(vec![]));
        assert_eq!(module_of("runtime/task.rs"), Some(m("runtime::task")));
        assert_eq!(
            module_of("runtime/worker/mod.rs"),
            Some(m("runtime::worker"))
        );
        assert_eq!(module_of("runtime/worker/tests/mod.rs"), None);
        assert_eq!(module_of("portfolio/class_tests.rs"), None);
        assert_eq!(module_of("main.rs"), None);
    }

    #[test]
    fn paths_are_made_absolute_with_groups_expanded() {
        let code = "use crate::{runtime::{client::Lag, task}, config};\n\
                    use super::super::kafka::topics as t;\nlet x = self::inner::f();\n\
                    // crate::ignored\n/// See [`crate::docs::Linked`], [it](crate::docs::Too), \
                    `crate::quoted::Only`.\nmy_crate::not_this();";
        let found = named_paths(&code_of(code), &m("a::b"));
        assert_eq!(
            found,
            [
                m("runtime::client::Lag"),
                m("runtime::task"),
                m("config"),
                m("kafka::topics"),
                m("a::b::inner::f"),
                m("docs::Linked"),
                m("docs::Too"),
            ]
        );
    }

    #[test]
    fn a_test_tail_is_not_code() {
        let code = "use crate::a;\n#[cfg(test)]\nmod tests {\n use crate::b;\n}";
        assert_eq!(named_paths(&code_of(code), &[]), [m("a")]);
    }
}
