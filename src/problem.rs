//! A problem at a place of a document: the path concerned and what is wrong there, with a
//! script's line and column when the problem is a script's own error. The shape check, the
//! mapping and held requests all speak of problems this way.

use serde::{Deserialize, Serialize};

/// A problem found in a request: where and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The JSONPath or result path concerned; `script` for a script mapping's own error.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// For a script's error: the 1-based line in the script, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// For a script's error: the 1-based column in the script, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Problem {
    /// A problem at `path`, with no script position.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { path: path.into(), message: message.into(), line: None, column: None }
    }
}
