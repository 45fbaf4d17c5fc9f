//! The signature scheme: the owner's JSON configuration, validated once into a [`SignatureScheme`].
//!
//! ```json
//! {"algorithm":"sha256","digest":"hex",
//!  "data":{"signature":{"header":"stripe-signature","parsePrefix":"v1="},
//!          "timestamp":{"header":"stripe-signature","parsePrefix":"t="}},
//!  "template":"[timestamp].[payload]"}
//! ```
//! Unknown fields, unknown values and contradictory settings are errors that name the field's
//! path, so a typo never silently weakens a check (the scheme fails closed).

use std::fmt;
use std::num::NonZeroU64;

use serde_json::{Map, Value};

use super::timestamp::TimestampFormat;

/// The HMAC hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 (legacy GitHub, Intercom).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    /// Every algorithm, in the order the docs list them.
    pub const ALL: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

    /// The spelling used in a scheme's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The length in bytes of a MAC made with this algorithm.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

/// How the MAC is written in the signature header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestEncoding {
    /// Hexadecimal, as every provider sends it (lower case; upper case is accepted too: the
    /// decoded bytes are compared).
    Hex,
    /// Standard base64 (`+/`), padding optional.
    Base64,
    /// URL-safe base64 (`-_`), padding optional.
    Base64Url,
}

impl DigestEncoding {
    /// Every encoding.
    pub const ALL: [DigestEncoding; 3] = [DigestEncoding::Hex, DigestEncoding::Base64, DigestEncoding::Base64Url];

    /// The spelling used in a scheme's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestEncoding::Hex => "hex",
            DigestEncoding::Base64 => "base64",
            DigestEncoding::Base64Url => "base64url",
        }
    }
}

/// How the configured secret strings become HMAC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes are the key (Stripe, GitHub, Slack, …); the default.
    Utf8,
    /// The secret is base64; a leading `whsec_` is stripped first (Standard Webhooks, Svix).
    Base64,
}

impl SecretEncoding {
    /// Every encoding.
    pub const ALL: [SecretEncoding; 2] = [SecretEncoding::Utf8, SecretEncoding::Base64];

    /// The spelling used in a scheme's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretEncoding::Utf8 => "utf8",
            SecretEncoding::Base64 => "base64",
        }
    }
}

/// How a value is taken out of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extract {
    /// The whole header value, trimmed.
    Whole,
    /// The value is split on `delimiter`; each trimmed item that starts with `prefix` gives a
    /// value (the rest of the item after the prefix).
    Prefixed {
        /// The item prefix, e.g. `v1=`; never empty.
        prefix: String,
        /// The item separator, e.g. `,`; never empty.
        delimiter: String,
    },
}

/// Where a value (signature or timestamp) is found: a header and how to extract from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSource {
    header: String,
    extract: Extract,
}

impl HeaderSource {
    /// The header name, lower-cased (matching is case-insensitive).
    pub fn header(&self) -> &str {
        &self.header
    }

    /// How the value is taken out of the header.
    pub fn extract(&self) -> &Extract {
        &self.extract
    }
}

/// The timestamp part of a scheme: where it is, how it is written and the accepted clock skew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampSource {
    source: HeaderSource,
    format: TimestampFormat,
    tolerance: Option<NonZeroU64>,
}

impl TimestampSource {
    /// Where the timestamp is found.
    pub fn source(&self) -> &HeaderSource {
        &self.source
    }

    /// How the timestamp is written.
    pub fn format(&self) -> TimestampFormat {
        self.format
    }

    /// The accepted distance from `now`, in seconds, both ways; `None` when the check is disabled.
    pub fn tolerance_seconds(&self) -> Option<NonZeroU64> {
        self.tolerance
    }
}

