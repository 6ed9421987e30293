//! cargo-fuzz target `csv`: runs `meta_router::fuzzing::csv_bytes` (the same body the test suite
//! replays over tests/corpus/csv/).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meta_router::fuzzing::csv_bytes(data);
});
