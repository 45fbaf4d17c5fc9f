// The Structured tab: one row per target field, each a JSONPath input with a drop-down
// of the sample's properties, or a constant, a template, or a path with a default.

import {h, uid} from './dom.js';

const FORMS = [['path', 'JSONPath'], ['const', 'Constant'], ['template', 'Template'], ['default', 'JSONPath with default']];
const GROUPS = [
  ['detail', 'Detail', 'Key/value pairs shown on the card.'],
  ['notificationDetail', 'Notification detail', 'What the notification shows or links to (any JSON).'],
  ['metadata', 'Metadata', 'Kept with the event, not displayed (any JSON).'],
];

/** A constant as typed: JSON when it parses as JSON, else the text itself. */
function constant(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The LEAF of a row, or undefined when the row is empty. */
function leaf(row) {
  const value = row.value.value.trim();
  if (!value) return undefined;
  switch (row.form.value) {
    case 'const': return {const: constant(value)};
    case 'template': return {template: row.value.value};
    case 'default': return {path: value, default: constant(row.fallback.value)};
    default: return value.startsWith('$') ? value : {const: value};
  }
}

/** The row form and texts of a LEAF of a saved mapping. */
function fromLeaf(value) {
  if (typeof value === 'string') return value.startsWith('$') ? ['path', value] : ['const', value];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('template' in value) return ['template', value.template];
    if ('path' in value) return ['default', value.path, JSON.stringify(value.default ?? null)];
    if ('const' in value) return ['const', typeof value.const === 'string' ? value.const : JSON.stringify(value.const)];
  }
  return ['const', JSON.stringify(value)];
}

/**
 * Creates the Structured tab. `properties()` gives the sample's properties; `onInput` is
 * called after every change.
 */
export function createStructured({properties, onInput}) {
  const users = [];
  const groups = Object.fromEntries(GROUPS.map(([name]) => [name, []]));
  const usersList = h('div', {class: 'rows'});
  const groupLists = Object.fromEntries(GROUPS.map(([name]) => [name, h('div', {class: 'rows'})]));

  const addRow = (group, key = '', init = ['path', '']) => {
    const list = group === 'usersById' ? users : groups[group];
    const row = makeRow(group, key, init, properties, onInput, () => {
      list.splice(list.indexOf(row), 1);
      row.root.remove();
      renumber();
      onInput();
    });
    list.push(row);
    (group === 'usersById' ? usersList : groupLists[group]).append(row.root);
    renumber();
    return row;
  };
  const renumber = () => {
    users.forEach((row, i) => row.setField(users.length > 1 ? `payload.target.usersById[${i}]` : 'payload.target.usersById',
      users.length > 1 ? `user id ${i + 1}` : 'user id'));
    for (const [name] of GROUPS) groups[name].forEach((row) => row.setField());
  };

  const root = h('div', {class: 'structured'},
    h('fieldset', {}, h('legend', {}, 'Target: usersById'),
      h('p', {class: 'hint'}, 'Who the event is for: a JSONPath to the user id (required).'),
      usersList,
      h('button', {type: 'button', onclick: () => addRow('usersById').value.focus()}, 'Add user id')),
    GROUPS.map(([name, title, hint]) => h('fieldset', {}, h('legend', {}, title),
      h('p', {class: 'hint'}, hint),
      groupLists[name],
      h('button', {type: 'button', onclick: () => addRow(name).key.focus()}, `Add ${title.toLowerCase()} field`))));

  const clear = () => {
    users.splice(0).forEach((r) => r.root.remove());
    for (const [name] of GROUPS) groups[name].splice(0).forEach((r) => r.root.remove());
  };

  return {
    root,
    /** The structured mapping document of the rows. */
    source() {
      const leaves = users.map(leaf).filter((l) => l !== undefined);
      const payload = {target: {usersById: leaves.length === 1 ? leaves[0] : leaves}};
      for (const [name] of GROUPS) {
        const object = {};
        for (const row of groups[name]) {
          const value = leaf(row);
          if (value !== undefined) object[row.key.value.trim()] = value;
        }
        if (Object.keys(object).length) payload[name] = object;
      }
      return {payload};
    },
    /** Fills the rows from a structured mapping document (or empty rows for none). */
    load(doc) {
      clear();
      const payload = (doc && doc.payload) || {};
      const ids = payload.target && payload.target.usersById;
      const list = ids === undefined ? [] : Array.isArray(ids) ? ids : [ids];
      if (!list.length) addRow('usersById');
      for (const id of list) addRow('usersById', '', fromLeaf(id));
      for (const [name] of GROUPS) {
        for (const [key, value] of Object.entries(payload[name] || {})) addRow(name, key, fromLeaf(value));
      }
      if (!groups.detail.length) addRow('detail');
    },
    /** Shows each error at its row; returns the errors no row took. */
    showErrors(errors) {
      const rows = [...users, ...GROUPS.flatMap(([name]) => groups[name])];
      for (const row of rows) row.setError('');
      const rest = [];
      for (const error of errors) {
        const path = error.path || '';
        const row = rows.filter((r) => r.field && (path === r.field || path.startsWith(`${r.field}.`) || path.startsWith(`${r.field}[`)))
          .sort((a, b) => b.field.length - a.field.length)[0];
        if (row) row.setError(error.message);
        else rest.push(error);
      }
      return rest;
    },
  };
}

