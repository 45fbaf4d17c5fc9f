//! The `hookmap` command line: one module per subcommand.
//!
//! Exit codes: 0 success; 1 the mapping (or check) failed; 2 bad input or usage.

mod check;
mod input;
mod map;
mod path;
mod presets;
mod props;
mod serve;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// hookmap: map inbound webhooks into the target schema.
#[derive(Parser)]
#[command(name = "hookmap", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Map a sample body, or an NDJSON stream of bodies, with a mapping.
    Map(map::MapArgs),
    /// Compile a mapping, run it on a sample and validate the result; list every error.
    Check(check::CheckArgs),
    /// List the mappable properties of a sample: JSONPath, types, example.
    Props(props::PropsArgs),
    /// Print the nodes a JSONPath selects in a document, as a JSON array.
    Path(path::PathArgs),
    /// List and show the presets: script mappings per provider, signature schemes.
    Presets(presets::PresetsArgs),
    /// Verify a signed webhook request (signature, timestamp window) against a scheme.
    Verify(verify::VerifyArgs),
    /// Run the ingest server and the admin API (until SIGTERM or SIGINT).
    Serve(serve::ServeArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Map(args) => map::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Props(args) => props::run(&args),
        Command::Path(args) => path::run(&args),
        Command::Presets(args) => presets::run(&args),
        Command::Verify(args) => return verify::run(&args),
        Command::Serve(args) => return serve::run(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}
