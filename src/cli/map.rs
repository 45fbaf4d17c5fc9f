//! `hookmap map`: map a sample body, or an NDJSON stream of bodies.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hookmap::document::JsonError;
use hookmap::mapping::{Input, MapErrors, Mapped, Program, RequestInfo, compile};
use serde_json::json;

use super::input::{self, CliError};

/// Arguments of `hookmap map`.
#[derive(clap::Args)]
pub struct MapArgs {
    #[command(flatten)]
    mapping: input::MappingArgs,
    /// One sample body to map; prints the mapped JSON, or every error to stderr.
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    sample: Option<PathBuf>,
    /// NDJSON bodies, one per line (`-` or nothing: standard input); prints one line
    /// per body: the mapped JSON or {"error": {"line", "messages"}}.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Pretty-print the output.
    #[arg(long)]
    pretty: bool,
}

/// Runs `hookmap map`.
pub fn run(args: &MapArgs) -> Result<ExitCode, CliError> {
    let mapping = args.mapping.read()?;
    let program =
        compile(&mapping).map_err(|errors| CliError::Compile { path: args.mapping.path().to_owned(), errors })?;
    match &args.sample {
        Some(sample) => map_one(&program, &args.mapping, sample, args.pretty),
        None => {
            let request = args.mapping.input(serde_json::Value::Null)?.request;
            let stream = Stream { program: &program, request: &request, mapping: args.mapping.path() };
            map_stream(&stream, args.input.as_deref().unwrap_or(Path::new("-")), args.pretty)
        }
    }
}

fn map_one(program: &Program, args: &input::MappingArgs, sample: &Path, pretty: bool) -> Result<ExitCode, CliError> {
    let body = parse_body(program, &input::read(sample)?)
        .map_err(|error| CliError::Json { path: sample.to_owned(), error })?;
    let outcome = program.run_with_console(&args.input(body)?);
    input::print_console(&outcome.console);
    match outcome.result {
        Ok(mapped) => {
            input::write_json(&mut io::stdout().lock(), &output(mapped), pretty)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            report(&errors, args.path());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A body parsed for `program`. [`Program::parse_body`] skips what the mapping does not read
/// without the nesting limit; the CLI holds every document to it, as `check` and `props` do.
fn parse_body(program: &Program, bytes: &[u8]) -> Result<serde_json::Value, JsonError> {
    let body = program.parse_body(bytes)?;
    hookmap::document::check_depth(bytes)?;
    Ok(body)
}

/// What `map` prints for a body that mapped: the event's document, or
/// `{"skipped": true, "reason": …}`.
fn output(mapped: Mapped) -> serde_json::Value {
    match mapped {
        Mapped::Event(document) => document,
        Mapped::Skipped(skip) => skip.to_json(),
    }
}

/// Prints every error of a failed mapping to stderr (a script's positions name the `mapping` file).
pub fn report(errors: &MapErrors, mapping: &Path) {
    for error in &errors.0 {
        eprintln!("error: {}", input::map_error_text(error, mapping));
    }
}

/// What every line of a stream is mapped with.
struct Stream<'a> {
    /// The compiled mapping.
    program: &'a Program,
    /// The request each body came with.
    request: &'a RequestInfo,
    /// The mapping's file, named in a script's error positions.
    mapping: &'a Path,
}

fn map_stream(stream: &Stream<'_>, path: &Path, pretty: bool) -> Result<ExitCode, CliError> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|source| CliError::Read { path: path.to_owned(), source })?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let failed = map_lines(stream, reader, &mut out, pretty).map_err(|e| match e {
        StreamError::Read(source) => CliError::Read { path: path.to_owned(), source },
        StreamError::Write(cli) => cli,
    })?;
    out.flush().map_err(CliError::Write)?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

enum StreamError {
    Read(io::Error),
    Write(CliError),
}

/// Lines read and mapped together; each batch is split between the cores.
const BATCH_LINES: usize = 4096;

/// Below this many lines a batch is mapped on the calling thread.
const PARALLEL_MIN_LINES: usize = 64;

/// Maps each non-blank line of `reader`, writing one output line per input line in
/// input order; says whether any line failed.
fn map_lines(
    stream: &Stream<'_>,
    mut reader: impl BufRead,
    out: &mut impl Write,
    pretty: bool,
) -> Result<bool, StreamError> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut failed = false;
    let mut number = 0;
    loop {
        let batch = read_batch(&mut reader, &mut number).map_err(StreamError::Read)?;
        if batch.is_empty() {
            return Ok(failed);
        }
        let outputs: Vec<(Vec<u8>, bool)> = if workers == 1 || batch.len() < PARALLEL_MIN_LINES {
            vec![map_chunk(stream, &batch, pretty)]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .chunks(batch.len().div_ceil(workers))
                    .map(|lines| scope.spawn(move || map_chunk(stream, lines, pretty)))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
            })
        };
        for (bytes, chunk_failed) in outputs {
            out.write_all(&bytes).map_err(|e| StreamError::Write(CliError::Write(e)))?;
            failed |= chunk_failed;
        }
    }
}

