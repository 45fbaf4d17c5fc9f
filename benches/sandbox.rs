//! Sandbox costs: a call in a warm instance, a call in a fresh instance, and a new script from
//! source to its first result (module cache warm).
//!
//! With `--features native-boa-baseline`, the same mappings also run in native, in-process boa
//! (the guest's boa version, built for the host), in the same run: the baseline the sandbox's
//! warm calls are compared with. Without the feature, boa is not compiled for the host.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use hookmap::runtime::{Isolation, Limits, RequestInfo, Sandbox};

/// A Default-style mapping: the recipient from the payload, one detail field.
const DEFAULT_STYLE: &str = r#"function map(payload, request) {
  return { payload: { target: { usersById: [payload.data.object.metadata.userId] }, detail: { type: payload.type } } };
}"#;

/// A six-field mapping of a Stripe `payment_intent.succeeded` event.
const STRIPE_SIX_FIELDS: &str = r#"function map(payload, request) {
  const pi = payload.data.object;
  return {
    payload: {
      target: { usersById: [pi.metadata.userId] },
      detail: {
        amount: pi.amount_received / 100,
        currency: pi.currency.toUpperCase(),
        orderId: pi.metadata.orderId,
        email: pi.receipt_email,
        city: pi.shipping.address.city,
        paidAt: new Date(pi.created * 1000).toISOString(),
      },
    },
  };
}"#;

fn event() -> Vec<u8> {
    let text = include_str!("stripe_payment_intent_succeeded.json");
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    serde_json::to_vec(&value).unwrap_or_default()
}

fn request() -> RequestInfo {
    RequestInfo {
        method: "POST".into(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "stripe-signature".into(),
                "t=1710000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd".into(),
            ),
        ],
        query: Vec::new(),
        received_at: "2026-11-29T09:40:00Z".into(),
    }
}

