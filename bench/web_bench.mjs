// SPDX-License-Identifier: Apache-2.0
// kubetape-web figures over a large session (bench/web_bench.sh runs it):
// time to first frame, seek latency (API and in chromium), live latency,
// and kubetape-web's RSS while streaming the whole session.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startServer, stopServer, FrameParser, REC, rssKiB, hwmKiB, sleep, wsConnect, tmpdir, REPO, FILL } from '../tests/web/lib.mjs';

const db = process.argv[2], id = Number(process.argv[3]);
const srv = await startServer(['--db', db, '--listen', '127.0.0.1:0']);
const base = srv.url;
const fig = (k, v) => console.log(`figure: ${k}: ${v}`);
const { session: s } = await (await fetch(`${base}/api/sessions/${id}`)).json();
fig('session', `${(s.bytes_out / 1048576).toFixed(0)} MiB of output over ${((s.end_us - s.start_us) / 1e6).toFixed(0)} s`);

// time to first frame (request -> first OUT record), best of 5
let best = Infinity;
for (let i = 0; i < 5; i++) {
  const ac = new AbortController();
  const t0 = performance.now();
  const r = await fetch(`${base}/api/sessions/${id}/stream`, { signal: ac.signal });
  const reader = r.body.getReader();
  let got = false;
  const p = new FrameParser((type) => { if (type === REC.OUT) got = true; });
  while (!got) p.push((await reader.read()).value);
  best = Math.min(best, performance.now() - t0);
  ac.abort();
}
fig('time to first frame (API, best of 5)', `${best.toFixed(1)} ms`);

// full stream at full speed: throughput and RSS sampled every 50 ms
async function streamAll(from, stopAtUs) {
  const t0 = performance.now();
  let bytes = 0, maxRss = 0, reachedMs = null;
  const timer = setInterval(() => { maxRss = Math.max(maxRss, rssKiB(srv.proc.pid)); }, 50);
  const ac = new AbortController();
  const r = await fetch(`${base}/api/sessions/${id}/stream?from=${from}`, { signal: ac.signal });
  const reader = r.body.getReader();
  const p = new FrameParser((type, t) => { if (reachedMs === null && type === REC.OUT && t - s.start_us >= stopAtUs) reachedMs = performance.now() - t0; });
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.length;
    p.push(value);
    if (stopAtUs !== undefined && reachedMs !== null) { ac.abort(); break; }
  }
  clearInterval(timer);
  return { ms: performance.now() - t0, bytes, maxRss, reachedMs };
}
const rss0 = rssKiB(srv.proc.pid);
const full = await streamAll(0);
fig('full stream', `${(full.bytes / 1048576).toFixed(0)} MiB in ${(full.ms / 1000).toFixed(2)} s (${(full.bytes / 1048576 / (full.ms / 1000)).toFixed(0)} MiB/s)`);
fig('kubetape-web RSS', `idle ${(rss0 / 1024).toFixed(1)} MiB, max while streaming ${(full.maxRss / 1024).toFixed(1)} MiB, peak (VmHWM) ${(hwmKiB(srv.proc.pid) / 1024).toFixed(1)} MiB`);

// seek at the API: until the first frame at the target arrives (no keyframes
// yet: the stream starts at the session start)
const dur = s.end_us - s.start_us;
for (const frac of [0.1, 0.5, 0.9]) {
  const r = await streamAll(Math.floor(dur * frac), Math.floor(dur * frac));
  fig(`seek to ${frac * 100}% (API, frames from the session start)`, `${r.reachedMs.toFixed(0)} ms`);
}

// 4 concurrent full streams: RSS stays flat
{
  const timer = setInterval(() => {}, 1000);
  let maxRss = 0;
  const t = setInterval(() => { maxRss = Math.max(maxRss, rssKiB(srv.proc.pid)); }, 50);
  const t0 = performance.now();
  await Promise.all([0, 1, 2, 3].map(async () => {
    const r = await fetch(`${base}/api/sessions/${id}/stream`);
    const reader = r.body.getReader();
    for (;;) { const { done } = await reader.read(); if (done) break; }
  }));
  clearInterval(t); clearInterval(timer);
  fig('4 concurrent full streams', `${((performance.now() - t0) / 1000).toFixed(1)} s, max RSS ${(maxRss / 1024).toFixed(1)} MiB`);
}

// live latency: store commit -> WebSocket (20 lines)
{
  const w = spawn(FILL, [db, 'live'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = [];
  w.stdout.on('data', (d) => out.push(...d.toString().trim().split('\n')));
  while (!out.length) await sleep(20);
  const lid = Number(out[0]);
  let text = '';
  const p = new FrameParser((type, t, data) => { if (type === REC.OUT) text += data.toString(); });
  const ws = await wsConnect(srv.port, `/ws/sessions/${lid}/live`, { onData: (d) => p.push(d) });
  const lats = [];
  for (let i = 0; i < 20; i++) {
    await sleep(37);
    const mark = `bench-${i}-x`;
    const t0 = performance.now();
    w.stdin.write(mark + '\n');
    while (!text.includes(mark)) await sleep(2);
    lats.push(performance.now() - t0);
  }
  w.stdin.end();
  ws.close();
  lats.sort((a, b) => a - b);
  fig('live latency (commit -> WebSocket, 20 lines)', `median ${lats[10].toFixed(0)} ms, max ${lats[19].toFixed(0)} ms (poll every 100 ms; the recorder adds its <= 0.5 s commit tick)`);
}

// in chromium: first frame and seek to 50% through the real player
if (process.env.KT_BENCH_BROWSER !== '0' && fs.existsSync('/usr/bin/chromium')) {
  const { chromium } = await import(path.join(REPO, 'web/node_modules/playwright-core/index.mjs'));
  const profile = tmpdir('chromium-bench');
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const t0 = Date.now();
  await page.goto(`${base}/#/s/${id}`);
  await page.waitForFunction(() => window.ktPlayer && window.ktPlayer.stats.firstFrameMs !== null, null, { timeout: 60000 });
  fig('browser: page load -> first frame parsed', `${Date.now() - t0} ms (stream request -> first frame ${(await page.evaluate(() => window.ktPlayer.stats.firstFrameMs)).toFixed(0)} ms)`);
  for (const frac of [0.1, 0.5]) {
    const ms = await page.evaluate(async (t) => { await window.ktPlayer.seek(t); return window.ktPlayer.stats.seekMs; }, Math.floor(dur * frac));
    fig(`browser: seek to ${frac * 100}% (replays ${(s.bytes_out * frac / 1048576).toFixed(0)} MiB into xterm.js)`, `${(ms / 1000).toFixed(2)} s`);
  }
  await page.screenshot({ path: path.join(REPO, 'build/test-artifacts/web/bench-big-session.png') }).catch(() => {});
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
fig('kubetape-web peak RSS over the whole run (VmHWM)', `${(hwmKiB(srv.proc.pid) / 1024).toFixed(1)} MiB`);
await stopServer(srv);
