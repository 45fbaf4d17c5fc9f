//! The fixed target schema that every mapping produces, and its validation.
//!
//! A mapped result is
//! `{"payload":{"target":{"usersById":[...]},"detail":{...},"notificationDetail":{...},"metadata":{...}}}`:
//! - `usersById`: a non-empty array of non-empty strings, at most [`MAX_USER_IDS`],
//!   duplicates removed (the first occurrence is kept);
//! - `detail`: the card's key/value pairs; keys non-empty, values scalars or arrays of scalars;
//! - `notificationDetail`, `metadata`: objects holding any JSON values.
//!
//! [`validate`] reports every error, each with its path and what was found, and returns
//! the result normalised: the four keys always present (`{}` when absent) and in that order.

use std::fmt;

use serde_json::{Map, Value};

use crate::field_path;

/// The most user ids one result may name.
pub const MAX_USER_IDS: usize = 10_000;

/// The keys allowed under `payload`, in output order.
pub const PAYLOAD_KEYS: [&str; 4] = ["target", "detail", "notificationDetail", "metadata"];

/// Where the user ids are.
pub const USER_IDS: &str = "payload.target.usersById";

/// A rule of the target schema that a structured mapping applies while it fills a field
/// ([`Rule::of`] the field), before [`validate`] checks the whole result: it normalises what the
/// mapping selected, and says when a field given no item at all is the mapping's error (which can
/// name what each part of the mapping selected) rather than only the result's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `usersById`: an integer id becomes its decimal string (`42` → `"42"`; other values stay,
    /// for validation to judge); at least one id is required.
    UserIds,
}

impl Rule {
    /// The rule of the field at `path` (`payload.target.usersById`), if it has one.
    pub fn of(path: &str) -> Option<Rule> {
        (path == USER_IDS).then_some(Rule::UserIds)
    }

    /// One item of the field, normalised.
    pub fn normalise(self, item: Value) -> Value {
        match (self, item) {
            (Rule::UserIds, Value::Number(n)) if n.is_i64() || n.is_u64() => Value::String(n.to_string()),
            (Rule::UserIds, other) => other,
        }
    }

    /// Whether giving the field no item is an error.
    pub fn requires_items(self) -> bool {
        match self {
            Rule::UserIds => true,
        }
    }
}

/// One way a result breaks the target schema, at one path.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    /// Where: `payload.target.usersById[2]`.
    pub path: String,
    /// What is wrong there.
    pub kind: SchemaErrorKind,
}

/// What is wrong at a [`SchemaError`]'s path.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaErrorKind {
    /// An object was expected.
    NotAnObject {
        /// A description of the value found.
        found: Found,
    },
    /// A key the schema does not have.
    UnknownKey {
        /// The keys allowed at this place.
        allowed: &'static [&'static str],
    },
    /// A required key is absent.
    Missing,
    /// `usersById` is not an array.
    UserIdsNotArray {
        /// A description of the value found.
        found: Found,
    },
    /// `usersById` is an empty array.
    NoUserIds,
    /// `usersById` names more ids than [`MAX_USER_IDS`].
    TooManyUserIds {
        /// How many distinct ids it names.
        count: usize,
    },
    /// A user id that is not a non-empty string.
    UserIdNotString {
        /// A description of the value found.
        found: Found,
    },
    /// A `detail` key that is the empty string.
    EmptyKey,
    /// A `detail` value that is neither a scalar nor an array of scalars.
    DetailNotScalarOrArray {
        /// A description of the value found.
        found: Found,
    },
    /// An element of a `detail` array that is not a scalar.
    DetailItemNotScalar {
        /// A description of the value found.
        found: Found,
    },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path)?;
        match &self.kind {
            SchemaErrorKind::NotAnObject { found } => write!(f, "expected an object, found {found}"),
            SchemaErrorKind::UnknownKey { allowed } => {
                write!(f, "unknown key; expected one of {}", allowed.join(", "))
            }
            SchemaErrorKind::Missing => f.write_str("missing"),
            SchemaErrorKind::UserIdsNotArray { found } => {
                write!(f, "expected a non-empty array of strings, found {found}")
            }
            SchemaErrorKind::NoUserIds => f.write_str("expected at least one user id, found an empty array"),
            SchemaErrorKind::TooManyUserIds { count } => {
                write!(f, "expected at most {MAX_USER_IDS} user ids, found {count}")
            }
            SchemaErrorKind::UserIdNotString { found } => {
                write!(f, "expected a non-empty string, found {found}")
            }
            SchemaErrorKind::EmptyKey => f.write_str("expected a non-empty key"),
            SchemaErrorKind::DetailNotScalarOrArray { found } => {
                write!(f, "expected a scalar or an array of scalars, found {found}")
            }
            SchemaErrorKind::DetailItemNotScalar { found } => {
                write!(f, "expected a scalar, found {found}")
            }
        }
    }
}

