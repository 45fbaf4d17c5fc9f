//! Parsing only what a program reads.
//!
//! When every path of a program is singular (`$.data.object.id`, `$['x'][0]`), a body
//! is parsed into a pruned document that keeps just the members and elements on those
//! paths: the rest is still checked as JSON (serde's `IgnoredAny`), but nothing is
//! allocated for it. Elements skipped before a kept index stay as `null` so indexes
//! keep their meaning; an array read with a negative index is kept whole. Parts that
//! are skipped are not held to the nesting limit ([`crate::document::MAX_DEPTH`]):
//! serde_json skips them without recursion, so they cost no stack.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::path::{CompiledPath, Step};
use crate::document::{JsonError, syntax_error};

/// The part of a document a program reads.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Projection {
    /// Keep everything below this point.
    whole: bool,
    members: Vec<(String, Projection)>,
    indexes: Vec<(i64, Projection)>,
}

impl Projection {
    /// The projection of `paths`, or `None` when one of them is not singular.
    pub(crate) fn of(paths: &[&CompiledPath]) -> Option<Projection> {
        let mut root = Projection::default();
        for path in paths {
            root.add(path.steps()?);
        }
        Some(root)
    }

    fn add(&mut self, steps: &[Step]) {
        let Some((first, rest)) = steps.split_first() else {
            self.whole = true;
            return;
        };
        let child = match first {
            Step::Member(name) => match self.members.iter().position(|(n, _)| n == name) {
                Some(i) => &mut self.members[i].1,
                None => {
                    self.members.push((name.clone(), Projection::default()));
                    &mut self.members.last_mut().expect("just pushed").1
                }
            },
            Step::Index(index) => match self.indexes.iter().position(|(i, _)| i == index) {
                Some(i) => &mut self.indexes[i].1,
                None => {
                    self.indexes.push((*index, Projection::default()));
                    &mut self.indexes.last_mut().expect("just pushed").1
                }
            },
        };
        child.add(rest);
    }

    /// Parses `text`, keeping only this projection of it.
    pub(crate) fn parse(&self, text: &str) -> Result<Value, JsonError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let value = self.deserialize(&mut deserializer).map_err(|e| syntax_error(&e))?;
        deserializer.end().map_err(|e| syntax_error(&e))?;
        Ok(value)
    }
}

impl<'de> DeserializeSeed<'de> for &Projection {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.whole || self.indexes.iter().any(|(i, _)| *i < 0) {
            return serde::Deserialize::deserialize(deserializer);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Projection {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.members.iter().find(|(name, _)| *name == key) {
                Some((_, child)) => {
                    kept.insert(key.into_owned(), map.next_value_seed(child)?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let last_kept = self.indexes.iter().map(|(i, _)| *i).max();
        let mut kept = Vec::new();
        let mut index = 0i64;
        loop {
            let wanted = self.indexes.iter().find(|(i, _)| *i == index);
            let element = match wanted {
                Some((_, child)) => seq.next_element_seed(child)?,
                None => seq.next_element::<IgnoredAny>()?.map(|_| Value::Null),
            };
            let Some(element) = element else { break };
            if last_kept.is_some_and(|last| index <= last) {
                kept.push(element);
            }
            index += 1;
        }
        Ok(Value::Array(kept))
    }
}

/// Deserialises a member name, borrowing it from the input when it has no escapes
/// (serde's own `Cow<str>` always allocates).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = std::borrow::Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = std::borrow::Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{Input, Mapping, compile};
    use serde_json::json;

    fn projected(paths: &[&str], text: &str) -> Value {
        let compiled: Vec<CompiledPath> = paths.iter().map(|p| CompiledPath::parse(p).unwrap()).collect();
        let refs: Vec<&CompiledPath> = compiled.iter().collect();
        Projection::of(&refs).expect("singular paths").parse(text).unwrap()
    }

    #[test]
    fn keeps_only_what_the_paths_read() {
        let text = r#"{"a": {"b": 1, "c": [1, 2]}, "d": [{"x": 1}, {"x": 2, "y": 3}, {"x": 4}], "e": "big", "f": {"g": {"h": 1}}, "\u0066": {"g": 2}}"#;
        assert_eq!(
            projected(&["$.a.b", "$.d[1].x", "$.f"], text),
            json!({"a": {"b": 1}, "d": [null, {"x": 2}], "f": {"g": 2}})
        );
        assert_eq!(projected(&["$.d[-1]"], text), json!({"d": [{"x": 1}, {"x": 2, "y": 3}, {"x": 4}]}));
        assert_eq!(projected(&["$"], text), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn general_queries_have_no_projection() {
        let paths = [CompiledPath::parse("$.a").unwrap(), CompiledPath::parse("$.b[*]").unwrap()];
        assert_eq!(Projection::of(&[&paths[0], &paths[1]]), None);
    }

    #[test]
    fn skipped_parts_are_still_checked_as_json() {
        let error = projected_error(&["$.a"], r#"{"a": 1, "b": [1, }"#);
        assert_eq!(error.to_string(), "1:19: invalid JSON: expected value");
        let error = projected_error(&["$.a"], r#"{"a": 1} x"#);
        assert_eq!(error.to_string(), "1:10: invalid JSON: trailing characters");
        // serde_json skips without recursion: a deep part that is not read costs no stack.
        let deep = format!("{{\"a\":1,\"b\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(projected(&["$.a"], &deep), json!({"a": 1}));
        let deep_read = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(projected_error(&["$.a"], &deep_read).to_string().contains("nested deeper than"));
    }

    fn projected_error(paths: &[&str], text: &str) -> JsonError {
        let compiled: Vec<CompiledPath> = paths.iter().map(|p| CompiledPath::parse(p).unwrap()).collect();
        let refs: Vec<&CompiledPath> = compiled.iter().collect();
        Projection::of(&refs).unwrap().parse(text).unwrap_err()
    }

    #[test]
    fn a_program_maps_a_projected_body_as_it_maps_the_whole_body() {
        let program = compile(&Mapping::Structured {
            source: r#"{"payload": {"target": {"usersById": ["$.ids", "$.owner.id"]},
                "detail": {"t": {"template": "{$.a.b} {$.list[2]}"}, "n": {"path": "$.none", "default": 0}},
                "notificationDetail": {"o": "$.owner"}}}"#
                .to_owned(),
            limits: Default::default(),
            isolation: Default::default(),
        })
        .unwrap();
        let text = r#"{"ids": [1, "x"], "owner": {"id": "o", "name": "N"}, "a": {"b": true, "z": 1}, "list": [0, 1, 2, 3], "other": {"deep": [1, 2]}}"#;
        let whole = program.run(&Input::from_body(serde_json::from_str(text).unwrap()));
        let projected = program.run(&Input::from_body(program.parse_body(text.as_bytes()).unwrap()));
        assert_eq!(whole, projected);
        assert!(program.projection.is_some());
    }
}
