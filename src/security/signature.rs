//! Verification of a request against a [`SignatureScheme`].
//!
//! Header semantics (headers arrive as `(name, raw bytes)` pairs, so duplicates are visible):
//! - **signature header**: every occurrence contributes candidates, in order; any candidate that
//!   matches any secret passes (Stripe and Standard Webhooks send several during key rotation).
//! - **timestamp header**: every occurrence is read; all values found must be byte-identical,
//!   otherwise the request fails with [`VerifyError::TimestampAmbiguous`] (an attacker must not
//!   be able to pick which timestamp the window check sees).
//! - **`[header:NAME]`** in the template: the same rule, [`VerifyError::HeaderAmbiguous`].
//!
//! Values are trimmed of surrounding spaces and tabs; nothing else is changed, the body is
//! signed exactly as received.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_NO_PAD, URL_SAFE_PAD_INDIFFERENT};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Decodes base64 secrets as the Standard Webhooks reference libraries do: padding optional, the
/// unused bits of the last character ignored (a secret cut short still decodes); characters outside
/// the standard alphabet are refused.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
use hmac::{Hmac, KeyInit, Mac};

use super::scheme::{Algorithm, DigestEncoding, Extract, HeaderSource, SecretEncoding, SignatureScheme, TemplatePart};
use super::timestamp::{TimestampError, parse_timestamp};

/// The parts of an HTTP request that a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
    /// Every header as `(name, raw value)`, in arrival order; duplicates allowed.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The request URL as the sender addressed it; needed only by templates with `[url]`.
    pub url: Option<&'a str>,
}

impl<'a> SignedRequest<'a> {
    /// A request without a URL.
    pub fn new(body: &'a [u8], headers: &'a [(&'a str, &'a [u8])]) -> Self {
        SignedRequest { body, headers, url: None }
    }

    /// The same request with its URL (for `[url]` templates such as Square's).
    pub fn with_url(self, url: &'a str) -> Self {
        SignedRequest { url: Some(url), ..self }
    }

    /// Every value of the header `name` (case-insensitive), in order.
    fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

/// An HMAC key decoded from a configured secret. Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// A key from raw bytes; refuses an empty key.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<SecretKey, SecretError> {
        if bytes.is_empty() {
            return Err(SecretError::Empty { index: 0 });
        }
        Ok(SecretKey(bytes))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<{} bytes redacted>)", self.0.len())
    }
}

/// Why a configured secret could not become a key; `index` is its position in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    /// The secret is empty (or only `whsec_`).
    Empty {
        /// Position of the secret in the configured list.
        index: usize,
    },
    /// `secretEncoding` is `base64` but the secret is not base64.
    NotBase64 {
        /// Position of the secret in the configured list.
        index: usize,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::Empty { index } => write!(f, "secret {index} is empty"),
            SecretError::NotBase64 { index } => {
                write!(f, "secret {index} is not base64 (secretEncoding is base64)")
            }
        }
    }
}

impl std::error::Error for SecretError {}

/// Why a value in a signature header cannot be a MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedSignature {
    /// Not hexadecimal.
    NotHex,
    /// Not base64 of the expected alphabet.
    NotBase64,
    /// Decodes, but to the wrong number of bytes (e.g. truncated, or hex sent where base64 is expected).
    WrongLength {
        /// The MAC length of the scheme's algorithm.
        expected: usize,
        /// The decoded length.
        actual: usize,
    },
}

impl fmt::Display for MalformedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedSignature::NotHex => f.write_str("not hex"),
            MalformedSignature::NotBase64 => f.write_str("not base64"),
            MalformedSignature::WrongLength { expected, actual } => {
                write!(f, "decodes to {actual} bytes, expected {expected}")
            }
        }
    }
}

