//! `hookmap path`: the nodes a JSONPath selects in a document.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use hookmap::mapping::path::CompiledPath;
use serde_json::Value;

use super::input::{self, CliError};

/// Arguments of `hookmap path`.
#[derive(clap::Args)]
pub struct PathArgs {
    /// The JSONPath, e.g. '$.data.object.id'.
    jsonpath: String,
    /// The document (`-`: standard input).
    file: PathBuf,
    /// Pretty-print the output.
    #[arg(long)]
    pretty: bool,
}

/// Runs `hookmap path`.
pub fn run(args: &PathArgs) -> Result<ExitCode, CliError> {
    let path = CompiledPath::parse(&args.jsonpath).map_err(|error| {
        let caret =
            error.column.map(|c| format!("\n  {}\n  {}^", args.jsonpath, " ".repeat(c - 1))).unwrap_or_default();
        CliError::Input(format!("{error}{caret}"))
    })?;
    let document = input::read_json(&args.file)?;
    let nodes =
        path.select(&document).map_err(|e| CliError::Input(format!("JSONPath {} failed: {}", args.jsonpath, e.0)))?;
    let value = Value::Array(nodes.into_iter().cloned().collect());
    input::write_json(&mut io::stdout().lock(), &value, args.pretty)?;
    Ok(ExitCode::SUCCESS)
}
