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
use std::hash::{BuildHasherDefault, Hasher};

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::JsArray;
use boa_engine::property::PropertyKey;
use boa_engine::{Context, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, js_string};

use crate::json::{self, Index, Kind, Text};

/// The state of one lazy object, keyed by its proxy's target.
enum Lazy {
    /// Not converted yet: its node in the index. Properties read so far are in [`CONVERTED`].
    Pending(u32),
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
    /// The documents of the current call (payload and request), indexed.
    static DOCUMENTS: RefCell<Index> = RefCell::new(Index::default());
    /// The script's value of each node of [`DOCUMENTS`] converted so far (a member read through
    /// a pending object), so that `payload.a === payload.a`.
    static CONVERTED: RefCell<Vec<Option<JsValue>>> = const { RefCell::new(Vec::new()) };
    /// Lazy objects of the current call, by proxy target.
    static LAZY: RefCell<HashMap<JsObject, Lazy, BuildHasherDefault<AddressHasher>>> =
        RefCell::new(HashMap::default());
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
    RECORDED.with_borrow_mut(|recorded| recorded.as_mut().map(|set| std::mem::take(set).into_iter().collect()))
}

/// Hashes a [`JsObject`] by its address (all its `Hash` writes): one multiplication instead of
/// SipHash, for the map of lazy objects, whose keys the script cannot choose.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Notes that the payload property at `node` was read, when recording is on.
fn note_read(index: &Index, node: u32) {
    RECORDED.with_borrow_mut(|recorded| {
        if let Some(set) = recorded
            && let Some(path) = json_path(index, node)
        {
            set.insert(path);
        }
    });
}

/// The JSONPath of `node` in the payload (the first document): keys in single-quoted brackets,
/// indexes as `[*]`; `None` for a node of the request.
fn json_path(index: &Index, node: u32) -> Option<String> {
    let mut steps = Vec::new();
    let mut at = node;
    while let Some(current) = index.node(at) {
        let Some(parent) = index.node(current.parent) else {
            break;
        };
        steps.push(match parent.kind {
            Kind::Object => Some(index.text(current.key_start, current.key_end, current.key_escaped).to_string_lossy()),
            _ => None,
        });
        at = current.parent;
    }
    // Only the payload (document 0, at node 0) is recorded, not the request.
    if at != 0 {
        return None;
    }
    let mut text = String::from("$");
    for step in steps.iter().rev() {
        match step {
            None => text.push_str("[*]"),
            Some(key) => {
                text.push_str("['");
                for c in key.chars() {
                    match c {
                        '\\' => text.push_str("\\\\"),
                        '\'' => text.push_str("\\'"),
                        c if u32::from(c) < 0x20 => text.push_str(&format!("\\u{:04x}", u32::from(c))),
                        c => text.push(c),
                    }
                }
                text.push_str("']");
            }
        }
    }
    Some(text)
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
        reflect.push(function.as_object().ok_or_else(|| JsNativeError::typ().with_message("Reflect is incomplete"))?);
    }
    let reflect: [JsObject; 8] =
        reflect.try_into().map_err(|_| JsNativeError::typ().with_message("Reflect is incomplete"))?;
    let handler = ObjectInitializer::new(context)
        .function(NativeFunction::from_fn_ptr(trap_get), js_string!("get"), 3)
        .function(NativeFunction::from_fn_ptr(trap_set), js_string!("set"), 4)
        .function(NativeFunction::from_fn_ptr(trap_has), js_string!("has"), 2)
        .function(NativeFunction::from_fn_ptr(trap_delete), js_string!("deleteProperty"), 2)
        .function(NativeFunction::from_fn_ptr(trap_define), js_string!("defineProperty"), 3)
        .function(NativeFunction::from_fn_ptr(trap_own_keys), js_string!("ownKeys"), 1)
        .function(NativeFunction::from_fn_ptr(trap_descriptor), js_string!("getOwnPropertyDescriptor"), 2)
        .function(NativeFunction::from_fn_ptr(trap_prevent_extensions), js_string!("preventExtensions"), 1)
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