/// Why a request failed verification: for the trigger owner's log (the sender only sees 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No secret was configured, so nothing can match.
    NoSecrets,
    /// A header the scheme needs is absent.
    HeaderMissing {
        /// The header name (lower case).
        header: String,
    },
    /// The header is present but no item starts with the configured prefix.
    NoPrefixedItem {
        /// The header name (lower case).
        header: String,
        /// The configured `parsePrefix`.
        prefix: String,
    },
    /// The header is present but its value is empty.
    EmptyValue {
        /// The header name (lower case).
        header: String,
    },
    /// The timestamp appears more than once with different values.
    TimestampAmbiguous {
        /// The header name (lower case).
        header: String,
    },
    /// A header used by `[header:NAME]` appears more than once with different values.
    HeaderAmbiguous {
        /// The header name (lower case).
        header: String,
    },
    /// The timestamp could not be read.
    TimestampInvalid {
        /// The header name (lower case).
        header: String,
        /// The value received (lossy UTF-8, at most 64 characters).
        value: String,
        /// Why it could not be read.
        reason: TimestampError,
    },
    /// The timestamp is older than the tolerance allows.
    TimestampTooOld {
        /// Seconds beyond the window (rounded up).
        by_seconds: u64,
        /// The configured tolerance.
        tolerance_seconds: u64,
    },
    /// The timestamp is further in the future than the tolerance allows.
    TimestampInFuture {
        /// Seconds beyond the window (rounded up).
        by_seconds: u64,
        /// The configured tolerance.
        tolerance_seconds: u64,
    },
    /// The template signs `[url]` but the verifier was given no request URL.
    UrlRequired,
    /// No signature value could even be decoded as a MAC.
    SignatureMalformed {
        /// The header name (lower case).
        header: String,
        /// Why the first value was refused.
        reason: MalformedSignature,
    },
    /// Well-formed signatures were found but none matched any secret.
    NoMatch {
        /// How many signature values were tried.
        candidates: usize,
        /// How many secrets were tried.
        secrets: usize,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::NoSecrets => f.write_str("no secret configured"),
            VerifyError::HeaderMissing { header } => write!(f, "header {header} missing"),
            VerifyError::NoPrefixedItem { header, prefix } => {
                write!(f, "header {header} has no item with prefix {prefix:?}")
            }
            VerifyError::EmptyValue { header } => write!(f, "header {header} is empty"),
            VerifyError::TimestampAmbiguous { header } => {
                write!(f, "header {header} carries several different timestamps")
            }
            VerifyError::HeaderAmbiguous { header } => {
                write!(f, "header {header} appears several times with different values")
            }
            VerifyError::TimestampInvalid { header, value, reason } => {
                write!(f, "timestamp {value:?} in header {header} is invalid: {reason}")
            }
            VerifyError::TimestampTooOld { by_seconds, tolerance_seconds } => {
                write!(f, "timestamp outside the window by {by_seconds} s (too old; tolerance {tolerance_seconds} s)")
            }
            VerifyError::TimestampInFuture { by_seconds, tolerance_seconds } => write!(
                f,
                "timestamp outside the window by {by_seconds} s (in the future; tolerance {tolerance_seconds} s)"
            ),
            VerifyError::UrlRequired => f.write_str("the scheme signs [url] but no request URL was given"),
            VerifyError::SignatureMalformed { header, reason } => {
                write!(f, "signature in header {header} is malformed: {reason}")
            }
            VerifyError::NoMatch { candidates, secrets } => {
                write!(f, "no signature matched any secret ({candidates} signature(s), {secrets} secret(s))")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// Which secret and which signature value matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Index of the matching secret in the list given to `verify`.
    pub secret_index: usize,
    /// Index of the matching value among the signature values found in the request.
    pub signature_index: usize,
}

impl SignatureScheme {
    /// Decodes one configured secret according to `secretEncoding`.
    pub fn decode_secret(&self, secret: &str) -> Result<SecretKey, SecretError> {
        self.decode_secrets(&[secret])?.pop().ok_or(SecretError::Empty { index: 0 })
    }

    /// Decodes every configured secret (rotation: any of them may match); errors name the index.
    pub fn decode_secrets<S: AsRef<str>>(&self, secrets: &[S]) -> Result<Vec<SecretKey>, SecretError> {
        secrets
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let s = s.as_ref();
                let bytes = match self.secret_encoding {
                    SecretEncoding::Utf8 => s.as_bytes().to_vec(),
                    SecretEncoding::Base64 => {
                        let b64 = s.strip_prefix("whsec_").unwrap_or(s);
                        SECRET_BASE64.decode(b64).map_err(|_| SecretError::NotBase64 { index })?
                    }
                };
                if bytes.is_empty() {
                    return Err(SecretError::Empty { index });
                }
                Ok(SecretKey(bytes))
            })
            .collect()
    }

    /// Verifies `request` against `secrets` at time `now` (the caller's clock).
    ///
    /// Checks, in order: a secret exists; the signature header yields values; the timestamp (if
    /// configured) is present, unambiguous, readable and within the tolerance; then the MAC of the
    /// template over the request is compared in constant time with every value, for every secret.
    pub fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SecretKey],
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        if secrets.is_empty() {
            return Err(VerifyError::NoSecrets);
        }
        let values = extract_all(request, &self.signature)?;
        let timestamp = self.checked_timestamp(request, Some(now))?;
        let message = self.message(request, timestamp)?;

        let expected = self.algorithm.output_len();
        let mut candidates: Vec<(usize, Vec<u8>)> = Vec::with_capacity(values.len());
        let mut first_problem = None;
        for (i, value) in values.iter().enumerate() {
            match decode_digest(self.digest, value, expected) {
                Ok(mac) => candidates.push((i, mac)),
                Err(problem) => {
                    first_problem.get_or_insert(problem);
                }
            }
        }
        if candidates.is_empty() {
            return Err(VerifyError::SignatureMalformed {
                header: self.signature.header().to_owned(),
                reason: first_problem.unwrap_or(MalformedSignature::WrongLength { expected, actual: 0 }),
            });
        }
        for (secret_index, key) in secrets.iter().enumerate() {
            if let Some(signature_index) = self.matching(key, &message, &candidates) {
                return Ok(Verified { secret_index, signature_index });
            }
        }
        Err(VerifyError::NoMatch { candidates: values.len(), secrets: secrets.len() })
    }

    /// The encoded signature the sender would put in the header for `request` with `key`.
    ///
    /// Reads the timestamp and `[header:…]` values from `request` like `verify` does, but does not
    /// check the tolerance window. Used to sign test requests and by the benchmark.
    pub fn expected_signature(&self, request: &SignedRequest<'_>, key: &SecretKey) -> Result<String, VerifyError> {
        let timestamp = self.checked_timestamp(request, None)?;
        let message = self.message(request, timestamp)?;
        let mac = match self.algorithm {
            Algorithm::Sha1 => mac_bytes::<Hmac<sha1::Sha1>>(key, &message),
            Algorithm::Sha256 => mac_bytes::<Hmac<sha2::Sha256>>(key, &message),
            Algorithm::Sha512 => mac_bytes::<Hmac<sha2::Sha512>>(key, &message),
        };
        Ok(match self.digest {
            DigestEncoding::Hex => to_hex(&mac),
            DigestEncoding::Base64 => STANDARD.encode(&mac),
            DigestEncoding::Base64Url => URL_SAFE_NO_PAD.encode(&mac),
        })
    }

    /// The raw timestamp value, after the window check when `now` is given.
    fn checked_timestamp<'r>(
        &self,
        request: &SignedRequest<'r>,
        now: Option<SystemTime>,
    ) -> Result<Option<&'r [u8]>, VerifyError> {
        let Some(ts) = &self.timestamp else {
            return Ok(None);
        };
        let header = ts.source().header();
        let values = extract_all(request, ts.source())?;
        let raw = single(&values).ok_or_else(|| VerifyError::TimestampAmbiguous { header: header.to_owned() })?;
        let sent_ms = parse_timestamp(raw, ts.format()).map_err(|reason| VerifyError::TimestampInvalid {
            header: header.to_owned(),
            value: printable(raw),
            reason,
        })?;
        if let (Some(now), Some(tolerance)) = (now, ts.tolerance_seconds()) {
            let now_ms: i128 = match now.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_millis() as i128,
                Err(e) => -(e.duration().as_millis() as i128),
            };
            let tolerance = tolerance.get();
            let tolerance_ms = i128::from(tolerance) * 1000;
            let age_ms = now_ms - i128::from(sent_ms);
            let beyond = |excess_ms: i128| u64::try_from((excess_ms + 999) / 1000).unwrap_or(u64::MAX);
            if age_ms > tolerance_ms {
                return Err(VerifyError::TimestampTooOld {
                    by_seconds: beyond(age_ms - tolerance_ms),
                    tolerance_seconds: tolerance,
                });
            }
            if -age_ms > tolerance_ms {
                return Err(VerifyError::TimestampInFuture {
                    by_seconds: beyond(-age_ms - tolerance_ms),
                    tolerance_seconds: tolerance,
                });
            }
        }
        Ok(Some(raw))
    }

    /// The signed text as a list of byte slices (never concatenated: the MAC is fed piece by piece).
    fn message<'r>(
        &'r self,
        request: &SignedRequest<'r>,
        timestamp: Option<&'r [u8]>,
    ) -> Result<Vec<&'r [u8]>, VerifyError> {
        let mut pieces = Vec::with_capacity(self.template.parts().len());
        for part in self.template.parts() {
            let piece: &[u8] = match part {
                TemplatePart::Literal(bytes) => bytes,
                TemplatePart::Payload => request.body,
                // A scheme with [timestamp] always has a timestamp source (checked at parse time).
                TemplatePart::Timestamp => timestamp.unwrap_or_default(),
                TemplatePart::Url => request.url.ok_or(VerifyError::UrlRequired)?.as_bytes(),
                TemplatePart::Header(name) => {
                    let values: Vec<&[u8]> = request.header_values(name).map(<[u8]>::trim_ascii).collect();
                    if values.is_empty() {
                        return Err(VerifyError::HeaderMissing { header: name.clone() });
                    }
                    single(&values).ok_or_else(|| VerifyError::HeaderAmbiguous { header: name.clone() })?
                }
            };
            pieces.push(piece);
        }
        Ok(pieces)
    }

    fn matching(&self, key: &SecretKey, message: &[&[u8]], candidates: &[(usize, Vec<u8>)]) -> Option<usize> {
        match self.algorithm {
            Algorithm::Sha1 => first_match::<Hmac<sha1::Sha1>>(key, message, candidates),
            Algorithm::Sha256 => first_match::<Hmac<sha2::Sha256>>(key, message, candidates),
            Algorithm::Sha512 => first_match::<Hmac<sha2::Sha512>>(key, message, candidates),
        }
    }
}

