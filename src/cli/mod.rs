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

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hookmap::mapping::script;
use hookmap::runtime::SandboxConfig;

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
    if !matches!(cli.command, Command::Serve(_)) {
        // A command answers within a second or two even when the sandbox's module cache is empty.
        script::configure_sandbox(SandboxConfig::new().quick_start(true).on_compile(compiling_notice));
    }
    let code = run_command(cli.command);
    finish_sandbox_cache();
    code
}

/// Runs one command.
fn run_command(command: Command) -> ExitCode {
    let outcome = match command {
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

/// Says why the first script mapping of a version waits.
fn compiling_notice(cache_dir: &Path) {
    eprintln!(
        "hookmap: compiling the script sandbox for this version (about a second; cached in {})",
        cache_dir.display()
    );
}

/// Waits for the optimised sandbox module to reach the cache, when a script mapping started the
/// sandbox without one, so the next command loads it in milliseconds.
fn finish_sandbox_cache() {
    let Some(sandbox) = script::started_sandbox() else {
        return;
    };
    if sandbox.is_caching() {
        eprintln!("hookmap: saving the optimised script sandbox to the cache (a few seconds, once per version)");
    }
    if let Err(error) = sandbox.finish_caching() {
        eprintln!("warning: the script sandbox was not cached: {error}");
    }
}
