//! Fuzz target: see `hookmap::server::fuzz_ingest::ingest` for the input format and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookmap::server::fuzz_ingest::ingest(data));
