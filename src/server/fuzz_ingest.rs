//! Body of the `ingest` fuzz target (`fuzz/fuzz_targets/ingest.rs`): structured requests through
//! the ingest handler of a configured server, in-process. It drives the HTTP front end, so it lives
//! beside it; the other targets' bodies are in [`crate::fuzzing`]. Exists with the cargo feature
//! `fuzzing`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::UNIX_EPOCH;

use arbitrary::Unstructured;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use serde_json::Value;

use crate::security::{SecretKey, SignatureScheme, SignedRequest};
use crate::server::{self, Config, State};
use crate::store::{Alongside, Event, Held};
use crate::trigger::{
    Action, DedupSpec, Flow, MappingKind, MappingSpec, SecuritySpec, ShapeCheck, SignatureSpec, Status, Trigger,
};

/// The `ingest` target's requests go to a server [`State`] of their own: a SQLite store in a
/// fresh data directory and two triggers, built once per process with the runtime that
/// drives [`server::ingest::handle`] in-process (no socket).
///
/// - `signed` (live): the golden Stripe case's sample and structured mapping, the `stripe`
///   signature preset, an allow-list behind a trusted proxy (the peer), shape check
///   `referenced`;
/// - `shaped` (test): the golden Zendesk custom-body case with a `skip` rule for closed
///   tickets, no security, shape check `sample`, dedup on `$.ticket_id`; one event, ticket
///   [`FIRST_TICKET`], is committed at start, so a request with that ticket id is a duplicate.
///
/// Bodies are limited to 4 KiB, below libFuzzer's input sizes, so the 413 paths are reached.
struct IngestServer {
    runtime: tokio::runtime::Runtime,
    state: State,
    /// The outbox position seen last, per fixture trigger (in [`TRIGGERS`] order); held
    /// for a whole request, so requests are checked one at a time.
    seen: Mutex<[i64; 2]>,
    /// The event committed at start on `shaped`, for ticket [`FIRST_TICKET`].
    first: String,
}

/// The `shaped` trigger's ticket id that has an event from the start.
const FIRST_TICKET: u64 = 4242;

/// The fixture triggers: (id, URL token).
const TRIGGERS: [(&str, &str); 2] = [("trg_fuzz_signed", "fuzzsigned"), ("trg_fuzz_shaped", "fuzzshaped")];
/// The address every request comes from: the `signed` trigger's trusted proxy.
const PEER: &str = "203.0.113.7:443";
/// The `signed` trigger's secret.
const SECRET: &str = "whsec_fuzz";

