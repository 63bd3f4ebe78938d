#![no_main]
//! Fuzz target `json_azure_monitor`: see `entrasift::fuzzing::run`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = entrasift::fuzzing::run("json_azure_monitor", data) {
        panic!("{e}");
    }
});
