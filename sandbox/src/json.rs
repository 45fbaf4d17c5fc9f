//! A one-pass index of raw JSON text, read in place: the lazy payload (`lazy.rs`) converts only
//! what the script reads, so the document is checked and indexed once, without building a tree
//! of owned values (no allocation per string, no hash maps) that each call would then drop.
//!
//! Every value is a [`Node`] in document order; a container's children follow it, and each node
//! knows where its subtree ends, so a container's children are walked by skipping subtrees.

use boa_engine::string::{JsStr, JsStrVariant};

/// Deepest nesting of arrays and objects accepted (the limit `serde_json` applies).
const DEPTH_LIMIT: usize = 128;

/// The kind of a JSON value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number; its text is the literal.
    Number,
    /// A string; its text is between the quotes, escapes not decoded.
    String,
    /// An array.
    Array,
    /// An object; its children are its members' values, each with its key.
    Object,
}

/// One value of an indexed document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// What it is.
    pub(crate) kind: Kind,
    /// A scalar's text's byte range (a string's without the quotes); empty for a container.
    pub(crate) start: u32,
    /// See `start`.
    pub(crate) end: u32,
    /// Whether a string's text holds escapes.
    pub(crate) escaped: bool,
    /// For a member of an object: its key's byte range, without the quotes.
    pub(crate) key_start: u32,
    /// See `key_start`.
    pub(crate) key_end: u32,
    /// Whether the key holds escapes.
    pub(crate) key_escaped: bool,
    /// The index just past this node's subtree (its next sibling's, if any).
    pub(crate) next: u32,
    /// The number of children of an array or object.
    pub(crate) len: u32,
    /// Its container's index (`u32::MAX` for a document's root).
    pub(crate) parent: u32,
}

/// Documents indexed one after the other over one text.
#[derive(Default)]
pub(crate) struct Index {
    /// The text of every document, concatenated.
    pub(crate) text: Vec<u8>,
    /// Every value, in document order.
    pub(crate) nodes: Vec<Node>,
}

/// Why a text is not JSON, and where.
#[derive(Debug)]
pub(crate) struct Invalid {
    /// What was wrong.
    pub(crate) what: &'static str,
    /// Byte offset in the document.
    pub(crate) at: usize,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl Index {
    /// Forgets every document, keeping the allocations for the next ones.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.nodes.clear();
    }

    /// Appends and indexes `document`; returns its root's index.
    pub(crate) fn push(&mut self, document: &[u8]) -> Result<u32, Invalid> {
        let base = self.text.len();
        let nodes = self.nodes.len();
        self.text.extend_from_slice(document);
        let parsed = Parser { index: self, base, at: base }.document();
        if parsed.is_err() {
            self.text.truncate(base);
            self.nodes.truncate(nodes);
        }
        parsed.map_err(|e| Invalid { what: e.what, at: e.at - base })
    }

    /// The node at `at`.
    pub(crate) fn node(&self, at: u32) -> Option<&Node> {
        self.nodes.get(at as usize)
    }

    /// The children of the container at `at` (indexes), in document order.
    pub(crate) fn children(&self, at: u32) -> Children<'_> {
        let (next, left) = match self.node(at) {
            Some(node) if matches!(node.kind, Kind::Array | Kind::Object) => (at + 1, node.len),
            _ => (0, 0),
        };
        Children { index: self, next, left }
    }

    /// The raw text of `start..end`.
    pub(crate) fn raw(&self, start: u32, end: u32) -> &[u8] {
        self.text.get(start as usize..end as usize).unwrap_or_default()
    }

    /// A string's text (or a key's), decoded into UTF-16 when it holds escapes.
    pub(crate) fn text(&self, start: u32, end: u32, escaped: bool) -> Text<'_> {
        let raw = self.raw(start, end);
        if !escaped {
            // Checked as UTF-8 when indexed.
            return Text::Plain(std::str::from_utf8(raw).unwrap_or_default());
        }
        Text::Decoded(decode(raw))
    }

    /// Whether the key of member `node` is `key`: compared in place when both are ASCII
    /// without escapes, decoded only when they are not.
    pub(crate) fn key_is(&self, node: &Node, key: &Key<'_>) -> bool {
        let raw = self.raw(node.key_start, node.key_end);
        match key {
            // A raw key that is not ASCII decodes to characters beyond ASCII: it differs too.
            Key::Ascii(bytes) if !node.key_escaped => raw == *bytes,
            Key::Ascii(bytes) => self.decoded_key_is(node, JsStr::latin1(bytes)),
            Key::Other(key) => self.decoded_key_is(node, *key),
        }
    }

    /// [`Index::key_is`] on the decoded key.
    fn decoded_key_is(&self, node: &Node, key: JsStr<'_>) -> bool {
        let units: Vec<u16> = match self.text(node.key_start, node.key_end, node.key_escaped) {
            Text::Plain(text) => text.encode_utf16().collect(),
            Text::Decoded(units) => units,
        };
        units.len() == key.len() && units.iter().copied().eq(key.iter())
    }
}

