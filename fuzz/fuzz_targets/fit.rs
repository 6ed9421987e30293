//! cargo-fuzz target `fit`: runs `meta_router::fuzzing::fit_small` (the same body the test suite
//! replays over tests/corpus/fit/).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meta_router::fuzzing::fit_small(data);
});
