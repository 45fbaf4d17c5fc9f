//! The payload as the script sees it, converted lazily: most mappings read a handful of fields of a
//! large event, so converting the whole JSON document into boa objects would dominate each call.
//!
//! Arrays and primitives are converted when their parent is; every JSON object becomes a Proxy
//! over an empty target. Its `get` trap converts only the property read (and caches it, so
//! `payload.a === payload.a`). Any other operation (`Object.keys`, `in`, assignment, `delete`,
//! property descriptors) first converts the whole level into an ordinary object, then forwards to
//! it with `Reflect`. The proxies are only valid during the call that created them.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::JsArray;
use boa_engine::property::PropertyKey;
use boa_engine::{
    Context, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, js_string,
};
use serde_json::Value;

/// One step of a path from the payload root.
#[derive(Clone)]
enum Step {
    /// A property of an object.
    Key(String),
    /// An element of an array.
    Index(usize),
}

/// The state of one lazy object, keyed by its proxy's target.
enum Lazy {
    /// Not converted yet: where it is in the payload, and the properties read so far.
    Pending {
        /// Path from the payload root.
        path: Vec<Step>,
        /// Converted properties, by name.
        read: HashMap<String, JsValue>,
    },
    /// Converted into this ordinary object (the target itself); every trap forwards to it.
    Ready(JsObject),
}

/// Objects the traps need, taken from the realm before the author's code ran.
pub(crate) struct Helpers {
    /// `%Object.prototype%`: where a property missing from the payload is looked up.
    object_prototype: JsObject,
    /// `%Proxy%`.
    proxy: JsObject,
    /// The shared handler object with the native traps.
    handler: JsObject,
    /// `Reflect.get`, `set`, `has`, `deleteProperty`, `defineProperty`, `ownKeys`,
    /// `getOwnPropertyDescriptor`, `preventExtensions`, in this order.
    reflect: [JsObject; 8],
}

thread_local! {
    /// The documents of the current call (payload and request).
    static PAYLOAD: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
    /// Lazy objects of the current call, by proxy target.
    static LAZY: RefCell<HashMap<JsObject, Lazy>> = RefCell::new(HashMap::new());
    /// See [`Helpers`]; set once per instance.
    static HELPERS: RefCell<Option<Helpers>> = const { RefCell::new(None) };
    /// The payload properties read so far, as JSONPaths, while recording is on.
    static RECORDED: RefCell<Option<BTreeSet<String>>> = const { RefCell::new(None) };
}

/// Starts (or stops) recording which payload properties the script reads.
pub(crate) fn record_reads(on: bool) {
    RECORDED.with_borrow_mut(|recorded| *recorded = on.then(BTreeSet::new));
}

/// The properties read since the last call of this function, when recording is on: each a
/// JSONPath in bracket notation, with `[*]` for any array index (`$['items'][*]['id']`).
pub(crate) fn take_reads() -> Option<Vec<String>> {
    RECORDED.with_borrow_mut(|recorded| {
        recorded
            .as_mut()
            .map(|set| std::mem::take(set).into_iter().collect())
    })
}

/// Notes that the payload property at `path` was read, when recording is on.
fn note_read(path: &[Step]) {
    // Only the payload (document 0) is recorded, not the request.
    if !matches!(path.first(), Some(Step::Index(0))) {
        return;
    }
    RECORDED.with_borrow_mut(|recorded| {
        if let Some(set) = recorded {
            set.insert(json_path(path));
        }
    });
}

/// `path` (below its document) as a JSONPath: keys in single-quoted brackets, indexes as `[*]`.
fn json_path(path: &[Step]) -> String {
    let mut text = String::from("$");
    for step in path.iter().skip(1) {
        match step {
            Step::Index(_) => text.push_str("[*]"),
            Step::Key(key) => {
                text.push_str("['");
                for c in key.chars() {
                    match c {
                        '\\' => text.push_str("\\\\"),
                        '\'' => text.push_str("\\'"),
                        c if u32::from(c) < 0x20 => {
                            text.push_str(&format!("\\u{:04x}", u32::from(c)))
                        }
                        c => text.push(c),
                    }
                }
                text.push_str("']");
            }
        }
    }
    text
}