/// The script's view of `documents` (payload, request: JSON text), for one call. Invalidates
/// the previous call's lazy objects. `Err(Ok(message))` when a document is not JSON.
pub(crate) fn documents<const N: usize>(
    documents: [(&str, &[u8]); N],
    context: &mut Context,
) -> Result<[JsValue; N], Result<String, boa_engine::JsError>> {
    release();
    let mut roots = [0u32; N];
    DOCUMENTS.with_borrow_mut(|index| {
        for ((what, text), root) in documents.iter().zip(&mut roots) {
            *root = index.push(text).map_err(|e| Ok(format!("the {what} is not valid JSON: {e}")))?;
        }
        CONVERTED.with_borrow_mut(|converted| converted.resize(index.nodes.len(), None));
        Ok::<(), Result<String, boa_engine::JsError>>(())
    })?;
    let mut values = Vec::with_capacity(N);
    for root in roots {
        values.push(convert(root, context).map_err(Err)?);
    }
    values.try_into().map_err(|_| Err(JsNativeError::typ().with_message("lost a document").into()))
}

/// Drops the current call's documents and lazy objects.
pub(crate) fn release() {
    LAZY.with_borrow_mut(HashMap::clear);
    CONVERTED.with_borrow_mut(Vec::clear);
    DOCUMENTS.with_borrow_mut(Index::clear);
}

/// What sits at a node, without borrowing the documents.
enum Shape {
    /// Already converted.
    Value(JsValue),
    /// An array: its elements' nodes.
    Array(Vec<u32>),
    /// An object: becomes a lazy proxy.
    Object,
}

/// Converts the value at `node`: primitives and arrays now, objects as lazy proxies.
fn convert(node: u32, context: &mut Context) -> JsResult<JsValue> {
    let shape = DOCUMENTS.with_borrow(|index| {
        let Some(n) = index.node(node) else {
            return Shape::Value(JsValue::undefined());
        };
        match n.kind {
            Kind::Null => Shape::Value(JsValue::null()),
            Kind::Bool(b) => Shape::Value(JsValue::from(b)),
            Kind::Number => Shape::Value(match json::number(index.raw(n.start, n.end)) {
                json::Number::Int(i) => match i32::try_from(i) {
                    Ok(i) => JsValue::from(i),
                    Err(_) => JsValue::from(i as f64),
                },
                json::Number::Float(f) => JsValue::from(f),
            }),
            Kind::String => Shape::Value(JsValue::from(js_text(index.text(n.start, n.end, n.escaped)))),
            Kind::Array => Shape::Array(index.children(node).collect()),
            Kind::Object => Shape::Object,
        }
    });
    match shape {
        Shape::Value(value) => Ok(value),
        Shape::Array(children) => {
            let mut items = Vec::with_capacity(children.len());
            for child in children {
                items.push(convert(child, context)?);
            }
            Ok(JsArray::from_iter(items, context).into())
        }
        Shape::Object => {
            let (proxy, handler) = HELPERS.with_borrow(|h| match h {
                Some(h) => Ok((h.proxy.clone(), h.handler.clone())),
                None => Err(JsNativeError::typ().with_message("the payload helpers are missing")),
            })?;
            let target = JsObject::with_object_proto(context.intrinsics());
            LAZY.with_borrow_mut(|lazy| lazy.insert(target.clone(), Lazy::Pending(node)));
            let proxy = proxy.construct(&[target.into(), handler.into()], None, context)?;
            Ok(proxy.into())
        }
    }
}

/// A document's string as a JavaScript string.
fn js_text(text: Text<'_>) -> JsString {
    match text {
        Text::Plain(text) => JsString::from(text),
        Text::Decoded(units) => JsString::from(units.as_slice()),
    }
}

/// The converted value of member `node`, converting it on first use.
fn member_value(node: u32, context: &mut Context) -> JsResult<JsValue> {
    let cached = CONVERTED.with_borrow(|converted| converted.get(node as usize).cloned().flatten());
    if let Some(value) = cached {
        return Ok(value);
    }
    let value = convert(node, context)?;
    CONVERTED.with_borrow_mut(|converted| {
        if let Some(slot) = converted.get_mut(node as usize) {
            *slot = Some(value.clone());
        }
    });
    Ok(value)
}

/// The target argument of a trap.
fn target(args: &[JsValue]) -> JsResult<JsObject> {
    args.first()
        .and_then(JsValue::as_object)
        .ok_or_else(|| JsNativeError::typ().with_message("not a payload object").into())
}