impl IngestServer {
    fn get() -> &'static IngestServer {
        static SERVER: OnceLock<IngestServer> = OnceLock::new();
        SERVER.get_or_init(IngestServer::open)
    }

    fn open() -> IngestServer {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
        let config = Config { data_dir: ingest_data_dir(), max_body_bytes: 4096, ..Config::default() };
        // The writer thread is detached: it lives as long as the process.
        let (state, _writer) =
            runtime.block_on(State::open(config, "http://hookmap.fuzz", "fuzz")).expect("the fuzz server state opens");
        let golden = |case: &str, file: &str| -> String {
            let path = format!("{}/tests/golden/{case}/{file}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        let trigger = |(id, token): (&str, &str), case: &str| Trigger {
            id: id.to_owned(),
            name: id.to_owned(),
            token: token.to_owned(),
            status: Status::Test,
            capturing: false,
            sample: Some(crate::document::parse(golden(case, "sample.json").as_bytes()).expect("a JSON sample")),
            mapping: Some(MappingSpec {
                kind: MappingKind::Structured,
                source: golden(case, "mapping.json"),
                limits: crate::trigger::Limits::default(),
                isolation: crate::trigger::Isolation::Warm,
            }),
            security: SecuritySpec::default(),
            flow: Flow::default(),
            shape_check: ShapeCheck::Referenced,
            rate_limit: None,
            dedup: None,
            created_at: 0,
            updated_at: 0,
            version: 1,
        };
        let signed = Trigger {
            status: Status::Live,
            security: SecuritySpec {
                allow: vec!["203.0.113.0/24".into(), "2001:db8::/32".into()],
                trusted_proxies: vec!["203.0.113.7".into()],
                signature: Some(SignatureSpec { preset: Some("stripe".into()), scheme: None }),
                secrets: vec![SECRET.into()],
            },
            ..trigger(TRIGGERS[0], "stripe-payment-intent-succeeded")
        };
        let zendesk = trigger(TRIGGERS[1], "zendesk-trigger-webhook-custom-body");
        let mut mapping: Value = serde_json::from_str(&golden("zendesk-trigger-webhook-custom-body", "mapping.json"))
            .expect("a JSON mapping");
        mapping["skip"] = serde_json::json!({"when": "$[?@.status == 'Closed']", "reason": "closed ticket"});
        let shaped = Trigger {
            shape_check: ShapeCheck::Sample,
            mapping: zendesk.mapping.clone().map(|spec| MappingSpec { source: mapping.to_string(), ..spec }),
            dedup: Some(DedupSpec { key: "$.ticket_id".into(), window_seconds: DedupSpec::DEFAULT_WINDOW_SECONDS }),
            ..zendesk
        };
        for trigger in [signed, shaped] {
            runtime.block_on(state.hub.create(trigger)).expect("the fixture triggers are valid");
        }
        let mut first: Value = shaped_sample();
        first["ticket_id"] = FIRST_TICKET.into();
        let request = Request::post(format!("/hooks/{}", TRIGGERS[1].1))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(first.to_string())))
            .expect("a request");
        let peer: SocketAddr = PEER.parse().expect("a socket address");
        let (first, seq) = runtime.block_on(async {
            let response = server::ingest::handle(&state, request, peer).await;
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let id = answer["eventId"].as_str().expect("the first ticket makes an event").to_owned();
            let event = state.hub.store.event(&id).await.expect("stored");
            (id, event.seq)
        });
        IngestServer { runtime, state, seen: Mutex::new([0, seq]), first }
    }
}

/// The golden Zendesk sample the `shaped` trigger has.
fn shaped_sample() -> Value {
    let path = format!("{}/tests/golden/zendesk-trigger-webhook-custom-body/sample.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    crate::document::parse(text.as_bytes()).expect("a JSON sample")
}

/// A data directory for this process's `ingest` target, under `/dev/shm` when there is one
/// (every accepted or held request is a commit with an fsync). Directories left by earlier
/// processes that have ended are removed first.
fn ingest_data_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    const PREFIX: &str = "hookmap-fuzz-ingest-";
    if Path::new("/proc/self").exists()
        && let Ok(entries) = std::fs::read_dir(&base)
    {
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(format!("{PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// One request of the `ingest` target, read from the fuzzer's bytes with [`Unstructured`].
struct IngestRequest<'a> {
    method: Method,
    token: &'static str,
    content_type: Option<&'a [u8]>,
    signature: Signature,
    query: Option<&'a [u8]>,
    headers: Vec<(&'a [u8], &'a [u8])>,
    body: &'a [u8],
}

/// The `Stripe-Signature` header a request carries.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Signature {
    /// Signed now with the `signed` trigger's secret.
    Valid,
    /// Signed with the right secret ten minutes ago (beyond the 300 s tolerance).
    Stale,
    /// Signed now with another secret.
    WrongSecret,
    /// No signature header.
    Missing,
}

const METHODS: [&str; 5] = ["POST", "PUT", "GET", "PATCH", "DELETE"];
const CONTENT_TYPES: [Option<&str>; 6] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/vnd.api+json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
];
const HEADER_NAMES: [&str; 5] = ["content-length", "stripe-signature", "x-forwarded-for", "content-type", "expect"];

/// A length byte, then up to that many bytes.
fn short<'a>(u: &mut Unstructured<'a>) -> arbitrary::Result<&'a [u8]> {
    let len = usize::from(u.arbitrary::<u8>()?);
    u.bytes(len.min(u.len()))
}

