// SPDX-License-Identifier: Apache-2.0
// Who ran it, in the browser: kubetape-web over a store where the recorder's
// sessions were joined to audit events (tests/e2e/audit_identity_test.sh
// sets it up).  The list shows the Kubernetes user and the join tier, the
// user filter keeps the impersonated user's session only, and the session
// page shows the user, tier, source IPs and user agent.
//   KT_AUDIT_WEB_URL  the server; KT_AUDIT_IMP_ID  bob's session (via a proxy)
//   KT_AUDIT_NODE_ID  the session with no request; KT_WEB_ARTIFACTS screenshots
import fs from 'node:fs';
import path from 'node:path';
import { test, fatal, finish, assert, eq, sleep, REPO } from './lib.mjs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const ART = process.env.KT_WEB_ARTIFACTS || path.join(REPO, 'build/test-artifacts/audit');
fs.mkdirSync(ART, { recursive: true });
let chromium;
try {
  ({ chromium } = await import(path.join(REPO, 'web/node_modules/playwright-core/index.mjs')));
} catch (e) {
  fatal('audit_ui_playwright', `playwright-core is not installed (npm ci --prefix web): ${e.message}`);
  finish('audit_ui');
  process.exit(1);
}
const URL_ = env('KT_AUDIT_WEB_URL'), IMP = env('KT_AUDIT_IMP_ID'), NODE = env('KT_AUDIT_NODE_ID');
const ctx = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
const page = await ctx.newPage({ viewport: { width: 1500, height: 800 } });
const problems = [];
page.on('pageerror', (e) => problems.push(e.message));
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}
const rowUser = (id) => page.evaluate((i) => {
  const r = document.querySelector(`#sessions tr[data-id="${i}"] td.user`);
  return r ? r.textContent : null;
}, id);

await test('audit_ui_list_shows_user', async () => {
  await page.goto(URL_ + '/#/');
  const u = await until(() => rowUser(IMP), 5000, 'the session rows');
  assert(u.includes('bob (via system:serviceaccount:proxy:teleport)') && u.includes('matched'), `user cell: ${u}`);
  const n = await rowUser(NODE);
  assert(n.includes('no request'), `the session with no request is not flagged: ${n}`);
  await page.screenshot({ path: path.join(ART, 'list.png'), fullPage: true });
});
await test('audit_ui_filter_by_user', async () => {
  await page.goto(URL_ + '/#/?user=bob');
  await until(() => page.evaluate(() => /session/.test(document.querySelector('#list-status').textContent)), 5000, 'the filtered list');
  const ids = await page.evaluate(() => [...document.querySelectorAll('#sessions tbody tr')].map((r) => r.dataset.id));
  eq(ids.join(','), String(IMP), 'sessions of user bob');
  eq(await page.evaluate(() => document.querySelector('#filters').elements.user.value), 'bob', 'filter field');
});
await test('audit_ui_session_page', async () => {
  await page.goto(URL_ + `/#/s/${IMP}`);
  const meta = await until(() => page.evaluate(() => {
    const m = document.querySelector('#meta');
    return m && m.textContent.includes('User') ? m.textContent : null;
  }), 5000, 'the session metadata');
  assert(meta.includes('bob (via system:serviceaccount:proxy:teleport)') && meta.includes('matched') &&
    meta.includes('192.0.2.44') && meta.includes('kubectl/v1.31.0'), `metadata: ${meta.slice(0, 300)}`);
  await page.screenshot({ path: path.join(ART, 'session.png') });
});
await test('audit_ui_no_page_errors', async () => { eq(problems.join('; '), '', 'page errors'); });
await ctx.close();
console.log(`# screenshots: ${ART}`);
finish('audit_ui');
