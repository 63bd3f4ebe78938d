#![no_main]
//! Fuzz target `zip`: see `entrasift::fuzzing::run`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = entrasift::fuzzing::run("zip", data) {
        panic!("{e}");
    }
});
