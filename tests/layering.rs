//! The application reads top-down: every top-level module of `src/` imports only modules that
//! `src/lib.rs`'s "# Layers" list puts below it, and no files or folders import each other in a
//! circle (the engine's and the generator's own `tests/layering.rs` check theirs). The rules
//! and how imports are read: `crates/layering`.

use std::path::Path;

#[test]
fn every_module_imports_only_the_layers_below_it_and_nothing_imports_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    assert!(
        postloan_layering::layers(&lib).len() >= 10,
        "layers read from lib.rs"
    );
    let problems = postloan_layering::check(&src, &[]).expect("readable sources");
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}
