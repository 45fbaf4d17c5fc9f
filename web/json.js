// JSON checked as the author types: the first error with its line and column.

/** Parses `text`: {value} or {error: {line, col, message}} (line and column from 1). */
export function parseJson(text) {
  const error = check(text);
  if (error) return {error};
  return {value: JSON.parse(text)};
}

/** Formats a parse error as `line:col message`. */
export function describe(error) {
  return `${error.line}:${error.col} ${error.message}`;
}

/** What `separator` answers when another member or element follows. */
const MORE = Symbol('more');

function check(text) {
  let i = 0;
  const fail = (message, at = i) => {
    const before = text.slice(0, at).split('\n');
    return {line: before.length, col: before[before.length - 1].length + 1, message};
  };
  const found = () => (i >= text.length ? 'the end of the text' : `'${text[i]}'`);
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i += 1;
  };
  const literal = (word) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return null;
    }
    return fail(`expected a value, found ${found()}`);
  };
  const string = () => {
    i += 1;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i += 1;
        return null;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('invalid \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return fail('invalid escape in a string');
        }
      } else if (c < ' ') {
        return fail('control character in a string (write \\n or \\t)');
      } else {
        i += 1;
      }
    }
    return fail('unterminated string');
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '-' || match[0] === '') return fail(`expected a value, found ${found()}`);
    i += match[0].length;
    return null;
  };
  const value = (depth) => {
    if (depth > 127) return fail('nested deeper than 127 levels');
    space();
    const c = text[i];
    if (c === '{') return members(depth);
    if (c === '[') return elements(depth);
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    return fail(`expected a value, found ${found()}`);
  };
  // After a member or an element: ',' (another follows: MORE), the closing bracket (null), or
  // the error.
  const separator = (close) => {
    space();
    if (text[i] === ',') {
      i += 1;
      return MORE;
    }
    if (text[i] === close) {
      i += 1;
      return null;
    }
    return fail(`expected ',' or '${close}', found ${found()}`);
  };
  const members = (depth) => {
    i += 1;
    space();
    if (text[i] === '}') {
      i += 1;
      return null;
    }
    for (;;) {
      space();
      if (text[i] !== '"') return fail(`expected a property name in double quotes, found ${found()}`);
      const e = string();
      if (e) return e;
      space();
      if (text[i] !== ':') return fail(`expected ':' after the property name, found ${found()}`);
      i += 1;
      const v = value(depth + 1);
      if (v) return v;
      const next = separator('}');
      if (next !== MORE) return next;
    }
  };
  const elements = (depth) => {
    i += 1;
    space();
    if (text[i] === ']') {
      i += 1;
      return null;
    }
    for (;;) {
      const v = value(depth + 1);
      if (v) return v;
      const next = separator(']');
      if (next !== MORE) return next;
    }
  };
  if (!text.trim()) return fail('empty: paste a JSON document');
  const e = value(0);
  if (e) return e;
  space();
  if (i < text.length) return fail(`unexpected text after the JSON value: ${found()}`);
  return null;
}

/** The JavaScript expression for a JSONPath of the sample, on `payload`: $.a['b c'][*] → payload.a["b c"][0]. */
export function pathToScript(path) {
  let out = 'payload';
  const re = /\.([A-Za-z_$][\w$]*)|\[(\*|\d+)\]|\['((?:[^'\\]|\\.)*)'\]/g;
  let match;
  while ((match = re.exec(path.slice(1)))) {
    if (match[1] !== undefined) out += `.${match[1]}`;
    else if (match[2] !== undefined) out += match[2] === '*' ? '[0]' : `[${match[2]}]`;
    else out += `[${JSON.stringify(match[3].replace(/\\(.)/g, '$1'))}]`;
  }
  return out;
}
