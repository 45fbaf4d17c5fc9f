//! Reading JSON documents that come from outside: UTF-8 checked, parsed with
//! serde_json, and every failure located by line and column.

use std::fmt;

use serde_json::Value;

/// The first level of nesting of arrays and objects that a document may not reach:
/// a document nests at most `MAX_DEPTH - 1` levels (serde_json's parser refuses the
/// array or object that opens level `MAX_DEPTH`), so no code that walks a parsed
/// document can overflow the stack.
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
    /// The text nests arrays and objects [`MAX_DEPTH`] levels deep or more.
    TooDeep {
        /// 1-based line of the array or object that opens level [`MAX_DEPTH`].
        line: usize,
        /// 1-based column (in characters) of that array or object.
        column: usize,
    },
    /// The text is not JSON.
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
            JsonError::TooDeep { line, column } => {
                write!(f, "{line}:{column}: nested deeper than {} levels", MAX_DEPTH - 1)
            }
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

/// Converts a serde_json error into a [`JsonError::Syntax`], or a [`JsonError::TooDeep`]
/// when serde_json stopped at its nesting limit.
pub fn syntax_error(error: &serde_json::Error) -> JsonError {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    // serde_json reports column 0 at the very end of a line; say 1.
    let (line, column) = (error.line(), error.column().max(1));
    if message == SERDE_RECURSION_LIMIT {
        return JsonError::TooDeep { line, column };
    }
    JsonError::Syntax { line, column, message }
}

/// serde_json's message when a document reaches its nesting limit.
const SERDE_RECURSION_LIMIT: &str = "recursion limit exceeded";

/// Checks that the JSON text `bytes` stays below [`MAX_DEPTH`] levels of nesting, the
/// limit [`parse`] applies. For text read another way (a projection that skips the parts
/// a mapping does not read, without that limit), so that every reader refuses the same
/// documents. Brackets inside strings do not count; `bytes` is expected to be JSON
/// already (anything else is left to the parser).
pub fn check_depth(bytes: &[u8]) -> Result<(), JsonError> {
    // Fewer opening brackets than the limit, wherever they are: nothing to walk.
    if bytes.iter().filter(|&&b| b == b'[' || b == b'{').count() < MAX_DEPTH {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth >= MAX_DEPTH {
                    let before = bytes.strip_prefix(b"\xEF\xBB\xBF").map_or(&bytes[..at], |rest| &rest[..at - 3]);
                    let (line, column) = line_column(before);
                    return Err(JsonError::TooDeep { line, column });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
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
        assert_eq!(error, JsonError::TooDeep { line: 1, column: MAX_DEPTH });
        assert_eq!(error.to_string(), "1:128: nested deeper than 127 levels");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn check_depth_refuses_what_parse_refuses_at_the_same_place() {
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        for levels in [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, 1000] {
            let text = format!("\u{feff}{{\n \"s\": \"[{{[\\\"[\",\n \"a\": {}}}", nested(levels));
            let parsed = parse(text.as_bytes()).map(|_| ());
            assert_eq!(check_depth(text.as_bytes()), parsed, "{levels} levels");
        }
        assert_eq!(check_depth(nested(MAX_DEPTH).as_bytes()), Err(JsonError::TooDeep { line: 1, column: MAX_DEPTH }));
        assert_eq!(check_depth(b"[[]]"), Ok(()));
    }
}