/// Up to [`BATCH_LINES`] non-blank lines with their 1-based numbers.
fn read_batch(reader: &mut impl BufRead, number: &mut usize) -> io::Result<Vec<(usize, Vec<u8>)>> {
    let mut batch = Vec::new();
    while batch.len() < BATCH_LINES {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        *number += 1;
        while line.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            line.pop();
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            batch.push((*number, line));
        }
    }
    Ok(batch)
}

/// The output lines of `lines`, and whether any failed.
fn map_chunk(stream: &Stream<'_>, lines: &[(usize, Vec<u8>)], pretty: bool) -> (Vec<u8>, bool) {
    let Stream { program, request, mapping } = *stream;
    let mut out = Vec::with_capacity(lines.len() * 256);
    let mut failed = false;
    for (number, line) in lines {
        let result = parse_body(program, line).map_err(|e| vec![e.to_string()]).and_then(|body| {
            program
                .run(&Input { body, request: request.clone() })
                .map_err(|e| e.0.iter().map(|error| input::map_error_text(error, mapping)).collect())
        });
        let output = match result {
            Ok(mapped) => output(mapped),
            Err(messages) => {
                failed = true;
                json!({"error": {"line": number, "messages": messages}})
            }
        };
        // Writing into a Vec cannot fail.
        let _ = input::write_json(&mut out, &output, pretty);
    }
    (out, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_streams_keep_their_order_across_threads() {
        let program = compile(&hookmap::mapping::Mapping::Structured {
            source: r#"{"payload":{"target":{"usersById":"$.id"}}}"#.to_owned(),
            limits: Default::default(),
            isolation: Default::default(),
        })
        .unwrap();
        let count = BATCH_LINES * 2 + 17;
        let input: String =
            (0..count).map(|i| if i % 1000 == 999 { "{}\n".to_owned() } else { format!("{{\"id\":{i}}}\n") }).collect();
        let mut out = Vec::new();
        let stream = Stream { program: &program, request: &RequestInfo::default(), mapping: Path::new("m.json") };
        let failed = map_lines(&stream, input.as_bytes(), &mut out, false).unwrap_or_else(|_| panic!("io"));
        assert!(failed);
        let text = String::from_utf8(out).unwrap();
        for (i, line) in text.lines().enumerate() {
            if i % 1000 == 999 {
                assert!(line.starts_with(&format!("{{\"error\":{{\"line\":{}", i + 1)), "{line}");
            } else {
                assert!(line.contains(&format!("[\"{i}\"]")), "line {i}: {line}");
            }
        }
        assert_eq!(text.lines().count(), count);
    }

    #[test]
    fn maps_each_line_and_goes_on_after_a_failure() {
        let program = compile(&hookmap::mapping::Mapping::Structured {
            source: r#"{"payload":{"target":{"usersById":"$.id"}}}"#.to_owned(),
            limits: Default::default(),
            isolation: Default::default(),
        })
        .unwrap();
        let input = b"{\"id\":1}\n\n{\"id\":\n{\"x\":1}\n{\"id\":\"b\"}";
        let mut out = Vec::new();
        let stream = Stream { program: &program, request: &RequestInfo::default(), mapping: Path::new("m.json") };
        let failed = map_lines(&stream, &input[..], &mut out, false).unwrap_or_else(|_| panic!("io"));
        assert!(failed);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with(r#"{"payload":{"target":{"usersById":["1"]}"#));
        assert!(lines[1].starts_with(r#"{"error":{"line":3,"messages":["1:6: invalid JSON"#), "{}", lines[1]);
        assert_eq!(
            lines[2],
            r#"{"error":{"line":4,"messages":["payload.target.usersById: no user ids: $.id selected nothing"]}}"#
        );
        assert!(lines[3].contains(r#"["b"]"#));
    }
}
