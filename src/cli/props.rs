//! `hookmap props`: the mappable properties of a sample.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use hookmap::sample::{Property, properties};

use super::input::{self, CliError};

/// Arguments of `hookmap props`.
#[derive(clap::Args)]
pub struct PropsArgs {
    /// The sample body (`-`: standard input).
    file: PathBuf,
    /// Print a JSON array of {path, types, example}.
    #[arg(long)]
    json: bool,
}

/// The widest an example is shown in the text listing.
const EXAMPLE_WIDTH: usize = 60;

/// Runs `hookmap props`.
pub fn run(args: &PropsArgs) -> Result<ExitCode, CliError> {
    let sample = input::read_json(&args.file)?;
    let listed = properties(&sample).map_err(|e| CliError::Input(format!("{}: {e}", input::name(&args.file))))?;
    let mut out = io::stdout().lock();
    if args.json {
        let value = serde_json::to_value(&listed).map_err(|e| CliError::Write(e.into()))?;
        input::write_json(&mut out, &value, true)?;
    } else {
        out.write_all(table(&listed).as_bytes()).map_err(CliError::Write)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The properties as aligned text columns: path, types, example.
fn table(listed: &[Property]) -> String {
    let types: Vec<String> =
        listed.iter().map(|p| p.types.iter().map(|t| t.name()).collect::<Vec<_>>().join("|")).collect();
    let path_width = listed.iter().map(|p| p.path.chars().count()).max().unwrap_or(0);
    let type_width = types.iter().map(String::len).max().unwrap_or(0);
    let mut text = String::new();
    for (property, types) in listed.iter().zip(&types) {
        let example = property.example.as_ref().map(|e| shorten(&e.to_string())).unwrap_or_default();
        let line = format!("{:path_width$}  {:type_width$}  {example}", property.path, types);
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= EXAMPLE_WIDTH {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(EXAMPLE_WIDTH - 1).collect();
    cut.push('…');
    cut
}
