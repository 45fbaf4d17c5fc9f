//! Bodies of the fuzz targets in `fuzz/`: each takes arbitrary bytes, feeds them to
//! the code that reads outside input, and asserts that code's invariants. A violated
//! invariant panics, which the fuzzer reports as a crash.
//!
//! The same functions replay every seed and regression file in `cargo test`
//! (`tests/it/fuzz_replay.rs`), so a regression fails CI without a nightly toolchain.
//! The `ingest` target drives the HTTP front end: its body is `server::fuzz_ingest`.
//! Inputs hold several parts separated by NUL bytes, in the order each function names.

use std::net::IpAddr;
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;

use crate::mapping::path::CompiledPath;
use crate::mapping::{Input, Limits, MapError, MapErrors, Mapped, Mapping, compile};
use crate::runtime::ScriptError;
use crate::security::{AllowList, SignatureScheme, SignedRequest};

/// The parts of `data` between NUL bytes; missing parts are empty.
fn parts<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&[][..]; N];
    let mut rest = data;
    for (i, slot) in out.iter_mut().enumerate() {
        match rest.iter().position(|&b| b == 0).filter(|_| i + 1 < N) {
            Some(at) => {
                *slot = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *slot = rest;
                rest = &[];
            }
        }
    }
    out
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// `PATH \0 DOCUMENT`: a JSONPath compiled and run on a JSON document. Singular paths
/// (the direct-lookup plan) must select what the general evaluator selects.
pub fn jsonpath(data: &[u8]) {
    let [path, document] = parts(data);
    let (Some(path), Ok(document)) = (text(path), crate::document::parse(document)) else { return };
    let Ok(compiled) = CompiledPath::parse(path) else { return };
    let Ok(selected) = compiled.select(&document) else { return };
    if compiled.steps().is_some() {
        let general = CompiledPath::parse_general(path).expect("a direct path is a valid RFC 9535 query");
        let expected = general.select(&document).expect("a singular query evaluates");
        assert_eq!(selected, expected, "direct and general plans disagree on {path}");
    }
}

/// `MAPPING \0 BODY`: a structured mapping compiled and run on a body. A result always
/// passes schema validation again unchanged, and parsing only what the program reads
/// maps exactly as parsing the whole body.
pub fn structured_mapping(data: &[u8]) {
    let [mapping, body] = parts(data);
    let Some(mapping) = text(mapping) else { return };
    let Ok(program) = compile(&Mapping::Structured {
        source: mapping.to_owned(),
        limits: Limits::default(),
        isolation: Default::default(),
    }) else {
        return;
    };
    let Ok(whole) = crate::document::parse(body) else { return };
    let projected = program.parse_body(body).expect("a body that parses whole also parses projected");
    let from_whole = program.run(&Input::from_body(whole));
    let from_projected = program.run(&Input::from_body(projected));
    // A script leaf's time limit is wall time: on a loaded machine one of two runs of the same
    // leaf may reach it and the other not, so such a pair says nothing about projection.
    if !(hit_a_time_limit(&from_whole) || hit_a_time_limit(&from_projected)) {
        assert_eq!(from_whole, from_projected, "the projected body maps differently");
    }
    if let Ok(Mapped::Event(output)) = from_whole {
        assert_eq!(crate::schema::validate(output.clone()).as_ref(), Ok(&output), "output is not valid and normal");
    }
}

/// Whether a run stopped at a script's time limit.
fn hit_a_time_limit(result: &Result<Mapped, MapErrors>) -> bool {
    let Err(errors) = result else { return false };
    errors.0.iter().any(|error| {
        matches!(
            error,
            MapError::Script(ScriptError::TimeLimit { .. })
                | MapError::ScriptLeaf { error: ScriptError::TimeLimit { .. }, .. }
        )
    })
}

/// `DOCUMENT`: mappable properties of a document. Every listed path is a valid
/// JSONPath that selects something in the document, and every leaf is selected by
/// one of them.
pub fn properties(data: &[u8]) {
    let Ok(document) = crate::document::parse(data) else { return };
    let Ok(listed) = crate::sample::properties(&document) else { return };
    let mut reached = std::collections::HashSet::new();
    for property in &listed {
        let path = CompiledPath::parse(&property.path).expect("a listed path is valid JSONPath");
        let nodes = path.select(&document).expect("a listed path evaluates");
        assert!(!nodes.is_empty(), "{} selects nothing", property.path);
        reached.extend(nodes.into_iter().map(|node| node as *const Value));
    }
    let mut leaves = Vec::new();
    collect_leaves(&document, &mut leaves);
    for leaf in leaves {
        assert!(reached.contains(&(leaf as *const Value)), "the leaf {leaf} has no listed path");
    }
}

fn collect_leaves<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_leaves(v, out)),
        leaf => out.push(leaf),
    }
}