/// A property name to look up among an object's members, prepared once per lookup.
pub(crate) enum Key<'a> {
    /// An ASCII name: compared byte for byte with keys that have no escapes.
    Ascii(&'a [u8]),
    /// Any other name.
    Other(JsStr<'a>),
}

impl<'a> Key<'a> {
    /// Prepares `name`.
    pub(crate) fn new(name: JsStr<'a>) -> Self {
        match name.variant() {
            JsStrVariant::Latin1(bytes) if bytes.is_ascii() => Key::Ascii(bytes),
            _ => Key::Other(name),
        }
    }
}

/// A string's text: as it is, or decoded.
pub(crate) enum Text<'a> {
    /// No escapes: the text itself.
    Plain(&'a str),
    /// Decoded from its escapes (possibly with lone surrogates, which JavaScript strings allow).
    Decoded(Vec<u16>),
}

impl Text<'_> {
    /// The text as a Rust string (lone surrogates replaced).
    pub(crate) fn to_string_lossy(&self) -> String {
        match self {
            Text::Plain(text) => (*text).to_owned(),
            Text::Decoded(units) => String::from_utf16_lossy(units),
        }
    }
}

/// The children of a container; see [`Index::children`].
pub(crate) struct Children<'a> {
    /// The index.
    index: &'a Index,
    /// The next child's index.
    next: u32,
    /// Children not yet returned.
    left: u32,
}

impl Iterator for Children<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.left == 0 {
            return None;
        }
        let at = self.next;
        self.left -= 1;
        self.next = self.index.node(at)?.next;
        Some(at)
    }
}

/// Decodes the escapes of a string's text (valid: checked when indexed) into UTF-16.
fn decode(raw: &[u8]) -> Vec<u16> {
    let text = std::str::from_utf8(raw).unwrap_or_default();
    let mut units = Vec::with_capacity(raw.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buffer));
            continue;
        }
        let unit = match chars.next() {
            Some('b') => 0x08,
            Some('f') => 0x0c,
            Some('n') => 0x0a,
            Some('r') => 0x0d,
            Some('t') => 0x09,
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&hex, 16).unwrap_or(0xfffd)
            }
            Some(other) => other as u16, // `"`, `\` and `/`
            None => break,
        };
        units.push(unit);
    }
    units
}

/// Indexes one document at the end of an [`Index`].
struct Parser<'a> {
    /// Where the nodes go; its text holds the document from `base`.
    index: &'a mut Index,
    /// Where the document starts in the text.
    base: usize,
    /// The current byte.
    at: usize,
}

/// A container being indexed.
struct Open {
    /// Its node's index.
    node: u32,
    /// Whether it is an object.
    object: bool,
}