/// Indexes into [`Helpers::reflect`].
const GET: usize = 0;
const SET: usize = 1;
const HAS: usize = 2;
const DELETE: usize = 3;
const DEFINE: usize = 4;
const OWN_KEYS: usize = 5;
const DESCRIPTOR: usize = 6;
const PREVENT_EXTENSIONS: usize = 7;

/// Takes what the traps need from `context` (before the author's code runs).
pub(crate) fn install(context: &mut Context) -> JsResult<()> {
    let reflect_object = context.intrinsics().objects().reflect();
    let mut reflect = Vec::new();
    for name in [
        "get",
        "set",
        "has",
        "deleteProperty",
        "defineProperty",
        "ownKeys",
        "getOwnPropertyDescriptor",
        "preventExtensions",
    ] {
        let function = reflect_object.get(JsString::from(name), context)?;
        reflect.push(
            function
                .as_object()
                .ok_or_else(|| JsNativeError::typ().with_message("Reflect is incomplete"))?,
        );
    }
    let reflect: [JsObject; 8] = reflect
        .try_into()
        .map_err(|_| JsNativeError::typ().with_message("Reflect is incomplete"))?;
    let handler = ObjectInitializer::new(context)
        .function(NativeFunction::from_fn_ptr(trap_get), js_string!("get"), 3)
        .function(NativeFunction::from_fn_ptr(trap_set), js_string!("set"), 4)
        .function(NativeFunction::from_fn_ptr(trap_has), js_string!("has"), 2)
        .function(
            NativeFunction::from_fn_ptr(trap_delete),
            js_string!("deleteProperty"),
            2,
        )
        .function(
            NativeFunction::from_fn_ptr(trap_define),
            js_string!("defineProperty"),
            3,
        )
        .function(
            NativeFunction::from_fn_ptr(trap_own_keys),
            js_string!("ownKeys"),
            1,
        )
        .function(
            NativeFunction::from_fn_ptr(trap_descriptor),
            js_string!("getOwnPropertyDescriptor"),
            2,
        )
        .function(
            NativeFunction::from_fn_ptr(trap_prevent_extensions),
            js_string!("preventExtensions"),
            1,
        )
        .build();
    let helpers = Helpers {
        object_prototype: context.intrinsics().constructors().object().prototype(),
        proxy: context.intrinsics().constructors().proxy().constructor(),
        handler,
        reflect,
    };
    HELPERS.with_borrow_mut(|h| *h = Some(helpers));
    Ok(())
}

/// The script's view of `documents` (payload, request), for one call. Invalidates the previous
/// call's lazy objects.
pub(crate) fn documents<const N: usize>(
    documents: [Value; N],
    context: &mut Context,
) -> JsResult<[JsValue; N]> {
    LAZY.with_borrow_mut(HashMap::clear);
    PAYLOAD.with_borrow_mut(|p| *p = documents.into());
    let mut values = Vec::with_capacity(N);
    for root in 0..N {
        values.push(convert_at(vec![Step::Index(root)], context)?);
    }
    values
        .try_into()
        .map_err(|_| JsNativeError::typ().with_message("lost a document").into())
}

/// Drops the current call's payload and lazy objects.
pub(crate) fn release() {
    LAZY.with_borrow_mut(HashMap::clear);
    PAYLOAD.with_borrow_mut(Vec::clear);
}

/// The value at `path` (whose first step is the document's index).
fn with_node<R>(path: &[Step], f: impl FnOnce(Option<&Value>) -> R) -> R {
    PAYLOAD.with_borrow(|roots| {
        let (Some(Step::Index(root)), Some(rest)) = (path.first(), path.get(1..)) else {
            return f(None);
        };
        let mut node = roots.get(*root);
        for step in rest {
            node = match (node, step) {
                (Some(Value::Object(map)), Step::Key(key)) => map.get(key),
                (Some(Value::Array(items)), Step::Index(i)) => items.get(*i),
                _ => None,
            };
        }
        f(node)
    })
}

