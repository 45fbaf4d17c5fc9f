// The setup screen's entry: asks for the admin token once, then routes between the
// Triggers list (#/) and the setup screen of one trigger (#/triggers/{id}).

import {get, setToken, token} from './api.js';
import {fill, h, showError} from './dom.js';
import {renderTriggers} from './triggers.js';
import {renderSetup} from './setup.js';

const main = document.getElementById('main');
let leave = null;

function askToken(message) {
  const input = h('input', {id: 'admin-token', type: 'password', autocomplete: 'off', required: true,
    'aria-describedby': 'admin-token-help'});
  const problem = h('p', {class: 'field-error', role: 'alert'}, message || '');
  const form = h('form', {class: 'card narrow', 'aria-labelledby': 'token-title', onsubmit: async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    try {
      await get('/api/triggers');
      route();
    } catch (e) {
      problem.textContent = e.status === 401 ? 'This is not the admin token.' : e.message;
      input.focus();
    }
  }},
  h('h1', {id: 'token-title'}, 'Open the setup screen'),
  h('label', {for: 'admin-token'}, 'Admin token'),
  input,
  h('p', {id: 'admin-token-help', class: 'hint'},
    'Printed when hookmap first started, and stored in the data directory (hookmap-data/admin-token). ',
    'It is kept in this browser tab only.'),
  problem,
  h('button', {type: 'submit', class: 'primary'}, 'Open'));
  fill(main, form);
  document.getElementById('forget-token').hidden = true;
  input.focus();
}

async function route() {
  if (leave) leave();
  leave = null;
  showError(null);
  if (!token()) {
    askToken();
    return;
  }
  document.getElementById('forget-token').hidden = false;
  const hash = location.hash.replace(/^#/, '') || '/';
  const setup = /^\/triggers\/([^/]+)(?:\/(held|activity))?$/.exec(hash);
  try {
    if (setup) leave = await renderSetup(main, decodeURIComponent(setup[1]), setup[2]);
    else leave = await renderTriggers(main);
  } catch (e) {
    if (e.status !== 401) showError(e);
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('hookmap:unauthorized', () => askToken('The admin token was refused; enter it again.'));
document.getElementById('forget-token').addEventListener('click', () => {
  setToken(null);
  route();
});
route();
