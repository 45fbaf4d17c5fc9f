// The Security settings dialog: the allow-list validated line by line, the signature scheme
// as JSON with provider presets, and secrets that are write-only and kept unless replaced.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {api, browser, shot, signIn, until} from './harness.js';

test('security settings are validated, saved, and secrets stay write-only', async () => {
  const created = await api('POST', '/api/triggers', {name: 'GitHub pushes'});
  assert.equal(created.status, 201);
  const id = created.json.id;
  const {page, problems, close} = await browser();
  try {
    await signIn(page);
    await page.goto(`${page.url().split('#')[0]}#/triggers/${id}`);
    await page.getByRole('button', {name: 'Security settings'}).click();
    const dialog = page.getByRole('dialog', {name: 'Security settings'});
    const allow = dialog.getByLabel('IP allow-list');
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'sec-allow');

    // One address or CIDR per line, each checked as it is typed.
    await allow.fill('10.0.0.1/33\nnot-an-ip\n192.168.1.7');
    const allowError = dialog.locator('#sec-allow-error');
    assert.match(await allowError.textContent(), /line 1: 10\.0\.0\.1\/33: the prefix length must be 0 to 32/);
    assert.match(await allowError.textContent(), /line 2: not-an-ip: not an IP address/);
    assert.equal(await allow.getAttribute('aria-invalid'), 'true');
    await allow.fill('10.0.0.0/8\n2001:db8::/32\n192.168.1.7');
    assert.equal(await allowError.textContent(), '');

    // The scheme is JSON, with its error at line:col; a preset fills it.
    const scheme = dialog.getByLabel('Signature scheme (JSON)');
    await scheme.fill('{\n  "preset": \n}');
    assert.equal(await dialog.locator('#sec-scheme-error').textContent(), '3:1 expected a value, found \'}\'');
    await dialog.getByRole('button', {name: 'Save security settings'}).click();
    await dialog.getByRole('alert').filter({hasText: 'Fix the marked fields first.'}).waitFor();
    await dialog.getByLabel('Signature preset').selectOption('github');
    await dialog.getByRole('button', {name: 'Use preset'}).click();
    await until('the GitHub scheme', async () => JSON.parse(await scheme.inputValue()).scheme.data.signature.header === 'X-Hub-Signature-256');
    await shot(page, '08-security-settings');

    // A signature without secrets is refused by the server, and said so.
    await dialog.getByRole('button', {name: 'Save security settings'}).click();
    await dialog.getByRole('alert').filter({hasText: 'security.secrets'}).waitFor();
    await dialog.getByLabel('New secrets').fill('first-secret\nsecond-secret');
    await dialog.getByRole('button', {name: 'Save security settings'}).click();
    await dialog.waitFor({state: 'detached'});
    await page.getByText('2 secret(s), signed, 3 allowed address(es)').waitFor();
    let trigger = (await api('GET', `/api/triggers/${id}`)).json;
    assert.deepEqual(trigger.security.allow, ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7']);
    assert.equal(trigger.security.secretCount, 2);
    assert.equal(trigger.security.signature.scheme.data.signature.header, 'X-Hub-Signature-256');

    // Reopened: the secrets are not shown, only counted; saving without new ones keeps them.
    await page.getByRole('button', {name: 'Security settings'}).click();
    assert.equal(await dialog.getByLabel('New secrets').inputValue(), '');
    await dialog.getByText('2 secret(s) stored').waitFor();
    await allow.fill('');
    await dialog.getByRole('button', {name: 'Save security settings'}).click();
    await dialog.waitFor({state: 'detached'});
    trigger = (await api('GET', `/api/triggers/${id}`)).json;
    assert.deepEqual([trigger.security.allow, trigger.security.secretCount], [[], 2]);

    // Save pressed while a preset is still loading waits for it and saves that preset's scheme.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/presets/signatures/stripe', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('button', {name: 'Security settings'}).click();
    await dialog.getByLabel('Signature preset').selectOption('stripe');
    await dialog.getByRole('button', {name: 'Use preset'}).click();
    await dialog.getByRole('button', {name: 'Save security settings'}).click();
    assert.equal(await dialog.count(), 1);
    release();
    await dialog.waitFor({state: 'detached'});
    await page.unroute('**/api/presets/signatures/stripe');
    trigger = (await api('GET', `/api/triggers/${id}`)).json;
    assert.equal(trigger.security.signature.scheme.data.signature.header, 'Stripe-Signature');

    // Escape closes the dialog without saving.
    await page.getByRole('button', {name: 'Security settings'}).click();
    await allow.fill('10.9.9.9');
    await page.keyboard.press('Escape');
    await dialog.waitFor({state: 'detached'});
    assert.deepEqual((await api('GET', `/api/triggers/${id}`)).json.security.allow, []);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});
