//! Deduplication of provider retries: a trigger's `dedup` setting compiled once
//! ([`Dedup::new`]), the key of one request ([`Dedup::key`]), and the keys the presets
//! suggest ([`suggested`]).
//!
//! A key is read from the body with a JSONPath (`$.id`) or from a header
//! (`header:x-github-delivery`). The store keeps the SHA-256 of each key with the id of
//! the first event that had it, for `windowSeconds` after that event.

use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::mapping::path::{CompiledPath, PathError};
use crate::request::RequestInfo;
use crate::trigger::DedupSpec;

/// The longest window, in seconds (365 days).
pub const MAX_WINDOW_SECONDS: u64 = 365 * 86_400;

/// Where a request's key is read.
#[derive(Debug, Clone)]
enum Source {
    /// A JSONPath on the body.
    Path(CompiledPath),
    /// A header, by lower-case name.
    Header(String),
}

/// A trigger's deduplication, ready to read keys.
#[derive(Debug, Clone)]
pub struct Dedup {
    source: Source,
    window_ms: i64,
}

/// Why a `dedup` setting is refused, with the field it is about.
#[derive(Debug, Clone, PartialEq)]
pub enum DedupError {
    /// `key` is neither a JSONPath nor `header:NAME`.
    KeyForm {
        /// What was written.
        key: String,
    },
    /// `key` is a JSONPath that does not compile.
    KeyPath(PathError),
    /// `key` names a header that is not a valid header name.
    HeaderName {
        /// The name written.
        name: String,
    },
    /// `windowSeconds` is out of range.
    Window {
        /// The value written.
        seconds: u64,
    },
}

impl DedupError {
    /// The field of the `dedup` object the error is about: `key` or `windowSeconds`.
    pub fn field(&self) -> &'static str {
        match self {
            DedupError::Window { .. } => "windowSeconds",
            _ => "key",
        }
    }
}

impl fmt::Display for DedupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DedupError::KeyForm { key } => {
                write!(f, "expected a JSONPath on the body (\"$.id\") or \"header:NAME\", found {key:?}")
            }
            DedupError::KeyPath(error) => write!(f, "{error}"),
            DedupError::HeaderName { name } => write!(f, "{name:?} is not a valid header name"),
            DedupError::Window { seconds } => {
                write!(f, "expected a number of seconds from 1 to {MAX_WINDOW_SECONDS}, found {seconds}")
            }
        }
    }
}

impl std::error::Error for DedupError {}

impl Dedup {
    /// Compiles a `dedup` setting.
    pub fn new(spec: &DedupSpec) -> Result<Dedup, DedupError> {
        if !(1..=MAX_WINDOW_SECONDS).contains(&spec.window_seconds) {
            return Err(DedupError::Window { seconds: spec.window_seconds });
        }
        let source = if let Some(name) = spec.key.strip_prefix("header:") {
            let name = name.trim();
            let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if name.is_empty() || !name.bytes().all(token) {
                return Err(DedupError::HeaderName { name: name.to_owned() });
            }
            Source::Header(name.to_ascii_lowercase())
        } else if spec.key.starts_with('$') {
            Source::Path(CompiledPath::parse(&spec.key).map_err(DedupError::KeyPath)?)
        } else {
            return Err(DedupError::KeyForm { key: spec.key.clone() });
        };
        // The range check above keeps this far from overflow.
        let window_ms = i64::try_from(spec.window_seconds).unwrap_or(i64::MAX / 1000) * 1000;
        Ok(Dedup { source, window_ms })
    }

    /// How long a key is remembered, in milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// Whether the key is read from the body (which must then be parsed whole).
    pub fn reads_body(&self) -> bool {
        matches!(self.source, Source::Path(_))
    }

