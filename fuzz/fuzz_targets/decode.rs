//! Arbitrary bytes through the event decoder (and the rejection path): never a panic, and the
//! checks of `check_decode` in `crates/engine/tests/common/fuzz_check.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/engine/tests/common/fuzz_check.rs"]
mod fuzz_check;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzz_check::check_decode(data) {
        panic!("invariant broken: {broken}");
    }
});
