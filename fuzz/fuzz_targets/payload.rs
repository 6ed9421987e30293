//! cargo-fuzz target `payload`: runs `meta_router::fuzzing::model_payload` (the same body the
//! test suite replays over tests/corpus/payload/): arbitrary payloads behind a valid header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meta_router::fuzzing::model_payload(data);
});
