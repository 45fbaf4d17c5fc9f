// Recent activity of a trigger: its events (mode, delivery state, payload) and its held
// requests (inspect the body and problems, replay, discard).

import {del, get, post} from './api.js';
import {announce, fill, h, problem, showError, when} from './dom.js';

/** Creates the Recent activity section; `changed()` is called after a replay or discard. */
export function createActivity(triggerId, changed) {
  const events = h('tbody');
  const held = h('ul', {class: 'held'});
  const heldTitle = h('h3', {id: 'held-title', tabindex: '-1'}, 'Held requests');
  const root = h('section', {class: 'activity panel', 'aria-labelledby': 'activity-title'},
    h('div', {class: 'panel-head'}, h('h2', {id: 'activity-title'}, 'Recent activity'),
      h('button', {type: 'button', onclick: () => refresh().then(() => announce('Activity refreshed')).catch(showError)}, 'Refresh activity')),
    h('h3', {}, 'Events'),
    h('table', {class: 'events'},
      h('caption', {class: 'sr-only'}, 'Events, newest first'),
      h('thead', {}, h('tr', {}, ['Received', 'Mode', 'Delivery', 'Event'].map((t) => h('th', {scope: 'col'}, t)))),
      events),
    heldTitle,
    held);

  const eventRow = (e) => h('tr', {'data-event': e.id},
    h('td', {}, when(e.receivedAt)),
    h('td', {}, h('span', {class: `badge ${e.mode}`}, e.mode)),
    h('td', {}, h('span', {class: `badge delivery-${e.delivery.state}`}, e.delivery.state),
      e.delivery.lastError ? h('span', {class: 'hint'}, ` ${e.delivery.lastError}`) : null),
    h('td', {}, h('details', {}, h('summary', {}, e.id), h('pre', {}, JSON.stringify(e.payload, null, 2)))));

  const heldItem = (r) => h('li', {'data-held': r.id},
    h('div', {}, h('strong', {}, r.reason), ` · ${when(r.receivedAt)} · `, h('code', {}, r.id)),
    h('ul', {class: 'problems'}, (r.errors || []).map((e) => h('li', {}, problem(e)))),
    h('details', {}, h('summary', {'aria-label': `Inspect held request ${r.id}`}, 'Inspect'),
      h('h4', {}, 'Body'), h('pre', {}, typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2)),
      h('h4', {}, 'Request'), h('pre', {}, JSON.stringify(r.request, null, 2))),
    h('div', {class: 'actions'},
      h('button', {type: 'button', 'aria-label': `Replay held request ${r.id}`, onclick: async () => {
        try {
          const answer = await post(`/api/held/${r.id}/replay`);
          announce(`Replayed: event ${answer.eventId} (${answer.mode})`);
        } catch (e) {
          showError(e);
        }
        await refresh();
        changed();
      }}, 'Replay'),
      h('button', {type: 'button', class: 'danger', 'aria-label': `Discard held request ${r.id}`, onclick: async () => {
        try {
          await del(`/api/held/${r.id}`);
          announce('Held request discarded');
        } catch (e) {
          showError(e);
        }
        await refresh();
        changed();
      }}, 'Discard')));

  let last = '';
  const refresh = async () => {
    const [list, holds] = await Promise.all([
      get(`/api/triggers/${triggerId}/events?limit=1000`),
      get(`/api/triggers/${triggerId}/held`),
    ]);
    const key = JSON.stringify([list.events.map((e) => [e.id, e.delivery.state]), holds.held.map((r) => [r.id, r.errors])]);
    if (key === last) return;
    last = key;
    const recent = list.events.slice(-20).reverse();
    fill(events, recent.length ? recent.map(eventRow) : h('tr', {}, h('td', {colspan: 4, class: 'hint'}, 'No events yet.')));
    fill(heldTitle, `Held requests (${holds.held.length})`);
    fill(held, holds.held.length ? holds.held.map(heldItem) : h('li', {class: 'hint'}, 'No held requests.'));
  };
  return {root, refresh, focusHeld: () => heldTitle.focus()};
}
