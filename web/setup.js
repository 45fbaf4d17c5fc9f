// The setup screen of one trigger: sample (left), mapping tabs (centre), preview
// (top-right), mappable properties (bottom-right); Save, Send test card, Security
// settings, the lifecycle actions and the recent activity.

import {ApiError, get, post, put} from './api.js';
import {announce, copy, debounce, fill, h, showError} from './dom.js';
import {describe, parseJson, pathToScript} from './json.js';
import {createEditor} from './editor.js';
import {createStructured} from './structured.js';
import {openSecurity} from './security.js';
import {createActivity} from './activity.js';
import {actionButtons, statusBadge, urlField} from './triggers.js';

/** Renders the setup screen of trigger `id`; resolves to a function that leaves it. */
export async function renderSetup(main, id, focus) {
  let trigger = await get(`/api/triggers/${id}`);
  let properties = [];
  let savedSample = trigger.sample ? JSON.stringify(trigger.sample) : null;
  let tab = trigger.mapping && trigger.mapping.kind === 'script' ? 'script' : 'structured';
  let lastTarget = null;
  let capturing = false;
  let left = false;

  // ---- header: name, status, URL, lifecycle, Save, Send test card, Security settings ----
  const title = h('h1', {id: 'setup-title'});
  const status = h('div', {class: 'status-line'});
  const head = h('div', {class: 'setup-head'},
    h('div', {}, h('p', {class: 'crumbs'}, h('a', {href: '#/'}, 'Triggers'), ' › setup'), title, status),
    h('div', {class: 'actions main-actions'},
      h('button', {type: 'button', class: 'primary', onclick: () => save()}, 'Save'),
      h('button', {type: 'button', onclick: () => sendTestCard()}, 'Send test card'),
      h('button', {type: 'button', onclick: () => openSecurity(trigger, (t) => { trigger = t; renderHead(); }).catch(showError)},
        'Security settings')));
  const renderHead = () => {
    fill(title, trigger.name);
    fill(status, statusBadge(trigger), ' ', urlField(trigger), ' ',
      actionButtons(trigger, (changed) => {
        if (changed === null) {
          location.hash = '#/';
          return;
        }
        trigger = changed;
        renderHead();
        status.querySelector('[data-action]').focus();
        activity.refresh().catch(() => {});
      }),
      h('span', {class: 'hint'}, ` ${trigger.security.secretCount} secret(s)`, trigger.security.signature ? ', signed' : ', no signature check',
        trigger.security.allow.length ? `, ${trigger.security.allow.length} allowed address(es)` : ''));
  };

  // ---- sample (left) ----
  const sample = h('textarea', {id: 'sample', class: 'code', rows: 18, spellcheck: 'false', wrap: 'off',
    'aria-describedby': 'sample-error', placeholder: '{"id": "evt_1", "type": "…"}'});
  sample.value = trigger.sample ? JSON.stringify(trigger.sample, null, 2) : '';
  const sampleError = h('p', {id: 'sample-error', class: 'field-error', 'aria-live': 'polite'});
  const captureInfo = h('div', {class: 'capture', 'aria-live': 'polite'});
  const sampleValue = () => {
    const parsed = parseJson(sample.value);
    return parsed.error ? undefined : parsed.value;
  };
  const checkSample = () => {
    if (!sample.value.trim()) {
      sampleError.textContent = '';
      sample.setAttribute('aria-invalid', 'false');
      return;
    }
    const parsed = parseJson(sample.value);
    sampleError.textContent = parsed.error ? `Sample: ${describe(parsed.error)}` : '';
    sample.setAttribute('aria-invalid', parsed.error ? 'true' : 'false');
  };
  sample.addEventListener('input', () => {
    checkSample();
    schedule();
  });
  const getSample = async () => {
    try {
      const armed = await post(`/api/triggers/${id}/sample/capture`);
      capturing = true;
      fill(captureInfo, h('p', {}, 'Waiting for a request to ', h('code', {}, armed.url), ' '),
        h('button', {type: 'button', onclick: () => copy(armed.url, 'URL')}, 'Copy URL'), ' ',
        h('button', {type: 'button', onclick: () => { capturing = false; fill(captureInfo); announce('Stopped waiting for a sample'); }}, 'Stop waiting'));
      announce(`Capture armed: send a request to ${armed.url}`);
      while (capturing && !left) {
        const answer = await get(`/api/triggers/${id}/sample?wait=25`);
        if (!answer.capturing) {
          if (!capturing || left) return;
          capturing = false;
          sample.value = JSON.stringify(answer.sample, null, 2);
          savedSample = JSON.stringify(answer.sample);
          fill(captureInfo);
          checkSample();
          announce('Sample received');
          schedule();
          sample.focus();
        }
      }
    } catch (e) {
      capturing = false;
      fill(captureInfo);
      showError(e);
    }
  };
  const samplePanel = h('section', {class: 'panel sample', 'aria-labelledby': 'sample-title'},
    h('div', {class: 'panel-head'}, h('h2', {id: 'sample-title'}, 'Sample'),
      h('button', {type: 'button', onclick: getSample}, 'Get new sample')),
    h('label', {for: 'sample'}, 'Sample (JSON)'),
    h('p', {class: 'hint'}, 'Paste a typical body, or Get new sample and send one to the trigger\'s URL.'),
    captureInfo, sample, sampleError);

  // ---- mapping tabs (centre) ----
  const structured = createStructured({properties: () => properties, onInput: () => schedule()});
  const editor = createEditor({id: 'script', label: 'Script', onInput: () => schedule()});
  const limits = trigger.mapping ? trigger.mapping.limits : {timeMs: 50, memoryMb: 32};
  const timeLimit = h('input', {id: 'time-limit', type: 'number', min: 1, max: 10000, value: limits.timeMs});
  const memoryLimit = h('input', {id: 'memory-limit', type: 'number', min: 1, max: 1024, value: limits.memoryMb});
  const freshInstance = h('input', {id: 'fresh-instance', type: 'checkbox', 'aria-describedby': 'fresh-instance-help'});
  freshInstance.checked = Boolean(trigger.mapping && trigger.mapping.isolation === 'fresh');
  for (const input of [timeLimit, memoryLimit, freshInstance]) input.addEventListener('input', () => schedule());
  const presetSelect = h('select', {id: 'preset'});
  const presetSummary = h('p', {class: 'hint', 'aria-live': 'polite'});
  let presets = [];
  const loadPreset = async () => {
    try {
      const preset = await get(`/api/presets/scripts/${presetSelect.value}`);
      editor.value = preset.script;
      if (!sampleValue()) {
        sample.value = JSON.stringify(preset.sample, null, 2);
        checkSample();
      }
      announce(`Preset ${preset.name} loaded`);
      schedule();
      editor.area.focus();
      editor.area.setSelectionRange(0, 0);
      editor.area.scrollTop = 0;
    } catch (e) {
      showError(e);
    }
  };
  presetSelect.addEventListener('change', () => {
    const chosen = presets.find((p) => p.name === presetSelect.value);
    presetSummary.textContent = chosen ? chosen.summary : '';
  });
  if (trigger.mapping && trigger.mapping.kind === 'script') editor.value = trigger.mapping.source;
  let structuredDoc = null;
  if (trigger.mapping && trigger.mapping.kind === 'structured') {
    try {
      structuredDoc = JSON.parse(trigger.mapping.source);
    } catch {
      structuredDoc = null;
    }
  }
  structured.load(structuredDoc);

  const tabs = [['structured', 'Structured'], ['script', 'Script']];
  const tabButtons = tabs.map(([name, label]) => h('button', {type: 'button', role: 'tab', id: `tab-${name}`,
    'aria-controls': `panel-${name}`, onclick: () => select(name),
    onkeydown: (event) => {
      if (event.key === 'ArrowRight' || event.key === 'ArrowLeft' || event.key === 'Home' || event.key === 'End') {
        event.preventDefault();
        const next = tab === 'structured' ? 'script' : 'structured';
        select(event.key === 'Home' ? 'structured' : event.key === 'End' ? 'script' : next);
        document.getElementById(`tab-${tab}`).focus();
      }
    }}, label));
  const panels = {
    structured: h('div', {role: 'tabpanel', id: 'panel-structured', 'aria-labelledby': 'tab-structured'}, structured.root),
    script: h('div', {role: 'tabpanel', id: 'panel-script', 'aria-labelledby': 'tab-script'},
      h('div', {class: 'preset-bar'},
        h('label', {for: 'preset'}, 'Choose preset'), ' ', presetSelect, ' ',
        h('button', {type: 'button', onclick: loadPreset}, 'Load preset')),
      presetSummary,
      editor.root,
      h('div', {class: 'limits'},
        h('label', {for: 'time-limit'}, 'Time limit (ms)'), ' ', timeLimit, ' ',
        h('label', {for: 'memory-limit'}, 'Memory limit (MiB)'), ' ', memoryLimit),
      h('div', {class: 'isolation'},
        freshInstance, h('label', {for: 'fresh-instance'}, 'A new sandbox for every event')),
      h('p', {id: 'fresh-instance-help', class: 'hint'},
        'Nothing at all is shared between events, at a few hundred microseconds per event instead of tens.')),
  };
  const select = (name) => {
    tab = name;
    for (const button of tabButtons) {
      const on = button.id === `tab-${name}`;
      button.setAttribute('aria-selected', on ? 'true' : 'false');
      button.tabIndex = on ? 0 : -1;
    }
    for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
    schedule();
  };
  const mappingPanel = h('section', {class: 'panel mapping', 'aria-labelledby': 'mapping-title'},
    h('h2', {id: 'mapping-title'}, 'Mapping'),
    h('div', {role: 'tablist', 'aria-label': 'Mapping kind'}, tabButtons),
    panels.structured, panels.script);

  const mapping = () => (tab === 'script'
    ? {kind: 'script', source: editor.value, limits: {timeMs: Number(timeLimit.value) || 50, memoryMb: Number(memoryLimit.value) || 32},
      isolation: freshInstance.checked ? 'fresh' : 'warm'}
    : {kind: 'structured', source: structured.source()});

  // ---- preview (top-right) ----
  const previewState = h('p', {class: 'hint', 'aria-live': 'polite'});
  const skipped = h('p', {class: 'skipped', role: 'status', hidden: true});
  const previewErrors = h('ul', {class: 'errors', 'aria-live': 'polite', 'aria-label': 'Preview errors'});
  const output = h('pre', {class: 'output', tabindex: '0', 'aria-label': 'Mapped sample'});
  const consoleOut = h('ul', {class: 'console', 'aria-label': 'Console output'});
  const previewPanel = h('section', {class: 'panel preview', 'aria-labelledby': 'preview-title'},
    h('h2', {id: 'preview-title'}, 'Preview'), previewState, skipped, previewErrors, output,
    h('h3', {}, 'Console'), consoleOut);

  const showPreviewErrors = (errors) => {
    let rest = errors;
    if (tab === 'structured') {
      rest = structured.showErrors(errors);
      editor.setError(0, '');
    } else {
      structured.showErrors([]);
      // A script's own error has the path `script` and, when it has a place, its line.
      const first = errors.find((e) => e.path === 'script' && e.line > 0);
      editor.setError(first ? first.line : 0, errors.map((e) => e.message).join('\n'));
    }
    fill(previewErrors, errors.map((e) => h('li', {}, e.path ? h('code', {}, e.path) : null, e.path ? ' ' : null, e.message)));
    return rest;
  };
  let generation = 0;
  const preview = async () => {
    const body = sampleValue();
    if (body === undefined) {
      previewState.textContent = sample.value.trim() ? 'Fix the sample to see the preview.' : 'Paste a sample or Get new sample to see the preview.';
      return;
    }
    const mine = ++generation;
    previewState.textContent = 'Updating…';
    try {
      const answer = await post(`/api/triggers/${id}/preview`, {body, mapping: mapping()});
      if (mine !== generation) return;
      properties = answer.properties || properties;
      renderProperties();
      showPreviewErrors(answer.errors || []);
      output.textContent = answer.output === null || answer.output === undefined ? '' : JSON.stringify(answer.output, null, 2);
      const skip = answer.skipped;
      skipped.hidden = !skip;
      skipped.textContent = skip ? `Skipped${typeof skip === 'string' ? `: ${skip}` : skip.reason ? `: ${skip.reason}` : ''} — this sample makes no event.` : '';
      fill(consoleOut, (answer.console || []).length ? [] : h('li', {class: 'hint'}, 'No console output.'), (answer.console || []).map((line) => h('li', {class: `console-${line.level}`}, h('span', {class: 'level'}, line.level), ' ', line.text)));
      const count = (answer.errors || []).length;
      previewState.textContent = count ? `${count} error(s)` : skip ? 'Skipped' : 'OK: the sample maps.';
    } catch (e) {
      if (mine !== generation) return;
      if (!(e instanceof ApiError) || e.status === 401) throw e;
      output.textContent = '';
      fill(consoleOut);
      skipped.hidden = true;
      showPreviewErrors([{path: e.path, message: e.message}]);
      previewState.textContent = '1 error';
    }
  };
  const schedule = debounce(() => preview().catch(showError), 350);

  // ---- mappable properties (bottom-right) ----
  const propertyList = h('ul', {class: 'properties'});
  const propertiesPanel = h('section', {class: 'panel props', 'aria-labelledby': 'props-title'},
    h('h2', {id: 'props-title'}, 'Mappable properties'),
    h('p', {class: 'hint'}, 'Click one to insert its path into the focused input.'),
    propertyList);
  const insert = (path) => {
    const target = lastTarget && document.contains(lastTarget) ? lastTarget : null;
    if (!target) {
      announce('Focus a mapping input first, then choose a property');
      return;
    }
    target.focus();
    if (target === editor.area) {
      target.setRangeText(pathToScript(path), target.selectionStart, target.selectionEnd, 'end');
    } else if (target.classList.contains('value') && target.closest('.row').querySelector('select').value === 'template') {
      target.setRangeText(`{${path}}`, target.selectionStart, target.selectionEnd, 'end');
    } else {
      target.value = path;
    }
    target.dispatchEvent(new Event('input', {bubbles: true}));
    announce(`${path} inserted`);
  };
  const renderProperties = () => {
    fill(propertyList, properties.length ? properties.map((p) => h('li', {},
      h('button', {type: 'button', class: 'property', 'aria-label': `Insert ${p.path}`,
        onmousedown: (event) => event.preventDefault(), onclick: () => insert(p.path)},
      h('code', {}, p.path), h('span', {class: 'type'}, p.types.join(' | ')),
      p.example !== undefined ? h('span', {class: 'example'}, JSON.stringify(p.example)) : null)))
      : h('li', {class: 'hint'}, 'No sample yet.'));
  };
  const remember = (event) => {
    const el = event.target;
    if (el === editor.area || el.classList.contains('value') || el.classList.contains('fallback')) lastTarget = el;
  };
  mappingPanel.addEventListener('focusin', remember);

  // ---- Save and Send test card ----
  const testCard = h('section', {class: 'panel card-result', 'aria-labelledby': 'card-title', hidden: true});
  const save = async () => {
    showError(null);
    const body = sampleValue();
    if (sample.value.trim() && body === undefined) {
      showError('The sample is not valid JSON: fix it before saving.');
      sample.focus();
      return false;
    }
    try {
      if (body !== undefined && JSON.stringify(body) !== savedSample) {
        trigger = await put(`/api/triggers/${id}/sample`, body);
        savedSample = JSON.stringify(body);
      }
      trigger = await put(`/api/triggers/${id}/mapping`, mapping());
      renderHead();
      announce('Saved');
      return true;
    } catch (e) {
      if (e.path) showPreviewErrors([{path: e.path.replace(/^mapping\.source\.?/, ''), message: e.message}]);
      showError(`Not saved: ${e.path ? `${e.path}: ` : ''}${e.message}`);
      return false;
    }
  };
  const sendTestCard = async () => {
    showError(null);
    try {
      const sent = await post(`/api/triggers/${id}/test`);
      const event = await get(`/api/events/${sent.eventId}`);
      const payload = (event.payload && event.payload.payload) || {};
      fill(testCard,
        h('h2', {id: 'card-title'}, 'Test card sent'),
        h('p', {}, 'Event ', h('code', {}, event.id), ' · ', h('span', {class: `badge ${event.mode}`}, event.mode), ' · ',
          h('span', {class: 'badge'}, event.delivery.state)),
        h('div', {class: 'event-card'},
          h('p', {}, h('strong', {}, 'For users: '), ((payload.target && payload.target.usersById) || []).join(', ')),
          h('dl', {}, Object.entries(payload.detail || {}).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, Array.isArray(v) ? v.join(', ') : String(v))]))),
        h('details', {}, h('summary', {}, 'Whole event'), h('pre', {}, JSON.stringify(event.payload, null, 2))));
      testCard.hidden = false;
      announce(`Test card sent: event ${event.id}`);
      testCard.querySelector('h2').tabIndex = -1;
      testCard.querySelector('h2').focus();
      activity.refresh().catch(() => {});
    } catch (e) {
      showError(`Test card not sent: ${e.message}`);
    }
  };

  // ---- recent activity ----
  const activity = createActivity(id, async () => {
    trigger = await get(`/api/triggers/${id}`);
    renderHead();
  });

  fill(main,
    head,
    h('div', {class: 'setup-grid'}, samplePanel, mappingPanel, previewPanel, propertiesPanel),
    testCard,
    activity.root);
  renderHead();
  select(tab);
  checkSample();
  renderProperties();
  if (trigger.sample) {
    get(`/api/triggers/${id}/properties`).then((answer) => {
      if (!properties.length) {
        properties = answer.properties;
        renderProperties();
      }
    }).catch(() => {});
  }
  get('/api/presets').then((answer) => {
    presets = answer.scripts;
    fill(presetSelect, presets.map((p) => h('option', {value: p.name}, p.name === 'default' ? 'Default' : p.name)));
    presetSummary.textContent = presets[0] ? presets[0].summary : '';
  }).catch(showError);
  await activity.refresh();
  if (focus) activity.focusHeld();
  else title.tabIndex = -1;

  // The status may change under the page (a request of another shape pauses the trigger).
  const timer = setInterval(async () => {
    try {
      const now = await get(`/api/triggers/${id}`);
      const changed = ['status', 'pausedFrom', 'url', 'name'].some((k) => now[k] !== trigger[k])
        || now.security.secretCount !== trigger.security.secretCount;
      if (changed) {
        const focused = status.contains(document.activeElement);
        trigger = now;
        renderHead();
        if (focused) status.querySelector('[data-action]').focus();
        if (now.status === 'paused') announce(`Trigger paused: a request was held`);
      }
      await activity.refresh();
    } catch {
      // The next tick tries again; a 401 already asked for the token.
    }
  }, 2000);
  return () => {
    left = true;
    capturing = false;
    clearInterval(timer);
  };
}