impl<'a> IngestRequest<'a> {
    /// Reads, one byte per choice (each an index modulo the number of choices): the method
    /// (`POST PUT GET PATCH DELETE`, else a short method name), the trigger (`signed`,
    /// `shaped`, an unknown token), the content type (none, JSON, JSON with a charset,
    /// `+json`, form, `text/plain`, else a short junk value), the signature (valid, stale,
    /// wrong secret, missing); then a byte whose low bit says a short query string follows;
    /// then headers, each announced by a byte with its low bit set (name: `content-length
    /// stripe-signature x-forwarded-for content-type expect`, else a short name; a short
    /// value); the rest is the body. A short string is a length byte and that many bytes.
    fn decode(data: &'a [u8]) -> arbitrary::Result<IngestRequest<'a>> {
        let mut u = Unstructured::new(data);
        let method = match u.choose_index(METHODS.len() + 1)? {
            i if i < METHODS.len() => METHODS[i].as_bytes(),
            _ => short(&mut u)?,
        };
        let method = Method::from_bytes(method).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        let token = *u.choose(&[TRIGGERS[0].1, TRIGGERS[1].1, "unknown"])?;
        let content_type = match u.choose_index(CONTENT_TYPES.len() + 1)? {
            i if i < CONTENT_TYPES.len() => CONTENT_TYPES[i].map(str::as_bytes),
            _ => Some(short(&mut u)?),
        };
        let signature = *u.choose(&[Signature::Valid, Signature::Stale, Signature::WrongSecret, Signature::Missing])?;
        let query = if u.arbitrary::<bool>()? { Some(short(&mut u)?) } else { None };
        let mut headers = Vec::new();
        while u.arbitrary::<bool>()? {
            let name = match u.choose_index(HEADER_NAMES.len() + 1)? {
                i if i < HEADER_NAMES.len() => HEADER_NAMES[i].as_bytes(),
                _ => short(&mut u)?,
            };
            headers.push((name, short(&mut u)?));
        }
        Ok(IngestRequest { method, token, content_type, signature, query, headers, body: u.take_rest() })
    }

    /// The HTTP request; `None` when the fuzzer's bytes do not make a valid one (a URI, a
    /// header name or value that hyper would refuse before any handler).
    fn build(&self, scheme: &SignatureScheme, key: &SecretKey) -> Option<Request<Full<Bytes>>> {
        let mut uri = format!("/hooks/{}", self.token);
        if let Some(query) = self.query {
            uri.push('?');
            uri.push_str(std::str::from_utf8(query).ok()?);
        }
        let mut request = Request::new(Full::new(Bytes::copy_from_slice(self.body)));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri.parse::<Uri>().ok()?;
        let headers = request.headers_mut();
        if let Some(content_type) = self.content_type {
            headers.append(CONTENT_TYPE, HeaderValue::from_bytes(content_type).ok()?);
        }
        if self.signature != Signature::Missing {
            headers.append("stripe-signature", HeaderValue::from_str(&self.sign(scheme, key)).ok()?);
        }
        for (name, value) in &self.headers {
            headers.append(HeaderName::from_bytes(name).ok()?, HeaderValue::from_bytes(value).ok()?);
        }
        Some(request)
    }

    /// The request in a failure message.
    fn describe(&self) -> String {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let headers: Vec<(String, String)> = self.headers.iter().map(|(n, v)| (text(n), text(v))).collect();
        format!(
            "{} /hooks/{}?{} content-type {:?}, signature {:?}, headers {headers:?}, body {:?}",
            self.method,
            self.token,
            text(self.query.unwrap_or_default()),
            self.content_type.map(text),
            self.signature,
            text(self.body)
        )
    }

    /// A `Stripe-Signature` value over the body.
    fn sign(&self, scheme: &SignatureScheme, key: &SecretKey) -> String {
        let now = UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs());
        let at = if self.signature == Signature::Stale { now.saturating_sub(600) } else { now };
        let timestamp = format!("t={at}");
        let headers = [("stripe-signature", timestamp.as_bytes())];
        let other;
        let key = match self.signature {
            Signature::WrongSecret => {
                other = scheme.decode_secret("whsec_other").expect("a Stripe secret decodes");
                &other
            }
            _ => key,
        };
        let mac = scheme.expected_signature(&SignedRequest::new(self.body, &headers), key).expect("Stripe signs");
        format!("{timestamp},v1={mac}")
    }
}

