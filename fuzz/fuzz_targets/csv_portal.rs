#![no_main]
//! Fuzz target `csv_portal`: see `entrasift::fuzzing::run`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = entrasift::fuzzing::run("csv_portal", data) {
        panic!("{e}");
    }
});
