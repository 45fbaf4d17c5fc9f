//! Cost of verifying a Stripe-signed 2 KB request, against a bare HMAC-SHA256 of the same bytes.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use hookmap::security::{SignedRequest, presets};

const SECRET: &str = "whsec_bench_secret";
const TIMESTAMP: &str = "1700000000";

fn body() -> Vec<u8> {
    let mut body = br#"{"id":"evt_bench","object":"event","data":{"object":{"pad":""#.to_vec();
    body.resize(2048 - 4, b'x');
    body.extend_from_slice(br#""}}}"#);
    body
}

fn bench(c: &mut Criterion) {
    let scheme = match presets::get("stripe").map(|p| p.scheme()) {
        Some(Ok(scheme)) => scheme,
        other => panic!("stripe preset: {other:?}"),
    };
    let keys = scheme.decode_secrets(&[SECRET]).expect("secret decodes");
    let body = body();
    let unsigned_header = format!("t={TIMESTAMP}");
    let unsigned = [("Stripe-Signature", unsigned_header.as_bytes())];
    let sig = scheme.expected_signature(&SignedRequest::new(&body, &unsigned), &keys[0]).expect("signs");
    let header = format!("t={TIMESTAMP},v1={sig}");
    let headers = [
        ("Content-Type", &b"application/json"[..]),
        ("User-Agent", &b"Stripe/1.0 (+https://stripe.com/docs/webhooks)"[..]),
        ("Stripe-Signature", header.as_bytes()),
    ];
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_010);
    let signed_text: Vec<u8> = [TIMESTAMP.as_bytes(), b".", &body].concat();

    let mut group = c.benchmark_group("signature_2KB");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("baseline_hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("any key length");
            mac.update(black_box(&signed_text));
            black_box(mac.finalize().into_bytes())
        })
    });
    group.bench_function("verify_stripe_preset", |b| {
        b.iter(|| {
            let request = SignedRequest::new(black_box(&body), black_box(&headers));
            scheme.verify(&request, &keys, now).expect("valid")
        })
    });
    group.finish();

    let json = presets::get("stripe").expect("preset").json;
    c.bench_function("scheme_from_json_stripe", |b| {
        b.iter(|| hookmap::security::SignatureScheme::from_json(black_box(json)).expect("parses"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
