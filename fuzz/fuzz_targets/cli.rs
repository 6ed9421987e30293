//! cargo-fuzz target `cli`: runs `meta_router::fuzzing::cli_args` (the same body the test suite
//! replays over tests/corpus/cli/).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meta_router::fuzzing::cli_args(data);
});
