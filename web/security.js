// The Security settings dialog: the IP allow-list (one address or CIDR per line,
// validated), the signature scheme as JSON with provider presets, and write-only secrets.

import {get, put} from './api.js';
import {announce, h} from './dom.js';
import {describe, parseJson} from './json.js';

/** Why `entry` is not an IP address or CIDR range, or null when it is one. */
export function addressProblem(entry) {
  const [address, prefix, extra] = entry.split('/');
  if (extra !== undefined) return 'more than one "/"';
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  let bits;
  if (v4) {
    if (v4.slice(1).some((n) => Number(n) > 255 || (n.length > 1 && n[0] === '0'))) return 'an IPv4 part is over 255';
    bits = 32;
  } else if (address.includes(':')) {
    try {
      new URL(`http://[${address}]/`);
    } catch {
      return 'not an IPv6 address';
    }
    bits = 128;
  } else {
    return 'not an IP address (write 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32)';
  }
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits)) {
    return `the prefix length must be 0 to ${bits}`;
  }
  return null;
}

function allowProblems(text) {
  return text.split('\n').map((line, i) => [i + 1, line.trim()]).filter(([, line]) => line)
    .map(([n, line]) => [n, line, addressProblem(line)]).filter(([, , problem]) => problem)
    .map(([n, line, problem]) => `line ${n}: ${line}: ${problem}`);
}

/** Opens the Security settings dialog of `trigger`; `saved(trigger)` after a save. */
export async function openSecurity(trigger, saved) {
  const {signatures} = await get('/api/presets');
  const security = trigger.security;
  const allow = h('textarea', {id: 'sec-allow', rows: 4, spellcheck: 'false', 'aria-describedby': 'sec-allow-help sec-allow-error'});
  allow.value = security.allow.join('\n');
  const allowError = h('p', {id: 'sec-allow-error', class: 'field-error', 'aria-live': 'polite'});
  const preset = h('select', {id: 'sec-preset'},
    h('option', {value: ''}, 'None'),
    signatures.map((p) => h('option', {value: p.name}, p.name)));
  const scheme = h('textarea', {id: 'sec-scheme', rows: 10, spellcheck: 'false', class: 'code', 'aria-describedby': 'sec-scheme-help sec-scheme-error'});
  scheme.value = security.signature ? JSON.stringify(security.signature, null, 2) : '';
  const schemeError = h('p', {id: 'sec-scheme-error', class: 'field-error', 'aria-live': 'polite'});
  const secrets = h('textarea', {id: 'sec-secrets', rows: 2, spellcheck: 'false', autocomplete: 'off', class: 'secret',
    'aria-describedby': 'sec-secrets-help'});
  const formError = h('p', {class: 'field-error', role: 'alert'});

  const validate = () => {
    const problems = allowProblems(allow.value);
    allowError.textContent = problems.join('; ');
    allow.setAttribute('aria-invalid', problems.length ? 'true' : 'false');
    let signature = null;
    let schemeOk = true;
    if (scheme.value.trim()) {
      const parsed = parseJson(scheme.value);
      if (parsed.error) {
        schemeError.textContent = describe(parsed.error);
        schemeOk = false;
      } else {
        schemeError.textContent = '';
        signature = parsed.value;
      }
    } else {
      schemeError.textContent = '';
    }
    scheme.setAttribute('aria-invalid', schemeOk ? 'false' : 'true');
    if (problems.length || !schemeOk) return null;
    formError.textContent = '';
    return {signature};
  };
  allow.addEventListener('input', validate);
  scheme.addEventListener('input', validate);

  // A save waits for a preset that is still loading, so a quick Save sends the scheme the owner chose.
  let presetLoad = Promise.resolve(true);
  scheme.addEventListener('input', () => { presetLoad = Promise.resolve(true); });
  const usePreset = async () => {
    const name = preset.value;
    if (!name) {
      scheme.value = '';
    } else {
      try {
        const {scheme: loaded} = await get(`/api/presets/signatures/${name}`);
        scheme.value = JSON.stringify({scheme: loaded}, null, 2);
      } catch (e) {
        schemeError.textContent = `Loading the preset ${name} failed: ${e.message}`;
        return false;
      }
    }
    validate();
    announce(name ? `Signature scheme of ${name} loaded` : 'Signature check removed');
    scheme.focus();
    return true;
  };

  const dialog = h('dialog', {class: 'security', 'aria-labelledby': 'sec-title'});
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const form = h('form', {method: 'dialog', onsubmit: async (event) => {
    event.preventDefault();
    const checked = await presetLoad && validate();
    if (!checked) {
      formError.textContent = 'Fix the marked fields first.';
      return;
    }
    const body = {allow: allow.value.split('\n').map((l) => l.trim()).filter(Boolean),
      trustedProxies: security.trustedProxies};
    if (checked.signature) body.signature = checked.signature;
    const newSecrets = secrets.value.split('\n').map((l) => l.trim()).filter(Boolean);
    if (newSecrets.length) body.secrets = newSecrets;
    try {
      const changed = await put(`/api/triggers/${trigger.id}/security`, body);
      announce('Security settings saved');
      close();
      saved(changed);
    } catch (e) {
      const field = e.path ? `${e.path}: ` : '';
      formError.textContent = `${field}${e.message}`;
      const target = /allow/.test(e.path || '') ? allow : /secrets/.test(e.path || '') ? secrets : /signature/.test(e.path || '') ? scheme : null;
      if (target) target.focus();
    }
  }},
  h('h2', {id: 'sec-title'}, 'Security settings'),
  h('label', {for: 'sec-allow'}, 'IP allow-list'),
  h('p', {id: 'sec-allow-help', class: 'hint'}, 'One address or CIDR range per line; empty allows every address.'),
  allow, allowError,
  h('label', {for: 'sec-preset'}, 'Signature preset'),
  h('div', {class: 'actions'}, preset, h('button', {type: 'button', onclick: () => {
    presetLoad = usePreset();
    return presetLoad;
  }}, 'Use preset')),
  h('label', {for: 'sec-scheme'}, 'Signature scheme (JSON)'),
  h('p', {id: 'sec-scheme-help', class: 'hint'}, '{"preset": "stripe"} or {"scheme": {…}} (see docs/security.md); empty for no signature check.'),
  scheme, schemeError,
  h('label', {for: 'sec-secrets'}, 'New secrets'),
  h('p', {id: 'sec-secrets-help', class: 'hint'},
    `${security.secretCount} secret(s) stored; they are never shown. One secret per line replaces them; leave empty to keep them.`),
  secrets,
  formError,
  h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, 'Save security settings'),
    h('button', {type: 'button', onclick: close}, 'Cancel')));
  dialog.append(form);
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  allow.focus();
}
