//! Errors of compiling and of running a mapping, each with the mapping field it is in.

use std::fmt;

use crate::document::JsonError;
use crate::runtime::{SCRIPT_NAME, ScriptError};
use crate::schema::{Found, SchemaError};

use super::path::PathError;
use super::template::TemplateError;

/// One reason a mapping does not compile, at one field of the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    /// The mapping field: `payload.detail.firstName`; empty for the whole document.
    pub field: String,
    /// What is wrong there.
    pub kind: CompileErrorKind,
}

/// What is wrong at a [`CompileError`]'s field.
#[derive(Debug, Clone, PartialEq)]
pub enum CompileErrorKind {
    /// The mapping text is not JSON.
    Json(JsonError),
    /// An object was expected.
    NotAnObject {
        /// A description of what was found.
        found: Found,
    },
    /// A key that has no meaning here.
    UnknownKey {
        /// The keys allowed here.
        allowed: &'static [&'static str],
        /// The allowed key closest to the one written, when one is close.
        suggestion: Option<&'static str>,
    },
    /// A required key is absent.
    Missing,
    /// `usersById` lists no LEAF.
    NoLeaves,
    /// A `detail` key that is the empty string.
    EmptyKey,
    /// A value that is not one of the LEAF forms.
    NotALeaf {
        /// A description of what was found.
        found: Found,
    },
    /// An object LEAF whose keys are not one of the LEAF forms.
    BadLeafObject {
        /// The keys written.
        keys: Vec<String>,
    },
    /// A `path` LEAF whose value is not a string starting with `$`.
    PathNotAString {
        /// A description of what was found.
        found: Found,
    },
    /// A `template` LEAF whose value is not a string.
    TemplateNotAString {
        /// A description of what was found.
        found: Found,
    },
    /// An invalid JSONPath.
    Path(PathError),
    /// A bare string starting with `$` that is not a valid JSONPath: perhaps a literal.
    BarePath(PathError),
    /// An invalid template.
    Template(TemplateError),
    /// A script that does not compile (syntax error, no `map` function, a top level that throws);
    /// at a field for a script leaf, whose positions are in the leaf's text.
    Script(ScriptError),
    /// A `script` LEAF whose value is not a string.
    ScriptNotAString {
        /// A description of what was found.
        found: Found,
    },
    /// The sandbox that runs scripts could not start.
    Sandbox(String),
    /// `skip` is an empty array.
    NoRules,
    /// A `skip` or `only` rule that is neither a JSONPath nor a `{when, reason}` object.
    NotARule {
        /// A description of what was found.
        found: Found,
    },
    /// A rule's `reason` that is not a non-empty string.
    NotAReason {
        /// A description of what was found.
        found: Found,
    },
    /// A rule's path that starts with a member name, which the array a rule runs on never has.
    FilterOnMember {
        /// The path written.
        path: String,
    },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        match &self.kind {
            CompileErrorKind::Json(error) => write!(f, "{error}"),
            CompileErrorKind::NotAnObject { found } => write!(f, "expected an object, found {found}"),
            CompileErrorKind::UnknownKey { allowed, suggestion } => {
                write!(f, "unknown key; expected one of {}", allowed.join(", "))?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean {s}?)"),
                    None => Ok(()),
                }
            }
            CompileErrorKind::Missing => f.write_str("missing"),
            CompileErrorKind::NoLeaves => f.write_str("expected a LEAF or a non-empty array of LEAFs"),
            CompileErrorKind::EmptyKey => f.write_str("expected a non-empty key"),
            CompileErrorKind::NotALeaf { found } => write!(
                f,
                "expected a LEAF (a \"$...\" JSONPath, a constant, or an object with const, path or template), found {found}{}",
                if found.to_string() == "array" { "; write a constant array as {\"const\": [...]}" } else { "" }
            ),
            CompileErrorKind::BadLeafObject { keys } => write!(
                f,
                "expected a LEAF object {{\"const\": ANY}}, {{\"path\": \"$...\", \"default\": ANY}} or {{\"template\": \"...\"}}, found keys {}",
                keys.join(", ")
            ),
            CompileErrorKind::PathNotAString { found } => {
                write!(f, "path: expected a JSONPath string starting with $, found {found}")
            }
            CompileErrorKind::TemplateNotAString { found } => write!(f, "template: expected a string, found {found}"),
            CompileErrorKind::ScriptNotAString { found } => {
                write!(f, "script: expected a JavaScript expression as a string, found {found}")
            }
            CompileErrorKind::Path(error) => write!(f, "{error}"),
            CompileErrorKind::BarePath(error) => {
                write!(f, "{error} (a literal text starting with $ is written {{\"const\": \"...\"}})")
            }
            CompileErrorKind::Template(error) => write!(f, "{error}"),
            CompileErrorKind::Script(error) => write!(f, "{error}"),
            CompileErrorKind::Sandbox(message) => write!(f, "the script sandbox cannot start: {message}"),
            CompileErrorKind::NoRules => f.write_str("expected a rule or a non-empty array of rules"),
            CompileErrorKind::NotARule { found } => write!(
                f,
                "expected a rule: a JSONPath \"$...\" or {{\"when\": \"$...\", \"reason\": \"...\"}}, found {found}"
            ),
            CompileErrorKind::NotAReason { found } => write!(f, "expected a non-empty string, found {found}"),
            CompileErrorKind::FilterOnMember { path } => write!(
                f,
                "{path} selects a member of the array [body] the rule runs on, so it selects nothing; \
                 test the body with a filter ($[?@{}]) or reach into it with $[0]",
                path.get(1..).unwrap_or_default()
            ),
        }
    }
}