/// The ordinary object behind `target`, converting its whole level on first use.
fn materialize(target: &JsObject, context: &mut Context) -> JsResult<JsObject> {
    let state = LAZY.with_borrow(|lazy| match lazy.get(target) {
        Some(Lazy::Ready(object)) => Some(Err(object.clone())),
        Some(Lazy::Pending(node)) => Some(Ok(*node)),
        None => None,
    });
    let node = match state {
        Some(Err(ready)) => return Ok(ready),
        Some(Ok(node)) => node,
        None => {
            return Err(JsNativeError::typ()
                .with_message("the payload of an earlier event is no longer available")
                .into());
        }
    };
    let members: Vec<(JsString, u32)> = DOCUMENTS.with_borrow(|index| {
        index
            .children(node)
            .filter_map(|child| {
                let n = index.node(child)?;
                Some((js_text(index.text(n.key_start, n.key_end, n.key_escaped)), child))
            })
            .collect()
    });
    // Converted into the target itself: the proxy invariants then hold trivially, also once the
    // object is made non-extensible or frozen. A repeated key keeps its first place and its
    // last value, as JSON parsers do.
    let object = target.clone();
    for (key, child) in members {
        let value = member_value(child, context)?;
        object.create_data_property_or_throw(key, value, context)?;
    }
    LAZY.with_borrow_mut(|lazy| lazy.insert(target.clone(), Lazy::Ready(object.clone())));
    Ok(object)
}

/// Calls `Reflect[which]` with the converted object in place of the target.
fn forward(which: usize, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let object = materialize(&target(args)?, context)?;
    let function = HELPERS.with_borrow(|h| h.as_ref().map(|h| h.reflect[which].clone()));
    let function = function.ok_or_else(|| JsNativeError::typ().with_message("the payload helpers are missing"))?;
    let mut forwarded = Vec::with_capacity(args.len());
    forwarded.push(JsValue::from(object));
    forwarded.extend(args.iter().skip(1).cloned());
    function.call(&JsValue::undefined(), &forwarded, context)
}

/// What `get` finds for a key of a pending object.
enum Found {
    /// A payload property, at this node.
    Member(u32),
    /// Not a payload property: look it up on `Object.prototype`.
    Inherited,
    /// The object is converted: forward.
    Ready,
}

/// `get`: converts only the property read.
fn trap_get(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let target = target(args)?;
    let state = LAZY.with_borrow(|lazy| match lazy.get(&target) {
        Some(Lazy::Pending(node)) => Some(*node),
        _ => None,
    });
    let found = match (state, args.get(1).and_then(JsValue::as_string)) {
        (None, _) => Found::Ready,
        (Some(_), None) => Found::Inherited,
        (Some(node), Some(key)) => {
            let key = json::Key::new(key.as_str());
            DOCUMENTS.with_borrow(|index| {
                // The last member with this key, as JSON parsers keep it.
                let member = index
                    .children(node)
                    .filter(|&child| index.node(child).is_some_and(|n| index.key_is(n, &key)))
                    .last();
                match member {
                    Some(member) => {
                        note_read(index, member);
                        Found::Member(member)
                    }
                    None => Found::Inherited,
                }
            })
        }
    };
    match found {
        Found::Member(member) => member_value(member, context),
        Found::Inherited => {
            let prototype = HELPERS.with_borrow(|h| h.as_ref().map(|h| h.object_prototype.clone()));
            let prototype =
                prototype.ok_or_else(|| JsNativeError::typ().with_message("the payload helpers are missing"))?;
            let key = args.get(1).cloned().unwrap_or_default().to_property_key(context)?;
            let receiver = args.get(2).cloned().unwrap_or_default();
            inherited_get(&prototype, key, receiver, context)
        }
        Found::Ready => forward(GET, args, context),
    }
}

/// `prototype[key]` with `receiver` as `this` for getters. A key the (frozen) prototype chain
/// lacks, the common case of a property missing from the payload, is `undefined` without a call.
fn inherited_get(
    prototype: &JsObject,
    key: PropertyKey,
    receiver: JsValue,
    context: &mut Context,
) -> JsResult<JsValue> {
    if !prototype.has_property(key.clone(), context)? {
        return Ok(JsValue::undefined());
    }
    let function = HELPERS.with_borrow(|h| h.as_ref().map(|h| h.reflect[GET].clone()));
    let function = function.ok_or_else(|| JsNativeError::typ().with_message("the payload helpers are missing"))?;
    let key: JsValue = match key {
        PropertyKey::String(s) => s.into(),
        PropertyKey::Symbol(s) => s.into(),
        PropertyKey::Index(i) => JsValue::from(i.get()),
    };
    function.call(&JsValue::undefined(), &[prototype.clone().into(), key, receiver], context)
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
fn trap_prevent_extensions(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    forward(PREVENT_EXTENSIONS, args, context)
}
