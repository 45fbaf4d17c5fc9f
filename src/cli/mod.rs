//! Subcommands of the `hookmap` CLI.

use std::process::ExitCode;

use clap::Parser;

mod verify;

/// hookmap: an inbound-webhook mapping engine.
#[derive(Parser)]
#[command(name = "hookmap", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Verify a signed webhook request (signature, timestamp window) against a scheme.
    Verify(verify::VerifyArgs),
}

/// Parses the arguments and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(args) => verify::run(&args),
    }
}