/// `SCHEME \0 HEADERS \0 BODY \0 SECRETS \0 NOW`: a signature scheme (JSON), header
/// lines `Name: value`, the raw body, secrets one per line and the clock (unix
/// seconds). Verification never panics, and when it passes, the signature header
/// really carries the HMAC of the matched secret.
pub fn signature(data: &[u8]) {
    let [scheme, headers, body, secrets, now] = parts(data);
    let Some(Ok(scheme)) = text(scheme).map(SignatureScheme::from_json) else { return };
    let headers: Vec<(&str, &[u8])> = headers
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            Some((text(&line[..colon])?.trim(), line[colon + 1..].trim_ascii()))
        })
        .collect();
    let secrets: Vec<&str> = text(secrets).map(|s| s.lines().collect()).unwrap_or_default();
    let Ok(keys) = scheme.decode_secrets(&secrets) else { return };
    let now = text(now).and_then(|n| n.trim().parse::<u64>().ok()).unwrap_or(1_700_000_000);
    let now = UNIX_EPOCH + Duration::from_secs(now.min(1 << 40));
    let request = SignedRequest::new(body, &headers).with_url("https://example.com/hooks/fuzz");
    if let Ok(verified) = scheme.verify(&request, &keys, now) {
        let expected =
            scheme.expected_signature(&request, &keys[verified.secret_index]).expect("verified, so signable");
        let expected = expected.trim_end_matches('=');
        let carried = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(scheme.signature.header()))
            .any(|(_, value)| value.windows(expected.len()).any(|w| w == expected.as_bytes()));
        assert!(carried, "verification passed but no header carries the expected MAC {expected}");
    }
}

/// `SOURCE \0 BODY`: a script mapping compiled under small limits and run on a body.
/// The host never crashes, compiling and running each end within the time limit plus a
/// margin, and an output always passes schema validation unchanged.
pub fn script(data: &[u8]) {
    const LIMITS: Limits = Limits { time: Duration::from_millis(50), memory_bytes: 16 << 20 };
    // Scheduling on shared cores and sanitizers add to the limit; a runaway script would add seconds.
    const MARGIN: Duration = Duration::from_secs(2);
    let [source, body] = parts(data);
    let (Some(source), Ok(body)) = (text(source), crate::document::parse(body)) else { return };
    let started = Instant::now();
    let compiled =
        compile(&Mapping::Script { source: source.to_owned(), limits: LIMITS, isolation: Default::default() });
    assert!(started.elapsed() < LIMITS.time + MARGIN, "compiling took {:?}", started.elapsed());
    let Ok(program) = compiled else { return };
    let started = Instant::now();
    let result = program.run(&Input::from_body(body));
    assert!(started.elapsed() < LIMITS.time + MARGIN, "a run took {:?}", started.elapsed());
    if let Ok(Mapped::Event(output)) = result {
        assert_eq!(crate::schema::validate(output.clone()).as_ref(), Ok(&output), "output is not valid and normal");
    }
}

/// `ALLOW \0 PROXIES \0 PEER \0 X-FORWARDED-FOR`: entries one per line, a peer address
/// and a forwarded-for header. An allowed request's client is in an allowed range; a
/// client behind no trusted proxy is the peer itself.
pub fn allowlist(data: &[u8]) {
    let [allow, proxies, peer, forwarded] = parts(data);
    let lines = |bytes| text(bytes).map(|t| t.lines().collect::<Vec<_>>()).unwrap_or_default();
    let Ok(list) = AllowList::new(&lines(allow), &lines(proxies)) else { return };
    let Some(Ok(peer)) = text(peer).map(|p| p.trim().parse::<IpAddr>()) else { return };
    let headers = [("X-Forwarded-For", forwarded)];
    match list.check(peer, &headers) {
        Ok(client) => assert!(list.allows(client), "{client} was let in but is not allowed"),
        Err(_) => assert!(!list.allows_all(), "an empty allow-list refused a request"),
    }
    let no_proxies = AllowList::new(&lines(allow), &[] as &[&str]).expect("the same entries parsed before");
    assert_eq!(
        no_proxies.client_addr(peer, &headers),
        Ok(crate::security::allowlist::normalize(peer)),
        "X-Forwarded-For trusted without a trusted proxy"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_on_nul_and_keep_the_rest_in_the_last() {
        assert_eq!(parts::<3>(b"a\0b\0c\0d"), [&b"a"[..], b"b", b"c\0d"]);
        assert_eq!(parts::<3>(b"a"), [&b"a"[..], b"", b""]);
    }

    #[test]
    fn targets_accept_well_formed_inputs() {
        jsonpath(b"$.a[0]\0{\"a\":[1,2]}");
        structured_mapping(b"{\"payload\":{\"target\":{\"usersById\":\"$.id\"}}}\0{\"id\":3}");
        properties(b"{\"a\":[1,{\"b\":null}],\"c d\":\"x\",\"e\":[{\"x\":[1]},{\"x\":{\"0\":2}}]}");
        allowlist(b"10.0.0.0/8\n\0\x0010.1.2.3\0");
    }

    #[test]
    fn a_passing_signature_is_checked_against_the_header() {
        let scheme_json =
            r#"{"algorithm":"sha256","digest":"hex","data":{"signature":{"header":"x-sig"}},"template":"[payload]"}"#;
        let scheme = SignatureScheme::from_json(scheme_json).unwrap();
        let key = scheme.decode_secret("key").unwrap();
        let mac = scheme.expected_signature(&SignedRequest::new(b"body", &[]), &key).unwrap();
        let input = format!("{scheme_json}\0x-sig: {mac}\0body\0key\0");
        assert!(scheme.verify(&SignedRequest::new(b"body", &[("x-sig", mac.as_bytes())]), &[key], UNIX_EPOCH).is_ok());
        signature(input.as_bytes());
    }
}
