//! Import cycles between sibling modules.
//!
//! An import from `a::x::p` to `a::y::q` is an edge between the siblings `a::x` → `a::y` (the
//! children of the deepest module both sit in). A module naming its own parent or child is not
//! an edge: a parent declares its children, and children use their parent's items. A cycle is
//! a strongly connected set of siblings; one cycle through each such set is reported.

use std::collections::{BTreeMap, BTreeSet};

use crate::modules::File;

type Module = Vec<String>;

/// One cycle per strongly connected set of sibling modules, as module paths that start and end
/// at the same module (`["runtime::client", "runtime::task", "runtime::client"]`), each step
/// followed by the file that makes it (`(runtime/task.rs)`).
pub fn cycles(files: &[File]) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for file in files {
        for target in &file.imports {
            let common = file
                .module
                .iter()
                .zip(target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == file.module.len() || common == target.len() {
                continue;
            }
            edges
                .entry(file.module[..=common].to_vec())
                .or_default()
                .entry(target[..=common].to_vec())
                .or_insert_with(|| file.path.clone());
        }
    }
    let mut out = Vec::new();
    for component in strongly_connected(&edges) {
        if let Some(cycle) = cycle_within(&component, &edges) {
            out.push(cycle);
        }
    }
    out
}

/// Components with more than one module (Tarjan's algorithm, iterative order by BTreeMap).
fn strongly_connected(edges: &BTreeMap<Module, BTreeMap<Module, String>>) -> Vec<BTreeSet<Module>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<Module, BTreeMap<Module, String>>,
        index: BTreeMap<&'a Module, (usize, usize)>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        out: Vec<BTreeSet<Module>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, (n, n));
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flat_map(BTreeMap::keys) {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low_w = self.index[w].1;
                    let e = self.index.get_mut(v).expect("visited");
                    e.1 = e.1.min(low_w);
                } else if self.on_stack.contains(w) {
                    let idx_w = self.index[w].0;
                    let e = self.index.get_mut(v).expect("visited");
                    e.1 = e.1.min(idx_w);
                }
            }
            let (idx, low) = self.index[v];
            if idx == low {
                let mut component = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.insert(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

/// A shortest cycle through the component's first module (breadth-first, inside the component).
fn cycle_within(
    component: &BTreeSet<Module>,
    edges: &BTreeMap<Module, BTreeMap<Module, String>>,
) -> Option<Vec<String>> {
    let start = component.iter().next()?;
    let mut came_from: BTreeMap<&Module, &Module> = BTreeMap::new();
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for v in frontier {
            for w in edges.get(v).into_iter().flat_map(BTreeMap::keys) {
                if !component.contains(w) || came_from.contains_key(w) {
                    continue;
                }
                came_from.insert(w, v);
                if w == start {
                    let mut path = vec![start];
                    let mut at = came_from[start];
                    while at != start {
                        path.push(at);
                        at = came_from[at];
                    }
                    path.push(start);
                    path.reverse();
                    let steps = path.windows(2).map(|pair| {
                        format!("{} ({})", pair[1].join("::"), edges[pair[0]][pair[1]])
                    });
                    return Some(std::iter::once(start.join("::")).chain(steps).collect());
                }
                next.push(w);
            }
        }
        frontier = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::cycles;
    use crate::modules::File;

    fn file(path: &str, module: &str, imports: &[&str]) -> File {
        let split = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
        File {
            path: path.to_owned(),
            module: split(module),
            imports: imports.iter().map(|i| split(i)).collect(),
        }
    }

    #[test]
    fn a_circle_between_files_of_a_folder_is_found_with_the_files_that_make_it() {
        let files = [
            file("rt/client.rs", "rt::client", &["rt::task", "rt"]),
            file("rt/task.rs", "rt::task", &["rt::restore"]),
            file("rt/restore.rs", "rt::restore", &["rt::client"]),
            file("rt/mod.rs", "rt", &["rt::client", "kafka"]),
            file("kafka.rs", "kafka", &["rt::task"]),
        ];
        assert_eq!(
            cycles(&files),
            [
                vec![
                    "kafka".to_owned(),
                    "rt (kafka.rs)".to_owned(),
                    "kafka (rt/mod.rs)".to_owned()
                ],
                vec![
                    "rt::client".to_owned(),
                    "rt::task (rt/client.rs)".to_owned(),
                    "rt::restore (rt/task.rs)".to_owned(),
                    "rt::client (rt/restore.rs)".to_owned()
                ],
            ]
        );
    }

    #[test]
    fn parents_and_children_naming_each_other_is_no_cycle() {
        let files = [
            file("rt/mod.rs", "rt", &["rt::task"]),
            file("rt/task.rs", "rt::task", &["rt"]),
            file("rt/task/inner.rs", "rt::task::inner", &["rt::client"]),
            file("rt/client.rs", "rt::client", &["rt::task::inner"]),
        ];
        // inner → client lifts to task → client; client → task::inner lifts to client → task.
        assert_eq!(cycles(&files).len(), 1);
        let acyclic = &files[..2];
        assert!(cycles(acyclic).is_empty());
    }
}
