//! Fuzz target: see `hookmap::fuzzing::ingest` for the input format and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookmap::fuzzing::ingest(data));
