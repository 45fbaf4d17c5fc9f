//! Errors of the sandbox: [`RuntimeError`] for the host (engine, cache), [`ScriptError`] for what a
//! mapping author sees.
//!
//! A script error names the script in its positions: [`SCRIPT_NAME`] (`script:4:11`) when it is
//! displayed, or any name through [`ScriptError::named`] (the CLI gives the file's name).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The sandbox host could not start: engine, guest module or cache failures.
#[derive(Debug)]
pub enum RuntimeError {
    /// wasmtime refused the configuration.
    Engine(wasmtime::Error),
    /// The guest module could not be compiled or linked.
    Module(wasmtime::Error),
    /// The guest could not be pre-initialised (its realm prepared and snapshotted).
    Snapshot(wasmtime::Error),
    /// The module cache directory could not be created or written.
    Cache {
        /// The file or directory concerned.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A thread of the sandbox (the epoch ticker, the background compilation for the cache)
    /// could not be started, or ended in a panic (`source` then says so).
    Thread {
        /// The thread's name.
        name: &'static str,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Engine(e) => write!(f, "cannot configure the wasm engine: {e}"),
            Self::Module(e) => write!(f, "cannot prepare the sandbox guest module: {e:#}"),
            Self::Snapshot(e) => write!(f, "cannot pre-initialise the sandbox guest: {e:#}"),
            Self::Cache { path, source } => {
                write!(f, "module cache {}: {source}", path.display())
            }
            Self::Thread { name, source } => write!(f, "thread {name}: {source}"),
        }
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Cache { source, .. } | Self::Thread { source, .. } => Some(source),
            Self::Engine(_) | Self::Module(_) | Self::Snapshot(_) => None,
        }
    }
}

/// The name of a script in the positions of its errors, unless [`ScriptError::named`] gives another.
pub const SCRIPT_NAME: &str = "script";

/// One frame of an exception's stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFrame {
    /// The function's name (`map`, `<top level>`, `<anonymous>`), or the engine's whole text of a
    /// frame that has no position in the script.
    pub function: String,
    /// 1-based line and column in the author's source, when the frame is in it.
    pub position: Option<(u32, u32)>,
}

/// Why a script did not produce a result: what the mapping author sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptError {
    /// The source does not parse.
    Syntax {
        /// The parser's message.
        message: String,
        /// 1-based line in the author's source.
        line: u32,
        /// 1-based column in the author's source.
        column: u32,
        /// The text of that line.
        source_line: String,
    },
    /// The source uses module syntax (`export`, `import`): a mapping is a plain script that
    /// defines a global `function map(payload, request)`.
    ModuleSyntax {
        /// `export` or `import`.
        keyword: String,
        /// 1-based line in the author's source.
        line: u32,
        /// 1-based column in the author's source.
        column: u32,
        /// The text of that line.
        source_line: String,
    },
    /// The script threw and nothing caught it.
    Exception {
        /// `Name: message` for errors, the text of a thrown string, JSON of any other value.
        message: String,
        /// 1-based line where it was thrown, when known.
        line: Option<u32>,
        /// 1-based column where it was thrown, when known.
        column: Option<u32>,
        /// The frames, innermost first.
        stack: Vec<StackFrame>,
    },
    /// `map` returned `undefined` (it has no `return`, or returns nothing).
    ReturnedUndefined,
    /// `map` returned a Promise (it is `async`): mappings are synchronous.
    ReturnedPromise,
    /// The call ran longer than its time limit.
    TimeLimit {
        /// The limit that was exceeded.
        limit: Duration,
    },
    /// The call needed more memory than its limit.
    MemoryLimit {
        /// The limit that was exceeded, in bytes.
        limit_bytes: usize,
    },
    /// The script recursed too deeply (JavaScript calls or the engine's own stack).
    StackOverflow,
    /// The result (or a value inside it) cannot be written as JSON.
    NotJson {
        /// `undefined`, `function`, `cycle`, `BigInt`, `Symbol` or `too deeply nested`.
        what: String,
        /// Where, e.g. `result.payload.detail.x`.
        path: String,
    },
    /// The result is larger than the sandbox returns.
    ResultTooLarge {
        /// The limit, in bytes of JSON (approximate).
        limit_bytes: usize,
    },
    /// The script does not define a function `map`.
    MissingMap,
    /// The payload given to the script is not JSON.
    InvalidInput {
        /// The parser's message.
        message: String,
    },
    /// The sandbox itself failed (a bug or a resource shortage of the host, not the script).
    Internal {
        /// What failed.
        message: String,
    },
}

impl ScriptError {
    /// The 1-based line and column in the author's source the error is about, when it has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            Self::Syntax { line, column, .. } | Self::ModuleSyntax { line, column, .. } => Some((*line, *column)),
            Self::Exception { line: Some(line), column: Some(column), .. } => Some((*line, *column)),
            _ => None,
        }
    }

    /// The error displayed with `name` as the script's name in its positions (`name:4:11`).
    pub fn named<'a>(&'a self, name: &'a str) -> Named<'a> {
        Named { error: self, name }
    }
}