function makeRow(group, keyText, [form, value, fallback], properties, onInput, remove) {
  const id = uid('row');
  const groupName = group === 'usersById' ? 'user id' : GROUPS.find(([g]) => g === group)[1].toLowerCase();
  const key = group === 'usersById' ? null : h('input', {id: `${id}-key`, class: 'key', value: keyText,
    autocomplete: 'off', 'aria-label': `${groupName} key`, placeholder: 'key'});
  const formSelect = h('select', {id: `${id}-form`},
    FORMS.map(([v, label]) => h('option', {value: v, selected: v === form}, label)));
  const input = h('input', {id: `${id}-value`, class: 'value', value, autocomplete: 'off', spellcheck: 'false'});
  const fallbackInput = h('input', {id: `${id}-default`, class: 'fallback', value: fallback ?? '', autocomplete: 'off',
    placeholder: 'default (JSON or text)'});
  const error = h('p', {id: `${id}-error`, class: 'field-error', 'aria-live': 'polite'});
  const combo = combobox(input, properties, () => formSelect.value, () => onInput());
  const removeButton = h('button', {type: 'button', class: 'icon', onclick: remove}, '✕');
  const row = {
    field: null,
    fixed: null,
    key: key || {value: ''},
    form: formSelect,
    value: input,
    fallback: fallbackInput,
    root: h('div', {class: key ? 'row' : 'row no-key'}, key, formSelect, h('div', {class: 'combo'}, input, combo), fallbackInput, removeButton, error),
    setField(field, name) {
      if (field) row.fixed = {field, name};
      row.field = row.fixed ? row.fixed.field : key && key.value.trim() ? `payload.${group}.${key.value.trim()}` : null;
      const label = row.fixed ? row.fixed.name : `${groupName} ${key && key.value.trim() ? key.value.trim() : '(new)'}`;
      formSelect.setAttribute('aria-label', `Form of ${label}`);
      input.setAttribute('aria-label', `${FORMS.find(([v]) => v === formSelect.value)[1]} of ${label}`);
      fallbackInput.setAttribute('aria-label', `Default of ${label}`);
      removeButton.setAttribute('aria-label', `Remove ${label}`);
      root().dataset.field = row.field || '';
    },
    setError(message) {
      error.textContent = message;
      input.setAttribute('aria-invalid', message ? 'true' : 'false');
      input.setAttribute('aria-describedby', `${id}-error`);
    },
  };
  const root = () => row.root;
  const placeholders = {path: '$.data.object.id', const: 'a constant (JSON or text)', template: 'Hi {$.first} {$.last}', default: '$.data.object.id'};
  const formChanged = () => {
    fallbackInput.hidden = formSelect.value !== 'default';
    input.placeholder = placeholders[formSelect.value];
    row.setField();
  };
  formSelect.addEventListener('change', () => {
    formChanged();
    onInput();
  });
  for (const el of [input, fallbackInput]) el.addEventListener('input', onInput);
  if (key) {
    key.addEventListener('input', () => {
      row.setField();
      onInput();
    });
  }
  formChanged();
  return row;
}

/** The properties drop-down of a value input (ARIA combobox with a listbox). */
function combobox(input, properties, form, changed) {
  const listId = uid('props');
  const list = h('ul', {id: listId, role: 'listbox', class: 'listbox', hidden: true});
  let options = [];
  let active = -1;
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', listId);

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const highlight = (i) => {
    active = i;
    options.forEach((el, j) => el.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    if (options[i]) {
      input.setAttribute('aria-activedescendant', options[i].id);
      options[i].scrollIntoView({block: 'nearest'});
    }
  };
  const choose = (path) => {
    if (form() === 'template') {
      input.setRangeText(`{${path}}`, input.selectionStart, input.selectionEnd, 'end');
    } else {
      input.value = path;
    }
    close();
    changed();
  };
  const open = () => {
    if (form() === 'const') return;
    const typed = form() === 'template' ? '' : input.value.trim().toLowerCase();
    const all = properties();
    const shown = all.filter((p) => !typed || p.path.toLowerCase().includes(typed) || typed === '$');
    const items = shown.length ? shown : all;
    options = items.map((p, i) => h('li', {id: `${listId}-${i}`, role: 'option', 'aria-selected': 'false',
      onmousedown: (event) => {
        event.preventDefault();
        choose(p.path);
      }},
    h('code', {}, p.path), ' ', h('span', {class: 'type'}, p.types.join(' | ')),
    p.example !== undefined ? h('span', {class: 'example'}, JSON.stringify(p.example)) : null));
    list.replaceChildren(...options);
    if (!options.length) {
      close();
      return;
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };

  input.addEventListener('keydown', (event) => {
    const isOpen = !list.hidden;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!isOpen) open();
      highlight(Math.min(active + 1, options.length - 1));
    } else if (event.key === 'ArrowUp' && isOpen) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === 'Enter' && isOpen && active >= 0) {
      event.preventDefault();
      choose(options[active].querySelector('code').textContent);
    } else if (event.key === 'Escape' && isOpen) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener('focus', open);
  input.addEventListener('click', open);
  input.addEventListener('input', () => {
    if (form() !== 'template') open();
  });
  input.addEventListener('blur', close);
  return list;
}
