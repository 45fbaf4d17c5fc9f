// A code editor on a textarea: line numbers, Tab indents (Shift+Tab outdents; Escape then
// Tab leaves the editor), the error line marked.

import {h} from './dom.js';

const INDENT = '  ';

/** Creates an editor; `onInput` is called after every change. */
export function createEditor({id, label, onInput}) {
  const gutter = h('div', {class: 'gutter', 'aria-hidden': 'true'});
  const area = h('textarea', {id, class: 'code', spellcheck: 'false', autocomplete: 'off', wrap: 'off',
    'aria-label': label, 'aria-describedby': `${id}-help ${id}-error`});
  const help = h('p', {id: `${id}-help`, class: 'hint'}, 'Tab indents, Shift+Tab outdents; press Escape, then Tab, to leave the editor.');
  const error = h('p', {id: `${id}-error`, class: 'field-error', 'aria-live': 'polite'});
  const goTo = h('button', {type: 'button', hidden: true, onclick: () => showLine(errorLine)});
  let escaped = false;
  let errorLine = 0;

  const numbers = () => {
    const count = area.value.split('\n').length;
    if (gutter.childElementCount !== count) {
      gutter.replaceChildren(...Array.from({length: count}, (_, i) => h('span', {}, String(i + 1))));
    }
    for (const span of gutter.querySelectorAll('.error-line')) span.classList.remove('error-line');
    if (errorLine > 0 && gutter.children[errorLine - 1]) gutter.children[errorLine - 1].classList.add('error-line');
    gutter.scrollTop = area.scrollTop;
  };
  const changed = () => {
    numbers();
    if (onInput) onInput();
  };
  area.addEventListener('input', changed);
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  area.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      escaped = true;
      return;
    }
    // Shift (for Shift+Tab) and the other modifiers alone keep the editor escaped.
    if (['Shift', 'Control', 'Alt', 'Meta'].includes(event.key)) return;
    if (event.key !== 'Tab' || escaped || event.ctrlKey || event.altKey || event.metaKey) {
      escaped = false;
      return;
    }
    event.preventDefault();
    indent(area, event.shiftKey);
    changed();
  });
  area.addEventListener('blur', () => { escaped = false; });

  const showLine = (line) => {
    const lines = area.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, text) => n + text.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || '').length);
    const height = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 4) * height);
    numbers();
  };
  const root = h('div', {class: 'editor'}, h('div', {class: 'editor-body'}, gutter, area), help, error, goTo);
  numbers();
  return {
    root,
    area,
    get value() { return area.value; },
    set value(text) {
      area.value = text;
      numbers();
    },
    /** Marks `line` (from 1; 0 for none) and shows `message` under the editor. */
    setError(line, message) {
      errorLine = line || 0;
      error.textContent = message || '';
      goTo.hidden = !errorLine;
      goTo.textContent = `Go to line ${errorLine}`;
      area.setAttribute('aria-invalid', message ? 'true' : 'false');
      numbers();
    },
  };
}

/** Indents (or outdents) the selected lines, or inserts an indent at the caret. */
function indent(area, outdent) {
  const {selectionStart: start, selectionEnd: end, value} = area;
  const lineStart = value.lastIndexOf('\n', start - 1) + 1;
  if (!outdent && start === end) {
    area.setRangeText(INDENT, start, end, 'end');
    return;
  }
  const lineEnd = end > start && value[end - 1] === '\n' ? end - 1 : end;
  const lines = value.slice(lineStart, lineEnd).split('\n');
  const changed = lines.map((line) => {
    if (!outdent) return INDENT + line;
    return line.startsWith(INDENT) ? line.slice(INDENT.length) : line.replace(/^ /, '');
  });
  const text = changed.join('\n');
  area.setRangeText(text, lineStart, lineEnd, 'preserve');
  const first = changed[0].length - lines[0].length;
  area.selectionStart = Math.max(lineStart, start + first);
  area.selectionEnd = lineStart + text.length + (end - lineEnd);
}
