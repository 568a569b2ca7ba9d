// SPDX-License-Identifier: Apache-2.0
// kubetape-web in Debian's chromium, driven by playwright-core (headless).
// tests/e2e/web_browser.sh sets up the stores and servers and passes:
//   KT_WEB_LIST_URL  server over a kt_webfill store (10,001 sessions)
//   KT_WEB_REC_URL   server over a store recorded by the real recorder
//   KT_WEB_REC_ID    the recorded session (markers A-2, B-4, C-6)
//   KT_WEB_LIVE_FIFO ptyrun's script fifo of the active recorded session
//   KT_WEB_POD       that pod's name
//   KT_WEB_ARTIFACTS screenshots go here
import fs from 'node:fs';
import path from 'node:path';
import { test, fatal, finish, assert, eq, sleep, tmpdir, REPO } from './lib.mjs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const ART = process.env.KT_WEB_ARTIFACTS || path.join(REPO, 'build/test-artifacts/web');
fs.mkdirSync(ART, { recursive: true });

let chromium;
try {
  ({ chromium } = await import(path.join(REPO, 'web/node_modules/playwright-core/index.mjs')));
} catch (e) {
  fatal('web_browser_playwright', `playwright-core is not installed (run 'make deps', i.e. npm ci --prefix web): ${e.message}`);
  finish('web_browser');
  process.exit(1);
}
if (!fs.existsSync('/usr/bin/chromium')) {
  fatal('web_browser_chromium', "/usr/bin/chromium is missing: run 'make deps' (Debian package chromium)");
  finish('web_browser');
  process.exit(1);
}

const profile = tmpdir('chromium');
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-gpu', '--disable-quic'],
});
const page = ctx.pages()[0] || await ctx.newPage();
const problems = [];
const foreign = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('request', (r) => {
  const u = new URL(r.url());
  if (u.hostname !== '127.0.0.1' && u.protocol !== 'data:') foreign.push(r.url());
});
const shot = (name) => page.screenshot({ path: path.join(ART, `${name}.png`) });
const screen = () => page.evaluate(() => window.ktPlayer && window.ktPlayer.screenText());
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

// ------------------------------------------------------------------ list
const LIST = env('KT_WEB_LIST_URL');
await test('browser_list', async () => {
  await page.goto(LIST + '/');
  await page.waitForSelector('#sessions tbody tr', { timeout: 10000 });
  eq(await page.locator('#sessions tbody tr').count(), 100, 'first page rows');
  assert(await page.locator('#more').isVisible(), 'no Load more on a 10,001 list');
  await shot('list');
});

await test('browser_filter_by_pod', async () => {
  await page.fill('#filters input[name=pod]', 'pod-07');
  await page.click('#filters button[type=submit]');
  await until(async () => (await page.locator('#sessions tbody tr').count()) === 100 &&
    (await page.locator('#sessions tbody tr td:nth-child(4)').allTextContents()).every((t) => t.includes('/ pod-07 /')), 5000, 'pod-07 rows');
  await page.click('#more');
  await until(async () => (await page.locator('#sessions tbody tr').count()) === 200, 5000, '200 rows after Load more');
  assert(!(await page.locator('#more').isVisible()), 'Load more after the last page');
  assert(page.url().includes('pod=pod-07'), 'filter not in the URL');
  await shot('list-filtered-pod');
});

await test('browser_live_marked', async () => {
  await page.goto(LIST + '/#/?active=1');
  await until(async () => (await page.locator('#sessions tbody tr').count()) === 3, 5000, '3 active rows');
  eq(await page.locator('#sessions tbody .badge.live').count(), 3, 'LIVE badges');
});

await test('browser_search', async () => {
  // from the unfiltered list: a search carries the list's filters
  await page.goto(LIST + '/#/');
  await page.waitForSelector('#sessions tbody tr', { timeout: 10000 });
  await page.fill('#q', 'hostname');
  await page.click('#search-form button');
  await until(async () => (await page.locator('#hits tbody tr').count()) > 0, 5000, 'search hits');
  const t = await page.locator('#hits tbody tr td.match').first().textContent();
  eq(t, 'cat /etc/hostname', 'hit text');
  await shot('search');
});

