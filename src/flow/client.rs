//! The flow's HTTP client: one POST over a fresh HTTP/1.1 connection (`http://` only: no TLS
//! in this build), its outcome typed.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::body::Bytes;
use hyper::header::CONTENT_TYPE;
use hyper_util::rt::TokioIo;

use crate::store::Outcome;

/// An `http://host:port/path` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// `host:port` to connect to (port 80 when absent).
    pub authority: String,
    /// The `Host` header value.
    pub host: String,
    /// Path and query (`/` when absent).
    pub path: String,
}

/// Parses an `http://` URL (https is not supported: no TLS in this build).
pub fn parse_http_url(url: &str) -> Result<HttpUrl, String> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs are supported")?;
    let (host, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() || host.contains('@') || host.contains(char::is_whitespace) {
        return Err("the URL has no valid host".into());
    }
    let has_port = match host.rfind(':') {
        Some(i) => !host.ends_with(']') && host[i + 1..].parse::<u16>().is_ok(),
        None => false,
    };
    let authority = if has_port { host.to_owned() } else { format!("{host}:80") };
    let path = if path.starts_with('?') { format!("/{path}") } else { path.to_owned() };
    Ok(HttpUrl { authority, host: host.to_owned(), path })
}

/// POSTs `body` to `url` with `headers` over a fresh HTTP/1.1 connection: the response
/// status, or why there is none. The whole exchange is bounded by `timeout`.
pub async fn post(url: &HttpUrl, headers: &[(&str, String)], body: Bytes, timeout: Duration) -> Outcome {
    let exchange = async {
        let exchange: Result<u16, String> = async {
            let stream =
                tokio::net::TcpStream::connect(url.authority.as_str()).await.map_err(|e| format!("connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            let driver = tokio::spawn(async move {
                let _ = conn.await;
            });
            let mut request = Request::post(url.path.as_str())
                .header(hyper::header::HOST, url.host.as_str())
                .header(CONTENT_TYPE, "application/json");
            for (name, value) in headers {
                request = request.header(*name, value.as_str());
            }
            let request = request.body(Full::new(body)).map_err(|e| format!("request: {e}"))?;
            let response = sender.send_request(request).await.map_err(|e| format!("send: {e}"))?;
            let status = response.status().as_u16();
            // Read (and drop) the answer so the exchange is complete.
            let _ = Limited::new(response.into_body(), 64 * 1024).collect().await;
            driver.abort();
            Ok(status)
        }
        .await;
        exchange
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(status)) => Outcome::Answered(status),
        Ok(Err(reason)) => Outcome::Connection(reason),
        Err(_) => Outcome::Timeout(timeout.as_millis() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls() {
        let url = parse_http_url("http://127.0.0.1:9000/flow?x=1").unwrap();
        assert_eq!(
            url,
            HttpUrl { authority: "127.0.0.1:9000".into(), host: "127.0.0.1:9000".into(), path: "/flow?x=1".into() }
        );
        assert_eq!(parse_http_url("http://example.test").unwrap().authority, "example.test:80");
        assert!(parse_http_url("https://example.test/").is_err());
        assert!(parse_http_url("http:///x").is_err());
    }
}
