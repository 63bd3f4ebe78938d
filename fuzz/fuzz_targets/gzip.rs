#![no_main]
//! Fuzz target `gzip`: see `entrasift::fuzzing::run`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = entrasift::fuzzing::run("gzip", data) {
        panic!("{e}");
    }
});