/// The MAC state after feeding the whole message, or `None` if the key is refused (HMAC takes any
/// key length, so this does not happen; it is handled rather than unwrapped).
fn keyed<M: Mac + KeyInit>(key: &SecretKey, message: &[&[u8]]) -> Option<M> {
    let mut mac = <M as KeyInit>::new_from_slice(key.as_bytes()).ok()?;
    for piece in message {
        mac.update(piece);
    }
    Some(mac)
}

/// Index of the first candidate equal to the MAC, compared in constant time by `verify_slice`.
fn first_match<M: Mac + KeyInit + Clone>(
    key: &SecretKey,
    message: &[&[u8]],
    candidates: &[(usize, Vec<u8>)],
) -> Option<usize> {
    let mac = keyed::<M>(key, message)?;
    candidates.iter().find(|(_, candidate)| mac.clone().verify_slice(candidate).is_ok()).map(|(index, _)| *index)
}

fn mac_bytes<M: Mac + KeyInit>(key: &SecretKey, message: &[&[u8]]) -> Vec<u8> {
    keyed::<M>(key, message).map(|m| m.finalize().into_bytes().to_vec()).unwrap_or_default()
}

/// All values the source yields from the request, or why there are none.
fn extract_all<'r>(request: &SignedRequest<'r>, source: &HeaderSource) -> Result<Vec<&'r [u8]>, VerifyError> {
    let header = source.header();
    let mut present = false;
    let mut values = Vec::new();
    for raw in request.header_values(header) {
        present = true;
        match source.extract() {
            Extract::Whole => {
                let v = raw.trim_ascii();
                if !v.is_empty() {
                    values.push(v);
                }
            }
            Extract::Prefixed { prefix, delimiter } => {
                for item in split(raw, delimiter.as_bytes()) {
                    if let Some(v) = item.trim_ascii().strip_prefix(prefix.as_bytes()) {
                        values.push(v);
                    }
                }
            }
        }
    }
    if !present {
        return Err(VerifyError::HeaderMissing { header: header.to_owned() });
    }
    if values.is_empty() {
        return Err(match source.extract() {
            Extract::Whole => VerifyError::EmptyValue { header: header.to_owned() },
            Extract::Prefixed { prefix, .. } => {
                VerifyError::NoPrefixedItem { header: header.to_owned(), prefix: prefix.clone() }
            }
        });
    }
    Ok(values)
}

