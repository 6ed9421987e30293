//! cargo-fuzz target `fit`: runs `meta_router::fuzzing::fit_small` (awkward data, default
//! parameters) and `meta_router::fuzzing::fit_params` (parameters from the whole `u64` range),
//! the same bodies the test suite replays over tests/corpus/fit/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meta_router::fuzzing::fit_small(data);
    meta_router::fuzzing::fit_params(data);
});
