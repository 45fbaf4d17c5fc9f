//! HTTP plumbing of the listeners: JSON responses, the `Host` check, body reading under
//! limits, JSON request bodies.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes};
use hyper::header::{CONTENT_LENGTH, HOST, HeaderMap};
use hyper::http::uri::Authority;
use hyper::{Request, Version};
use serde_json::{Map, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::error::{ApiError, ErrorKind};

pub use super::response::{HttpResponse, json_response, text_response};

/// What reading one body may take.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits<'a> {
    /// The largest body, in bytes (413 beyond).
    pub max_bytes: usize,
    /// The time allowed to receive the whole body (408 beyond).
    pub timeout: Duration,
    /// Bytes shared by every body being read, one permit a byte, taken as the bytes
    /// arrive (503 when none are left); `None` reads without a budget.
    pub budget: Option<&'a Semaphore>,
}

/// A body read under [`BodyLimits`]: its bytes, and the share of the budget they hold
/// until this is dropped.
pub struct ReadBody<'a> {
    /// The body.
    pub bytes: Bytes,
    _reserved: Option<SemaphorePermit<'a>>,
}

/// Reads a body under `limits`: at most `limits.max_bytes` bytes are ever buffered, and the
/// budget is charged only for bytes received, so a client that sends nothing holds none of it.
///
/// A body over the limit is refused with 413, but first the rest of it is read and
/// discarded, up to [`DRAIN_BYTES`] more within [`DRAIN_TIME`]: a server that answers and
/// closes while the sender is still writing resets the connection, and the sender then sees
/// a broken pipe instead of the 413. A declared `Content-Length` beyond what would be
/// drained is refused at once. A body not received within `limits.timeout` is refused with
/// 408 (whose answer closes the connection).
///
/// `body` is the server's `hyper::body::Incoming`, or any other body (an in-memory
/// `Full<Bytes>` in tests and the `ingest` fuzz target).
pub async fn read_body<'a, B>(
    headers: &HeaderMap,
    mut body: B,
    limits: BodyLimits<'a>,
) -> Result<ReadBody<'a>, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let limit = limits.max_bytes;
    let too_large = || ApiError::new(ErrorKind::PayloadTooLarge, format!("the body is larger than {limit} bytes"));
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared
        && length > limit as u64
    {
        if length <= (limit + DRAIN_BYTES) as u64 {
            drain(&mut body, length as usize).await;
        }
        return Err(too_large());
    }
    let mut reserved: Option<SemaphorePermit<'a>> = None;
    let read = async {
        let mut buffered = Vec::with_capacity(declared.map_or(0, |n| n as usize));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                tracing::debug!(error = %e, "the body could not be read");
                ApiError::new(ErrorKind::BadRequest, "the body could not be read")
            })?;
            let Ok(data) = frame.into_data() else { continue };
            if buffered.len() + data.len() > limit {
                drain(&mut body, DRAIN_BYTES).await;
                return Err(too_large());
            }
            if let Some(budget) = limits.budget
                && let Err(busy) = reserve(budget, &mut reserved, data.len())
            {
                drain(&mut body, DRAIN_BYTES).await;
                return Err(busy);
            }
            buffered.extend_from_slice(&data);
        }
        Ok(Bytes::from(buffered))
    };
    let result = tokio::time::timeout(limits.timeout, read).await;
    match result {
        Ok(bytes) => Ok(ReadBody { bytes: bytes?, _reserved: reserved }),
        Err(_) => Err(ApiError::new(
            ErrorKind::RequestTimeout,
            format!("the body was not received within {} ms", limits.timeout.as_millis()),
        )),
    }
}

/// Takes `bytes` permits of `budget` into `reserved` (503 when they are not available).
fn reserve<'a>(
    budget: &'a Semaphore,
    reserved: &mut Option<SemaphorePermit<'a>>,
    bytes: usize,
) -> Result<(), ApiError> {
    let busy = || ApiError::new(ErrorKind::Unavailable, "too many request bodies in progress; retry later");
    let bytes = u32::try_from(bytes).map_err(|_| busy())?;
    let permit = budget.try_acquire_many(bytes).map_err(|_| busy())?;
    match reserved {
        Some(held) => held.merge(permit),
        None => *reserved = Some(permit),
    }
    Ok(())
}

/// How many bytes of a refused body are read and discarded before answering.
pub const DRAIN_BYTES: usize = 8 * 1024 * 1024;
/// How long a refused body is drained at most before answering.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads and discards up to `at_most` bytes of `body`, for at most [`DRAIN_TIME`].
async fn drain<B: Body<Data = Bytes> + Unpin>(body: &mut B, at_most: usize) {
    let discard = async {
        let mut seen = 0usize;
        while seen < at_most {
            match body.frame().await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
                _ => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
}

/// Checks the `Host` header as RFC 9112 §3.2 requires (400 otherwise): an HTTP/1.1 request
/// has one; no request has more than one; its value is empty or `host[:port]`.
pub fn check_host<B>(request: &Request<B>) -> Result<(), ApiError> {
    let bad = |message: &str| Err(ApiError::new(ErrorKind::BadRequest, message));
    let mut hosts = request.headers().get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if request.version() == Version::HTTP_11 => bad("an HTTP/1.1 request needs a Host header"),
        (None, _) => Ok(()),
        (Some(_), Some(_)) => bad("the request has more than one Host header"),
        (Some(host), None) if host.is_empty() || is_host(host.as_bytes()) => Ok(()),
        (Some(_), None) => bad("the Host header is not a valid host[:port]"),
    }
}

/// Whether `value` is `host[:port]`: an authority without user information.
fn is_host(value: &[u8]) -> bool {
    !value.contains(&b'@') && Authority::try_from(value).is_ok()
}

/// Parses an admin API body as JSON (400 with line and column otherwise).
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    crate::document::parse(bytes)
        .map_err(|e| ApiError::new(ErrorKind::BadRequest, format!("the body is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_follow_rfc_9112() {
        let request = |version: Version, hosts: &[&str]| {
            let mut builder = Request::post("/hooks/t").version(version);
            for host in hosts {
                builder = builder.header(HOST, *host);
            }
            builder.body(()).unwrap()
        };
        assert!(check_host(&request(Version::HTTP_11, &["example.test"])).is_ok());
        assert!(check_host(&request(Version::HTTP_11, &["127.0.0.1:8080"])).is_ok());
        assert!(check_host(&request(Version::HTTP_11, &["[::1]:8080"])).is_ok());
        assert!(check_host(&request(Version::HTTP_11, &[""])).is_ok());
        assert!(check_host(&request(Version::HTTP_10, &[])).is_ok());
        for refused in [
            request(Version::HTTP_11, &[]),
            request(Version::HTTP_11, &["a.test", "b.test"]),
            request(Version::HTTP_10, &["a.test", "a.test"]),
            request(Version::HTTP_11, &["user@a.test"]),
            request(Version::HTTP_11, &["a.test/path"]),
        ] {
            assert_eq!(check_host(&refused).unwrap_err().kind, ErrorKind::BadRequest, "{:?}", refused.headers());
        }
    }
}