/// What an answer says happened to a request.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// 202: the event with this id was committed.
    Accepted(String),
    /// 202 `{"skipped": true}`: the mapping skipped the request.
    Skipped,
    /// 202 `{"duplicate": true}`: an earlier event, with this id, had the request's key.
    Duplicate(String),
    /// 409 `paused` or 422 `mapping_failed`: the request was held.
    Held,
    /// Any other answer: nothing was to be kept.
    Refused,
}

impl Outcome {
    fn of(status: StatusCode, answer: &Value) -> Outcome {
        let event_id = || answer["eventId"].as_str().unwrap_or_default().to_owned();
        match (status.as_u16(), answer["error"]["code"].as_str()) {
            (202, _) if answer["skipped"] == true => Outcome::Skipped,
            (202, _) if answer["duplicate"] == true => Outcome::Duplicate(event_id()),
            (202, _) => Outcome::Accepted(event_id()),
            (409, Some("paused")) | (422, Some("mapping_failed")) => Outcome::Held,
            _ => Outcome::Refused,
        }
    }
}

/// What one request left in the store on one fixture trigger.
#[derive(Debug, Default)]
struct Left {
    events: Vec<Event>,
    held: Vec<Held>,
}

/// A request to the in-process ingest handler of a configured server (see
/// `IngestRequest::decode` for how the bytes are read; the `signed` trigger's signature is
/// computed over the body, so the fuzzer gets past the 401). Invariants: the answer is
/// never a 5xx but 503; the request is exactly one of accepted (202, and its event is in
/// the store), skipped (202 with a reason, nothing stored), duplicate (202 with the id of
/// the event committed at start, nothing stored), held (409/422, and the held request is in
/// the store) or refused (nothing stored); nothing else is stored. Triggers the request
/// paused are reactivated, held requests and the dedup keys of new events removed
/// afterwards, so every input meets the same server.
pub fn ingest(data: &[u8]) {
    if let Ok(request) = IngestRequest::decode(data) {
        IngestServer::get().serve(&request);
    }
}

impl IngestServer {
    /// Sends `request` and checks the invariants; the outcome, or `None` when the bytes
    /// make no valid HTTP request. One request at a time (tests share the server).
    fn serve(&self, request: &IngestRequest) -> Option<Outcome> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        self.runtime.block_on(async {
            let signed = self.state.hub.registry.by_id(TRIGGERS[0].0).expect("the signed trigger exists");
            let (scheme, keys) = signed.signature.as_ref().expect("the signed trigger has a scheme");
            let http = request.build(scheme, &keys[0])?;
            let peer: SocketAddr = PEER.parse().expect("a socket address");
            let response = server::ingest::handle(&self.state, http, peer).await;
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let left = self.left(&seen).await;
            self.reset(&mut seen, &left).await;
            let target = TRIGGERS.iter().position(|(_, token)| *token == request.token);
            check(request, (status, &answer), target, &left, &self.first);
            Some(Outcome::of(status, &answer))
        })
    }

    /// The events committed and the requests held on each fixture trigger since `seen`.
    async fn left(&self, seen: &[i64; 2]) -> Vec<Left> {
        let mut left = Vec::new();
        for ((id, _), after) in TRIGGERS.iter().zip(*seen) {
            let store = &self.state.hub.store;
            let events = store.events(id, None, after, 10).await.expect("the store reads");
            let held = store.held_of(id, 10).await.expect("the store reads");
            left.push(Left { events, held });
        }
        left
    }

    /// Puts the server back as it was before the request: moves `seen` past the new events,
    /// removes the held requests, reactivates paused triggers.
    async fn reset(&self, seen: &mut [i64; 2], left: &[Left]) {
        for (i, left) in left.iter().enumerate() {
            if let Some(last) = left.events.last() {
                seen[i] = last.seq;
            }
            for event in &left.events {
                self.state.hub.store.forget_key(&event.id).await.expect("dedup key forgotten");
            }
            for held in &left.held {
                self.state.hub.store.release(&held.id).await.expect("held request deleted");
            }
            let id = TRIGGERS[i].0;
            if self.state.hub.registry.by_id(id).is_some_and(|p| matches!(p.trigger.status, Status::Paused { .. })) {
                let reactivate = |t: &mut Trigger| {
                    t.status = t.status.apply(Action::Reactivate)?;
                    Ok(())
                };
                self.state
                    .hub
                    .mutate(id, "reactivated by the fuzz target", reactivate, Alongside::Nothing)
                    .await
                    .expect("reactivated");
            }
        }
    }
}

