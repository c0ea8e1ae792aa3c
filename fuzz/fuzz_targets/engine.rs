//! Up to 32 messages (split on `\n`) applied to an engine that already holds real state, the
//! first byte picking how the clock moves: never a panic, and the invariants of `check_engine`
//! in `crates/engine/tests/common/fuzz_check.rs` (a rejection or duplicate publishes exactly what it should
//! and changes no state, ...).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/engine/tests/common/fuzz_check.rs"]
mod fuzz_check;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzz_check::check_engine(data) {
        panic!("invariant broken: {broken}");
    }
});
