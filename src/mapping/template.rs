//! Text templates: `"Hi {$.first} {$.last}"`.
//!
//! Each `{JSONPath}` is replaced by the text of what it selects: strings raw,
//! numbers and booleans as JSON text, objects and arrays as compact JSON, null or
//! nothing selected as the empty string, several nodes joined with `", "`.
//! `{{` and `}}` stand for literal braces.

use std::fmt;

use serde_json::Value;

use super::path::{CompiledPath, EvalError, PathError};

/// A template, parsed once.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Path(CompiledPath),
}

/// Why a template did not compile.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateError {
    /// A `{` with no matching `}`.
    Unclosed {
        /// 1-based column of the `{`.
        column: usize,
    },
    /// A `}` that closes nothing (write `}}` for a literal brace).
    UnmatchedClose {
        /// 1-based column of the `}`.
        column: usize,
    },
    /// A placeholder that is not a JSONPath starting with `$`.
    NotAPath {
        /// 1-based column of the placeholder's first character.
        column: usize,
    },
    /// A placeholder whose JSONPath is invalid.
    BadPath {
        /// 1-based column of the error within the whole template.
        column: Option<usize>,
        /// The path parser's message.
        message: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unclosed { column } => {
                write!(f, "template column {column}: '{{' is never closed (write '{{{{' for a literal brace)")
            }
            TemplateError::UnmatchedClose { column } => {
                write!(f, "template column {column}: unmatched '}}' (write '}}}}' for a literal brace)")
            }
            TemplateError::NotAPath { column } => write!(
                f,
                "template column {column}: a placeholder must be a JSONPath starting with $ (write '{{{{' for a literal brace)"
            ),
            TemplateError::BadPath { column: Some(column), message } => {
                write!(f, "template column {column}: invalid JSONPath: {message}")
            }
            TemplateError::BadPath { column: None, message } => write!(f, "invalid JSONPath in template: {message}"),
        }
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses a template text.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        let column_of = |byte: usize| source[..byte].chars().count() + 1;
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(TemplateError::UnmatchedClose { column: column_of(at) }),
                '{' => {
                    let start = at + 1;
                    let end = placeholder_end(&source[start..])
                        .ok_or(TemplateError::Unclosed { column: column_of(at) })?
                        + start;
                    let inner = &source[start..end];
                    let path_start = start + (inner.len() - inner.trim_start().len());
                    let path_text = inner.trim();
                    if !path_text.starts_with('$') {
                        return Err(TemplateError::NotAPath { column: column_of(path_start) });
                    }
                    let path = CompiledPath::parse(path_text).map_err(|PathError { column, message }| {
                        TemplateError::BadPath { column: column.map(|c| column_of(path_start) + c - 1), message }
                    })?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Path(path));
                    while chars.peek().is_some_and(|&(i, _)| i <= end) {
                        chars.next();
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// The JSONPaths the template reads, in order.
    pub fn paths(&self) -> impl Iterator<Item = &CompiledPath> {
        self.parts.iter().filter_map(|part| match part {
            Part::Path(path) => Some(path),
            Part::Text(_) => None,
        })
    }

    /// The text of this template for `document`.
    pub fn render(&self, document: &Value) -> Result<String, EvalError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Path(path) => {
                    for (i, node) in path.select(document)?.into_iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        push_text(&mut out, node);
                    }
                }
            }
        }
        Ok(out)
    }
}

fn push_text(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        other => out.push_str(&other.to_string()),
    }
}

/// The byte offset of the `}` that closes a placeholder whose text starts `text`:
/// the first `}` outside string literals and brackets.
fn placeholder_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                c if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            '}' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, document: Value) -> String {
        Template::parse(template).unwrap().render(&document).unwrap()
    }

    #[test]
    fn replaces_placeholders_with_text() {
        let doc = json!({"first": "Ada", "last": "Lovelace", "n": 3, "ok": true, "none": null, "o": {"a": [1]}});
        assert_eq!(render("Hi {$.first} {$.last}!", doc.clone()), "Hi Ada Lovelace!");
        assert_eq!(render("{$.n}/{$.ok}/{$.none}/{$.missing}/{$.o}", doc.clone()), "3/true///{\"a\":[1]}");
        assert_eq!(render("{{literal}} {$.n}}}", doc), "{literal} 3}");
    }

    #[test]
    fn several_nodes_are_joined() {
        let doc = json!({"tags": ["a", "b", 3]});
        assert_eq!(render("tags: {$.tags[*]}", doc), "tags: a, b, 3");
    }

    #[test]
    fn braces_inside_filters_and_strings_do_not_close_the_placeholder() {
        let doc = json!({"items": [{"k": "}", "v": 1}, {"k": "x", "v": 2}]});
        assert_eq!(render("{$.items[?@.k == '}'].v} { $['items'][1].v }", doc), "1 2");
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(Template::parse("ab {$.x").unwrap_err(), TemplateError::Unclosed { column: 4 });
        assert_eq!(Template::parse("ab } c").unwrap_err(), TemplateError::UnmatchedClose { column: 4 });
        assert_eq!(Template::parse("x {name}").unwrap_err(), TemplateError::NotAPath { column: 4 });
        match Template::parse("ab {$.a.[b]}").unwrap_err() {
            TemplateError::BadPath { column, .. } => assert_eq!(column, Some(9)),
            other => panic!("{other:?}"),
        }
    }
}
