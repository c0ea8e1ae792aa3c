//! The engine's inner layering, as its lib.rs doc lists it, holds in the code: every module
//! imports only modules listed before it (bottom to top), and no files or folders import each
//! other in a circle. A module's own tests and the test kit are exempt. The rules and how
//! imports are read: `crates/layering`.

use std::path::Path;

#[test]
fn every_module_imports_only_the_layers_below_it_and_nothing_imports_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    assert!(
        postloan_layering::layers(&lib).len() > 10,
        "layers read from lib.rs"
    );
    let problems = postloan_layering::check(&src, &["testkit"]).expect("readable sources");
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}
