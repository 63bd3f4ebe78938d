#![no_main]
//! Fuzz target `csv_purview`: see `entrasift::fuzzing::run`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = entrasift::fuzzing::run("csv_purview", data) {
        panic!("{e}");
    }
});
