//! The `hookmap` command: tools for mapping authors.
#![forbid(unsafe_code)]

mod cli;

use clap::Parser;

/// mimalloc: cheaper than glibc malloc for the server's many small per-request allocations
/// across threads (see `benches/load.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run(cli::Cli::parse())
}