/// One piece of the signed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Bytes copied as written in the template.
    Literal(Vec<u8>),
    /// `[payload]`: the raw request body.
    Payload,
    /// `[timestamp]`: the raw timestamp value as sent.
    Timestamp,
    /// `[header:NAME]`: the raw (trimmed) value of a request header; the name is lower-cased.
    Header(String),
    /// `[url]`: the request URL as given to the verifier (Square signs it).
    Url,
}

/// The compiled `template`: the signed text as a list of parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

impl Template {
    /// The parts, in order.
    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// Whether the template contains `[url]`, so a request URL is required to verify.
    pub fn uses_url(&self) -> bool {
        self.parts.contains(&TemplatePart::Url)
    }

    /// Compiles template text; `[payload]`, `[timestamp]`, `[url]` and `[header:NAME]` are
    /// placeholders, everything else is literal.
    fn compile(text: &str) -> Result<Template, SchemeError> {
        let mut parts: Vec<TemplatePart> = Vec::new();
        let mut literal: Vec<u8> = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            literal.extend_from_slice(&rest.as_bytes()[..open]);
            let tail = &rest[open..];
            let (part, len) = if tail.starts_with("[payload]") {
                (Some(TemplatePart::Payload), "[payload]".len())
            } else if tail.starts_with("[timestamp]") {
                (Some(TemplatePart::Timestamp), "[timestamp]".len())
            } else if tail.starts_with("[url]") {
                (Some(TemplatePart::Url), "[url]".len())
            } else if let Some(after) = tail.strip_prefix("[header:") {
                let close = after
                    .find(']')
                    .ok_or_else(|| SchemeError::invalid("template", "`[header:` without a closing `]`"))?;
                let name = &after[..close];
                if !is_token(name) {
                    return Err(SchemeError::invalid(
                        "template",
                        format!("`[header:{name}]` is not a valid header name"),
                    ));
                }
                (Some(TemplatePart::Header(name.to_ascii_lowercase())), "[header:".len() + close + 1)
            } else {
                (None, 1)
            };
            match part {
                Some(part) => {
                    if !literal.is_empty() {
                        parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                }
                None => literal.push(b'['),
            }
            rest = &tail[len..];
        }
        literal.extend_from_slice(rest.as_bytes());
        if !literal.is_empty() {
            parts.push(TemplatePart::Literal(literal));
        }
        if !parts.contains(&TemplatePart::Payload) {
            return Err(SchemeError::invalid("template", "must contain [payload]"));
        }
        Ok(Template { parts })
    }
}

/// A validated signature scheme: parse once with [`SignatureScheme::from_json`], verify many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureScheme {
    pub(crate) algorithm: Algorithm,
    pub(crate) digest: DigestEncoding,
    pub(crate) signature: HeaderSource,
    pub(crate) timestamp: Option<TimestampSource>,
    pub(crate) template: Template,
    pub(crate) secret_encoding: SecretEncoding,
}

/// The tolerance applied when a timestamp is configured and `toleranceSeconds` is absent.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

