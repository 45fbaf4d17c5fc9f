//! The request a mapping runs on besides its body: method, headers, query and when it was
//! received ([`RequestInfo`]), as scripts see it in `request`. A base type: the sandbox, the
//! mappings, deduplication and the store all use it.

use serde_json::Value;

/// The request an event came with, as the script sees it in `request`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Header names (lower-case) and values; a repeated name is joined with `, `.
    pub headers: Vec<(String, String)>,
    /// Query parameters; for a repeated name the first value is kept.
    pub query: Vec<(String, String)>,
    /// When the request was received, RFC 3339.
    pub received_at: String,
}

impl RequestInfo {
    /// A `POST` with no headers and no query, received at `received_at_ms` (Unix ms): the
    /// request a body alone is mapped with (the CLI, a sample, a test event).
    pub fn bare(received_at_ms: i64) -> RequestInfo {
        RequestInfo {
            method: "POST".to_owned(),
            received_at: crate::clock::rfc3339(received_at_ms),
            ..RequestInfo::default()
        }
    }

    /// Reads a request object `{method, headers, query, receivedAt}` (every key optional: `POST`,
    /// none, none, `received_at`); header names are lower-cased. Errors name the offending key.
    pub fn from_json(value: &Value, received_at: &str) -> Result<RequestInfo, String> {
        let Value::Object(object) = value else {
            return Err("expected an object {method, headers, query, receivedAt}".into());
        };
        if let Some(unknown) =
            object.keys().find(|k| !["method", "headers", "query", "receivedAt"].contains(&k.as_str()))
        {
            return Err(format!("{unknown}: unknown key; expected method, headers, query, receivedAt"));
        }
        let text = |key: &str, default: &str| match object.get(key) {
            None => Ok(default.to_owned()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("{key}: expected a string")),
        };
        let pairs = |key: &str, lower: bool| -> Result<Vec<(String, String)>, String> {
            match object.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Object(map)) => map
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((if lower { k.to_lowercase() } else { k.clone() }, s.clone())),
                        _ => Err(format!("{key}.{k}: expected a string")),
                    })
                    .collect(),
                Some(_) => Err(format!("{key}: expected an object of strings")),
            }
        };
        Ok(RequestInfo {
            method: text("method", "POST")?,
            headers: pairs("headers", true)?,
            query: pairs("query", false)?,
            received_at: text("receivedAt", received_at)?,
        })
    }

    /// The JSON the script receives: `{method, headers, query, receivedAt}`.
    pub fn to_json(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for (name, value) in &self.headers {
            match headers.get_mut(name) {
                Some(Value::String(joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                _ => {
                    headers.insert(name.clone(), Value::String(value.clone()));
                }
            }
        }
        let mut query = serde_json::Map::new();
        for (name, value) in &self.query {
            query.entry(name.clone()).or_insert_with(|| Value::String(value.clone()));
        }
        serde_json::json!({
            "method": self.method,
            "headers": headers,
            "query": query,
            "receivedAt": self.received_at,
        })
    }
}
