// SPDX-License-Identifier: Apache-2.0
// The auditor's player features in chromium (playwright-core): keys, the URL
// following the player and surviving the login page, fit to the window and
// fullscreen, visible underscores, the process tree and seek-bar markers,
// the session's identifiers, the first screen before Play, non-tty
// sessions, search results.  Run by tests/e2e/web_browser.sh with the
// environment of browser_test.mjs plus KT_WEB_REC_DB; screenshots go to
// KT_WEB_ARTIFACTS.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test, fatal, finish, assert, eq, sleep, tmpdir, REPO, startServer, stopServer } from './lib.mjs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const ART = process.env.KT_WEB_ARTIFACTS || path.join(REPO, 'build/test-artifacts/web');
const REC = env('KT_WEB_REC_URL'), RID = env('KT_WEB_REC_ID'), DB = env('KT_WEB_REC_DB'), LIST = env('KT_WEB_LIST_URL');
fs.mkdirSync(ART, { recursive: true });

let chromium;
try {
  ({ chromium } = await import(path.join(REPO, 'web/node_modules/playwright-core/index.mjs')));
} catch (e) {
  fatal('web_ui_playwright', `playwright-core is not installed: ${e.message}`);
  finish('web_ui');
  process.exit(1);
}
const profile = tmpdir('chromium-ui');
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-gpu', '--disable-quic'],
});
const page = ctx.pages()[0] || await ctx.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('response', (r) => { if (r.status() >= 400 && r.status() !== 401) problems.push(`${r.status()} ${r.url()}`); });
const shot = (name) => page.screenshot({ path: path.join(ART, `${name}.png`) });
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}
async function open(url) {
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForFunction(() => window.ktSessionReady, null, { timeout: 10000 });
  await page.evaluate(() => window.ktSessionReady);
}
const pos = () => page.evaluate(() => window.ktPlayer.pos);
const screen = () => page.evaluate(() => window.ktPlayer.screenText());
const seekDone = (n) => until(() => page.evaluate((k) => (window.ktPlayer.stats.seeks || 0) >= k && !window.ktPlayer.resume, n), 5000, `seek ${n}`);

const session = (await (await fetch(`${REC}/api/sessions/${RID}`)).json()).session;
const cmds = (await (await fetch(`${REC}/api/sessions/${RID}/commands?limit=5000`)).json()).commands;
const rel = (c) => c.ts_us - session.start_us;

await test('ui_first_screen_before_play', async () => {
  await open(`${REC}/#/s/${RID}`);
  const s = await screen();
  assert(s.trim().length > 0, 'blank terminal before Play');
  const st = await page.textContent('#player-status');
  assert(!/ended/i.test(st) && /Space/.test(st), `status before Play: ${st}`);
});

await test('ui_keyboard', async () => {
  await open(`${REC}/#/s/${RID}`);
  let n = await page.evaluate(() => window.ktPlayer.stats.seeks || 0);
  const p0 = await pos();
  const next = cmds.map(rel).find((t) => t > p0 + 1000);
  await page.keyboard.press(']'); await seekDone(++n);
  eq(await pos(), next, '] -> next command');
  const after = cmds.map(rel).find((t) => t > next + 1000);
  await page.keyboard.press(']'); await seekDone(++n);
  eq(await pos(), after, '] again');
  await page.keyboard.press('['); await seekDone(++n);
  eq(await pos(), next, '[ -> previous command');
  await page.keyboard.press('ArrowRight'); await seekDone(++n);
  const right = Math.min(next + 5e6, await page.evaluate(() => window.ktPlayer.duration()));
  eq(await pos(), right, 'right +5 s (at most the end)');
  await page.keyboard.press('ArrowLeft'); await seekDone(++n);
  eq(await pos(), Math.max(0, right - 5e6), 'left -5 s');
  await page.keyboard.press('5'); await seekDone(++n);
  const dur = await page.evaluate(() => window.ktPlayer.duration());
  eq(await pos(), dur * 5 / 10, '5 -> 50%');
  await page.keyboard.press('0'); await seekDone(++n);
  eq(await pos(), 0, '0 -> start');
  await page.keyboard.press('.'); await seekDone(++n);
  assert((await pos()) > 0, '. did not step');
  await page.keyboard.press(' ');
  await until(async () => (await page.getAttribute('#term', 'data-state')) === 'playing', 2000, 'space plays');
  await page.keyboard.press(' ');
  await until(async () => (await page.getAttribute('#term', 'data-state')) === 'paused', 2000, 'space pauses');
  // space with the focus on the Play button toggles once, not twice
  await page.click('#play');
  await until(async () => (await page.getAttribute('#term', 'data-state')) === 'playing', 2000, 'Play clicked');
  await page.keyboard.press(' ');
  await sleep(300);
  eq(await page.getAttribute('#term', 'data-state'), 'paused', 'space on the focused Play button');
  await page.keyboard.press('f');
  await until(() => page.evaluate(() => !!document.fullscreenElement), 3000, 'f: fullscreen');
  await shot('player-fullscreen');
  await page.keyboard.press('f');
  await until(() => page.evaluate(() => !document.fullscreenElement), 3000, 'f: fullscreen left');
  // keys typed into the search box are text, not player keys
  await page.click('#q');
  const before = await pos();
  await page.keyboard.type('5]');
  eq(await pos(), before, 'typing in the search box moved the player');
});

