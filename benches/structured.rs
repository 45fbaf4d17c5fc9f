//! The 6-field structured mapping of a ~1.7 KB Stripe event, against serde_json
//! parsing and serialising the same event in the same run (the floor any mapping
//! of a JSON body pays). Target: mapping ≤ 1.3× the baseline.

use criterion::{Criterion, criterion_group, criterion_main};
use hookmap::mapping::{Input, Mapping, compile};
use serde_json::Value;
use std::hint::black_box;

const EVENT: &str = include_str!("data/stripe-payment-intent-succeeded.json");
const MAPPING: &str = include_str!("data/stripe-mapping.json");

fn structured_mapping(c: &mut Criterion) {
    let event: Vec<u8> =
        serde_json::to_vec(&serde_json::from_str::<Value>(EVENT).expect("event is JSON")).expect("re-serialise");
    let program = compile(&Mapping::Structured {
        source: MAPPING.to_owned(),
        limits: Default::default(),
        isolation: Default::default(),
    })
    .expect("the mapping compiles");
    let mut group = c.benchmark_group("stripe_event");
    group.bench_function("baseline: serde_json parse + serialise", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_slice(black_box(&event)).expect("JSON");
            serde_json::to_vec(&value).expect("serialise")
        })
    });
    group.bench_function("hookmap: parse + map 6 fields + validate + serialise", |b| {
        b.iter(|| {
            let body = program.parse_body(black_box(&event)).expect("JSON");
            let mapped = program.run(&Input::from_body(body)).expect("maps").event().expect("an event");
            serde_json::to_vec(&mapped).expect("serialise")
        })
    });
    group.bench_function("hookmap, whole body parsed: parse + map + validate + serialise", |b| {
        b.iter(|| {
            let body = hookmap::document::parse(black_box(&event)).expect("JSON");
            let mapped = program.run(&Input::from_body(body)).expect("maps").event().expect("an event");
            serde_json::to_vec(&mapped).expect("serialise")
        })
    });
    group.finish();
}

criterion_group!(benches, structured_mapping);
criterion_main!(benches);
