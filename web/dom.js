// Small DOM helpers: element creation, announcements, debouncing.

/** Creates an element: h('button', {type: 'button', onclick: f}, 'Save'). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Says `message` to screen readers (polite) and shows it briefly. */
export function announce(message) {
  const status = document.getElementById('status');
  status.textContent = '';
  setTimeout(() => { status.textContent = message; }, 30);
  toast(message);
}

let toastTimer;
function toast(message) {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', {id: 'toast', class: 'toast', 'aria-hidden': 'true'});
    document.body.append(el);
  }
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

/** Shows an error in the page's alert region (announced at once); `null` hides it. */
export function showError(error) {
  const alert = document.getElementById('alert');
  if (!error) {
    alert.hidden = true;
    alert.textContent = '';
    return;
  }
  const text = typeof error === 'string' ? error : error.message;
  fill(alert, h('span', {}, text), ' ',
    h('button', {type: 'button', class: 'link', onclick: () => showError(null)}, 'Dismiss'));
  alert.hidden = false;
}

/** Calls `fn` once edits have paused for `ms` milliseconds. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A unique id for label/aria wiring. */
let next = 0;
export function uid(prefix) {
  next += 1;
  return `${prefix}-${next}`;
}

/** Copies `text` to the clipboard and announces it. */
export async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h('textarea', {class: 'sr-only', 'aria-hidden': 'true'});
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  announce(`${what} copied`);
}

/** A problem as `path: message` (the path only when the message does not start with it). */
export function problem(error) {
  return error.path && !error.message.startsWith(error.path) ? `${error.path}: ${error.message}` : error.message;
}

/** Formats an RFC 3339 time for people. */
export function when(time) {
  if (!time) return '';
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toLocaleString();
}