impl SignatureScheme {
    /// Parses and validates a scheme from JSON text.
    pub fn from_json(text: &str) -> Result<SignatureScheme, SchemeError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            // serde_json appends the position, which `Display` already gives.
            let full = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = full.strip_suffix(&position).unwrap_or(&full).to_owned();
            SchemeError::Json { line: e.line(), column: e.column(), message }
        })?;
        SignatureScheme::from_value(&value)
    }

    /// Validates a scheme already parsed as JSON (e.g. a field of a trigger document).
    pub fn from_value(value: &Value) -> Result<SignatureScheme, SchemeError> {
        let root = object(value, "")?;
        check_fields(root, "", &["algorithm", "digest", "data", "template", "secretEncoding", "toleranceSeconds"])?;
        let algorithm = choice(root, "", "algorithm", &Algorithm::ALL, |a| a.as_str())?
            .ok_or_else(|| SchemeError::Missing { path: "algorithm".into() })?;
        let digest = choice(root, "", "digest", &DigestEncoding::ALL, |d| d.as_str())?
            .ok_or_else(|| SchemeError::Missing { path: "digest".into() })?;
        let secret_encoding =
            choice(root, "", "secretEncoding", &SecretEncoding::ALL, |s| s.as_str())?.unwrap_or(SecretEncoding::Utf8);

        let data_value = root.get("data").ok_or_else(|| SchemeError::Missing { path: "data".into() })?;
        let data = object(data_value, "data")?;
        check_fields(data, "data", &["signature", "timestamp"])?;
        let signature_value =
            data.get("signature").ok_or_else(|| SchemeError::Missing { path: "data.signature".into() })?;
        let signature_obj = object(signature_value, "data.signature")?;
        check_fields(signature_obj, "data.signature", &["header", "parsePrefix", "listDelimiter"])?;
        let signature = header_source(signature_obj, "data.signature")?;

        let tolerance = match root.get("toleranceSeconds") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| SchemeError::WrongType {
                path: "toleranceSeconds".into(),
                expected: "a non-negative integer",
            })?),
        };

        let timestamp = match data.get("timestamp") {
            None => {
                if tolerance.is_some() {
                    return Err(SchemeError::invalid("toleranceSeconds", "requires data.timestamp"));
                }
                None
            }
            Some(ts_value) => {
                let path = "data.timestamp";
                let ts = object(ts_value, path)?;
                check_fields(ts, path, &["header", "parsePrefix", "listDelimiter", "format"])?;
                let source = header_source(ts, path)?;
                let all = [TimestampFormat::Unix, TimestampFormat::UnixMs, TimestampFormat::Rfc3339];
                let format = choice(ts, path, "format", &all, |f| f.as_str())?.unwrap_or(TimestampFormat::Unix);
                let tolerance = NonZeroU64::new(tolerance.unwrap_or(DEFAULT_TOLERANCE_SECONDS));
                Some(TimestampSource { source, format, tolerance })
            }
        };

        let template_text = match root.get("template") {
            None => {
                return Err(SchemeError::Missing { path: "template".into() });
            }
            Some(Value::String(s)) => s,
            Some(_) => {
                return Err(SchemeError::WrongType { path: "template".into(), expected: "a string" });
            }
        };
        let template = Template::compile(template_text)?;
        if timestamp.is_none() && template.parts.contains(&TemplatePart::Timestamp) {
            return Err(SchemeError::invalid("template", "uses [timestamp] but data.timestamp is not configured"));
        }

        Ok(SignatureScheme { algorithm, digest, signature, timestamp, template, secret_encoding })
    }

    /// The HMAC hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// How the MAC is written in the header.
    pub fn digest(&self) -> DigestEncoding {
        self.digest
    }

    /// Where the signature is found.
    pub fn signature(&self) -> &HeaderSource {
        &self.signature
    }

    /// Where the timestamp is found, if the scheme has one.
    pub fn timestamp(&self) -> Option<&TimestampSource> {
        self.timestamp.as_ref()
    }

    /// The signed text.
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// How secret strings become keys.
    pub fn secret_encoding(&self) -> SecretEncoding {
        self.secret_encoding
    }
}

/// Why a scheme's JSON was refused; every variant names the field's path (`data.signature.header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeError {
    /// The text is not JSON.
    Json {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A field that the scheme format does not define (often a typo).
    UnknownField {
        /// Path of the unknown field.
        path: String,
    },
    /// A required field is absent.
    Missing {
        /// Path of the missing field.
        path: String,
    },
    /// A field has the wrong JSON type.
    WrongType {
        /// Path of the field.
        path: String,
        /// What was expected, e.g. "a string".
        expected: &'static str,
    },
    /// A field holds a value outside its set (e.g. `"algorithm": "md5"`).
    UnknownValue {
        /// Path of the field.
        path: String,
        /// The value found.
        value: String,
        /// The accepted values.
        allowed: Vec<&'static str>,
    },
    /// A field's value is well-typed but not acceptable.
    Invalid {
        /// Path of the field.
        path: String,
        /// Why.
        reason: String,
    },
}

