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

/// A `hookmap` command whose script sandbox loads its module from the tests' shared cache,
/// compiled once (by this process) before the first command runs: no command's output then
/// depends on whether this machine has compiled the sandbox before.
pub fn hookmap_command() -> std::process::Command {
    let cache = sandbox::warm_cache_dir();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hookmap"));
    command.env("HOOKMAP_CACHE_DIR", cache);
    command
}