/// The `ingest` invariants, given the answer to `request` (sent to fixture trigger `target`)
/// and what it `left` on each fixture trigger.
fn check(
    request: &IngestRequest,
    (status, answer): (StatusCode, &Value),
    target: Option<usize>,
    left: &[Left],
    first: &str,
) {
    let context = format!("{status} {answer} for {}", request.describe());
    assert!(status == 202 || status.is_client_error() || status == 503, "answered {context}");
    let outcome = Outcome::of(status, answer);
    for (i, Left { events, held }) in left.iter().enumerate() {
        match &outcome {
            Outcome::Accepted(id) if target == Some(i) => {
                let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
                assert_eq!(ids, [id.as_str()], "the accepted event is not (alone) in the store: {context}");
                assert_eq!(answer["mode"], events[0].mode.as_str(), "the stored mode: {context}");
                let payload: Value = serde_json::from_str(&events[0].payload).expect("a stored payload is JSON");
                assert_eq!(crate::schema::validate(payload.clone()), Ok(payload), "stored payload: {context}");
                assert!(held.is_empty(), "an accepted request was also held: {context}");
            }
            Outcome::Duplicate(id) if target == Some(i) => {
                assert_eq!(id, first, "a duplicate names another event than the first: {context}");
                assert!(events.is_empty() && held.is_empty(), "a duplicate stored something: {context}");
            }
            Outcome::Skipped if target == Some(i) => {
                assert!(answer["reason"].is_string(), "a skip without the rule's reason: {context}");
                assert!(events.is_empty() && held.is_empty(), "a skipped request stored something: {context}");
            }
            Outcome::Held if target == Some(i) => {
                assert!(events.is_empty(), "a held request also made an event: {context}");
                assert_eq!(held.len(), 1, "the held request is not (alone) in the store: {context}");
                assert_eq!(held[0].body, request.body, "the held body: {context}");
                let message = answer["error"]["message"].as_str().unwrap_or_default();
                assert!(message.contains(&held[0].id), "the answer does not name the held request: {context}");
            }
            _ => assert!(
                events.is_empty() && held.is_empty(),
                "{} new event(s), {} held request(s) on {} after {outcome:?}: {context}",
                events.len(),
                held.len(),
                TRIGGERS[i].0
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `ingest` input: method, trigger, content type and signature choices, no query,
    /// no headers, then the body.
    fn request(method: u8, trigger: u8, content_type: u8, signature: u8, body: &[u8]) -> Vec<u8> {
        [&[method, trigger, content_type, signature, 0, 0][..], body].concat()
    }

    fn golden_sample(case: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/golden/{case}/sample.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn outcome(data: &[u8]) -> Option<Outcome> {
        IngestServer::get().serve(&IngestRequest::decode(data).unwrap())
    }

    #[test]
    fn ingest_inputs_read_one_byte_per_choice() {
        let data = b"\x00\x00\x01\x00\x01\x03a=1\x01\x02\x041234\x01\x05\x01x\x00\x00{}";
        let request = IngestRequest::decode(data).unwrap();
        assert_eq!((request.method, request.token), (Method::POST, "fuzzsigned"));
        assert_eq!((request.content_type, request.signature), (Some(&b"application/json"[..]), Signature::Valid));
        assert_eq!(request.query, Some(&b"a=1"[..]));
        assert_eq!(request.headers, [(&b"x-forwarded-for"[..], &b"1234"[..]), (b"x", b"")]);
        assert_eq!(request.body, b"{}");
        let other = IngestRequest::decode(b"\x05\x05PATCH\x04\x06\x03a/b\x03").unwrap();
        assert_eq!((other.method, other.token, other.content_type), (Method::PATCH, "fuzzshaped", Some(&b"a/b"[..])));
        assert_eq!((other.signature, other.query, other.body), (Signature::Missing, None, &b""[..]));
    }

    #[test]
    fn ingest_requests_of_closed_tickets_are_skipped_and_the_first_ticket_is_a_duplicate() {
        let server = IngestServer::get();
        let mut closed = shaped_sample();
        closed["status"] = "Closed".into();
        assert_eq!(outcome(&request(0, 1, 1, 3, closed.to_string().as_bytes())), Some(Outcome::Skipped));
        let mut again = shaped_sample();
        again["ticket_id"] = FIRST_TICKET.into();
        let repeat = request(0, 1, 1, 3, again.to_string().as_bytes());
        assert_eq!(outcome(&repeat), Some(Outcome::Duplicate(server.first.clone())));
        // Another ticket is accepted, and accepted again: each input meets the same server.
        let zendesk = golden_sample("zendesk-trigger-webhook-custom-body");
        for _ in 0..2 {
            assert!(matches!(outcome(&request(0, 1, 1, 3, &zendesk)), Some(Outcome::Accepted(_))));
        }
    }

    #[test]
    fn ingest_requests_are_accepted_held_or_refused() {
        let stripe = golden_sample("stripe-payment-intent-succeeded");
        let zendesk = golden_sample("zendesk-trigger-webhook-custom-body");
        let accepted = |o: Option<Outcome>| matches!(o, Some(Outcome::Accepted(id)) if id.starts_with("evt_"));
        assert!(accepted(outcome(&request(0, 0, 1, 0, &stripe))));
        assert!(accepted(outcome(&request(1, 0, 3, 0, &stripe))), "PUT, +json");
        for signature in [1, 2, 3] {
            assert_eq!(outcome(&request(0, 0, 1, signature, &stripe)), Some(Outcome::Refused), "signature {signature}");
        }
        // Not shaped like the sample: held, the trigger paused; reactivated for the next request.
        assert_eq!(outcome(&request(0, 0, 1, 0, b"{}")), Some(Outcome::Held));
        assert!(accepted(outcome(&request(0, 0, 1, 0, &stripe))));
        assert!(accepted(outcome(&request(0, 1, 0, 3, &zendesk))), "no content type is JSON");
        assert_eq!(outcome(&request(0, 1, 4, 3, b"ticket_id=1")), Some(Outcome::Held), "a form body");
        for (method, trigger, content_type) in [(2, 0, 1), (0, 2, 1), (0, 0, 5)] {
            let refused = outcome(&request(method, trigger, content_type, 0, &stripe));
            assert_eq!(refused, Some(Outcome::Refused), "{method} {trigger} {content_type}");
        }
        let forwarded = [&b"\x00\x00\x01\x00\x00\x01\x02\x0c198.51.100.1\x00"[..], &stripe].concat();
        assert_eq!(outcome(&forwarded), Some(Outcome::Refused), "a client outside the allow-list");
        let bad_uri = [&b"\x00\x00\x01\x00\x01\x01 \x00"[..], &stripe].concat();
        assert_eq!(outcome(&bad_uri), None, "not a valid request");
    }

    #[test]
    #[should_panic(expected = "1 new event(s), 0 held request(s) on trg_fuzz_signed after Refused")]
    fn ingest_invariants_catch_an_event_stored_for_a_refused_request() {
        let data = request(0, 0, 1, 3, b"{}");
        let request = IngestRequest::decode(&data).unwrap();
        let event = Event {
            seq: 1,
            id: "evt_1".into(),
            trigger_id: "trg_fuzz_signed".into(),
            mode: crate::trigger::Mode::Live,
            received_at: 0,
            payload: String::new(),
            state: crate::store::DeliveryState::Stored,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            done_at: None,
        };
        let left = [Left { events: vec![event], held: Vec::new() }, Left::default()];
        let answer = serde_json::json!({"error": {"code": "unauthorized"}});
        check(&request, (StatusCode::UNAUTHORIZED, &answer), Some(0), &left, "evt_first");
    }
}
