//! Fuzz target: see `hookmap::fuzzing::jsonpath` for the input format and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookmap::fuzzing::jsonpath(data));
