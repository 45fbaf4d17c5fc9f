//! Mappings: what an author writes ([`Mapping`]), compiled once ([`compile`]) into a
//! [`Program`] that maps many request bodies into the target schema ([`Program::run`]).
//!
//! Both kinds of mapping compile to the same tree of `node`s, so the server, the
//! preview and the CLI run every mapping the same way, and the cache
//! ([`cache::ProgramCache`]) holds compiled programs so that no path is parsed per
//! request.

pub mod cache;
mod error;
mod filter;
mod node;
pub mod path;
mod projection;
pub mod script;
pub mod structured;
pub mod template;

use serde_json::Value;

pub use error::{CompileError, CompileErrorKind, CompileErrors, EmptyLeaf, MapError, MapErrors};
use node::{Context, Field, Node, Read};

pub use crate::request::RequestInfo;
pub use crate::runtime::{ConsoleLine, Isolation, Limits};

/// What a mapping author writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// A structured mapping: the JSON text of a document mirroring the target schema,
    /// whose leaves are JSONPaths, constants, templates and scripts (see [`structured`]).
    Structured {
        /// The JSON text.
        source: String,
        /// Time and memory limits of each run of each script leaf.
        limits: Limits,
        /// Whether its script leaves' runs reuse warm instances or each get a new one.
        isolation: Isolation,
    },
    /// A script mapping: JavaScript defining `function map(payload, request)`, run in
    /// the sandbox under its limits (see [`script`]).
    Script {
        /// The JavaScript source.
        source: String,
        /// Time and memory limits of each run.
        limits: Limits,
        /// Whether its runs reuse warm instances or each get a new one.
        isolation: Isolation,
    },
}

impl Mapping {
    /// A short name of the mapping's kind, part of the cache key.
    pub fn kind(&self) -> &'static str {
        match self {
            Mapping::Structured { .. } => "structured",
            Mapping::Script { .. } => "script",
        }
    }

    /// The mapping's source text.
    pub fn source(&self) -> &str {
        match self {
            Mapping::Structured { source, .. } | Mapping::Script { source, .. } => source,
        }
    }

    /// The settings besides the source that change the compiled program, as text (part of the cache key).
    pub fn settings(&self) -> String {
        let (Mapping::Structured { limits, isolation, .. } | Mapping::Script { limits, isolation, .. }) = self;
        format!("{}ns/{}B/{}", limits.time.as_nanos(), limits.memory_bytes, isolation.name())
    }
}

/// The request a mapping runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The parsed request body.
    pub body: Value,
    /// The request it came with (scripts see it as `request`).
    pub request: RequestInfo,
}

impl Input {
    /// An input made of a body alone, as a `POST` received now with no headers.
    pub fn from_body(body: Value) -> Input {
        Input { body, request: RequestInfo::bare(crate::clock::now_ms()) }
    }
}

/// What mapping one input gives when it does not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// The validated target document: an event.
    Event(Value),
    /// The mapping said "not this one" on purpose: no event.
    Skipped(Skip),
}

impl Mapped {
    /// The event's document; `None` for a skip.
    pub fn event(self) -> Option<Value> {
        match self {
            Mapped::Event(value) => Some(value),
            Mapped::Skipped(_) => None,
        }
    }
}

/// A skip asked for by a mapping: a script returned `null`, `{skip: "reason"}` or
/// `{skip: true}`, or a structured mapping's `skip` or `only` rule decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Why, when the mapping said (`None` for a script's `null` or `{skip: true}`).
    pub reason: Option<String>,
}

impl Skip {
    /// What a skipped request is answered: `{"skipped": true, "reason": …}` (`null` without a reason).
    pub fn to_json(&self) -> Value {
        serde_json::json!({"skipped": true, "reason": self.reason})
    }

    /// The skip a program's result asks for: nothing (a script returned `null`), or an object
    /// whose only key is `skip` holding a non-empty reason or `true`. `None` for any other
    /// result (mapped as an event); an error for a `skip` key that is not one of these.
    fn of_result(result: Option<&Value>) -> Option<Result<Skip, MapError>> {
        let invalid = |message: String| Some(Err(MapError::InvalidSkip { message }));
        match result {
            None => Some(Ok(Skip { reason: None })),
            Some(Value::Object(map)) => {
                let skip = map.get("skip")?;
                if let Some(other) = map.keys().find(|k| *k != "skip") {
                    return invalid(format!(
                        "a skip is returned alone, as {{skip: \"reason\"}}; found {other} beside it"
                    ));
                }
                match skip {
                    Value::Bool(true) => Some(Ok(Skip { reason: None })),
                    Value::String(reason) if !reason.trim().is_empty() => {
                        Some(Ok(Skip { reason: Some(reason.clone()) }))
                    }
                    other => invalid(format!(
                        "expected a non-empty string (the reason) or true, found {}",
                        crate::schema::Found::of(other)
                    )),
                }
            }
            _ => None,
        }
    }
}

/// What one run produced: the result, and the console output of a script (empty for
/// structured mappings).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// An event or a skip, or every error.
    pub result: Result<Mapped, MapErrors>,
    /// What a script wrote with `console.*`, success or failure.
    pub console: Vec<ConsoleLine>,
}