await test('ui_url_follows_player', async () => {
  await open(`${REC}/#/s/${RID}`);
  await page.keyboard.press(']');
  await until(() => page.url().includes('?t='), 3000, '?t= in the URL');
  const t = Number(new URL(page.url()).hash.split('t=')[1]);
  eq(t * 1000, Math.floor((await pos()) / 1000) * 1000, 'URL t (ms) = player position');
  await page.keyboard.press(' ');
  await sleep(700);
  await page.keyboard.press(' ');
  await until(async () => (await page.getAttribute('#term', 'data-state')) === 'paused', 2000, 'paused');
  const t2 = Number(new URL(page.url()).hash.split('t=')[1]);
  assert(t2 > t, `URL not updated on pause: ${t2} <= ${t}`);
});

await test('ui_deep_link_survives_login', async () => {
  const dir = tmpdir('webui-auth');
  const token = 'browser-ui-test-token-123456';
  fs.writeFileSync(`${dir}/token`, token + '\n', { mode: 0o600 });
  const s = await startServer(['--db', DB, '--listen', '127.0.0.1:0', '--token-file', `${dir}/token`]);
  try {
    const ms = Math.floor(rel(cmds[Math.min(3, cmds.length - 1)]) / 1000) + 250;
    await page.goto('about:blank');
    await page.goto(`${s.url}/#/s/${RID}?t=${ms}`);
    await page.waitForURL(/login\.html/, { timeout: 5000 });
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.waitForFunction(() => window.ktSessionReady, null, { timeout: 10000 });
    await page.evaluate(() => window.ktSessionReady);
    eq(new URL(page.url()).hash, `#/s/${RID}?t=${ms}`, 'URL after login');
    eq(await pos(), ms * 1000, 'player position after login');
  } finally {
    await stopServer(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

await test('ui_fits_window', async () => {
  for (const [w, h] of [[800, 600], [1280, 720]]) {
    await page.setViewportSize({ width: w, height: h });
    await open(`${REC}/#/s/${RID}?t=1000`);
    const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth,
      play: document.querySelector('#play').getBoundingClientRect().bottom, ih: innerHeight }));
    assert(m.sw <= m.iw, `${w}x${h}: page scrolls sideways (${m.sw} > ${m.iw})`);
    assert(m.play <= m.ih, `${w}x${h}: controls below the fold (${m.play} > ${m.ih})`);
    // a 132x40 terminal (the recorded size changes it the same way)
    await page.evaluate(() => { window.ktPlayer.term.resize(132, 40); window.ktPlayer.hooks.onResize(); });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const f = await page.evaluate(() => {
      const t = document.querySelector('#term').getBoundingClientRect();
      return { sw: document.documentElement.scrollWidth, iw: innerWidth, right: t.right,
        play: document.querySelector('#play').getBoundingClientRect().top, ih: innerHeight,
        scale: Number(document.querySelector('#term').dataset.scale) };
    });
    assert(f.sw <= f.iw && f.right <= f.iw, `${w}x${h} 132x40: wider than the window`);
    assert(f.scale < 1, `${w}x${h} 132x40: not scaled (${f.scale})`);
    if (w === 1280) {
      const el = await page.evaluate(() => { const r = document.querySelector('.controls').getBoundingClientRect(); return r.bottom <= innerHeight + 1; });
      assert(el, '1280x720 132x40: player controls not in view');
      await shot('player-132x40-1280x720');
    }
  }
  await page.setViewportSize({ width: 1400, height: 900 });
});

await test('ui_underscore_visible', async () => {
  const c = cmds.find((x) => x.argv.join(' ').includes('LEDGER_TOKEN'));
  assert(c, 'no LEDGER_TOKEN command recorded');
  await open(`${REC}/#/s/${RID}?t=${Math.floor(rel(c) / 1000) + 400}`);
  const cell = await page.evaluate(() => {
    const p = window.ktPlayer, b = p.term.buffer.active;
    const scr = document.querySelector('#term .xterm-screen').getBoundingClientRect();
    const cw = scr.width / p.term.cols, ch = scr.height / p.term.rows;
    for (let y = p.term.rows - 1; y >= 0; y--) {
      const line = b.getLine(b.baseY + y).translateToString(true);
      const x = line.indexOf('LEDGER_TOKEN=under_score');
      if (x === 0) return { x: scr.left + (x + 6) * cw, blank: scr.left + 70 * cw, y: scr.top + y * ch, cw, ch };
    }
    return null;
  });
  assert(cell, 'LEDGER_TOKEN=under_score not at the start of a row');
  const clip = (x) => ({ x: Math.floor(x), y: Math.floor(cell.y), width: Math.max(2, Math.floor(cell.cw)), height: Math.ceil(cell.ch) });
  const under = await page.screenshot({ clip: clip(cell.x) });
  const blank = await page.screenshot({ clip: clip(cell.blank) });
  assert(!under.equals(blank), 'the underscore cell renders exactly like an empty cell');
  await page.screenshot({ path: path.join(ART, 'underscore-row.png'), clip: { x: Math.floor(cell.x - 6 * cell.cw), y: Math.floor(cell.y), width: Math.ceil(26 * cell.cw), height: Math.ceil(cell.ch) } });
});

await test('ui_process_tree_and_markers', async () => {
  await open(`${REC}/#/s/${RID}?t=1000`);
  const rows = await page.locator('#commands li').count();
  eq(rows, cmds.length, 'one row per command');
  const texts = await page.locator('#commands li').allTextContents();
  assert(texts.every((t) => /\d+:\d\d\.\d{3}/.test(t)), 'offsets without milliseconds');
  assert(texts.every((t) => /pid \d+ · uid \d+ · /.test(t)), 'pid/uid/cwd missing');
  const fals = page.locator('#commands li').filter({ has: page.locator('.argv', { hasText: /^false$/ }) }).first();
  assert(/exit 1/.test(await fals.textContent()), 'exit code of false');
  eq(await fals.locator('.exit.bad').count(), 1, 'failed exit not marked');
  const depths = await page.locator('#commands li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.depth)));
  assert(depths.some((d) => d > 0) && depths.includes(0), `no tree: depths ${depths.join(',')}`);
  eq(await page.locator('#markers span.cmd').count(), cmds.length, 'command markers on the seek bar');
  const meta = await page.locator('#meta').textContent();
  for (const [k, v] of [['Pod UID', session.pod_uid], ['Container ID', session.container_id], ['Session UUID', session.uuid], ['Hostname', session.hostname]]) {
    assert(v && meta.includes(v), `${k} '${v}' not on the page`);
  }
  await shot('session-process-tree');
});

await test('ui_non_tty_explained', async () => {
  const r = await (await fetch(`${LIST}/api/sessions?tty=0&limit=1`)).json();
  const s = r.sessions[0];
  await open(`${LIST}/#/s/${s.id}`);
  assert(await page.locator('#notty').isVisible(), 'no explanation shown');
  assert(!(await page.locator('#term').isVisible()), 'an empty terminal is shown');
  assert(/no terminal/.test(await page.textContent('#notty')), 'explanation text');
});

await test('ui_list_and_search_results', async () => {
  await page.goto(`${LIST}/#/?namespace=ns-2`);
  await page.waitForSelector('#sessions tbody tr');
  assert(/From \(UTC\)/.test(await page.textContent('#filters')) && /To \(UTC\)/.test(await page.textContent('#filters')),
    'no time zone label on the date pickers');
  await shot('list-filtered-ns');
  await page.fill('#q', 'session-7');
  await page.click('#search-form button');
  await until(async () => (await page.locator('#hits tbody tr').count()) > 0, 5000, 'hits');
  assert(page.url().includes('namespace=ns-2'), `search lost the list's filter: ${page.url()}`);
  const rows = await page.locator('#hits tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert(rows.every((r) => r[3].startsWith('ns-2 / ')), `a hit outside namespace ns-2: ${JSON.stringify(rows[0])}`);
  assert(rows.every((r) => /^\d+:\d\d\.\d{3}$/.test(r[2])), 'offset column');
  eq(await page.locator('#hits tbody tr').first().locator('mark').first().textContent(), 'session-7', 'highlighted match');
  await shot('search-results-filtered');
});

// a fresh document each time: a hash change alone keeps the old rows
// until the new ones load
const fresh = async (url) => { await page.goto('about:blank'); await page.goto(url); };

await test('ui_list_sorted_with_total', async () => {
  await fresh(`${LIST}/#/`);
  await page.waitForSelector('#sessions tbody tr');
  const st = await page.textContent('#list-status');
  const total = (await (await fetch(`${LIST}/api/sessions?limit=1`)).json()).total;
  assert(st.includes(`of ${total.toLocaleString('en')} sessions`) && /newest start first/.test(st), `status: ${st}`);
  assert(/Start \(UTC\)/.test(await page.textContent('#sessions thead')), 'no time zone on the start column');
  const starts = await page.locator('#sessions tbody tr td:nth-child(2)').allTextContents();
  assert(starts.length === 100 && starts.every((t, i) => i === 0 || t <= starts[i - 1]), 'rows not sorted by start time, newest first');
});

await test('ui_filters_case_insensitive_substring', async () => {
  await fresh(`${LIST}/#/`);
  await page.waitForSelector('#sessions tbody tr');
  const total = (await (await fetch(`${LIST}/api/sessions?pod=POD-07&namespace=S-2&limit=1`)).json()).total;
  assert(total > 0, 'the API finds nothing for POD-07 in S-2');
  await page.fill('#filters input[name=pod]', 'POD-07');
  await page.fill('#filters input[name=namespace]', 'S-2');
  await page.click('#filters button[type=submit]');
  await until(async () => (await page.textContent('#list-status')).includes(`of ${total.toLocaleString('en')} session`), 5000, `the filtered list (${total})`);
  const where = await page.locator('#sessions tbody tr td:nth-child(4)').allTextContents();
  assert(where.length > 0 && where.every((t) => /^ns-2 \/ pod-07 \//.test(t)), `rows: ${where.slice(0, 3).join(' | ')}`);
});

await test('ui_gap_marker', async () => {
  const r = await (await fetch(`${LIST}/api/sessions?pod=web-demo&limit=1`)).json();
  const d = r.sessions[0];
  assert(d && d.lost_bytes > 0, 'no session with a gap in the list store');
  await open(`${LIST}/#/s/${d.id}`);
  await page.evaluate(() => window.ktPlayer.seek(window.ktPlayer.duration()));
  await until(async () => (await page.locator('#markers span.gap').count()) > 0, 5000, 'a gap marker on the seek bar');
  const left = await page.locator('#markers span.gap').first().evaluate((e) => parseFloat(e.style.left));
  const want = (7e6 / (d.end_us - d.start_us)) * 100;   // kt_webfill: 3000 bytes lost at 7 s
  assert(Math.abs(left - want) < 1, `gap marker at ${left}%, want ${want.toFixed(1)}%`);
  assert(/3000 bytes lost/.test(await page.locator('#markers span.gap').first().getAttribute('title')), 'gap marker title');
});

// Tamper evidence (issue 10) on the list and the session page: the real
// recorder's signed session is "verified"; an unsigned store says
// "unsigned"; a copy whose checkpoint signature was altered says BROKEN.
await test('ui_verification_state', async () => {
  const badge = async (id) => page.locator(`#sessions tr[data-id="${id}"] td.evidence .badge`).getAttribute('data-state');
  await fresh(`${REC}/#/`);
  await page.waitForSelector(`#sessions tr[data-id="${RID}"]`);
  eq(await badge(RID), 'verified', 'the recorded session on the list');
  await open(`${REC}/#/s/${RID}`);
  let v = await page.textContent('#meta .verify');
  assert(/verified/.test(v) && /frames signed/.test(v) && /final/.test(v), `session page: ${v}`);
  assert(!/key stored in the database/.test(v), 'the key next to the store was not used');
  await fresh(`${LIST}/#/?pod=web-demo`);
  await page.waitForSelector('#sessions tbody tr');
  eq(await page.locator('#sessions tbody tr td.evidence .badge').first().getAttribute('data-state'), 'unsigned', 'an unsigned store');
  // a tampered copy
  const dir = tmpdir('webui-tamper');
  execFileSync('sqlite3', [DB, `.backup ${dir}/kt.db`]);
  fs.copyFileSync(path.join(path.dirname(DB), 'node.key.pub'), `${dir}/node.key.pub`);
  execFileSync('sqlite3', [`${dir}/kt.db`, `UPDATE checkpoints SET sig = zeroblob(64) WHERE session_id = ${Number(RID)}`]);
  const s = await startServer(['--db', `${dir}/kt.db`, '--listen', '127.0.0.1:0']);
  try {
    await fresh(`${s.url}/#/`);
    await page.waitForSelector(`#sessions tr[data-id="${RID}"]`);
    eq(await badge(RID), 'broken', 'the tampered session on the list');
    eq(await page.locator(`#sessions tr[data-id="${RID}"] td.evidence .badge`).textContent(), 'BROKEN', 'badge text');
    await open(`${s.url}/#/s/${RID}`);
    v = await page.textContent('#meta .verify');
    assert(/BROKEN/.test(v) && /signature invalid/.test(v), `tampered session page: ${v}`);
    await shot('session-tampered-broken');
  } finally {
    await stopServer(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Screen text found by search, in the browser: the hit says where (its
// namespace, its offset), highlights the match, and its link opens the
// player at that moment with the text on screen.  "B-4" is only ever on
// screen (the command line says B-$((2+2))).
await test('ui_search_screen_hit', async () => {
  const ns = session.k8s_namespace;
  await until(async () => (await (await fetch(`${REC}/api/search?q=B-4&in=screen`)).json()).hits.length > 0, 20000, 'the screen index');
  await fresh(`${REC}/#/search?q=B-4&in=all`);
  await until(async () => (await page.locator('#hits tbody tr.screen').count()) > 0, 5000, 'screen hits');
  const row = page.locator('#hits tbody tr.screen').first();
  const cells = await row.locator('td').allTextContents();
  assert(cells[3].startsWith(`${ns} / `), `namespace column: ${cells[3]}`);
  assert(/^\d+:\d\d\.\d{3}$/.test(cells[2]), `offset column: ${cells[2]}`);
  assert(/screen/.test(cells[4]), `in column: ${cells[4]}`);
  eq(await row.locator('mark').first().textContent(), 'B-4', 'highlighted match');
  await shot('search-screen-hit');
  await page.evaluate(() => { window.ktSessionReady = null; });
  await row.locator('a').first().click();
  await page.waitForFunction(() => window.ktSessionReady, null, { timeout: 10000 });
  await page.evaluate(() => window.ktSessionReady);
  assert((await screen()).includes('B-4'), 'the hit\'s link does not show the text on screen');
});

await test('ui_no_page_errors', async () => eq(problems.length, 0, problems.join(' | ').slice(0, 300)));

await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
console.log(`# screenshots: ${ART}`);
finish('web_ui');