impl SchemeError {
    fn invalid(path: &str, reason: impl Into<String>) -> SchemeError {
        SchemeError::Invalid { path: path.into(), reason: reason.into() }
    }
}

impl fmt::Display for SchemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemeError::Json { line, column, message } => {
                write!(f, "scheme is not valid JSON at line {line}, column {column}: {message}")
            }
            SchemeError::UnknownField { path } => write!(f, "{path}: unknown field"),
            SchemeError::Missing { path } => write!(f, "{path}: missing required field"),
            SchemeError::WrongType { path, expected } => write!(f, "{path}: expected {expected}"),
            SchemeError::UnknownValue { path, value, allowed } => {
                write!(f, "{path}: unknown value {value:?} (expected one of: {})", allowed.join(", "))
            }
            SchemeError::Invalid { path, reason } => write!(f, "{path}: {reason}"),
        }
    }
}

impl std::error::Error for SchemeError {}

fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() { field.to_owned() } else { format!("{parent}.{field}") }
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, SchemeError> {
    value.as_object().ok_or_else(|| SchemeError::WrongType {
        path: if path.is_empty() { "(root)".into() } else { path.into() },
        expected: "an object",
    })
}

fn check_fields(obj: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), SchemeError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(SchemeError::UnknownField { path: join(path, k) }),
        None => Ok(()),
    }
}

fn string<'v>(obj: &'v Map<String, Value>, path: &str, field: &str) -> Result<Option<&'v str>, SchemeError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SchemeError::WrongType { path: join(path, field), expected: "a string" }),
    }
}