/// Splits `haystack` on every occurrence of the non-empty `delimiter`.
fn split<'h>(haystack: &'h [u8], delimiter: &[u8]) -> Vec<&'h [u8]> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while delimiter.len() <= haystack.len().saturating_sub(i) && !delimiter.is_empty() {
        if haystack[i..].starts_with(delimiter) {
            items.push(&haystack[start..i]);
            i += delimiter.len();
            start = i;
        } else {
            i += 1;
        }
    }
    items.push(&haystack[start..]);
    items
}

/// The one value when all are identical; `None` when they differ.
fn single<'v>(values: &[&'v [u8]]) -> Option<&'v [u8]> {
    let first = *values.first()?;
    values.iter().all(|v| *v == first).then_some(first)
}

fn decode_digest(encoding: DigestEncoding, value: &[u8], expected: usize) -> Result<Vec<u8>, MalformedSignature> {
    let bytes = match encoding {
        DigestEncoding::Hex => from_hex(value).ok_or(MalformedSignature::NotHex)?,
        DigestEncoding::Base64 => STANDARD_PAD_INDIFFERENT.decode(value).map_err(|_| MalformedSignature::NotBase64)?,
        DigestEncoding::Base64Url => {
            URL_SAFE_PAD_INDIFFERENT.decode(value).map_err(|_| MalformedSignature::NotBase64)?
        }
    };
    if bytes.len() != expected {
        return Err(MalformedSignature::WrongLength { expected, actual: bytes.len() });
    }
    Ok(bytes)
}

fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A received value made safe for a log line: lossy UTF-8, at most 64 characters.
fn printable(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn scheme(json: &str) -> SignatureScheme {
        SignatureScheme::from_json(json).unwrap()
    }

    const STRIPE: &str = r#"{"algorithm":"sha256","digest":"hex",
        "data":{"signature":{"header":"stripe-signature","parsePrefix":"v1="},
                "timestamp":{"header":"stripe-signature","parsePrefix":"t="}},
        "template":"[timestamp].[payload]"}"#;

    #[test]
    fn split_handles_edges() {
        assert_eq!(split(b"a,b,,c", b","), vec![&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(split(b"", b","), vec![&b""[..]]);
        assert_eq!(split(b"a::b", b"::"), vec![&b"a"[..], b"b"]);
        assert_eq!(split(b"a:", b"::"), vec![&b"a:"[..]]);
        assert_eq!(split(b"abc", b""), vec![&b"abc"[..]]);
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(from_hex(b"00ffab"), Some(vec![0, 255, 0xab]));
        assert_eq!(from_hex(b"00FFab"), Some(vec![0, 255, 0xab]));
        assert_eq!(from_hex(b"0"), None);
        assert_eq!(from_hex(b"zz"), None);
        assert_eq!(to_hex(&[0, 255, 0xab]), "00ffab");
    }

    #[test]
    fn secrets_decode_per_encoding() {
        let b64 = scheme(
            r#"{"algorithm":"sha256","digest":"base64","secretEncoding":"base64",
                "data":{"signature":{"header":"s"}},"template":"[payload]"}"#,
        );
        assert_eq!(b64.decode_secret("whsec_AAEC").unwrap().as_bytes(), &[0, 1, 2]);
        assert_eq!(b64.decode_secret("AAEC").unwrap().as_bytes(), &[0, 1, 2]);
        assert_eq!(b64.decode_secrets(&["AAEC", "not base64!"]), Err(SecretError::NotBase64 { index: 1 }));
        assert_eq!(b64.decode_secrets(&["whsec_"]), Err(SecretError::Empty { index: 0 }));
        let utf8 = scheme(STRIPE);
        assert_eq!(utf8.decode_secret("whsec_AAEC").unwrap().as_bytes(), b"whsec_AAEC");
        assert_eq!(utf8.decode_secrets(&["a", ""]), Err(SecretError::Empty { index: 1 }));
        assert_eq!(format!("{:?}", utf8.decode_secret("hunter2").unwrap()), "SecretKey(<7 bytes redacted>)");
    }

    #[test]
    fn window_reports_how_far_outside() {
        let s = scheme(STRIPE);
        let key = s.decode_secret("k").unwrap();
        let unsigned = [("Stripe-Signature", &b"t=1000"[..])];
        let sig = s.expected_signature(&SignedRequest::new(b"{}", &unsigned), &key).unwrap();
        let header = format!("t=1000,v1={sig}");
        let headers = [("Stripe-Signature", header.as_bytes())];
        let req = SignedRequest::new(b"{}", &headers);
        let keys = [key];
        assert!(s.verify(&req, &keys, at(1300)).is_ok());
        assert!(s.verify(&req, &keys, at(700)).is_ok());
        assert_eq!(
            s.verify(&req, &keys, at(1301)),
            Err(VerifyError::TimestampTooOld { by_seconds: 1, tolerance_seconds: 300 })
        );
        assert_eq!(
            s.verify(&req, &keys, at(699)),
            Err(VerifyError::TimestampInFuture { by_seconds: 1, tolerance_seconds: 300 })
        );
        assert_eq!(
            s.verify(&req, &keys, UNIX_EPOCH - Duration::from_secs(10)),
            Err(VerifyError::TimestampInFuture { by_seconds: 710, tolerance_seconds: 300 })
        );
        assert_eq!(
            s.verify(&req, &keys, at(100_000)).map_err(|e| e.to_string()),
            Err("timestamp outside the window by 98700 s (too old; tolerance 300 s)".to_owned())
        );
    }
}