    /// The stored form of the request's key (hex SHA-256), or `None` when the request has
    /// none: the path selects nothing (or only `null` or `""`), the header is absent or empty.
    /// Several selected nodes make one key of all of them, in document order.
    pub fn key(&self, body: &Value, request: &RequestInfo) -> Option<String> {
        let text = match &self.source {
            Source::Header(name) => {
                request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())?
            }
            Source::Path(path) => match path.select(body).ok()?.as_slice() {
                [] | [Value::Null] => return None,
                [Value::String(text)] => text.clone(),
                [one] => one.to_string(),
                many => Value::Array(many.iter().map(|v| (*v).clone()).collect()).to_string(),
            },
        };
        if text.trim().is_empty() {
            return None;
        }
        Some(hex(&Sha256::digest(text.as_bytes())))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The dedup key each provider's documentation names, by preset name (signature-scheme
/// presets and script presets share names): the provider's unique delivery or event id.
const SUGGESTED: &[(&str, &str)] = &[
    ("github", "header:x-github-delivery"),
    ("github-sha1", "header:x-github-delivery"),
    ("hubspot", "$[*].eventId"),
    ("intercom", "$.id"),
    ("jira", "header:x-atlassian-webhook-identifier"),
    ("paddle", "$.event_id"),
    ("segment", "$.messageId"),
    ("shopify", "header:x-shopify-webhook-id"),
    ("slack", "$.event_id"),
    ("square", "$.event_id"),
    ("standard-webhooks", "header:webhook-id"),
    ("stripe", "$.id"),
    ("svix", "header:svix-id"),
    ("twilio-sendgrid", "$[*].sg_event_id"),
    ("typeform", "$.event_id"),
    ("zendesk", "header:x-zendesk-webhook-invocation-id"),
];

/// The `dedup` setting suggested for the preset `name`, with the default window; `None`
/// when the provider gives no id to deduplicate on.
pub fn suggested(name: &str) -> Option<DedupSpec> {
    SUGGESTED
        .iter()
        .find(|(preset, _)| *preset == name)
        .map(|(_, key)| DedupSpec { key: (*key).to_owned(), window_seconds: DedupSpec::DEFAULT_WINDOW_SECONDS })
}

/// The presets that have a suggested key, sorted.
pub fn suggested_names() -> impl Iterator<Item = &'static str> {
    SUGGESTED.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(key: &str, window_seconds: u64) -> DedupSpec {
        DedupSpec { key: key.to_owned(), window_seconds }
    }

    fn request(headers: &[(&str, &str)]) -> RequestInfo {
        RequestInfo {
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            ..RequestInfo::bare(0)
        }
    }

    #[test]
    fn keys_come_from_the_body_or_a_header() {
        let by_id = Dedup::new(&spec("$.id", 60)).unwrap();
        assert_eq!(by_id.window_ms(), 60_000);
        let key = |dedup: &Dedup, body: Value, headers: &[(&str, &str)]| dedup.key(&body, &request(headers));
        let evt = key(&by_id, json!({"id": "evt_1"}), &[]);
        assert_eq!(evt.as_deref().map(str::len), Some(64));
        assert_eq!(evt, key(&by_id, json!({"id": "evt_1", "other": 2}), &[]));
        assert_ne!(evt, key(&by_id, json!({"id": "evt_2"}), &[]));
        assert_ne!(key(&by_id, json!({"id": 1}), &[]), key(&by_id, json!({"id": "2"}), &[]));
        for missing in [json!({}), json!({"id": null}), json!({"id": " "})] {
            assert_eq!(key(&by_id, missing, &[]), None);
        }
        let by_header = Dedup::new(&spec("header:X-GitHub-Delivery", 1)).unwrap();
        assert!(!by_header.reads_body());
        let delivery = key(&by_header, json!({}), &[("x-github-delivery", "72d3162e")]);
        assert!(delivery.is_some());
        assert_eq!(delivery, key(&by_header, json!({"x": 1}), &[("X-Github-Delivery", "72d3162e")]));
        assert_eq!(key(&by_header, json!({"x-github-delivery": "1"}), &[]), None);
        let several = Dedup::new(&spec("$[*].sg_event_id", 1)).unwrap();
        assert!(several.reads_body());
        assert_ne!(
            key(&several, json!([{"sg_event_id": "a"}]), &[]),
            key(&several, json!([{"sg_event_id": "a"}, {"sg_event_id": "b"}]), &[])
        );
    }

    #[test]
    fn settings_are_refused_with_the_field() {
        let error = |key: &str, window: u64| {
            let e = Dedup::new(&spec(key, window)).unwrap_err();
            format!("{}: {e}", e.field())
        };
        assert_eq!(error("id", 1), "key: expected a JSONPath on the body (\"$.id\") or \"header:NAME\", found \"id\"");
        assert!(error("$.a.[b]", 1).starts_with("key: invalid JSONPath at column 5"), "{}", error("$.a.[b]", 1));
        assert_eq!(error("header:bad name", 1), "key: \"bad name\" is not a valid header name");
        assert_eq!(error("$.id", 0), "windowSeconds: expected a number of seconds from 1 to 31536000, found 0");
        assert!(Dedup::new(&spec("$.id", MAX_WINDOW_SECONDS)).is_ok());
    }

    #[test]
    fn every_suggestion_compiles() {
        for (name, _) in SUGGESTED {
            let suggestion = suggested(name).unwrap();
            assert!(Dedup::new(&suggestion).is_ok(), "{name}");
        }
        assert_eq!(suggested("stripe").map(|s| s.key), Some("$.id".to_owned()));
        assert_eq!(suggested("salesforce"), None);
    }
}
