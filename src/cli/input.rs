//! Reading the CLI's input files (or standard input, named `-`) and its mapping files,
//! with errors that name the file and the place in it.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use hookmap::document::JsonError;
use hookmap::mapping::{
    CompileErrorKind, CompileErrors, ConsoleLine, Input, Isolation, Limits, MapError, Mapping, RequestInfo,
};
use serde_json::Value;

/// Why a command could not do its work.
#[derive(Debug)]
pub enum CliError {
    /// A file could not be read.
    Read { path: PathBuf, source: io::Error },
    /// A file is not a JSON document.
    Json { path: PathBuf, error: JsonError },
    /// A mapping file's name does not say its kind.
    MappingKind { path: PathBuf },
    /// `--mapping preset:NAME` names no script preset.
    UnknownPreset { name: String },
    /// A mapping does not compile.
    Compile { path: PathBuf, errors: CompileErrors },
    /// Some other bad input, already described.
    Input(String),
    /// Output could not be written.
    Write(io::Error),
}

impl CliError {
    /// The exit code for this error: 1 for a mapping that does not compile (as when it fails
    /// to map), 2 for bad input.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Compile { .. } => ExitCode::FAILURE,
            _ => ExitCode::from(2),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Read { path, source } => write!(f, "{}: cannot read: {source}", name(path)),
            CliError::Json { path, error } => write!(f, "{}:{error}", name(path)),
            CliError::MappingKind { path } => {
                write!(
                    f,
                    "{}: a mapping file must end in .json (structured mapping) or .js (script mapping)",
                    name(path)
                )
            }
            CliError::UnknownPreset { name } => {
                let names: Vec<&str> = hookmap::presets::list().iter().map(|p| p.name).collect();
                write!(f, "--mapping preset:{name}: no script preset {name:?}; there are: {}", names.join(", "))
            }
            CliError::Compile { path, errors } => {
                let file = name(path);
                for (i, error) in errors.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\nerror: ")?;
                    }
                    match &error.kind {
                        CompileErrorKind::Script(script) if error.field.is_empty() => {
                            write!(f, "{file}: {}", script.named(&file))?
                        }
                        _ => write!(f, "{file}: {error}")?,
                    }
                }
                Ok(())
            }
            CliError::Input(message) => f.write_str(message),
            CliError::Write(error) => write!(f, "cannot write output: {error}"),
        }
    }
}

/// A mapping error as the CLI shows it: a script's positions name the mapping file.
pub fn map_error_text(error: &MapError, mapping: &Path) -> String {
    match error {
        MapError::Script(script) => script.named(&name(mapping)).to_string(),
        other => other.to_string(),
    }
}

/// How a path is shown: `-` as `<stdin>`.
pub fn name(path: &Path) -> String {
    if path == Path::new("-") { "<stdin>".to_owned() } else { path.display().to_string() }
}

/// The bytes of `path`, or of standard input when it is `-`.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    let result = if path == Path::new("-") {
        io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    result.map_err(|source| CliError::Read { path: path.to_owned(), source })?;
    Ok(bytes)
}

/// The JSON document in `path`.
pub fn read_json(path: &Path) -> Result<Value, CliError> {
    hookmap::document::parse(&read(path)?).map_err(|error| CliError::Json { path: path.to_owned(), error })
}

/// The mapping options shared by `map` and `check`.
#[derive(clap::Args)]
pub struct MappingArgs {
    /// The mapping file: `.json` a structured mapping, `.js` a script mapping; `-` reads it from
    /// standard input (a structured mapping if its text starts with `{`, else a script);
    /// `preset:NAME` is a script preset (`hookmap presets list`).
    #[arg(long, value_name = "FILE")]
    mapping: PathBuf,
    /// A script's wall-time limit per event, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    time_limit_ms: u64,
    /// A script's memory limit, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 32)]
    memory_limit_mb: usize,
    /// `warm`: scripts run in warm instances, their top level re-run per event in a fresh scope;
    /// `fresh`: every event runs in a new sandbox instance, sharing no memory with any other.
    #[arg(long, value_name = "warm|fresh", default_value = "warm")]
    isolation: Isolation,
    /// The request the body came with, as a script sees it (JSON: method, headers, query, receivedAt).
    #[arg(long, value_name = "FILE")]
    request: Option<PathBuf>,
}

impl MappingArgs {
    /// The mapping file's path.
    pub fn path(&self) -> &Path {
        &self.mapping
    }

    /// The mapping: a script preset for `preset:NAME`; else the file's (or standard input's) text,
    /// its kind taken from the file name's extension, or for `-` from its first character.
    pub fn read(&self) -> Result<Mapping, CliError> {
        let path = &self.mapping;
        if let Some(preset) = path.to_str().and_then(|p| p.strip_prefix("preset:")) {
            let preset =
                hookmap::presets::get(preset).ok_or_else(|| CliError::UnknownPreset { name: preset.to_owned() })?;
            return Ok(self.script(preset.script));
        }
        let bytes = read(path)?;
        let text = hookmap::document::text(&bytes).map_err(|error| CliError::Json { path: path.to_owned(), error })?;
        if path == Path::new("-") {
            let structured = text.trim_start_matches('\u{feff}').trim_start().starts_with('{');
            return Ok(if structured { self.structured(text) } else { self.script(text) });
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(self.structured(text)),
            Some("js") => Ok(self.script(text)),
            _ => Err(CliError::MappingKind { path: path.to_owned() }),
        }
    }

    /// A script mapping of `source` with the limits given.
    fn script(&self, source: &str) -> Mapping {
        Mapping::Script { source: source.to_owned(), limits: self.limits(), isolation: self.isolation }
    }

    /// A structured mapping of `source` whose script leaves run under the limits given.
    fn structured(&self, source: &str) -> Mapping {
        Mapping::Structured { source: source.to_owned(), limits: self.limits(), isolation: self.isolation }
    }

    /// The limits given on the command line.
    fn limits(&self) -> Limits {
        Limits {
            time: Duration::from_millis(self.time_limit_ms),
            memory_bytes: self.memory_limit_mb.saturating_mul(1 << 20),
        }
    }

    /// An input of `body` with the `--request` given (a `POST` received now without it).
    pub fn input(&self, body: Value) -> Result<Input, CliError> {
        let mut input = Input::from_body(body);
        if let Some(path) = &self.request {
            input.request = RequestInfo::from_json(&read_json(path)?, &input.request.received_at)
                .map_err(|message| CliError::Input(format!("{}: {message}", name(path))))?;
        }
        Ok(input)
    }
}

/// Prints a script's console output to stderr, one `console.LEVEL: text` line each.
pub fn print_console(console: &[ConsoleLine]) {
    for line in console {
        eprintln!("console.{}: {}", line.level, line.text);
    }
}

/// Writes `value` as JSON and a newline, pretty or compact.
pub fn write_json(out: &mut impl Write, value: &Value, pretty: bool) -> Result<(), CliError> {
    let written =
        if pretty { serde_json::to_writer_pretty(&mut *out, value) } else { serde_json::to_writer(&mut *out, value) };
    written.map_err(|e| CliError::Write(e.into()))?;
    out.write_all(b"\n").map_err(CliError::Write)
}
