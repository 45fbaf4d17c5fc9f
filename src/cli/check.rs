//! `hookmap check`: compile a mapping, run it on a sample, validate; list every error.

use std::path::PathBuf;
use std::process::ExitCode;

use hookmap::mapping::{Mapped, compile};

use super::input::{self, CliError};

/// Arguments of `hookmap check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    mapping: input::MappingArgs,
    /// The sample body to run it on.
    #[arg(long, value_name = "FILE")]
    sample: PathBuf,
}

/// Runs `hookmap check`: prints `ok` (`ok: M skips S: reason` when the mapping skips the
/// sample) and the JSONPaths the mapping reads, or every error (compile errors, else
/// mapping and schema errors) and exits 1.
pub fn run(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let mapping = args.mapping.read()?;
    let mapping_path = args.mapping.path().to_owned();
    let body = input::read_json(&args.sample)?;
    let program = match compile(&mapping) {
        Ok(program) => program,
        Err(errors) => {
            let count = errors.0.len();
            eprintln!("error: {}", CliError::Compile { path: mapping_path, errors });
            eprintln!("{count} error(s): the mapping does not compile");
            return Ok(ExitCode::FAILURE);
        }
    };
    let input = args.mapping.input(body)?;
    let outcome = program.run_with_console(&input);
    input::print_console(&outcome.console);
    match outcome.result {
        Ok(Mapped::Skipped(skip)) => {
            let reason = skip.reason.map(|reason| format!(": {reason}")).unwrap_or_default();
            println!("ok: {} skips {}{reason}", input::name(args.mapping.path()), input::name(&args.sample));
            println!("reads: {}", program.reads_on(&input).join(" "));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Mapped::Event(_)) => {
            println!("ok: {} maps {}", input::name(args.mapping.path()), input::name(&args.sample));
            println!("reads: {}", program.reads_on(&input).join(" "));
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            super::map::report(&errors, args.mapping.path());
            eprintln!("{} error(s) mapping {}", errors.0.len(), input::name(&args.sample));
            Ok(ExitCode::FAILURE)
        }
    }
}