fn benches(c: &mut Criterion) {
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-module-cache");
    let sandbox = Sandbox::new(Some(&cache)).unwrap_or_else(|e| panic!("sandbox: {e}"));
    let event = event();
    let request = request();
    eprintln!("event: {} bytes of JSON", event.len());

    let mut group = c.benchmark_group("sandbox");
    for (name, source) in [("default_style", DEFAULT_STYLE), ("stripe_6_fields", STRIPE_SIX_FIELDS)] {
        let script = sandbox.compile(source, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let sandboxed = script.call(&event, &request).result.unwrap_or_else(|e| panic!("{e}"));
        group
            .bench_function(format!("warm/{name}"), |b| b.iter(|| black_box(script.call(black_box(&event), &request))));
        #[cfg(feature = "native-boa-baseline")]
        {
            let mut native = native_boa::NativeScript::compile(source);
            assert_eq!(native.call(&event, &request), sandboxed, "native boa and the sandbox disagree");
            group.bench_function(format!("native_boa/{name}"), |b| {
                b.iter(|| black_box(native.call(black_box(&event), &request)))
            });
        }
        #[cfg(not(feature = "native-boa-baseline"))]
        black_box(sandboxed);
    }
    // The fixed cost of a call: the ABI round trip, the request, a fresh top-level scope.
    let script = sandbox.compile("function map() { return 1; }", Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("warm/constant", |b| b.iter(|| black_box(script.call(black_box(b"1"), &request))));
    // The floor: the Default-style script on a 70-byte payload (almost nothing to convert).
    let script = sandbox.compile(DEFAULT_STYLE, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    let small = br#"{"type":"t","data":{"object":{"metadata":{"userId":"usr_8f3a2c"}}}}"#;
    assert!(script.call(small, &request).result.is_ok());
    group.bench_function("warm/default_style_small_payload", |b| {
        b.iter(|| black_box(script.call(black_box(small), &request)))
    });
    // A fresh instance per call that compiles the script: instantiation, the script's
    // compilation, the call.
    let script = sandbox.compile("function map() { return 1; }", Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("fresh_instance/constant", |b| {
        b.iter(|| black_box(script.call_in_fresh_instance(black_box(b"1"), &request)))
    });
    let script = sandbox.compile(STRIPE_SIX_FIELDS, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("fresh_instance/stripe_6_fields", |b| {
        b.iter(|| black_box(script.call_in_fresh_instance(black_box(&event), &request)))
    });
    // A mapping whose isolation is `fresh`: instantiation, the compiled script's memory restored,
    // the call.
    for (name, source) in [("constant", "function map() { return 1; }"), ("stripe_6_fields", STRIPE_SIX_FIELDS)] {
        let script = sandbox
            .compile(source, Limits::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .with_isolation(Isolation::Fresh);
        assert!(script.call(&event, &request).result.is_ok());
        group.bench_function(format!("fresh_isolation/{name}"), |b| {
            b.iter(|| black_box(script.call(black_box(&event), &request)))
        });
    }
    // A new script without a call: a fresh instance of the snapshot and the script's compilation.
    group.bench_function("compile/stripe_6_fields", |b| {
        b.iter(|| {
            black_box(
                sandbox.compile(black_box(STRIPE_SIX_FIELDS), Limits::default()).unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    group.bench_function("compile_to_first_result/stripe_6_fields", |b| {
        b.iter(|| {
            let script =
                sandbox.compile(black_box(STRIPE_SIX_FIELDS), Limits::default()).unwrap_or_else(|e| panic!("{e}"));
            black_box(script.call(&event, &request))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("sandbox_start");
    group.sample_size(10);
    group.bench_function("new_from_module_cache", |b| {
        b.iter(|| black_box(Sandbox::new(Some(&cache)).unwrap_or_else(|e| panic!("{e}"))))
    });
    group.finish();
}

/// The baseline: the mapping called in native, in-process boa. Per
/// event: parse the body, `JsValue::from_json` of it and of the request, call the compiled `map`,
/// `to_json` of the result; the same work the sandbox does per call, without wasm, lazy
/// conversion, isolation or limits.
#[cfg(feature = "native-boa-baseline")]
mod native_boa {
    use boa_engine::{Context, JsObject, JsValue, Source, js_string};
    use hookmap::runtime::RequestInfo;
    use serde_json::Value;

    /// One context with the script's `map`.
    pub struct NativeScript {
        /// The realm the script ran in.
        context: Context,
        /// The script's `map`.
        map: JsObject,
    }

    impl NativeScript {
        /// Runs `source` once and takes its `map`.
        pub fn compile(source: &str) -> Self {
            let mut context = Context::default();
            context.eval(Source::from_bytes(source)).unwrap_or_else(|e| panic!("native boa: {e}"));
            let map = context
                .global_object()
                .get(js_string!("map"), &mut context)
                .ok()
                .and_then(|map| map.as_object())
                .unwrap_or_else(|| panic!("native boa: the script defines no map"));
            Self { context, map }
        }

        /// `map(payload, request)` as JSON.
        pub fn call(&mut self, payload: &[u8], request: &RequestInfo) -> Value {
            let payload: Value = serde_json::from_slice(payload).unwrap_or_else(|e| panic!("payload: {e}"));
            let context = &mut self.context;
            let payload = JsValue::from_json(&payload, context).unwrap_or_else(|e| panic!("native boa: {e}"));
            let request = JsValue::from_json(&request.to_json(), context).unwrap_or_else(|e| panic!("native boa: {e}"));
            let result = self
                .map
                .call(&JsValue::undefined(), &[payload, request], context)
                .unwrap_or_else(|e| panic!("native boa: {e}"));
            result.to_json(context).unwrap_or_else(|e| panic!("native boa: {e}")).unwrap_or(Value::Null)
        }
    }
}

criterion_group!(sandbox_benches, benches);
criterion_main!(sandbox_benches);
