//! Request bodies the hub reads: JSON (parsed only as far as a program reads, when it can)
//! and `application/x-www-form-urlencoded` forms, which become objects.

use serde_json::{Map, Value};

use super::HubError;
use crate::mapping::Program;

/// The body kinds the ingest path accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json`, any `+json` type, or no content type.
    Json,
    /// `application/x-www-form-urlencoded`, turned into an object.
    Form,
}

/// Classifies a `Content-Type` (anything else is [`HubError::UnsupportedMediaType`]).
pub fn body_kind(content_type: Option<&str>) -> Result<BodyKind, HubError> {
    let Some(content_type) = content_type else { return Ok(BodyKind::Json) };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        Ok(BodyKind::Json)
    } else if essence == "application/x-www-form-urlencoded" {
        Ok(BodyKind::Form)
    } else {
        Err(HubError::UnsupportedMediaType)
    }
}

/// A form body as an object: each name maps to its value (a string), or to an array of
/// its values when it occurs several times, in order of first appearance.
pub fn parse_form(bytes: &[u8]) -> Result<Value, HubError> {
    let mut object = Map::new();
    for pair in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = percent_decode(name)?;
        let value = Value::String(percent_decode(value)?);
        match object.get_mut(&name) {
            None => {
                object.insert(name, value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => {
                let first = first.take();
                object.insert(name, Value::Array(vec![first, value]));
            }
        }
    }
    Ok(Value::Object(object))
}

fn percent_decode(bytes: &[u8]) -> Result<String, HubError> {
    let bad = || HubError::Malformed("the form body is malformed".into());
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Parses a body of `kind`: a program that reads only singular paths parses just what
/// it reads, unless `full` (the `sample` shape check needs the whole body).
pub fn parse_body(kind: BodyKind, bytes: &[u8], program: Option<&Program>, full: bool) -> Result<Value, HubError> {
    match kind {
        BodyKind::Form => parse_form(bytes),
        BodyKind::Json => {
            let parsed = match program {
                Some(program) if !full => program.parse_body(bytes),
                _ => crate::document::parse(bytes),
            };
            parsed.map_err(|e| HubError::Malformed(format!("the body is not JSON: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(body_kind(None), Ok(BodyKind::Json));
        assert_eq!(body_kind(Some("application/json; charset=utf-8")), Ok(BodyKind::Json));
        assert_eq!(body_kind(Some("application/vnd.api+json")), Ok(BodyKind::Json));
        assert_eq!(body_kind(Some("Application/X-WWW-Form-Urlencoded")), Ok(BodyKind::Form));
        assert_eq!(body_kind(Some("text/plain")).unwrap_err(), HubError::UnsupportedMediaType);
    }

    #[test]
    fn forms_become_objects() {
        let form = parse_form(b"a=1&b=hello+world&a=2&c=%C3%A9&flag").unwrap();
        assert_eq!(form, serde_json::json!({"a": ["1", "2"], "b": "hello world", "c": "é", "flag": ""}));
        assert!(parse_form(b"a=%zz").is_err());
        assert!(parse_form(b"a=%4").is_err());
    }
}