impl std::error::Error for SchemaError {}

/// A short description of a JSON value for error messages: `null`, `boolean true`,
/// `number 4.5`, `string "abc"` (long strings cut), `array`, `object`.
#[derive(Debug, Clone, PartialEq)]
pub struct Found(String);

impl Found {
    /// The longest string shown whole; longer ones are cut with `…`.
    const MAX_STRING_CHARS: usize = 40;

    /// Describes `value`.
    pub fn of(value: &Value) -> Found {
        Found(match value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("boolean {b}"),
            Value::Number(n) => format!("number {n}"),
            Value::String(s) => {
                let mut shown: String = s.chars().take(Self::MAX_STRING_CHARS).collect();
                if shown.len() < s.len() {
                    shown.push('…');
                }
                format!("string {}", Value::String(shown))
            }
            Value::Array(_) => "array".to_owned(),
            Value::Object(_) => "object".to_owned(),
        })
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every schema error of a result, in output order.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaErrors(pub Vec<SchemaError>);

crate::error_list!(SchemaErrors);

/// Checks `result` against the target schema and returns it normalised: the four
/// payload keys present and in order, user ids de-duplicated.
pub fn validate(mut result: Value) -> Result<Value, SchemaErrors> {
    let mut errors = Vec::new();
    let Value::Object(root) = &mut result else {
        errors.push(SchemaError {
            path: "(result)".to_owned(),
            kind: SchemaErrorKind::NotAnObject { found: Found::of(&result) },
        });
        return Err(SchemaErrors(errors));
    };
    for key in root.keys().filter(|k| *k != "payload") {
        errors.push(SchemaError {
            path: field_path::member("", key),
            kind: SchemaErrorKind::UnknownKey { allowed: &["payload"] },
        });
    }
    match root.get_mut("payload") {
        Some(Value::Object(payload)) => validate_payload(payload, &mut errors),
        Some(other) => errors.push(not_an_object("payload", other)),
        None => errors.push(SchemaError { path: "payload".to_owned(), kind: SchemaErrorKind::Missing }),
    }
    if errors.is_empty() { Ok(result) } else { Err(SchemaErrors(errors)) }
}

fn not_an_object(path: &str, found: &Value) -> SchemaError {
    SchemaError { path: path.to_owned(), kind: SchemaErrorKind::NotAnObject { found: Found::of(found) } }
}

/// Checks `payload` and normalises it in place: sections present and in order, ids de-duplicated.
fn validate_payload(payload: &mut Map<String, Value>, errors: &mut Vec<SchemaError>) {
    for key in payload.keys().filter(|k| !PAYLOAD_KEYS.contains(&k.as_str())) {
        errors.push(SchemaError {
            path: field_path::member("payload", key),
            kind: SchemaErrorKind::UnknownKey { allowed: &PAYLOAD_KEYS },
        });
    }
    validate_target(payload.get_mut("target"), errors);
    for (key, path) in [
        ("detail", "payload.detail"),
        ("notificationDetail", "payload.notificationDetail"),
        ("metadata", "payload.metadata"),
    ] {
        match payload.get(key) {
            None => {}
            Some(Value::Object(section)) if key == "detail" => validate_detail(section, path, errors),
            Some(Value::Object(_)) => {}
            Some(other) => errors.push(not_an_object(path, other)),
        }
    }
    let in_order = payload.keys().map(String::as_str).eq(PAYLOAD_KEYS);
    if errors.is_empty() && !in_order {
        let mut ordered = Map::with_capacity(PAYLOAD_KEYS.len());
        for key in PAYLOAD_KEYS {
            let section = payload.remove(key).unwrap_or_else(|| Value::Object(Map::new()));
            ordered.insert(key.to_owned(), section);
        }
        *payload = ordered;
    }
}

fn validate_target(target: Option<&mut Value>, errors: &mut Vec<SchemaError>) {
    const PATH: &str = USER_IDS;
    let target = match target {
        Some(Value::Object(target)) => target,
        Some(other) => return errors.push(not_an_object("payload.target", other)),
        None => return errors.push(SchemaError { path: PATH.to_owned(), kind: SchemaErrorKind::Missing }),
    };
    for key in target.keys().filter(|k| *k != "usersById") {
        errors.push(SchemaError {
            path: field_path::member("payload.target", key),
            kind: SchemaErrorKind::UnknownKey { allowed: &["usersById"] },
        });
    }
    let ids = match target.get_mut("usersById") {
        Some(Value::Array(ids)) => ids,
        Some(other) => {
            return errors.push(SchemaError {
                path: PATH.to_owned(),
                kind: SchemaErrorKind::UserIdsNotArray { found: Found::of(other) },
            });
        }
        None => return errors.push(SchemaError { path: PATH.to_owned(), kind: SchemaErrorKind::Missing }),
    };
    dedup(ids);
    if ids.is_empty() {
        errors.push(SchemaError { path: PATH.to_owned(), kind: SchemaErrorKind::NoUserIds });
    }
    if ids.len() > MAX_USER_IDS {
        errors.push(SchemaError { path: PATH.to_owned(), kind: SchemaErrorKind::TooManyUserIds { count: ids.len() } });
    }
    for (i, id) in ids.iter().enumerate() {
        if !matches!(id, Value::String(s) if !s.is_empty()) {
            errors.push(SchemaError {
                path: field_path::index(PATH, i),
                kind: SchemaErrorKind::UserIdNotString { found: Found::of(id) },
            });
        }
    }
}

/// Removes repeated values, keeping the first occurrence of each.
fn dedup(ids: &mut Vec<Value>) {
    /// Up to this many ids, pairwise comparison beats hashing.
    const PAIRWISE: usize = 16;
    let has_duplicates = if ids.len() <= PAIRWISE {
        ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        !ids.iter().all(|id| seen.insert(IdKey::from(id)))
    };
    if has_duplicates {
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let kept: Vec<Value> = ids.iter().filter(|id| seen.insert(IdKey::from(*id))).cloned().collect();
        *ids = kept;
    }
}

/// A user id as a hash-set key: strings by their text, anything else (an error anyway)
/// by its JSON text.
#[derive(PartialEq, Eq, Hash)]
enum IdKey<'a> {
    Text(&'a str),
    Json(String),
}

impl<'a> From<&'a Value> for IdKey<'a> {
    fn from(id: &'a Value) -> IdKey<'a> {
        match id {
            Value::String(s) => IdKey::Text(s),
            other => IdKey::Json(other.to_string()),
        }
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

fn validate_detail(detail: &Map<String, Value>, path: &str, errors: &mut Vec<SchemaError>) {
    for (key, value) in detail {
        let field = || field_path::member(path, key);
        if key.is_empty() {
            errors.push(SchemaError { path: field(), kind: SchemaErrorKind::EmptyKey });
        }
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().filter(|(_, item)| !is_scalar(item)) {
                    errors.push(SchemaError {
                        path: field_path::index(&field(), i),
                        kind: SchemaErrorKind::DetailItemNotScalar { found: Found::of(item) },
                    });
                }
            }
            Value::Object(_) => errors.push(SchemaError {
                path: field(),
                kind: SchemaErrorKind::DetailNotScalarOrArray { found: Found::of(value) },
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(result: Value) -> Vec<String> {
        match validate(result) {
            Ok(v) => panic!("expected errors, got {v}"),
            Err(SchemaErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn fills_missing_sections_and_orders_keys() {
        let out = validate(json!({"payload": {"metadata": {"m": 1}, "target": {"usersById": ["a"]}}})).unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"payload":{"target":{"usersById":["a"]},"detail":{},"notificationDetail":{},"metadata":{"m":1}}}"#
        );
    }

    #[test]
    fn removes_duplicate_ids_keeping_the_first() {
        let out = validate(json!({"payload": {"target": {"usersById": ["b", "a", "b", "c", "a"]}}})).unwrap();
        assert_eq!(out["payload"]["target"]["usersById"], json!(["b", "a", "c"]));
    }

    #[test]
    fn long_id_lists_are_deduplicated_too() {
        let mut ids: Vec<String> = (0..40).map(|i| format!("u{}", i % 25)).collect();
        ids.push("u3".to_owned());
        let out = validate(json!({"payload": {"target": {"usersById": ids}}})).unwrap();
        let expected: Vec<String> = (0..25).map(|i| format!("u{i}")).collect();
        assert_eq!(out["payload"]["target"]["usersById"], json!(expected));
    }

    #[test]
    fn reports_every_error_with_its_path() {
        let errors = messages(json!({"payload": {
            "target": {"usersById": ["a", "", 4.5, null, 7]},
            "detail": {"ok": [1, "x", null], "obj": {"a": 1}, "list": [1, {"b": 2}], "": true},
            "notificationDetail": [],
            "extra": 1
        }}));
        assert_eq!(
            errors,
            [
                "payload.extra: unknown key; expected one of target, detail, notificationDetail, metadata",
                "payload.target.usersById[1]: expected a non-empty string, found string \"\"",
                "payload.target.usersById[2]: expected a non-empty string, found number 4.5",
                "payload.target.usersById[3]: expected a non-empty string, found null",
                "payload.target.usersById[4]: expected a non-empty string, found number 7",
                "payload.detail.obj: expected a scalar or an array of scalars, found object",
                "payload.detail.list[1]: expected a scalar, found object",
                "payload.detail['']: expected a non-empty key",
                "payload.notificationDetail: expected an object, found array",
            ]
        );
    }

    #[test]
    fn user_ids_must_be_a_non_empty_array_within_the_limit() {
        assert_eq!(
            messages(json!({"payload": {"target": {"usersById": []}}})),
            ["payload.target.usersById: expected at least one user id, found an empty array"]
        );
        assert_eq!(
            messages(json!({"payload": {"target": {"usersById": "u1"}}})),
            ["payload.target.usersById: expected a non-empty array of strings, found string \"u1\""]
        );
        assert_eq!(messages(json!({"payload": {}})), ["payload.target.usersById: missing"]);
        let many: Vec<String> = (0..=MAX_USER_IDS).map(|i| i.to_string()).collect();
        assert_eq!(
            messages(json!({"payload": {"target": {"usersById": many}}})),
            ["payload.target.usersById: expected at most 10000 user ids, found 10001"]
        );
    }

    #[test]
    fn the_root_must_hold_only_payload() {
        assert_eq!(messages(json!([1])), ["(result): expected an object, found array"]);
        assert_eq!(
            messages(json!({"payload": {"target": {"usersById": ["a"]}}, "other": 1})),
            ["other: unknown key; expected one of payload"]
        );
        assert_eq!(messages(json!({"payload": 3})), ["payload: expected an object, found number 3"]);
    }

    #[test]
    fn the_user_ids_rule_writes_integers_as_text_and_requires_an_id() {
        let rule = Rule::of("payload.target.usersById").unwrap();
        assert_eq!(Rule::of("payload.detail.x"), None);
        assert_eq!(rule.normalise(json!(42)), json!("42"));
        assert_eq!(rule.normalise(json!(u64::MAX)), json!(u64::MAX.to_string()));
        assert_eq!(rule.normalise(json!(4.5)), json!(4.5));
        assert_eq!(rule.normalise(json!("u1")), json!("u1"));
        assert!(rule.requires_items());
    }

    #[test]
    fn long_strings_are_cut_in_messages() {
        let found = Found::of(&json!("x".repeat(100)));
        assert_eq!(found.to_string(), format!("string \"{}…\"", "x".repeat(40)));
    }
}
