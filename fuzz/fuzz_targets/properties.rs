//! Fuzz target: see `hookmap::fuzzing::properties` for the input format and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookmap::fuzzing::properties(data));
