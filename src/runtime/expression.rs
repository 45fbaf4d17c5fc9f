//! Script expressions: the script leaves of a structured mapping (`payload.a + payload.b`, or a
//! function `(payload, request) => …` called with both), compiled as a script whose `map` wraps
//! the expression, and whose errors are turned back into positions in the expression's text.

use std::sync::Arc;

use super::error::{ScriptError, StackFrame};

/// Opens the `map` that wraps an expression, on a line of its own: the expression starts at line 2,
/// column 1 of the wrapped source. (An array element is not named after the variable it is
/// assigned to, so an anonymous function stays `<anonymous>` in stacks.)
const PREFIX: &str = "function map(payload, request) { const value = [(\n";
/// Closes the wrapper: a function value is called with `(payload, request)`, and `undefined` is
/// returned as `null` (nothing).
const SUFFIX: &str = "\n)][0]; const result = typeof value === \"function\" ? value(payload, request) : value; \
                      return result === undefined ? null : result; }";

/// The lines of the wrapped source before the expression's first line.
const PREFIX_LINES: u32 = 1;

/// A script expression's text, kept to place errors in it.
#[derive(Debug, Clone)]
pub(crate) struct Expression {
    /// The author's expression.
    source: Arc<str>,
}

impl Expression {
    /// The expression of `source`.
    pub(crate) fn new(source: &str) -> Expression {
        Expression { source: Arc::from(source) }
    }

    /// The script that runs the expression: a `map(payload, request)` that returns its value.
    pub(crate) fn wrapped(&self) -> String {
        format!("{PREFIX}{}{SUFFIX}", self.source)
    }

    /// An error of the wrapped script, with its positions in the expression's text; a position in
    /// the wrapper is dropped, and a syntax error past the expression's end (an unclosed bracket)
    /// points at that end.
    pub(crate) fn author_error(&self, error: ScriptError) -> ScriptError {
        match error {
            ScriptError::Syntax { message, line, column, .. } => {
                let (line, column) = self.position(line, column).unwrap_or_else(|| self.end());
                ScriptError::Syntax { message, line, column, source_line: self.line_text(line) }
            }
            ScriptError::ModuleSyntax { keyword, line, column, .. } => {
                let (line, column) = self.position(line, column).unwrap_or_else(|| self.end());
                ScriptError::ModuleSyntax { keyword, line, column, source_line: self.line_text(line) }
            }
            ScriptError::Exception { message, line, column, stack } => {
                let position = line.zip(column).and_then(|(line, column)| self.position(line, column));
                let stack = stack
                    .into_iter()
                    .filter_map(|frame| match frame.position {
                        None => Some(frame),
                        // All of an expression runs inside `map`: an anonymous function there is
                        // not the script's top level, which the guest takes it for.
                        Some((line, column)) => self.position(line, column).map(|position| StackFrame {
                            function: if frame.function == "<top level>" {
                                "<anonymous>".to_owned()
                            } else {
                                frame.function
                            },
                            position: Some(position),
                        }),
                    })
                    .collect();
                ScriptError::Exception { message, line: position.map(|p| p.0), column: position.map(|p| p.1), stack }
            }
            other => other,
        }
    }

    /// How many lines the expression has (at least 1).
    fn lines(&self) -> u32 {
        u32::try_from(self.source.split('\n').count()).unwrap_or(u32::MAX)
    }

    /// A position of the wrapped source in the expression, `None` when it is in the wrapper.
    fn position(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let line = line.checked_sub(PREFIX_LINES).filter(|line| (1..=self.lines()).contains(line))?;
        Some((line, column))
    }

    /// The position just after the expression's last character.
    fn end(&self) -> (u32, u32) {
        let last = self.source.split('\n').next_back().unwrap_or_default();
        (self.lines(), u32::try_from(last.chars().count()).unwrap_or(u32::MAX).saturating_add(1))
    }

    /// The text of the expression's 1-based `line`.
    fn line_text(&self, line: u32) -> String {
        let index = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
        self.source.split('\n').nth(index).unwrap_or_default().trim_end_matches('\r').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_moved_into_the_expression_and_the_wrapper_is_hidden() {
        let expression = Expression::new("payload.a +\n  boom()");
        let error = ScriptError::Exception {
            message: "ReferenceError: boom is not defined".into(),
            line: Some(3),
            column: Some(3),
            stack: vec![
                StackFrame { function: "<top level>".into(), position: Some((3, 3)) },
                StackFrame { function: "map".into(), position: Some((4, 40)) },
            ],
        };
        let ScriptError::Exception { line, column, stack, .. } = expression.author_error(error) else {
            panic!("an exception stays an exception")
        };
        assert_eq!((line, column), (Some(2), Some(3)));
        assert_eq!(stack, [StackFrame { function: "<anonymous>".into(), position: Some((2, 3)) }]);
    }

    #[test]
    fn a_syntax_error_past_the_end_points_at_the_end() {
        let expression = Expression::new("(payload.a");
        let error =
            ScriptError::Syntax { message: "expected ')'".into(), line: 3, column: 1, source_line: ");".into() };
        assert_eq!(
            expression.author_error(error),
            ScriptError::Syntax {
                message: "expected ')'".into(),
                line: 1,
                column: 11,
                source_line: "(payload.a".into()
            }
        );
    }
}