/// A [`ScriptError`] displayed with a given script name; see [`ScriptError::named`].
pub struct Named<'a> {
    /// The error.
    error: &'a ScriptError,
    /// The script's name in positions.
    name: &'a str,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.named(SCRIPT_NAME).fmt(f)
    }
}

/// Writes a `--> name:line:column` pointer, the line and a caret under the column.
fn excerpt(f: &mut fmt::Formatter<'_>, name: &str, line: u32, column: u32, source_line: &str) -> fmt::Result {
    let gutter = line.to_string();
    let pad = " ".repeat(gutter.len());
    writeln!(f, "{pad} --> {name}:{line}:{column}")?;
    writeln!(f, "{gutter} | {source_line}")?;
    let caret_at: String = source_line
        .chars()
        .take((column as usize).saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    write!(f, "{pad} | {caret_at}^")
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name;
        match self.error {
            ScriptError::Syntax { message, line, column, source_line } => {
                writeln!(f, "syntax error: {message}")?;
                excerpt(f, name, *line, *column, source_line)
            }
            ScriptError::ModuleSyntax { keyword, line, column, source_line } => {
                writeln!(
                    f,
                    "`{keyword}` is module syntax; a mapping is a plain script: define a global `function map(payload, request)`"
                )?;
                excerpt(f, name, *line, *column, source_line)
            }
            ScriptError::Exception { message, line, column, stack } => {
                write!(f, "uncaught exception: {message}")?;
                if let (Some(line), Some(column)) = (line, column) {
                    write!(f, " ({name}:{line}:{column})")?;
                }
                for frame in stack {
                    match frame.position {
                        Some((line, column)) => write!(f, "\n    at {} ({name}:{line}:{column})", frame.function)?,
                        None => write!(f, "\n    at {}", frame.function)?,
                    }
                }
                Ok(())
            }
            ScriptError::ReturnedUndefined => {
                f.write_str("map() returned undefined; return {payload: {…}} or null to skip")
            }
            ScriptError::ReturnedPromise => f.write_str(
                "map() returned a Promise; mappings are synchronous (define `function map`, not `async function map`)",
            ),
            ScriptError::TimeLimit { limit } => write!(f, "time limit of {} exceeded", Millis(*limit)),
            ScriptError::MemoryLimit { limit_bytes } => {
                write!(f, "memory limit of {} exceeded", Bytes(*limit_bytes))
            }
            ScriptError::StackOverflow => f.write_str("stack overflow: the script recursed too deeply"),
            ScriptError::NotJson { what, path } => {
                write!(f, "the result is not JSON: {path} is {}", article(what))
            }
            ScriptError::ResultTooLarge { limit_bytes } => {
                write!(f, "the result is larger than {}", Bytes(*limit_bytes))
            }
            ScriptError::MissingMap => f.write_str("the script does not define a function `map(payload, request)`"),
            ScriptError::InvalidInput { message } => write!(f, "invalid input: {message}"),
            ScriptError::Internal { message } => write!(f, "the script sandbox failed: {message}"),
        }
    }
}

impl std::error::Error for ScriptError {}

/// `a function`, `an undefined value`, `a cycle`, ..
fn article(what: &str) -> String {
    match what {
        "undefined" => "undefined".to_owned(),
        "cycle" => "a cycle (an object that contains itself)".to_owned(),
        "too deeply nested" => "too deeply nested".to_owned(),
        other => format!("a {other}"),
    }
}

/// Displays a duration in milliseconds (`50 ms`, `1.5 ms`).
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_micros();
        if micros.is_multiple_of(1000) {
            write!(f, "{} ms", micros / 1000)
        } else {
            write!(f, "{} ms", self.0.as_secs_f64() * 1000.0)
        }
    }
}

/// Displays a byte count in the largest whole binary unit (`32 MiB`, `640 KiB`, `100 bytes`).
struct Bytes(usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: usize = 1024;
        const MIB: usize = 1024 * 1024;
        const GIB: usize = 1024 * 1024 * 1024;
        match self.0 {
            n if n >= GIB && n.is_multiple_of(GIB) => write!(f, "{} GiB", n / GIB),
            n if n >= MIB && n.is_multiple_of(MIB) => write!(f, "{} MiB", n / MIB),
            n if n >= KIB && n.is_multiple_of(KIB) => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_display_in_their_units() {
        let time = ScriptError::TimeLimit { limit: Duration::from_millis(50) };
        assert_eq!(time.to_string(), "time limit of 50 ms exceeded");
        let memory = ScriptError::MemoryLimit { limit_bytes: 32 * 1024 * 1024 };
        assert_eq!(memory.to_string(), "memory limit of 32 MiB exceeded");
    }

    #[test]
    fn syntax_error_points_a_caret_at_the_column() {
        let error = ScriptError::Syntax {
            message: "unexpected token ')'".into(),
            line: 12,
            column: 5,
            source_line: "\tx = );".into(),
        };
        let text = error.to_string();
        assert!(text.contains("12 | \tx = );"), "{text}");
        assert!(text.ends_with("   | \t   ^"), "{text}");
    }
}