/// What sits at a path, without borrowing the payload.
enum Shape {
    /// Already converted.
    Value(JsValue),
    /// An array of this many elements.
    Array(usize),
    /// An object: becomes a lazy proxy.
    Object,
    /// Nothing (the path went away).
    Missing,
}

/// Converts the value at `path`: primitives and arrays now, objects as lazy proxies.
fn convert_at(path: Vec<Step>, context: &mut Context) -> JsResult<JsValue> {
    let shape = with_node(&path, |node| match node {
        None => Shape::Missing,
        Some(Value::Null) => Shape::Value(JsValue::null()),
        Some(Value::Bool(b)) => Shape::Value(JsValue::from(*b)),
        Some(Value::Number(n)) => {
            Shape::Value(match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
                Some(i) => JsValue::from(i),
                None => JsValue::from(n.as_f64().unwrap_or(f64::NAN)),
            })
        }
        Some(Value::String(s)) => Shape::Value(JsValue::from(JsString::from(s.as_str()))),
        Some(Value::Array(items)) => Shape::Array(items.len()),
        Some(Value::Object(_)) => Shape::Object,
    });
    match shape {
        Shape::Value(value) => Ok(value),
        Shape::Missing => Ok(JsValue::undefined()),
        Shape::Array(len) => {
            let mut items = Vec::with_capacity(len);
            for index in 0..len {
                let mut item_path = path.clone();
                item_path.push(Step::Index(index));
                items.push(convert_at(item_path, context)?);
            }
            Ok(JsArray::from_iter(items, context).into())
        }
        Shape::Object => {
            let (proxy, handler) = HELPERS.with_borrow(|h| match h {
                Some(h) => Ok((h.proxy.clone(), h.handler.clone())),
                None => Err(JsNativeError::typ().with_message("the payload helpers are missing")),
            })?;
            let target = JsObject::with_object_proto(context.intrinsics());
            LAZY.with_borrow_mut(|lazy| {
                lazy.insert(
                    target.clone(),
                    Lazy::Pending {
                        path,
                        read: HashMap::new(),
                    },
                )
            });
            let proxy = proxy.construct(&[target.into(), handler.into()], None, context)?;
            Ok(proxy.into())
        }
    }
}

/// The target argument of a trap.
fn target(args: &[JsValue]) -> JsResult<JsObject> {
    args.first().and_then(JsValue::as_object).ok_or_else(|| {
        JsNativeError::typ()
            .with_message("not a payload object")
            .into()
    })
}

/// The ordinary object behind `target`, converting its whole level on first use.
fn materialize(target: &JsObject, context: &mut Context) -> JsResult<JsObject> {
    let taken = LAZY.with_borrow_mut(|lazy| match lazy.get(target) {
        Some(Lazy::Ready(object)) => Ok(Err(object.clone())),
        Some(Lazy::Pending { .. }) => match lazy.remove(target) {
            Some(Lazy::Pending { path, read }) => Ok(Ok((path, read))),
            _ => Err(()),
        },
        None => Err(()),
    });
    let (path, mut read) = match taken {
        Ok(Err(ready)) => return Ok(ready),
        Ok(Ok(pending)) => pending,
        Err(()) => {
            return Err(JsNativeError::typ()
                .with_message("the payload of an earlier event is no longer available")
                .into());
        }
    };
    let keys: Vec<String> = with_node(&path, |node| match node {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    });
    // Converted into the target itself: the proxy invariants then hold trivially, also once the
    // object is made non-extensible or frozen.
    let object = target.clone();
    for key in keys {
        let value = match read.remove(&key) {
            Some(value) => value,
            None => {
                let mut child = path.clone();
                child.push(Step::Key(key.clone()));
                convert_at(child, context)?
            }
        };
        object.create_data_property_or_throw(JsString::from(key.as_str()), value, context)?;
    }
    LAZY.with_borrow_mut(|lazy| lazy.insert(target.clone(), Lazy::Ready(object.clone())));
    Ok(object)
}

