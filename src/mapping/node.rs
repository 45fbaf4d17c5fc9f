//! The intermediate form: a tree of nodes, evaluated against a request body.

use serde_json::{Map, Value};

use super::error::{EmptyLeaf, MapError};
use super::path::CompiledPath;
use super::template::Template;
use crate::field_path;
use crate::request::RequestInfo;
use crate::runtime::{ConsoleLine, Script};
use crate::schema::Rule;

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
    /// An array of its nodes' values in order: an array value is spliced in (flattened one
    /// level), a node that gives nothing adds nothing.
    Flatten(Vec<Node>),
    /// Its node's value under a rule of the target schema for the field ([`Rule`]): each item
    /// normalised; when the rule requires items and there are none, an error naming what each
    /// part of the node gave.
    Rule(Rule, Box<Node>),
    /// A script run in the sandbox: a script mapping's `map(payload, request)` (the root of its
    /// program) or a structured mapping's script leaf; `null` (and a leaf's `undefined`) is nothing.
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
            Node::Flatten(nodes) => {
                let mut items = Vec::new();
                for node in nodes {
                    match node.eval(context, field) {
                        None => {}
                        Some(Value::Array(values)) => items.extend(values),
                        Some(value) => items.push(value),
                    }
                }
                Some(Value::Array(items))
            }
            Node::Rule(rule, node) => {
                let value = match node.eval(context, field) {
                    Some(Value::Array(items)) => {
                        Value::Array(items.into_iter().map(|item| rule.normalise(item)).collect())
                    }
                    Some(value) => rule.normalise(value),
                    None => Value::Array(Vec::new()),
                };
                if rule.requires_items() && value.as_array().is_some_and(Vec::is_empty) {
                    let leaves = node.why_empty(context);
                    context.errors.push(MapError::NoUserIds { field: field.render(), leaves });
                    return None;
                }
                Some(value)
            }
            Node::Script(script) => {
                let failed = |context: &mut Context<'_>, error| {
                    context.errors.push(match field.parent {
                        None => MapError::Script(error),
                        Some(_) => MapError::ScriptLeaf { field: field.render(), error },
                    });
                };
                let payload = match serde_json::to_vec(body) {
                    Ok(payload) => payload,
                    Err(e) => {
                        let message = format!("cannot encode the payload: {e}");
                        failed(context, crate::runtime::ScriptError::Internal { message });
                        return None;
                    }
                };
                let outcome = script.call(&payload, context.request);
                context.console.extend(outcome.console);
                match outcome.result {
                    Ok(Value::Null) => None,
                    Ok(value) => Some(value),
                    Err(error) => {
                        failed(context, error);
                        None
                    }
                }
            }
        }
    }

    /// Why this node gave no item: for each of its parts (its nodes for a [`Node::Flatten`]),
    /// whether it gave nothing or an empty array. Evaluates the parts again, on a scratch
    /// context: this runs only for the error.
    fn why_empty(&self, context: &Context<'_>) -> Vec<EmptyLeaf> {
        let parts = match self {
            Node::Flatten(nodes) => nodes.as_slice(),
            other => std::slice::from_ref(other),
        };
        let mut scratch =
            Context { body: context.body, request: context.request, errors: Vec::new(), console: Vec::new() };
        parts
            .iter()
            .filter_map(|part| match part.eval(&mut scratch, &Field::ROOT) {
                None => Some(EmptyLeaf { leaf: part.describe(), empty_array: false }),
                Some(Value::Array(items)) if items.is_empty() => {
                    Some(EmptyLeaf { leaf: part.describe(), empty_array: true })
                }
                Some(_) => None,
            })
            .collect()
    }

    /// How an error names this node: its JSONPath, or `a constant`.
    fn describe(&self) -> String {
        match self {
            Node::Path(path) => path.source().to_owned(),
            Node::Coalesce(nodes) => nodes.first().map_or_else(|| "a constant".to_owned(), Node::describe),
            _ => "a constant".to_owned(),
        }
    }

    /// Calls `visit` with every JSONPath and script this node reads, in mapping order.
    pub(crate) fn visit_reads<'a>(&'a self, visit: &mut impl FnMut(Read<'a>)) {
        match self {
            Node::Const(_) => {}
            Node::Script(script) => visit(Read::Script(script)),
            Node::Path(path) => visit(Read::Path(path)),
            Node::Template(template) => template.paths().for_each(|path| visit(Read::Path(path))),
            Node::Object(fields) => fields.iter().for_each(|(_, node)| node.visit_reads(visit)),
            Node::Coalesce(nodes) | Node::Flatten(nodes) => nodes.iter().for_each(|node| node.visit_reads(visit)),
            Node::Rule(_, node) => node.visit_reads(visit),
        }
    }
}

/// What a node reads of an input: a JSONPath, or anything (a script).
pub(crate) enum Read<'a> {
    /// The nodes a JSONPath selects.
    Path(&'a CompiledPath),
    /// Whatever the script touches.
    Script(&'a Script),
}
