//! hookmap's integration tests: one binary, one module per area, each driving the
//! public interfaces (library API and the `hookmap` CLI).

mod cli;
mod fuzz_replay;
mod golden;
mod jsonpath_cts;
mod mapping_golden;
mod presets;
mod proptests;
mod sandbox;
mod security;
mod server;
mod walkthrough;
