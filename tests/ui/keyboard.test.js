// The setup screen with the keyboard alone: sign in, create a trigger, paste a sample,
// choose a property in the drop-down, switch tabs with the arrow keys, indent in the
// editor and leave it, save.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {ADMIN, TOKEN, api, browser, shot} from './harness.js';

/**
 * Presses Tab until `matches(document.activeElement)` is true in the page; leaves the
 * script editor (where Tab indents) with Escape first, as its hint says.
 */
async function tabTo(page, description, matches, shift = false) {
  for (let i = 0; i < 80; i += 1) {
    if (await page.evaluate(() => document.activeElement.id === 'script')) await page.keyboard.press('Escape');
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate(matches)) return;
  }
  throw new Error(`Tab never reached ${description}`);
}

const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent.trim();
});

test('everything works with the keyboard alone', async () => {
  const {page, problems, close} = await browser();
  try {
    await page.goto(`${ADMIN}/`);
    // The token field has the focus; Enter submits.
    assert.equal(await focused(page), 'Admin token');
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', {name: 'Triggers', level: 1}).waitFor();

    await tabTo(page, 'the trigger name', () => document.activeElement.id === 'new-trigger-name');
    await page.keyboard.type('Keyboard orders');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', {name: 'Keyboard orders', level: 1}).waitFor();

    // The sample is checked as it is typed, with line:col.
    await tabTo(page, 'the sample', () => document.activeElement.id === 'sample');
    await page.keyboard.insertText('{"order": {"id": 7, "buyer": "u_9"},}');
    await page.getByText("Sample: 1:37 expected a property name in double quotes, found '}'").waitFor();
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('}');
    await page.waitForFunction(() => document.getElementById('sample-error').textContent === '');
    await page.getByRole('button', {name: 'Insert $.order.buyer'}).waitFor();

    // The user id's drop-down: arrow keys and Enter choose a property.
    await tabTo(page, 'the user id input', () => document.activeElement.getAttribute('aria-label') === 'JSONPath of user id');
    await page.keyboard.type('buyer');
    await page.keyboard.press('ArrowDown');
    const combo = page.getByRole('combobox', {name: 'JSONPath of user id'});
    assert.equal(await combo.getAttribute('aria-expanded'), 'true');
    await page.keyboard.press('Enter');
    assert.equal(await combo.inputValue(), '$.order.buyer');
    await page.getByText('OK: the sample maps.').waitFor();
    await shot(page, '09-keyboard-structured');

    // The tabs follow the arrow keys.
    await page.getByRole('tab', {name: 'Structured'}).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', {name: 'Script'}).getAttribute('aria-selected'), 'true');
    assert.equal(await focused(page), 'Script');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getByRole('tab', {name: 'Structured'}).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('End');
    await tabTo(page, 'Choose preset', () => document.activeElement.id === 'preset');

    // The editor: Tab indents; Escape then Tab leaves it.
    await tabTo(page, 'the editor', () => document.activeElement.id === 'script');
    await page.keyboard.type('function map(p) {');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await page.keyboard.type('return {payload: {target: {usersById: [p.order.buyer]}}};');
    await page.keyboard.press('Enter');
    await page.keyboard.type('}');
    const editor = page.getByRole('textbox', {name: 'Script'});
    assert.equal(await editor.inputValue(), 'function map(p) {\n  return {payload: {target: {usersById: [p.order.buyer]}}};\n}');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    assert.notEqual(await page.evaluate(() => document.activeElement.id), 'script');
    await page.getByText('OK: the sample maps.').waitFor();

    // Save from the keyboard: the script is the trigger's mapping.
    await tabTo(page, 'Save', () => document.activeElement.textContent === 'Save', true);
    await page.keyboard.press('Enter');
    const id = page.url().split('/').pop();
    const saved = async () => (await api('GET', `/api/triggers/${id}`)).json.mapping;
    for (let i = 0; i < 50 && !(await saved()); i += 1) await new Promise((r) => setTimeout(r, 100));
    const mapping = await saved();
    assert.equal(mapping.kind, 'script');
    assert.match(mapping.source, /p\.order\.buyer/);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});
