// What the browser tests share: the server run.sh started, a fresh headless Chromium,
// the admin API and the ingest URL from Node, screenshots, and waiting for a condition.

import {createHmac} from 'node:crypto';
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

export const ADMIN = process.env.HOOKMAP_ADMIN_URL;
export const TOKEN = process.env.HOOKMAP_ADMIN_TOKEN;
if (!ADMIN || !TOKEN) throw new Error('run the browser tests with tests/ui/run.sh (HOOKMAP_ADMIN_URL, HOOKMAP_ADMIN_TOKEN)');

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');

/** Starts Chromium with a fresh profile; returns {page, close}. */
export async function browser() {
  const profile = mkdtempSync(join(tmpdir(), 'hookmap-ui-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
    viewport: {width: 1440, height: 1000},
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (401|404|409|422)/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.setDefaultTimeout(15000);
  return {
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, {recursive: true, force: true});
    },
  };
}

/** Opens the setup screen and gives the admin token, as a person does. */
export async function signIn(page) {
  await page.goto(`${ADMIN}/`);
  await page.getByLabel('Admin token').fill(TOKEN);
  await page.getByRole('button', {name: 'Open'}).click();
  await page.getByRole('heading', {name: 'Triggers', level: 1}).waitFor();
}

/** Saves a screenshot of the page as screenshots/NAME.png. */
export async function shot(page, name) {
  mkdirSync(SHOTS, {recursive: true});
  await page.screenshot({path: join(SHOTS, `${name}.png`), fullPage: true});
}

/** An admin API call from Node. */
export async function api(method, path, body) {
  const response = await fetch(`${ADMIN}${path}`, {
    method,
    headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {status: response.status, json: text ? JSON.parse(text) : null};
}

/** POSTs `body` (text) to a trigger's URL; returns the status and answer. */
export async function hook(url, body, headers = {}) {
  const response = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json', ...headers}, body});
  return {status: response.status, json: await response.json().catch(() => null)};
}

/** The `Stripe-Signature` header of `body` with `secret`, as Stripe signs. */
export function stripeSignature(body, secret) {
  const time = Math.floor(Date.now() / 1000);
  const mac = createHmac('sha256', secret).update(`${time}.${body}`).digest('hex');
  return `t=${time},v1=${mac}`;
}

/** Waits until `check()` resolves truthy (checked every 100 ms); fails with `what`. */
export async function until(what, check, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
