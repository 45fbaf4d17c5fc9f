//! What a sample body offers to map: every property with its JSONPath, its JSON
//! type(s) and an example value, in document order.
//!
//! Elements of arrays are listed once under `[*]` (`$.items[*].id`), their types
//! and examples merged over all elements. Objects and arrays are listed too (with
//! no example), so an author can map a whole sub-object into `notificationDetail`.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::field_path;

/// The deepest nesting the property walk accepts (the same as the JSON parser's,
/// [`crate::document::MAX_DEPTH`]); deeper samples are refused, never overflow the stack.
pub const MAX_DEPTH: usize = crate::document::MAX_DEPTH;

/// A JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    /// `null`
    Null,
    /// `true` or `false`
    Boolean,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

impl JsonType {
    /// The type of `value`.
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// The type's name: `null`, `boolean`, `number`, `string`, `array`, `object`.
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One mappable property of a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    /// Its JSONPath: `$.data.object.id`, `$['x-key']`, `$.items[*].price`.
    pub path: String,
    /// The JSON types seen there, in order of first appearance.
    pub types: Vec<JsonType>,
    /// A value seen there (the first non-null scalar, else null); absent for
    /// objects and arrays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

/// Why a sample's properties could not be listed.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleError {
    /// The sample nests deeper than [`MAX_DEPTH`].
    TooDeep {
        /// The path where the limit was reached.
        path: String,
    },
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleError::TooDeep { path } => {
                write!(f, "{path}: the sample nests deeper than {MAX_DEPTH} levels")
            }
        }
    }
}

impl std::error::Error for SampleError {}

/// Lists every property of `sample`, in document order. The root is listed (as `$`)
/// only when it is a scalar, the one case where it is a value to map.
pub fn properties(sample: &Value) -> Result<Vec<Property>, SampleError> {
    let mut walk = Walk { properties: Vec::new(), index: HashMap::new() };
    match sample {
        Value::Array(_) | Value::Object(_) => walk.children(sample, "$", 0)?,
        scalar => walk.visit(scalar, "$".to_owned(), 0)?,
    }
    Ok(walk.properties)
}

struct Walk {
    properties: Vec<Property>,
    index: HashMap<String, usize>,
}

impl Walk {
    fn children(&mut self, value: &Value, path: &str, depth: usize) -> Result<(), SampleError> {
        if depth >= MAX_DEPTH {
            return Err(SampleError::TooDeep { path: path.to_owned() });
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    self.visit(child, field_path::member(path, key), depth + 1)?;
                }
            }
            Value::Array(items) => {
                let element_path = format!("{path}[*]");
                for item in items {
                    self.visit(item, element_path.clone(), depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn visit(&mut self, value: &Value, path: String, depth: usize) -> Result<(), SampleError> {
        let kind = JsonType::of(value);
        let scalar_example = (!matches!(kind, JsonType::Array | JsonType::Object)).then(|| value.clone());
        match self.index.get(&path) {
            Some(&i) => {
                let property = &mut self.properties[i];
                if !property.types.contains(&kind) {
                    property.types.push(kind);
                }
                if matches!(property.example, None | Some(Value::Null)) && scalar_example.is_some() {
                    property.example = scalar_example;
                }
            }
            None => {
                self.index.insert(path.clone(), self.properties.len());
                self.properties.push(Property { path: path.clone(), types: vec![kind], example: scalar_example });
            }
        }
        self.children(value, &path, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listed(sample: Value) -> Vec<(String, Vec<&'static str>, Option<Value>)> {
        properties(&sample)
            .unwrap()
            .into_iter()
            .map(|p| (p.path, p.types.iter().map(|t| t.name()).collect(), p.example))
            .collect()
    }

    #[test]
    fn lists_properties_in_document_order_with_types_and_examples() {
        let got = listed(json!({
            "id": "evt_1", "x-key": 1, "data": {"object": {"amount": 10, "paid": true}},
            "items": [{"sku": null, "qty": 1}, {"sku": "A-1", "qty": 2.5, "extra": [1, "a"]}]
        }));
        let expected: Vec<(String, Vec<&str>, Option<Value>)> = vec![
            ("$.id".into(), vec!["string"], Some(json!("evt_1"))),
            ("$['x-key']".into(), vec!["number"], Some(json!(1))),
            ("$.data".into(), vec!["object"], None),
            ("$.data.object".into(), vec!["object"], None),
            ("$.data.object.amount".into(), vec!["number"], Some(json!(10))),
            ("$.data.object.paid".into(), vec!["boolean"], Some(json!(true))),
            ("$.items".into(), vec!["array"], None),
            ("$.items[*]".into(), vec!["object"], None),
            ("$.items[*].sku".into(), vec!["null", "string"], Some(json!("A-1"))),
            ("$.items[*].qty".into(), vec!["number"], Some(json!(1))),
            ("$.items[*].extra".into(), vec!["array"], None),
            ("$.items[*].extra[*]".into(), vec!["number", "string"], Some(json!(1))),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn a_root_array_lists_its_elements() {
        let got = listed(json!([{"objectId": 1}, {"objectId": 2}]));
        assert_eq!(got[0].0, "$[*]");
        assert_eq!(got[1], ("$[*].objectId".to_owned(), vec!["number"], Some(json!(1))));
    }

    #[test]
    fn a_scalar_root_is_listed_as_the_root() {
        assert_eq!(listed(json!("ping")), [("$".to_owned(), vec!["string"], Some(json!("ping")))]);
        assert!(listed(json!({})).is_empty());
    }

    #[test]
    fn every_leaf_has_a_path() {
        let sample = json!({"a": [[1, [2]], {"b c": {"d": null}}], "e": ""});
        let paths: Vec<String> = properties(&sample).unwrap().into_iter().map(|p| p.path).collect();
        for leaf in ["$.a[*][*]", "$.a[*][*][*]", "$.a[*]['b c'].d", "$.e"] {
            assert!(paths.iter().any(|p| p == leaf), "{leaf} missing from {paths:?}");
        }
    }

    #[test]
    fn samples_nested_too_deep_are_refused() {
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH + 5 {
            deep = json!([deep]);
        }
        let error = properties(&deep).unwrap_err();
        assert!(error.to_string().ends_with("the sample nests deeper than 128 levels"), "{error}");
        let mut ok = json!(1);
        for _ in 0..MAX_DEPTH - 1 {
            ok = json!({"a": ok});
        }
        assert!(properties(&ok).is_ok());
    }
}