impl CompileError {
    /// Where the error is, for an API answer: the mapping field (a script leaf's too), or
    /// `script` (with [`CompileError::position`]) for a script mapping's error.
    pub fn path(&self) -> &str {
        match &self.kind {
            CompileErrorKind::Script(_) | CompileErrorKind::Sandbox(_) if self.field.is_empty() => SCRIPT_NAME,
            _ => &self.field,
        }
    }

    /// The 1-based line and column in a script's source, when the error has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match &self.kind {
            CompileErrorKind::Script(error) => error.position(),
            _ => None,
        }
    }
}

impl std::error::Error for CompileError {}

/// Every reason a mapping does not compile.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileErrors(pub Vec<CompileError>);

/// Every reason one input could not be mapped.
#[derive(Debug, Clone, PartialEq)]
pub struct MapErrors(pub Vec<MapError>);

crate::error_list!(CompileErrors);
crate::error_list!(MapErrors);

/// A LEAF of `usersById` that contributed no id.
#[derive(Debug, Clone, PartialEq)]
pub struct EmptyLeaf {
    /// The LEAF: its JSONPath, or `a constant`.
    pub leaf: String,
    /// It selected an empty array (rather than nothing).
    pub empty_array: bool,
}

/// One reason an input could not be mapped.
#[derive(Debug, Clone, PartialEq)]
pub enum MapError {
    /// No LEAF of `usersById` gave an id.
    NoUserIds {
        /// The mapping field (`payload.target.usersById`).
        field: String,
        /// Each LEAF and why it gave nothing.
        leaves: Vec<EmptyLeaf>,
    },
    /// A JSONPath failed while it ran.
    Query {
        /// The mapping field.
        field: String,
        /// The JSONPath.
        path: String,
        /// The evaluator's message.
        message: String,
    },
    /// The mapped result breaks the target schema.
    Schema(SchemaError),
    /// A script mapping did not produce a result: it threw, hit a limit, or returned something
    /// that is not JSON.
    Script(ScriptError),
    /// A script leaf of a structured mapping did not produce a value (the field is left out);
    /// its positions are in the leaf's text.
    ScriptLeaf {
        /// The mapping field of the leaf.
        field: String,
        /// Why.
        error: ScriptError,
    },
    /// A script returned `{skip: …}` that is not a skip: `skip` is neither a non-empty
    /// string nor `true`, or other keys come with it.
    InvalidSkip {
        /// What is wrong.
        message: String,
    },
}

impl MapError {
    /// The mapping field (or result path) the error is about; `script` for a script mapping's
    /// own error. A script's line and column are [`MapError::position`].
    pub fn field(&self) -> &str {
        match self {
            MapError::NoUserIds { field, .. } | MapError::Query { field, .. } | MapError::ScriptLeaf { field, .. } => {
                field
            }
            MapError::Schema(error) => &error.path,
            MapError::Script(_) => SCRIPT_NAME,
            MapError::InvalidSkip { .. } => "skip",
        }
    }

    /// The 1-based line and column in a script's source, when the error has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            MapError::Script(error) | MapError::ScriptLeaf { error, .. } => error.position(),
            _ => None,
        }
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::NoUserIds { field, leaves } => {
                write!(f, "{field}: no user ids: ")?;
                let nothing: Vec<&str> = leaves.iter().filter(|l| !l.empty_array).map(|l| l.leaf.as_str()).collect();
                let empty: Vec<&str> = leaves.iter().filter(|l| l.empty_array).map(|l| l.leaf.as_str()).collect();
                if !nothing.is_empty() {
                    write!(f, "{} selected nothing", nothing.join(", "))?;
                }
                if !empty.is_empty() {
                    let separator = if nothing.is_empty() { "" } else { "; " };
                    write!(f, "{separator}{} selected an empty array", empty.join(", "))?;
                }
                Ok(())
            }
            MapError::Query { field, path, message } => write!(f, "{field}: JSONPath {path} failed: {message}"),
            MapError::Schema(error) => write!(f, "{error}"),
            MapError::Script(error) => write!(f, "{error}"),
            MapError::ScriptLeaf { field, error } => write!(f, "{field}: {error}"),
            MapError::InvalidSkip { message } => write!(f, "skip: {message}"),
        }
    }
}

impl std::error::Error for MapError {}
