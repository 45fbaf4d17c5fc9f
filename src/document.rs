//! Reading JSON documents that come from outside: UTF-8 checked, parsed with
//! serde_json, and every failure located by line and column.

use std::fmt;

use serde_json::Value;

/// The deepest nesting of arrays and objects a document may have. serde_json's
/// parser stops at this depth, so no code that walks a parsed document can
/// overflow the stack.
pub const MAX_DEPTH: usize = 128;

/// Why bytes are not a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonError {
    /// The bytes are not UTF-8.
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in characters) of the first invalid byte.
        column: usize,
    },
    /// The text is not JSON, or nests deeper than [`MAX_DEPTH`].
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected or found.
        message: String,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::NotUtf8 { line, column } => write!(f, "{line}:{column}: not UTF-8 text"),
            JsonError::Syntax { line, column, message } => write!(f, "{line}:{column}: invalid JSON: {message}"),
        }
    }
}

impl std::error::Error for JsonError {}

/// Parses `bytes` as one JSON document (a leading UTF-8 byte-order mark is skipped).
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    serde_json::from_str(text(bytes)?).map_err(|e| syntax_error(&e))
}

/// `bytes` as UTF-8 text, a leading byte-order mark skipped.
pub fn text(bytes: &[u8]) -> Result<&str, JsonError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(&bytes[..e.valid_up_to()]);
        JsonError::NotUtf8 { line, column }
    })
}

/// Converts a serde_json error into a [`JsonError::Syntax`].
pub fn syntax_error(error: &serde_json::Error) -> JsonError {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    // serde_json reports column 0 at the very end of a line; say 1.
    JsonError::Syntax { line: error.line(), column: error.column().max(1), message }
}

/// The 1-based line and column just after the valid UTF-8 prefix `before`.
fn line_column(before: &[u8]) -> (usize, usize) {
    let text = std::str::from_utf8(before).unwrap_or_default();
    let line = text.matches('\n').count() + 1;
    let column = text.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents_and_skips_a_bom() {
        assert_eq!(parse(b"\xEF\xBB\xBF{\"a\":1}").unwrap(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let error = parse(b"{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!(error.to_string(), "3:7: invalid JSON: expected `:`");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let error = parse(b"{\n \"a\": \"h\xC3\xA9\xFF\"}").unwrap_err();
        assert_eq!(error, JsonError::NotUtf8 { line: 2, column: 10 });
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        let error = parse(deep.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("recursion limit exceeded"), "{error}");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