/// A compiled mapping: cheap to run, shared between threads as `Arc<Program>`.
#[derive(Debug)]
pub struct Program {
    root: Node,
    /// A structured mapping's `skip` and `only` rules (empty for a script).
    filter: filter::Filter,
    reads: Vec<String>,
    /// What of a body the program reads, when only singular paths: parsing keeps just that.
    projection: Option<projection::Projection>,
}

/// Compiles what an author wrote into a [`Program`], reporting every error with the
/// mapping field it is in.
pub fn compile(mapping: &Mapping) -> Result<Program, CompileErrors> {
    match mapping {
        Mapping::Structured { source, limits, isolation } => structured::compile(source, *limits, *isolation),
        Mapping::Script { source, limits, isolation } => script::compile(source, *limits, *isolation),
    }
}

impl Program {
    fn new(root: Node, filter: filter::Filter) -> Program {
        let mut paths = Vec::new();
        let mut scripts = false;
        root.visit_reads(&mut |read| match read {
            Read::Path(path) => paths.push(path),
            Read::Script(_) => scripts = true,
        });
        // A script may read anything, and a filter may test the whole body: both get it all.
        let projection = if scripts || !filter.is_empty() { None } else { projection::Projection::of(&paths) };
        let mut reads: Vec<String> = Vec::new();
        for path in paths {
            if !reads.iter().any(|p| p == path.source()) {
                reads.push(path.source().to_owned());
            }
        }
        Program { root, filter, reads, projection }
    }

    /// Parses a request body for this program: when the program reads only singular
    /// paths, everything else in the body is checked as JSON but not kept, which makes
    /// parsing several times cheaper; otherwise the whole body is kept.
    pub fn parse_body(&self, bytes: &[u8]) -> Result<Value, crate::document::JsonError> {
        match &self.projection {
            Some(projection) => projection.parse(crate::document::text(bytes)?),
            None => crate::document::parse(bytes),
        }
    }

    /// The JSONPaths this program reads, each once, in mapping order. A script (a script
    /// mapping, or a structured mapping's script leaf) may read anything: what it reads is not
    /// listed here but recorded by [`Program::reads_on`], and a program with a script parses
    /// bodies whole.
    pub fn reads(&self) -> &[String] {
        &self.reads
    }

    /// The JSONPaths this program reads when it maps `input`, each once, in mapping order: its
    /// [`Program::reads`], and for each script the payload properties it read while mapping
    /// `input` once in a new instance ([`crate::runtime::Script::call_recording_reads`]; a run
    /// that threw still counts what it read before). The shape check's `referenced` paths come
    /// from here.
    pub fn reads_on(&self, input: &Input) -> Vec<String> {
        let mut reads: Vec<String> = Vec::new();
        let mut payload = None;
        self.root.visit_reads(&mut |read| {
            let found = match read {
                Read::Path(path) => vec![path.source().to_owned()],
                Read::Script(script) => {
                    let payload = payload.get_or_insert_with(|| serde_json::to_vec(&input.body).ok());
                    let Some(payload) = payload else { return };
                    script.call_recording_reads(payload, &input.request).1
                }
            };
            for read in found {
                if !reads.contains(&read) {
                    reads.push(read);
                }
            }
        });
        reads
    }

    /// Maps `input` into the target schema and validates the result: the mapped
    /// document, a skip the mapping asked for, or every error found (mapping errors
    /// first, then schema errors).
    pub fn run(&self, input: &Input) -> Result<Mapped, MapErrors> {
        self.run_with_console(input).result
    }

    /// [`Program::run`], also returning what a script wrote to its console.
    pub fn run_with_console(&self, input: &Input) -> Outcome {
        match self.filter.check(&input.body) {
            Ok(None) => {}
            Ok(Some(skip)) => return Outcome { result: Ok(Mapped::Skipped(skip)), console: Vec::new() },
            Err(error) => return Outcome { result: Err(MapErrors(vec![error])), console: Vec::new() },
        }
        let mut context =
            Context { body: &input.body, request: &input.request, errors: Vec::new(), console: Vec::new() };
        let mapped = self.root.eval(&mut context, &Field::ROOT);
        let Context { mut errors, console, .. } = context;
        // Only a script's result can be nothing or `{skip: …}` at the root.
        if errors.is_empty()
            && let Some(skip) = Skip::of_result(mapped.as_ref())
        {
            let result = skip.map(Mapped::Skipped).map_err(|error| MapErrors(vec![error]));
            return Outcome { result, console };
        }
        let mapped = mapped.unwrap_or(Value::Null);
        let failed_to_run = errors.iter().any(|e| matches!(e, MapError::Script(_)));
        let result = match crate::schema::validate(mapped) {
            Ok(valid) if errors.is_empty() => Ok(Mapped::Event(valid)),
            Ok(_) => Err(MapErrors(errors)),
            Err(_) if failed_to_run => Err(MapErrors(errors)),
            Err(schema_errors) => {
                // A field the mapping could not fill is reported once, by the mapping error.
                let reported: Vec<String> = errors.iter().map(|e| e.field().to_owned()).collect();
                errors
                    .extend(schema_errors.0.into_iter().filter(|e| !reported.contains(&e.path)).map(MapError::Schema));
                Err(MapErrors(errors))
            }
        };
        Outcome { result, console }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Program>();
    }
}
