// The Triggers list: name, status, URL with "Copy URL", the lifecycle actions the status
// allows, and a form to create a trigger.

import {del, get, post} from './api.js';
import {announce, copy, fill, h, problem, showError} from './dom.js';

/** The actions an owner may take in each status, as trigger::Status::apply allows them. */
export const ACTIONS = {
  test: [['activate', 'Activate'], ['disable', 'Disable']],
  live: [['test-mode', 'Switch to test mode'], ['disable', 'Disable']],
  paused: [['reactivate', 'Reactivate'], ['disable', 'Disable']],
  disabled: [['enable', 'Enable'], ['delete', 'Delete']],
};

/** Runs a lifecycle action; resolves to the changed trigger, or null once deleted. */
export async function runAction(trigger, action) {
  if (action === 'delete') {
    if (!confirm(`Delete the trigger "${trigger.name}" with its events and held requests?`)) return undefined;
    await del(`/api/triggers/${trigger.id}`);
    announce(`Trigger ${trigger.name} deleted`);
    return null;
  }
  const changed = await post(`/api/triggers/${trigger.id}/${action}`);
  announce(`Trigger ${trigger.name} is now ${changed.status}`);
  return changed;
}

/** The status of a trigger as a badge, with the mode a paused trigger returns to. */
export function statusBadge(trigger) {
  const text = trigger.status === 'paused' ? `paused (from ${trigger.pausedFrom})` : trigger.status;
  return h('span', {class: `badge ${trigger.status}`}, text);
}

/** The action buttons of a trigger; `done(changed)` is called after each. */
export function actionButtons(trigger, done) {
  return h('div', {class: 'actions', role: 'group', 'aria-label': `Actions for ${trigger.name}`},
    ACTIONS[trigger.status].map(([action, label]) => h('button', {
      type: 'button',
      class: action === 'delete' ? 'danger' : '',
      'data-action': action,
      'aria-label': `${label} ${trigger.name}`,
      onclick: async () => {
        try {
          const changed = await runAction(trigger, action);
          if (changed !== undefined) done(changed);
        } catch (e) {
          showError(e);
        }
      },
    }, label)));
}

/** The URL of a trigger with its "Copy URL" button. */
export function urlField(trigger) {
  return h('span', {class: 'url'},
    h('code', {}, trigger.url), ' ',
    h('button', {type: 'button', 'aria-label': `Copy URL of ${trigger.name}`,
      onclick: () => copy(trigger.url, 'URL')}, 'Copy URL'));
}

async function pauseReason(trigger) {
  const {held} = await get(`/api/triggers/${trigger.id}/held?limit=100`);
  const first = held[held.length - 1] || held[0];
  const reason = first && first.errors && first.errors[0] ? problem(first.errors[0]) : 'a request was not shaped like the sample';
  return h('div', {class: 'pause-reason'},
    h('span', {}, reason), ' ',
    h('a', {href: `#/triggers/${trigger.id}/held`}, `Held requests (${held.length})`));
}

async function row(trigger, refresh) {
  const status = h('td', {}, statusBadge(trigger));
  if (trigger.status === 'paused') status.append(await pauseReason(trigger));
  return h('tr', {'data-trigger': trigger.id},
    h('th', {scope: 'row'}, h('a', {href: `#/triggers/${trigger.id}`}, trigger.name)),
    status,
    h('td', {}, urlField(trigger)),
    h('td', {}, actionButtons(trigger, refresh)));
}

/** Renders the Triggers list into `main`. */
export async function renderTriggers(main) {
  const body = h('tbody');
  const empty = h('p', {class: 'hint'}, 'No triggers yet: create one below.');
  const refresh = async () => {
    const {triggers} = await get('/api/triggers');
    const rows = await Promise.all(triggers.map((t) => row(t, async (changed) => {
      await refresh().catch(showError);
      // Keep the keyboard where it was: on the trigger's actions, or on the form once it is gone.
      const next = changed && body.querySelector(`[data-trigger="${t.id}"] [data-action]`);
      (next || name).focus();
    })));
    fill(body, rows);
    empty.hidden = triggers.length > 0;
  };
  const name = h('input', {id: 'new-trigger-name', required: true, autocomplete: 'off', placeholder: 'Stripe payments'});
  const create = h('form', {class: 'create', 'aria-labelledby': 'create-title', onsubmit: async (event) => {
    event.preventDefault();
    try {
      const trigger = await post('/api/triggers', {name: name.value.trim()});
      announce(`Trigger ${trigger.name} created`);
      location.hash = `#/triggers/${trigger.id}`;
    } catch (e) {
      showError(e);
      name.focus();
    }
  }},
  h('h2', {id: 'create-title'}, 'Create a trigger'),
  h('label', {for: 'new-trigger-name'}, 'Trigger name'), ' ', name, ' ',
  h('button', {type: 'submit', class: 'primary'}, 'Create trigger'));
  fill(main,
    h('h1', {}, 'Triggers'),
    h('p', {class: 'hint'}, 'Each trigger has its own URL. Requests to it are checked, mapped to the target schema and stored as events.'),
    h('table', {class: 'triggers'},
      h('caption', {class: 'sr-only'}, 'Triggers'),
      h('thead', {}, h('tr', {},
        h('th', {scope: 'col'}, 'Name'), h('th', {scope: 'col'}, 'Status'),
        h('th', {scope: 'col'}, 'URL'), h('th', {scope: 'col'}, 'Actions'))),
      body),
    empty,
    create);
  await refresh();
  // Kept fresh (a trigger may pause), but not under the keyboard user's focus.
  const timer = setInterval(() => {
    if (!body.contains(document.activeElement)) refresh().catch(() => {});
  }, 5000);
  return () => clearInterval(timer);
}
