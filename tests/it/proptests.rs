//! Property tests of the mapping engine: arbitrary JSON documents and arbitrary
//! structured mappings built from every LEAF form.

use hookmap::mapping::{Input, Mapped, Mapping, compile};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Arbitrary JSON, a few levels deep, with keys that need brackets now and then.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![Just("id".to_owned()), Just("a b".to_owned()), Just("x-y".to_owned()), "[a-z]{1,6}"];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An arbitrary JSONPath among the forms mappings use.
fn json_path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just(".id".to_owned()),
        "\\.[a-z]{1,3}",
        Just("['a b']".to_owned()),
        Just("['x-y']".to_owned()),
        (-3i64..4).prop_map(|i| format!("[{i}]")),
        Just("[*]".to_owned()),
        Just("..id".to_owned()),
        Just("[0:2]".to_owned()),
        Just("[?@.id]".to_owned()),
    ];
    prop::collection::vec(segment, 0..4).prop_map(|segments| format!("${}", segments.concat()))
}

/// An arbitrary LEAF of every form.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_path().prop_map(Value::String),
        "[a-z ]{0,8}".prop_map(Value::String),
        any::<i32>().prop_map(Value::from),
        Just(Value::Null),
        json_value().prop_map(|v| json!({"const": v})),
        (json_path(), json_value()).prop_map(|(p, d)| json!({"path": p, "default": d})),
        (json_path(), json_path()).prop_map(|(a, b)| json!({"template": format!("x {{{a}}} y {{{b}}}")})),
    ]
}

fn section() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[a-zA-Z]{1,8}", leaf()), 0..5)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

fn mapping() -> impl Strategy<Value = Value> {
    (prop::collection::vec(leaf(), 1..4), section(), section(), section()).prop_map(|(ids, detail, notification, metadata)| {
        json!({"payload": {"target": {"usersById": ids}, "detail": detail, "notificationDetail": notification, "metadata": metadata}})
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A structured mapping never panics, and an output always passes validation unchanged,
    /// whether the body was parsed whole or projected.
    #[test]
    fn structured_mappings_never_panic_and_their_output_validates(mapping in mapping(), body in json_value()) {
        let Ok(program) = compile(&Mapping::Structured { source: mapping.to_string(), limits: Default::default(), isolation: Default::default() }) else { return Ok(()) };
        let whole = program.run(&Input::from_body(body.clone()));
        let projected = program.parse_body(body.to_string().as_bytes()).expect("a serialised value parses");
        prop_assert_eq!(&whole, &program.run(&Input::from_body(projected)));
        if let Ok(Mapped::Event(output)) = whole {
            prop_assert_eq!(hookmap::schema::validate(output.clone()), Ok(output.clone()));
            let payload = &output["payload"];
            prop_assert!(["target", "detail", "notificationDetail", "metadata"].iter().all(|k| payload.get(k).is_some()));
        }
    }

    /// Mappable properties name a path for every leaf, and every path selects something.
    #[test]
    fn properties_cover_every_leaf(document in json_value()) {
        hookmap::fuzzing::properties(document.to_string().as_bytes());
    }

    /// Singular paths and the general evaluator agree.
    #[test]
    fn the_direct_plan_agrees_with_the_general_evaluator(path in json_path(), document in json_value()) {
        hookmap::fuzzing::jsonpath(format!("{path}\0{document}").as_bytes());
    }
}
