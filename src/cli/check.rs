//! `hookmap check`: compile a mapping, run it on a sample, validate; list every error.

use std::path::PathBuf;
use std::process::ExitCode;

use hookmap::mapping::{Input, compile};

use super::input::{self, CliError};

/// Arguments of `hookmap check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The mapping file (`.json`: a structured mapping).
    #[arg(long, value_name = "FILE")]
    mapping: PathBuf,
    /// The sample body to run it on.
    #[arg(long, value_name = "FILE")]
    sample: PathBuf,
}

/// Runs `hookmap check`: prints `ok` and the JSONPaths the mapping reads, or every
/// error (compile errors, else mapping and schema errors) and exits 1.
pub fn run(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let mapping = input::read_mapping(&args.mapping)?;
    let body = input::read_json(&args.sample)?;
    let program = match compile(&mapping) {
        Ok(program) => program,
        Err(errors) => {
            let count = errors.0.len();
            eprintln!("error: {}", CliError::Compile { path: args.mapping.clone(), errors });
            eprintln!("{count} error(s): the mapping does not compile");
            return Ok(ExitCode::FAILURE);
        }
    };
    match program.run(&Input::from_body(body)) {
        Ok(_) => {
            println!("ok: {} maps {}", input::name(&args.mapping), input::name(&args.sample));
            println!("reads: {}", program.reads().join(" "));
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            super::map::report(&errors);
            eprintln!("{} error(s) mapping {}", errors.0.len(), input::name(&args.sample));
            Ok(ExitCode::FAILURE)
        }
    }
}