fn choice<T: Copy>(
    obj: &Map<String, Value>,
    path: &str,
    field: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<Option<T>, SchemeError> {
    let Some(text) = string(obj, path, field)? else {
        return Ok(None);
    };
    match all.iter().copied().find(|v| name(*v) == text) {
        Some(v) => Ok(Some(v)),
        None => Err(SchemeError::UnknownValue {
            path: join(path, field),
            value: text.to_owned(),
            allowed: all.iter().map(|v| name(*v)).collect(),
        }),
    }
}

fn header_source(obj: &Map<String, Value>, path: &str) -> Result<HeaderSource, SchemeError> {
    let header = string(obj, path, "header")?.ok_or_else(|| SchemeError::Missing { path: join(path, "header") })?;
    if !is_token(header) {
        return Err(SchemeError::invalid(&join(path, "header"), format!("{header:?} is not a valid header name")));
    }
    let prefix = string(obj, path, "parsePrefix")?;
    let delimiter = string(obj, path, "listDelimiter")?;
    let extract = match (prefix, delimiter) {
        (None, None) => Extract::Whole,
        (None, Some(_)) => {
            return Err(SchemeError::invalid(&join(path, "listDelimiter"), "requires parsePrefix"));
        }
        (Some(""), _) => {
            return Err(SchemeError::invalid(&join(path, "parsePrefix"), "must not be empty"));
        }
        (Some(_), Some("")) => {
            return Err(SchemeError::invalid(&join(path, "listDelimiter"), "must not be empty"));
        }
        (Some(p), d) => Extract::Prefixed { prefix: p.to_owned(), delimiter: d.unwrap_or(",").to_owned() },
    };
    Ok(HeaderSource { header: header.to_ascii_lowercase(), extract })
}

/// An HTTP header name: a non-empty RFC 9110 token.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{"algorithm":"sha256","digest":"hex",
        "data":{"signature":{"header":"stripe-signature","parsePrefix":"v1="},
                "timestamp":{"header":"stripe-signature","parsePrefix":"t="}},
        "template":"[timestamp].[payload]"}"#;

    fn err(text: &str) -> String {
        match SignatureScheme::from_json(text) {
            Ok(s) => panic!("accepted: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_seed_scheme_parses_with_defaults() {
        let s = SignatureScheme::from_json(SEED).unwrap();
        assert_eq!(s.algorithm(), Algorithm::Sha256);
        assert_eq!(s.digest(), DigestEncoding::Hex);
        assert_eq!(s.secret_encoding(), SecretEncoding::Utf8);
        assert_eq!(s.signature().header(), "stripe-signature");
        assert_eq!(s.signature().extract(), &Extract::Prefixed { prefix: "v1=".into(), delimiter: ",".into() });
        let ts = s.timestamp().unwrap();
        assert_eq!(ts.format(), TimestampFormat::Unix);
        assert_eq!(ts.tolerance_seconds().map(NonZeroU64::get), Some(300));
        assert_eq!(
            s.template().parts(),
            &[TemplatePart::Timestamp, TemplatePart::Literal(b".".to_vec()), TemplatePart::Payload]
        );
    }

    #[test]
    fn template_placeholders_and_literals() {
        let t = Template::compile("[header:Webhook-Id].[timestamp].[payload]").unwrap();
        assert_eq!(
            t.parts(),
            &[
                TemplatePart::Header("webhook-id".into()),
                TemplatePart::Literal(b".".to_vec()),
                TemplatePart::Timestamp,
                TemplatePart::Literal(b".".to_vec()),
                TemplatePart::Payload,
            ]
        );
        // Unrecognised brackets are literal text, as the contract says.
        let t = Template::compile("[x][payload]]").unwrap();
        assert_eq!(
            t.parts(),
            &[TemplatePart::Literal(b"[x]".to_vec()), TemplatePart::Payload, TemplatePart::Literal(b"]".to_vec())]
        );
        assert!(Template::compile("[url][payload]").unwrap().uses_url());
        assert!(Template::compile("[payload").is_err());
        assert!(Template::compile("[header:][payload]").is_err());
        assert!(Template::compile("[header:a b][payload]").is_err());
        assert!(Template::compile("[header:x[payload]").is_err());
    }

    #[test]
    fn unknown_fields_name_their_path() {
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x","parsePrefx":"v1="}},"template":"[payload]"}"#
            ),
            "data.signature.parsePrefx: unknown field"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x"}},"template":"[payload]","tolerance":5}"#
            ),
            "tolerance: unknown field"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x"},"timestamp":{"header":"t","fmt":"unix"}},"template":"[payload]"}"#
            ),
            "data.timestamp.fmt: unknown field"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x"},"nonce":{}},"template":"[payload]"}"#
            ),
            "data.nonce: unknown field"
        );
    }

    #[test]
    fn unknown_values_and_types_are_errors() {
        assert_eq!(
            err(r#"{"algorithm":"md5","digest":"hex","data":{"signature":{"header":"x"}},"template":"[payload]"}"#),
            r#"algorithm: unknown value "md5" (expected one of: sha1, sha256, sha512)"#
        );
        assert_eq!(
            err(r#"{"algorithm":"SHA256","digest":"hex","data":{"signature":{"header":"x"}},"template":"[payload]"}"#),
            r#"algorithm: unknown value "SHA256" (expected one of: sha1, sha256, sha512)"#
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"base32","data":{"signature":{"header":"x"}},"template":"[payload]"}"#
            ),
            r#"digest: unknown value "base32" (expected one of: hex, base64, base64url)"#
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","secretEncoding":"hex","data":{"signature":{"header":"x"}},"template":"[payload]"}"#
            ),
            r#"secretEncoding: unknown value "hex" (expected one of: utf8, base64)"#
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x"},"timestamp":{"header":"t","format":"iso"}},"template":"[payload]"}"#
            ),
            r#"data.timestamp.format: unknown value "iso" (expected one of: unix, unix_ms, rfc3339)"#
        );
        assert_eq!(
            err(r#"{"algorithm":256,"digest":"hex","data":{"signature":{"header":"x"}},"template":"[payload]"}"#),
            "algorithm: expected a string"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x"},"timestamp":{"header":"t"}},"template":"[payload]","toleranceSeconds":-1}"#
            ),
            "toleranceSeconds: expected a non-negative integer"
        );
        assert_eq!(err(r#"[]"#), "(root): expected an object");
        assert_eq!(
            err(r#"{"algorithm":"sha256","digest":"hex","data":{"signature":"x"},"template":"[payload]"}"#),
            "data.signature: expected an object"
        );
    }

    #[test]
    fn missing_and_contradictory_settings_are_errors() {
        assert_eq!(
            err(r#"{"digest":"hex","data":{"signature":{"header":"x"}},"template":"[payload]"}"#),
            "algorithm: missing required field"
        );
        assert_eq!(
            err(r#"{"algorithm":"sha1","data":{"signature":{"header":"x"}},"template":"[payload]"}"#),
            "digest: missing required field"
        );
        assert_eq!(
            err(r#"{"algorithm":"sha1","digest":"hex","template":"[payload]"}"#),
            "data: missing required field"
        );
        assert_eq!(
            err(r#"{"algorithm":"sha1","digest":"hex","data":{},"template":"[payload]"}"#),
            "data.signature: missing required field"
        );
        assert_eq!(
            err(r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{}},"template":"[payload]"}"#),
            "data.signature.header: missing required field"
        );
        assert_eq!(
            err(r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x"}}}"#),
            "template: missing required field"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x"}},"template":"[timestamp].[payload]"}"#
            ),
            "template: uses [timestamp] but data.timestamp is not configured"
        );
        assert_eq!(
            err(r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x"}},"template":"[timestamp]"}"#),
            "template: must contain [payload]"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x"}},"template":"[payload]","toleranceSeconds":60}"#
            ),
            "toleranceSeconds: requires data.timestamp"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x","listDelimiter":";"}},"template":"[payload]"}"#
            ),
            "data.signature.listDelimiter: requires parsePrefix"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x","parsePrefix":""}},"template":"[payload]"}"#
            ),
            "data.signature.parsePrefix: must not be empty"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"x","parsePrefix":"a","listDelimiter":""}},"template":"[payload]"}"#
            ),
            "data.signature.listDelimiter: must not be empty"
        );
        assert_eq!(
            err(
                r#"{"algorithm":"sha1","digest":"hex","data":{"signature":{"header":"bad header"}},"template":"[payload]"}"#
            ),
            r#"data.signature.header: "bad header" is not a valid header name"#
        );
        assert_eq!(
            err("{\n  \"algorithm\": sha256\n}"),
            "scheme is not valid JSON at line 2, column 16: expected value"
        );
    }

    #[test]
    fn tolerance_zero_disables_and_other_settings_are_kept() {
        let s = SignatureScheme::from_json(
            r#"{"algorithm":"sha512","digest":"base64url","secretEncoding":"base64",
                "data":{"signature":{"header":"Sig","parsePrefix":"v1,","listDelimiter":" "},
                        "timestamp":{"header":"TS","format":"rfc3339"}},
                "template":"[timestamp][payload]","toleranceSeconds":0}"#,
        )
        .unwrap();
        assert_eq!(s.algorithm(), Algorithm::Sha512);
        assert_eq!(s.digest(), DigestEncoding::Base64Url);
        assert_eq!(s.secret_encoding(), SecretEncoding::Base64);
        assert_eq!(s.signature().header(), "sig");
        let ts = s.timestamp().unwrap();
        assert_eq!(ts.source().header(), "ts");
        assert_eq!(ts.source().extract(), &Extract::Whole);
        assert_eq!(ts.format(), TimestampFormat::Rfc3339);
        assert_eq!(ts.tolerance_seconds(), None);
    }
}
