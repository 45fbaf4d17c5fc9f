//! Text renderings of locations in JSON documents: `payload.detail.firstName`,
//! `payload.detail['first name']`, `$.items[*].id`.
//!
//! A member name that is a plain identifier is written in dot notation; any other
//! name in bracket notation with single quotes, escaped as RFC 9535 requires, so
//! that a rendered JSONPath can be pasted back into a mapping.

/// Whether `name` can be written in dot notation (`.name`): an ASCII letter or `_`
/// followed by ASCII letters, digits or `_`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Appends the member `name` to `path`, as `.name` (just `name` when `path` is
/// empty) or `['odd name']`.
pub fn push_member(path: &mut String, name: &str) {
    if is_identifier(name) {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
        return;
    }
    path.push_str("['");
    for c in name.chars() {
        match c {
            '\'' => path.push_str("\\'"),
            '\\' => path.push_str("\\\\"),
            '\u{8}' => path.push_str("\\b"),
            '\u{c}' => path.push_str("\\f"),
            '\n' => path.push_str("\\n"),
            '\r' => path.push_str("\\r"),
            '\t' => path.push_str("\\t"),
            c if (c as u32) < 0x20 => path.push_str(&format!("\\u{:04x}", c as u32)),
            c => path.push(c),
        }
    }
    path.push_str("']");
}

/// Appends the array index `index` to `path`, as `[index]`.
pub fn push_index(path: &mut String, index: usize) {
    path.push('[');
    path.push_str(&index.to_string());
    path.push(']');
}

/// `base` followed by the member `name`: `member("payload.detail", "x")` is `payload.detail.x`.
pub fn member(base: &str, name: &str) -> String {
    let mut path = base.to_owned();
    push_member(&mut path, name);
    path
}

/// `base` followed by the array index `index`: `index("payload.target.usersById", 2)`.
pub fn index(base: &str, index: usize) -> String {
    let mut path = base.to_owned();
    push_index(&mut path, index);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_use_dot_notation() {
        assert_eq!(member("$", "first_name2"), "$.first_name2");
        assert_eq!(member("payload", "_x"), "payload._x");
        assert_eq!(member("", "payload"), "payload");
    }

    #[test]
    fn other_names_use_escaped_brackets() {
        assert_eq!(member("$", "first name"), "$['first name']");
        assert_eq!(member("$", "x-key"), "$['x-key']");
        assert_eq!(member("$", "2nd"), "$['2nd']");
        assert_eq!(member("$", ""), "$['']");
        assert_eq!(member("$", "it's"), "$['it\\'s']");
        assert_eq!(member("$", "a\\b\n\u{1}"), "$['a\\\\b\\n\\u0001']");
        assert_eq!(member("$", "héllo"), "$['héllo']");
    }

    #[test]
    fn indexes_use_brackets() {
        assert_eq!(index("payload.target.usersById", 2), "payload.target.usersById[2]");
    }
}