impl Parser<'_> {
    /// Indexes the whole document: one value, surrounded by whitespace only.
    fn document(mut self) -> Result<u32, Invalid> {
        if std::str::from_utf8(&self.index.text[self.base..]).is_err() {
            return Err(self.invalid("not UTF-8"));
        }
        let root = self.index.nodes.len() as u32;
        let mut open: Vec<Open> = Vec::new();
        let mut key = (0, 0, false);
        loop {
            self.whitespace();
            let parent = open.last().map_or(u32::MAX, |o| o.node);
            let at = self.index.nodes.len() as u32;
            let (kind, start, end, escaped) = match self.peek() {
                Some(b'{') | Some(b'[') => {
                    if open.len() >= DEPTH_LIMIT {
                        return Err(self.invalid("nested too deeply"));
                    }
                    let object = self.peek() == Some(b'{');
                    self.at += 1;
                    let kind = if object { Kind::Object } else { Kind::Array };
                    self.add(kind, (self.at as u32, self.at as u32, false), key, parent);
                    open.push(Open { node: at, object });
                    self.whitespace();
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                        open.pop();
                        self.close(at);
                    } else {
                        if object {
                            key = self.key()?;
                        }
                        continue;
                    }
                    if !self.after_value(&mut open, &mut key)? {
                        break;
                    }
                    continue;
                }
                Some(b'"') => {
                    let (start, end, escaped) = self.string()?;
                    (Kind::String, start, end, escaped)
                }
                Some(b't') => self.literal(b"true", Kind::Bool(true))?,
                Some(b'f') => self.literal(b"false", Kind::Bool(false))?,
                Some(b'n') => self.literal(b"null", Kind::Null)?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => return Err(self.invalid("expected a value")),
            };
            self.add(kind, (start, end, escaped), key, parent);
            self.close(at);
            if !self.after_value(&mut open, &mut key)? {
                break;
            }
        }
        self.whitespace();
        if self.at != self.index.text.len() {
            return Err(self.invalid("trailing characters"));
        }
        Ok(root)
    }

    /// After a value: a comma (and, in an object, the next key) or the containers' ends. Returns
    /// whether another value follows.
    fn after_value(&mut self, open: &mut Vec<Open>, key: &mut (u32, u32, bool)) -> Result<bool, Invalid> {
        loop {
            let Some(container) = open.last() else {
                return Ok(false);
            };
            let (node, object) = (container.node, container.object);
            if let Some(n) = self.index.nodes.get_mut(node as usize) {
                n.len += 1;
            }
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    if object {
                        self.whitespace();
                        *key = self.key()?;
                    }
                    return Ok(true);
                }
                Some(b'}') if object => {}
                Some(b']') if !object => {}
                _ => return Err(self.invalid(if object { "expected `,` or `}`" } else { "expected `,` or `]`" })),
            }
            self.at += 1;
            open.pop();
            self.close(node);
        }
    }

    /// A member's key and its colon.
    fn key(&mut self) -> Result<(u32, u32, bool), Invalid> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid("expected a key"));
        }
        let key = self.string()?;
        self.whitespace();
        if self.peek() != Some(b':') {
            return Err(self.invalid("expected `:`"));
        }
        self.at += 1;
        Ok(key)
    }

    /// Adds a node.
    fn add(&mut self, kind: Kind, (start, end, escaped): (u32, u32, bool), key: (u32, u32, bool), parent: u32) {
        let in_object = self.index.nodes.get(parent as usize).is_some_and(|p| p.kind == Kind::Object);
        let (key_start, key_end, key_escaped) = if in_object { key } else { (0, 0, false) };
        let next = self.index.nodes.len() as u32 + 1;
        self.index.nodes.push(Node {
            kind,
            start,
            end,
            escaped,
            key_start,
            key_end,
            key_escaped,
            next,
            len: 0,
            parent,
        });
    }

    /// Marks the subtree of `node` as ending here.
    fn close(&mut self, node: u32) {
        let next = self.index.nodes.len() as u32;
        if let Some(n) = self.index.nodes.get_mut(node as usize) {
            n.next = next;
        }
    }

    /// The current byte.
    fn peek(&self) -> Option<u8> {
        self.index.text.get(self.at).copied()
    }

    /// Skips JSON whitespace.
    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// An error at the current byte.
    fn invalid(&self, what: &'static str) -> Invalid {
        Invalid { what, at: self.at }
    }

    /// `true`, `false` or `null`.
    fn literal(&mut self, word: &[u8], kind: Kind) -> Result<(Kind, u32, u32, bool), Invalid> {
        let start = self.at;
        if self.index.text.get(start..start + word.len()) != Some(word) {
            return Err(self.invalid("expected a value"));
        }
        self.at += word.len();
        Ok((kind, start as u32, self.at as u32, false))
    }

    /// A string starting at its opening quote: its text's range and whether it holds escapes.
    fn string(&mut self) -> Result<(u32, u32, bool), Invalid> {
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err(self.invalid("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 1,
                        Some(b'u') => {
                            let hex = self.index.text.get(self.at + 1..self.at + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.invalid("invalid \\u escape"));
                            }
                            self.at += 5;
                        }
                        _ => return Err(self.invalid("invalid escape")),
                    }
                }
                Some(0..0x20) => return Err(self.invalid("control character in a string")),
                Some(_) => self.at += 1,
            }
        }
        let end = self.at;
        self.at += 1;
        Ok((start as u32, end as u32, escaped))
    }

    /// A number literal.
    fn number(&mut self) -> Result<(Kind, u32, u32, bool), Invalid> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.invalid("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.invalid("invalid number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.invalid("invalid number"));
            }
            self.digits();
        }
        Ok((Kind::Number, start as u32, self.at as u32, false))
    }

    /// Skips ASCII digits.
    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

/// The value of a number literal (checked when indexed): an integer when it is one that fits,
/// else the nearest double, as `serde_json` reads it.
pub(crate) enum Number {
    /// An integer.
    Int(i64),
    /// Anything else.
    Float(f64),
}

/// Reads a number literal.
pub(crate) fn number(raw: &[u8]) -> Number {
    let text = std::str::from_utf8(raw).unwrap_or_default();
    if !text.contains(['.', 'e', 'E'])
        && let Ok(i) = text.parse::<i64>()
    {
        return Number::Int(i);
    }
    Number::Float(text.parse::<f64>().unwrap_or(f64::NAN))
}
