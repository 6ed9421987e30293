//! cargo-fuzz target `model`: runs `meta_router::fuzzing::model_bytes` (the same body the test suite
//! replays over tests/corpus/model/).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meta_router::fuzzing::model_bytes(data);
});
