//! The intermediate form: a tree of nodes, evaluated against a request body.

use serde_json::{Map, Value};

use super::error::{EmptyLeaf, MapError};
use super::path::CompiledPath;
use super::template::Template;
use crate::field_path;
use crate::request::RequestInfo;
use crate::runtime::{ConsoleLine, Script};

/// One node of a compiled mapping.
#[derive(Debug)]
pub(crate) enum Node {
    /// A literal value.
    Const(Value),
    /// A JSONPath: nothing when it selects nothing, the value when it selects one
    /// node, an array of the values (in document order) when it selects more.
    Path(CompiledPath),
    /// A text template.
    Template(Template),
    /// An object; fields that evaluate to nothing are left out.
    Object(Vec<(String, Node)>),
    /// The first of its nodes that gives something: a path with its default.
    Coalesce(Vec<Node>),
    /// User ids: the results of its nodes flattened one level, integers turned into
    /// their decimal strings. Giving no id at all is an error.
    UserIds(Vec<Node>),
    /// A script's `map(payload, request)`, run in the sandbox; its result as returned.
    Script(Script),
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("limits", &self.limits()).finish_non_exhaustive()
    }
}

/// What an evaluation reads and what it reports besides its value.
pub(crate) struct Context<'a> {
    /// The request body.
    pub(crate) body: &'a Value,
    /// The request it came with.
    pub(crate) request: &'a RequestInfo,
    /// Errors found so far.
    pub(crate) errors: Vec<MapError>,
    /// Console output of scripts.
    pub(crate) console: Vec<ConsoleLine>,
}

/// Where in the output a node is, kept as a chain on the stack and only rendered
/// as text when an error needs it.
pub(crate) struct Field<'a> {
    parent: Option<&'a Field<'a>>,
    name: &'a str,
}

impl Field<'_> {
    /// The output's root.
    pub(crate) const ROOT: Field<'static> = Field { parent: None, name: "" };

    fn render(&self) -> String {
        match self.parent {
            None => String::new(),
            Some(parent) => field_path::member(&parent.render(), self.name),
        }
    }
}

impl Node {
    /// Evaluates the node on `body`; `None` means "nothing": the field is left out.
    pub(crate) fn eval(&self, context: &mut Context<'_>, field: &Field<'_>) -> Option<Value> {
        let body = context.body;
        match self {
            Node::Const(value) => Some(value.clone()),
            Node::Path(path) => match path.select(body) {
                Ok(nodes) => match nodes.as_slice() {
                    [] => None,
                    [one] => Some((*one).clone()),
                    many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
                },
                Err(error) => {
                    context.errors.push(MapError::Query {
                        field: field.render(),
                        path: path.source().to_owned(),
                        message: error.0,
                    });
                    None
                }
            },
            Node::Template(template) => match template.render(body) {
                Ok(text) => Some(Value::String(text)),
                Err(error) => {
                    context.errors.push(MapError::Query {
                        field: field.render(),
                        path: template.paths().map(CompiledPath::source).collect::<Vec<_>>().join(", "),
                        message: error.0,
                    });
                    None
                }
            },
            Node::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, node) in fields {
                    let child = Field { parent: Some(field), name };
                    if let Some(value) = node.eval(context, &child) {
                        out.insert(name.clone(), value);
                    }
                }
                Some(Value::Object(out))
            }
            Node::Coalesce(nodes) => nodes.iter().find_map(|node| node.eval(context, field)),
            Node::UserIds(leaves) => {
                let mut ids = Vec::new();
                let mut empty = Vec::new();
                for leaf in leaves {
                    match leaf.eval(context, field) {
                        None => empty.push(EmptyLeaf { leaf: leaf.describe(), empty_array: false }),
                        Some(Value::Array(items)) if items.is_empty() => {
                            empty.push(EmptyLeaf { leaf: leaf.describe(), empty_array: true })
                        }
                        Some(Value::Array(items)) => ids.extend(items.into_iter().map(id_text)),
                        Some(value) => ids.push(id_text(value)),
                    }
                }
                if ids.is_empty() {
                    context.errors.push(MapError::NoUserIds { field: field.render(), leaves: empty });
                    return None;
                }
                Some(Value::Array(ids))
            }
            Node::Script(script) => {
                let payload = match serde_json::to_vec(body) {
                    Ok(payload) => payload,
                    Err(e) => {
                        let message = format!("cannot encode the payload: {e}");
                        context.errors.push(MapError::Script(crate::runtime::ScriptError::Internal { message }));
                        return None;
                    }
                };
                let outcome = script.call(&payload, context.request);
                context.console.extend(outcome.console);
                match outcome.result {
                    Ok(value) => Some(value),
                    Err(error) => {
                        context.errors.push(MapError::Script(error));
                        None
                    }
                }
            }
        }
    }

    /// How an error names this node: its JSONPath, or `a constant`.
    fn describe(&self) -> String {
        match self {
            Node::Path(path) => path.source().to_owned(),
            Node::Coalesce(nodes) => nodes.first().map_or_else(|| "a constant".to_owned(), Node::describe),
            _ => "a constant".to_owned(),
        }
    }

    /// Calls `visit` with every JSONPath this node reads, in mapping order.
    pub(crate) fn visit_paths<'a>(&'a self, visit: &mut impl FnMut(&'a CompiledPath)) {
        match self {
            Node::Const(_) | Node::Script(_) => {}
            Node::Path(path) => visit(path),
            Node::Template(template) => template.paths().for_each(visit),
            Node::Object(fields) => fields.iter().for_each(|(_, node)| node.visit_paths(visit)),
            Node::Coalesce(nodes) | Node::UserIds(nodes) => nodes.iter().for_each(|node| node.visit_paths(visit)),
        }
    }
}

/// An integer id becomes its decimal string; anything else is kept for validation.
fn id_text(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Value::String(n.to_string()),
        other => other,
    }
}