/// Calls `Reflect[which]` with the converted object in place of the target.
fn forward(which: usize, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let object = materialize(&target(args)?, context)?;
    let function = HELPERS.with_borrow(|h| h.as_ref().map(|h| h.reflect[which].clone()));
    let function = function
        .ok_or_else(|| JsNativeError::typ().with_message("the payload helpers are missing"))?;
    let mut forwarded = Vec::with_capacity(args.len());
    forwarded.push(JsValue::from(object));
    forwarded.extend(args.iter().skip(1).cloned());
    function.call(&JsValue::undefined(), &forwarded, context)
}

/// What `get` finds for a key of a pending object.
enum Found {
    /// Converted already (or just now).
    Value(JsValue),
    /// A payload property not converted yet, at this path.
    Convert(Vec<Step>),
    /// Not a payload property: look it up on `Object.prototype`.
    Inherited,
    /// The object is converted: forward.
    Ready,
}

/// `get`: converts only the property read.
fn trap_get(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let target = target(args)?;
    let key = args
        .get(1)
        .and_then(JsValue::as_string)
        .map(|k| k.to_std_string_escaped());
    let found = LAZY.with_borrow(|lazy| match lazy.get(&target) {
        Some(Lazy::Pending { path, read }) => match &key {
            Some(key) => match read.get(key) {
                Some(value) => Found::Value(value.clone()),
                None => {
                    let present = with_node(
                        path,
                        |node| matches!(node, Some(Value::Object(map)) if map.contains_key(key)),
                    );
                    if present {
                        let mut child = path.clone();
                        child.push(Step::Key(key.clone()));
                        Found::Convert(child)
                    } else {
                        Found::Inherited
                    }
                }
            },
            None => Found::Inherited,
        },
        _ => Found::Ready,
    });
    match found {
        Found::Value(value) => Ok(value),
        Found::Convert(path) => {
            note_read(&path);
            let value = convert_at(path, context)?;
            if let Some(key) = key {
                LAZY.with_borrow_mut(|lazy| {
                    if let Some(Lazy::Pending { read, .. }) = lazy.get_mut(&target) {
                        read.insert(key, value.clone());
                    }
                });
            }
            Ok(value)
        }
        Found::Inherited => {
            let prototype = HELPERS.with_borrow(|h| h.as_ref().map(|h| h.object_prototype.clone()));
            let prototype = prototype.ok_or_else(|| {
                JsNativeError::typ().with_message("the payload helpers are missing")
            })?;
            let key = args
                .get(1)
                .cloned()
                .unwrap_or_default()
                .to_property_key(context)?;
            let receiver = args.get(2).cloned().unwrap_or_default();
            inherited_get(&prototype, key, receiver, context)
        }
        Found::Ready => forward(GET, args, context),
    }
}

/// `prototype[key]` with `receiver` as `this` for getters.
fn inherited_get(
    prototype: &JsObject,
    key: PropertyKey,
    receiver: JsValue,
    context: &mut Context,
) -> JsResult<JsValue> {
    let function = HELPERS.with_borrow(|h| h.as_ref().map(|h| h.reflect[GET].clone()));
    let function = function
        .ok_or_else(|| JsNativeError::typ().with_message("the payload helpers are missing"))?;
    let key: JsValue = match key {
        PropertyKey::String(s) => s.into(),
        PropertyKey::Symbol(s) => s.into(),
        PropertyKey::Index(i) => JsValue::from(i.get()),
    };
    function.call(
        &JsValue::undefined(),
        &[prototype.clone().into(), key, receiver],
        context,
    )
}

/// `set`: converts the level, then assigns on it (the converted object is the receiver).
fn trap_set(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(SET, args.get(..3).unwrap_or(args), context)
}

/// `has`.
fn trap_has(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(HAS, args, context)
}

/// `deleteProperty`.
fn trap_delete(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(DELETE, args, context)
}

/// `defineProperty`.
fn trap_define(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(DEFINE, args, context)
}

/// `ownKeys`.
fn trap_own_keys(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(OWN_KEYS, args, context)
}

/// `getOwnPropertyDescriptor`.
fn trap_descriptor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(DESCRIPTOR, args, context)
}

/// `preventExtensions` (and so `Object.freeze`, `Object.seal`): converts first.
fn trap_prevent_extensions(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    forward(PREVENT_EXTENSIONS, args, context)
}
