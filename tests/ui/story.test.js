// The whole story of one trigger, through the setup screen only: create, Get new sample,
// map (Structured, then Script), save, Send test card, activate, a signed live webhook,
// a request of another shape that pauses the trigger, reactivate, disable, delete.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {api, browser, hook, shot, signIn, stripeSignature, until} from './harness.js';

const SECRET = 'whsec_ui_story';
const SAMPLE = JSON.stringify({id: 'evt_1', type: 'payment_intent.succeeded',
  data: {object: {amount: 2000, currency: 'usd', metadata: {userId: 'u_1'}}}});

test('a trigger from creation to deletion', async () => {
  const {page, problems, close} = await browser();
  try {
    await signIn(page);
    await shot(page, '01-triggers-empty');

    // Create a trigger: the setup screen opens.
    await page.getByLabel('Trigger name').fill('Stripe payments');
    await page.getByRole('button', {name: 'Create trigger'}).click();
    await page.getByRole('heading', {name: 'Stripe payments', level: 1}).waitFor();

    // Get new sample: capture is armed, the URL shown; a real POST to it fills the field.
    await page.getByRole('button', {name: 'Get new sample'}).click();
    const url = await page.locator('.capture code').textContent();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/hooks\/[\w-]+$/);
    assert.deepEqual(await hook(url, SAMPLE), {status: 202, json: {captured: true}});
    const sample = page.getByLabel('Sample (JSON)');
    await until('the captured sample', async () => (await sample.inputValue()).includes('"evt_1"'));
    assert.deepEqual(JSON.parse(await sample.inputValue()), JSON.parse(SAMPLE));

    // Structured: a typo in the user id's path is a preview error at its row…
    const userId = page.getByRole('combobox', {name: 'JSONPath of user id'});
    await userId.fill('$.data.object.metdata.userId');
    const rowError = page.locator('.row', {has: userId}).locator('.field-error');
    await until('the error at the user id row', async () => /no user ids/.test(await rowError.textContent()));
    await page.getByRole('region', {name: 'Preview'}).getByText('1 error(s)').waitFor();
    await shot(page, '02-structured-error');
    // …fixed by choosing the property in the drop-down.
    await userId.fill('$.data.object.meta');
    await page.getByRole('option', {name: /\$\.data\.object\.metadata\.userId/}).click();
    assert.equal(await userId.inputValue(), '$.data.object.metadata.userId');
    await until('the error to clear', async () => (await rowError.textContent()) === '');
    // A detail field whose path is inserted from the Mappable properties.
    await page.getByRole('button', {name: 'Add detail field'}).click();
    await page.getByRole('textbox', {name: 'detail key'}).last().fill('event');
    await page.getByRole('combobox', {name: 'JSONPath of detail event'}).focus();
    await page.getByRole('button', {name: 'Insert $.type'}).click();
    assert.equal(await page.getByRole('combobox', {name: 'JSONPath of detail event'}).inputValue(), '$.type');
    const output = page.getByLabel('Mapped sample');
    await until('the mapped sample', async () => (await output.textContent()).includes('"event": "payment_intent.succeeded"'));
    assert.match(await output.textContent(), /"usersById": \[\s*"u_1"\s*\]/);
    await shot(page, '03-setup-structured');

    // Script: the Default preset; its error is marked at its line, then fixed.
    await page.getByRole('tab', {name: 'Script'}).click();
    await page.getByLabel('Choose preset').selectOption('default');
    await page.getByRole('button', {name: 'Load preset'}).click();
    const editor = page.getByRole('textbox', {name: 'Script'});
    await until('the Default preset', async () => (await editor.inputValue()).includes('function map(payload, request)'));
    await until('the error line', async () => (await page.locator('.gutter .error-line').count()) === 1);
    const line = Number(await page.locator('.gutter .error-line').textContent());
    assert.match((await editor.inputValue()).split('\n')[line - 1], /throw new Error\(/);
    await page.getByRole('button', {name: `Go to line ${line}`}).click();
    await shot(page, '04-script-error');
    const script = (await editor.inputValue()).replace('body.userId ??', 'body.data?.object?.metadata?.userId ?? body.userId ??');
    await editor.fill(script);
    await until('the script output', async () => (await output.textContent()).includes('"source": "default"'));
    assert.equal(await page.locator('.gutter .error-line').count(), 0);
    // Switching tabs keeps each tab's work.
    await page.getByRole('tab', {name: 'Structured'}).click();
    assert.equal(await userId.inputValue(), '$.data.object.metadata.userId');
    await page.getByRole('tab', {name: 'Script'}).click();
    assert.equal(await editor.inputValue(), script);

    // Save with a new sandbox for every event, then Send test card: the test event is shown.
    await page.getByLabel('A new sandbox for every event').check();
    await page.getByRole('button', {name: 'Save', exact: true}).click();
    await page.getByRole('status').filter({hasText: 'Saved'}).waitFor({state: 'attached'});
    const [, triggerId] = /#\/triggers\/([^/]+)/.exec(page.url());
    assert.equal((await api('GET', `/api/triggers/${triggerId}`)).json.mapping.isolation, 'fresh');
    await page.getByRole('button', {name: 'Send test card'}).click();
    const card = page.getByRole('region', {name: 'Test card sent'});
    await card.waitFor();
    assert.match(await card.textContent(), /For users: u_1/);
    assert.match(await card.textContent(), /test/);
    await shot(page, '05-test-card');

    // Security settings: Stripe's scheme and a secret.
    await page.getByRole('button', {name: 'Security settings'}).click();
    const dialog = page.getByRole('dialog', {name: 'Security settings'});
    await dialog.getByLabel('Signature preset').selectOption('stripe');
    await dialog.getByRole('button', {name: 'Use preset'}).click();
    await dialog.getByLabel('New secrets').fill(SECRET);
    await dialog.getByRole('button', {name: 'Save security settings'}).click();
    await dialog.waitFor({state: 'detached'});
    await page.getByText('1 secret(s), signed').waitFor();

    // Activate; a signed live webhook becomes a live event in Recent activity.
    await page.getByRole('button', {name: 'Activate Stripe payments'}).click();
    await page.locator('.status-line .badge.live').waitFor();
    const body = JSON.stringify({id: 'evt_2', type: 'payment_intent.succeeded',
      data: {object: {amount: 4500, currency: 'eur', metadata: {userId: 'u_7'}}}});
    assert.equal((await hook(url, body)).status, 401);
    const live = await hook(url, body, {'Stripe-Signature': stripeSignature(body, SECRET)});
    assert.equal(live.status, 202);
    const events = page.getByRole('table', {name: 'Events, newest first'});
    const row = events.locator(`[data-event="${live.json.eventId}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /live/);
    assert.match(await row.textContent(), /stored/);

    // A request of another shape pauses the trigger and is held.
    const other = JSON.stringify({id: 'evt_3', type: 'payment_intent.succeeded', data: 'not an object'});
    const held = await hook(url, other, {'Stripe-Signature': stripeSignature(other, SECRET)});
    assert.equal(held.status, 409);
    await page.locator('.status-line .badge.paused').waitFor();
    const heldItem = page.locator('.held > li').first();
    await heldItem.waitFor();
    assert.match(await heldItem.textContent(), /shape/);
    await heldItem.getByText('Inspect').click();
    assert.match(await heldItem.textContent(), /not an object/);
    await shot(page, '06-paused-held');

    // The Triggers list shows the pause with a link to the held request.
    await page.getByRole('link', {name: 'Triggers'}).first().click();
    const listRow = page.getByRole('row', {name: /Stripe payments/});
    await listRow.getByText('paused (from live)').waitFor();
    assert.deepEqual(
      await listRow.getByRole('button').allTextContents(),
      ['Copy URL', 'Reactivate', 'Disable'],
    );
    await shot(page, '07-triggers-paused');
    await listRow.getByRole('link', {name: 'Held requests (1)'}).click();
    await until('the held requests focused', () => page.evaluate(() => document.activeElement.id === 'held-title'));

    // Discard the held request, reactivate, disable and delete.
    await page.getByRole('button', {name: /^Discard held request/}).click();
    await page.getByText('No held requests.').waitFor();
    await page.getByRole('button', {name: 'Reactivate Stripe payments'}).click();
    await page.locator('.status-line .badge.live').waitFor();
    await page.getByRole('button', {name: 'Disable Stripe payments'}).click();
    await page.locator('.status-line .badge.disabled').waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', {name: 'Delete Stripe payments'}).click();
    await page.getByRole('heading', {name: 'Triggers', level: 1}).waitFor();
    await page.getByRole('row', {name: /Stripe payments/}).waitFor({state: 'detached'});
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});
