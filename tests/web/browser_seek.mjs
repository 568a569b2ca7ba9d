// SPDX-License-Identifier: Apache-2.0
// Seek correctness of the web player in chromium: after each seek (and on
// each cold deep link) the terminal's text must equal the screen the store
// renders at that offset (tests/web/kt_screenat.c: libvterm via
// store/screen.h, fed every frame from the session start, no keyframes).
// Run by tests/e2e/web_browser.sh against the session the real recorder
// recorded; environment as browser_test.mjs plus KT_WEB_REC_DB.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, fatal, finish, assert, eq, sleep, tmpdir, REPO, OUT } from './lib.mjs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const ART = process.env.KT_WEB_ARTIFACTS || path.join(REPO, 'build/test-artifacts/web');
const REC = env('KT_WEB_REC_URL'), RID = env('KT_WEB_REC_ID'), DB = env('KT_WEB_REC_DB');
fs.mkdirSync(ART, { recursive: true });

let chromium;
try {
  ({ chromium } = await import(path.join(REPO, 'web/node_modules/playwright-core/index.mjs')));
} catch (e) {
  fatal('web_seek_playwright', `playwright-core is not installed: ${e.message}`);
  finish('web_seek');
  process.exit(1);
}
const profile = tmpdir('chromium-seek');
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-gpu', '--disable-quic'],
});
const page = ctx.pages()[0] || await ctx.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
const shot = (name) => page.screenshot({ path: path.join(ART, `${name}.png`) });

// The store's screen at each offset (us), in one kt_screenat run.
function storeScreens(offsets) {
  const out = execFileSync(path.join(OUT, 'tests/web/kt_screenat'), [DB, RID, ...offsets.map(String)],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = new Map();
  for (const l of out.trim().split('\n')) { const j = JSON.parse(l); m.set(j.offset_us, j); }
  return m;
}
const norm = (lines) => { const a = lines.map((l) => l.replace(/\s+$/, '')); while (a.length && !a[a.length - 1]) a.pop(); return a.join('\n'); };
function diff(want, got) {
  const w = want.split('\n'), g = got.split('\n');
  for (let i = 0; i < Math.max(w.length, g.length); i++)
    if (w[i] !== g[i]) return `row ${i}: want ${JSON.stringify(w[i] || '')}, got ${JSON.stringify(g[i] || '')}`;
  return '';
}
const termText = () => page.evaluate(() => window.ktPlayer.screenText().split('\n'));

// deterministic pseudo-random offsets
let seed = 0x2545f491;
const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };

let session, commands, targets = [], expect;
await test('web_seek_setup', async () => {
  session = (await (await fetch(`${REC}/api/sessions/${RID}`)).json()).session;
  commands = (await (await fetch(`${REC}/api/sessions/${RID}/commands?limit=5000`)).json()).commands;
  const dur = session.end_us - session.start_us;
  assert(dur > 0 && commands.length >= 5, `session too short: ${dur} us, ${commands.length} commands`);
  // every command's start, just after it, and random moments; shuffled so
  // the seeks go both ways
  for (const c of commands) {
    const rel = c.ts_us - session.start_us;
    targets.push(rel, rel + 150000, rel + 700000);
  }
  while (targets.length < 70) targets.push(Math.floor(rnd() * dur));
  targets = targets.map((t) => Math.max(0, Math.min(dur, t)));
  for (let i = targets.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [targets[i], targets[j]] = [targets[j], targets[i]]; }
  expect = storeScreens([...new Set(targets)]);
});

let wrong = 0, n = 0, back = 0, fwd = 0;
const wrongs = [];
await test('web_seek_matches_store_screen', async () => {
  await page.goto(`${REC}/#/s/${RID}`);
  await page.waitForFunction(() => window.ktPlayer && window.ktSessionReady, null, { timeout: 10000 });
  await page.evaluate(() => window.ktSessionReady);
  let pos = await page.evaluate(() => window.ktPlayer.pos);
  for (const t of targets) {
    const ok = await page.evaluate((x) => window.ktPlayer.seek(x), t);
    assert(ok, `seek to ${t} did not complete`);
    if (t < pos) back++; else fwd++;
    pos = t;
    n++;
    const got = norm(await termText()), want = norm(expect.get(t).lines);
    if (got !== want) { wrong++; if (wrongs.length < 5) wrongs.push(`${t} us: ${diff(want, got)}`); }
  }
  console.log(`# figure: web seek correctness: ${wrong} wrong screens of ${n} seeks (${back} backward, ${fwd} forward)`);
  eq(wrong, 0, `wrong screens (${wrongs.join('; ')})`);
  assert(back >= 20 && fwd >= 20, `${back} backward, ${fwd} forward`);
});

await test('web_seek_overlapping', async () => {
  // a held key: seeks issued without waiting; only the last one lands
  const ts = targets.slice(0, 8);
  const last = ts[ts.length - 1];
  const res = await page.evaluate(async (xs) => Promise.all(xs.map((x) => window.ktPlayer.seek(x))), ts);
  assert(res[res.length - 1] === true, 'the last seek did not land');
  const got = norm(await termText()), want = norm(expect.get(last).lines);
  eq(got === want, true, `after overlapping seeks: ${diff(want, got)}`);
});

await test('web_seek_while_playing', async () => {
  let bad = 0;
  for (let i = 0; i < 6; i++) {
    await page.evaluate(() => { window.ktPlayer.speed = 4; window.ktPlayer.play(); });
    await sleep(150 + Math.floor(rnd() * 300));
    const t = targets[10 + i];
    await page.evaluate((x) => window.ktPlayer.seek(x), t);
    // seeking while playing plays on: pause, let the last drain land, and
    // compare at wherever the playhead stopped
    const landed = await page.evaluate(async () => {
      const p = window.ktPlayer;
      p.pause();
      if (p._busyP) await p._busyP;
      await p._settle();
      return Math.floor(p.pos);   // frames have integer times: <= pos is <= floor(pos)
    });
    const got = norm(await termText()), want = norm(storeScreens([landed]).get(landed).lines);
    if (got !== want) bad++;
  }
  eq(bad, 0, 'wrong screens after seeks while playing');
});

let cold = 0, coldWrong = 0;
await test('web_seek_deep_links_cold', async () => {
  const picks = targets.slice(20, 35);
  const ms = picks.map((t) => Math.floor(t / 1000));
  const exp = storeScreens(ms.map((m) => m * 1000));
  for (const m of ms) {
    await page.goto('about:blank');
    await page.goto(`${REC}/#/s/${RID}?t=${m}`);
    await page.waitForFunction(() => window.ktPlayer && window.ktSessionReady, null, { timeout: 10000 });
    await page.evaluate(() => window.ktSessionReady);
    cold++;
    const got = norm(await termText()), want = norm(exp.get(m * 1000).lines);
    if (got !== want) { coldWrong++; if (wrongs.length < 10) wrongs.push(`deep link t=${m}: ${diff(want, got)}`); }
    const pos = await page.evaluate(() => window.ktPlayer.pos);
    eq(pos, m * 1000, 'player position after the deep link');
  }
  await shot('deep-link');
  console.log(`# figure: web deep links loaded cold: ${coldWrong} wrong screens of ${cold}`);
  eq(coldWrong, 0, `wrong screens (${wrongs.join('; ')})`);
});

await test('web_seek_no_page_errors', async () => eq(problems.length, 0, problems.join(' | ').slice(0, 300)));

await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
console.log(`# screenshots: ${ART}`);
finish('web_seek');