// ------------------------------------------------------------------ recorded session
const REC = env('KT_WEB_REC_URL');
const RID = env('KT_WEB_REC_ID');
let cmds = [];
await test('browser_session_page', async () => {
  await page.goto(`${REC}/#/s/${RID}`);
  await page.waitForSelector('#term .xterm-rows', { timeout: 10000 });
  const meta = await page.locator('#meta').textContent();
  assert(meta.includes(env('KT_WEB_POD')), 'pod not in metadata');
  assert(/Exit code\s*3/.test(meta), `exit code not shown: ${meta}`);
  assert(/Lost bytes\s*0/.test(meta), 'lost bytes not shown');
  cmds = await page.locator('#commands li button').allTextContents();
  assert(cmds.some((c) => c.includes('ls /')) && cmds.some((c) => c.includes('cat /etc/hostname')), `timeline: ${cmds.join(' | ')}`);
  const href = await page.getAttribute('#download', 'href');
  eq(href, `/api/sessions/${RID}/export.cast`, 'download link');
  const cast = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  eq(JSON.parse(cast.split('\n')[0]).version, 2, 'asciicast header');
});

await test('browser_play', async () => {
  await page.selectOption('#speed', '4');
  await page.click('#play');
  await until(async () => (await screen() || '').includes('C-6'), 20000, 'C-6 on screen while playing');
  await until(async () => (await page.getAttribute('#term', 'data-state')) === 'finished', 10000, 'playback end');
  await shot('session-played');
});

await test('browser_command_seek', async () => {
  const ls = page.locator('#commands li button', { hasText: 'ls /' });
  const lsUs = Number(await ls.getAttribute('data-us'));
  await ls.click();
  await until(async () => (await page.locator('#commands li.current button').textContent() || '').includes('ls /'), 10000, 'ls / highlighted');
  const pos = await page.evaluate(() => window.ktPlayer.pos);
  assert(Math.abs(pos - lsUs) < 1000, `player at ${pos}, command at ${lsUs}`);
  let s = await screen();
  assert(s.includes('B-4') && !s.includes('C-6'), `screen after seeking to ls /:\n${s}`);
  await shot('session-seek-ls');
  // backward: to cat /etc/hostname
  const cat = page.locator('#commands li button', { hasText: 'cat /etc/hostname' });
  await cat.click();
  await until(async () => (await page.locator('#commands li.current button').textContent() || '').includes('cat /etc/hostname'), 10000, 'cat highlighted');
  s = await screen();
  assert(s.includes('A-2') && !s.includes('B-4'), `screen after seeking back to cat:\n${s}`);
  const seekMs = await page.evaluate(() => window.ktPlayer.stats.seekMs);
  console.log(`# figure: browser seek (backward, replay from start) on a recorded session: ${seekMs.toFixed(1)} ms`);
  await shot('session-seek-cat');
});

// ------------------------------------------------------------------ live
const FIFO = env('KT_WEB_LIVE_FIFO');
await test('browser_follow_live', async () => {
  const pod = env('KT_WEB_POD');
  const live = await until(async () => {
    const r = await page.evaluate(async (p) => (await fetch(`/api/sessions?active=1&tty=1&pod=${p}`)).json(), pod);
    return r.sessions[0];
  }, 15000, 'an active recorded session');
  await page.goto(`${REC}/#/s/${live.id}`);
  await page.waitForSelector('#live:not([hidden])', { timeout: 10000 });
  await page.click('#live');
  await until(async () => (await screen() || '').includes('L-10'), 10000, 'L-10 (history) in the live view');
  const t0 = Date.now();
  fs.appendFileSync(FIFO, 'send "echo NEW-$((6*7))\\r"\nexpect NEW-42 10\n');
  await until(async () => (await screen() || '').includes('NEW-42'), 5000, 'NEW-42 in the live view');
  const lat = Date.now() - t0;
  console.log(`# figure: live, keystroke -> real recorder -> store -> kubetape-web -> chromium screen: ${lat} ms`);
  assert(lat < 2000, `live latency ${lat} ms`);
  await shot('session-live');
  fs.appendFileSync(FIFO, 'send "exit\\r"\nwait-exit 10\n');
  await until(async () => (await page.locator('#player-status').textContent()).includes('Session ended'), 15000, '"Session ended"');
  await shot('session-live-ended');
});

await test('browser_no_csp_violations_or_foreign_requests', async () => {
  eq(foreign.length, 0, `requests to other hosts: ${foreign.join(' ')}`);
  eq(problems.length, 0, `console errors: ${problems.join(' | ').slice(0, 300)}`);
});

await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
console.log(`# screenshots: ${ART}`);
finish('web_browser');
