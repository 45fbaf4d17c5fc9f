//! `hookmap presets`: the script presets (and signature-scheme presets) shipped with hookmap.

use std::io::{self, Write};
use std::process::ExitCode;

use hookmap::presets;
use hookmap::security;

use super::input::CliError;

/// Arguments of `hookmap presets`.
#[derive(clap::Args)]
pub struct PresetsArgs {
    #[command(subcommand)]
    command: PresetsCommand,
}

#[derive(clap::Subcommand)]
enum PresetsCommand {
    /// List the script presets and the signature-scheme presets.
    List,
    /// Print a preset: the script, or one of its fixtures.
    Show(ShowArgs),
}

#[derive(clap::Args)]
struct ShowArgs {
    /// The preset's name (see `hookmap presets list`).
    name: String,
    /// Print the preset's sample body instead of its script.
    #[arg(long, group = "part")]
    sample: bool,
    /// Print the request object the sample came with.
    #[arg(long, group = "part")]
    request: bool,
    /// Print the script's output on the sample.
    #[arg(long, group = "part")]
    expected: bool,
    /// Print the signature-scheme preset of that name instead (for `hookmap verify --preset`).
    #[arg(long, group = "part")]
    security: bool,
    /// Print the trigger `dedup` setting suggested for that provider (its delivery or event id).
    #[arg(long, group = "part")]
    dedup: bool,
}

/// Runs `hookmap presets`.
pub fn run(args: &PresetsArgs) -> Result<ExitCode, CliError> {
    let text = match &args.command {
        PresetsCommand::List => list(),
        PresetsCommand::Show(show) if show.dedup => dedup(&show.name)?,
        PresetsCommand::Show(show) => self::show(show)?.to_owned(),
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(CliError::Write)?;
    if !text.ends_with('\n') {
        out.write_all(b"\n").map_err(CliError::Write)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn list() -> String {
    let width = presets::list().iter().map(|p| p.name.len()).max().unwrap_or(0);
    let mut text = String::from("Script presets (hookmap presets show NAME):\n");
    for preset in presets::list() {
        text.push_str(&format!("  {:width$}  {}\n", preset.name, preset.summary()));
    }
    text.push_str(
        "\nSignature-scheme presets (hookmap verify --preset NAME; hookmap presets show --security NAME):\n  ",
    );
    let names: Vec<&str> = security::presets::list().iter().map(|p| p.name).collect();
    text.push_str(&names.join(", "));
    text.push_str("\n\nSuggested dedup keys (hookmap presets show NAME --dedup):\n");
    let width = hookmap::dedup::suggested_names().map(str::len).max().unwrap_or(0);
    for name in hookmap::dedup::suggested_names() {
        if let Some(spec) = hookmap::dedup::suggested(name) {
            text.push_str(&format!("  {name:width$}  {}\n", spec.key));
        }
    }
    text
}

/// The suggested `dedup` setting of a provider, as the JSON a trigger takes.
fn dedup(name: &str) -> Result<String, CliError> {
    let spec = hookmap::dedup::suggested(name).ok_or_else(|| {
        CliError::Input(format!(
            "no dedup suggestion for {name:?}; there are: {}",
            hookmap::dedup::suggested_names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    Ok(serde_json::json!({"key": spec.key, "windowSeconds": spec.window_seconds}).to_string())
}

fn show(args: &ShowArgs) -> Result<&'static str, CliError> {
    if args.security {
        return security::presets::get(&args.name).map(|p| p.json).ok_or_else(|| {
            let names: Vec<&str> = security::presets::list().iter().map(|p| p.name).collect();
            CliError::Input(format!("no signature-scheme preset {:?}; there are: {}", args.name, names.join(", ")))
        });
    }
    let preset = presets::get(&args.name).ok_or_else(|| {
        if security::presets::get(&args.name).is_some() {
            return CliError::Input(format!(
                "{:?} is a signature-scheme preset, not a script preset: hookmap presets show --security {}",
                args.name, args.name
            ));
        }
        let names: Vec<&str> = presets::list().iter().map(|p| p.name).collect();
        CliError::Input(format!("no script preset {:?}; there are: {}", args.name, names.join(", ")))
    })?;
    Ok(if args.sample {
        preset.sample
    } else if args.request {
        preset.request
    } else if args.expected {
        preset.expected
    } else {
        preset.script
    })
}
