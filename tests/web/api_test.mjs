// SPDX-License-Identifier: Apache-2.0
// kubetape-web API tests against real servers on loopback, over a store
// written through the store API (tests/web/kt_webfill.c): 10,000 sessions
// plus the scripted web-demo session.  Prints PASS/FAIL lines for
// tests/run.sh (tests/e2e/web_api.sh runs it).
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import {
  test, fatal, finish, assert, eq, sleep, fill, startServer, stopServer, rawHttp, get,
  wsConnect, parseFrames, FrameParser, REC, tmpdir, FILL,
} from './lib.mjs';

const dir = tmpdir('webapi');
const db = `${dir}/kt.db`;
let demo, srv, base;
const N = 10000;

async function json(path, opts) {
  const r = await fetch(base + path, opts);
  const body = await r.json().catch(() => null);
  return { status: r.status, headers: r.headers, body };
}

try {
  demo = Number(fill(db, 'populate', String(N)));
  srv = await startServer(['--db', db, '--listen', '127.0.0.1:0']);
  base = srv.url;
} catch (e) {
  fatal('web_api_setup', e.message);
  finish('web_api');
  process.exit(1);
}

await test('info_and_security_headers', async () => {
  const r = await fetch(base + '/api/info');
  eq(r.status, 200, 'status');
  const h = r.headers;
  assert(/default-src 'none'/.test(h.get('content-security-policy')), 'CSP default-src none');
  assert(!/unsafe-inline/.test(h.get('content-security-policy')), 'CSP has unsafe-inline');
  assert(/frame-ancestors 'none'/.test(h.get('content-security-policy')), 'CSP frame-ancestors');
  eq(h.get('x-content-type-options'), 'nosniff', 'nosniff');
  eq(h.get('x-frame-options'), 'DENY', 'x-frame-options');
  eq(h.get('referrer-policy'), 'same-origin', 'referrer-policy');
  eq(h.get('cache-control'), 'no-store', 'API cache-control');
  eq(h.get('server'), null, 'server header');
  const b = await r.json();
  eq(b.auth, false, 'auth');
});

await test('static_assets_builtin', async () => {
  for (const [p, ct] of [['/', 'text/html'], ['/index.html', 'text/html'], ['/app.js', 'text/javascript'],
    ['/xterm.js', 'text/javascript'], ['/xterm.css', 'text/css'], ['/login.html', 'text/html']]) {
    const r = await fetch(base + p);
    eq(r.status, 200, `${p} status`);
    assert(r.headers.get('content-type').startsWith(ct), `${p} content-type ${r.headers.get('content-type')}`);
    assert(r.headers.get('content-security-policy'), `${p} has no CSP`);
    const text = await r.text();
    // nothing is loaded from another host at run time
    assert(!/(src|href)=["']?(https?:)?\/\//i.test(text), `${p} references another host`);
  }
  eq((await fetch(base + '/nope.js')).status, 404, 'missing asset');
});

await test('list_default_page', async () => {
  const r = await json('/api/sessions');
  eq(r.status, 200, 'status');
  eq(r.body.sessions.length, 100, 'default page size');
  assert(r.body.next_after, 'no next_after on a full page');
  const st = r.body.sessions.map((s) => s.start_us);
  assert(st.every((t, i) => i === 0 || t <= st[i - 1]), 'not sorted by start time, newest first');
  eq(r.body.total, N + 1, 'total');
  // the demo session was created first but started an hour ago: by start
  // time it is not on top, and it is found in the right place
  assert(r.body.sessions[0].id !== 1, 'sorted by id');
});

await test('list_substring_filters', async () => {
  let r = await json('/api/sessions?pod=od-0&limit=500');
  assert(r.body.sessions.length > 0 && r.body.sessions.every((s) => s.pod.includes('od-0')), 'pod substring');
  eq(r.body.total, (N / 50) * 10, 'pod substring total (pod-00..pod-09)');
  r = await json('/api/sessions?namespace=s-3&limit=5');
  eq(r.body.total, N / 5, 'namespace substring total');
  assert(r.body.sessions.every((s) => s.k8s_namespace === 'ns-3'), 'namespace substring');
  r = await json('/api/sessions?pod=%25&limit=5');
  eq(r.body.total, 0, '% is literal');
  // case-insensitive: an auditor types "POD-0" or "Ns-3"
  r = await json('/api/sessions?pod=OD-0&limit=5');
  eq(r.body.total, (N / 50) * 10, 'pod substring, other case');
  r = await json('/api/sessions?namespace=NS-3&pod=Pod&limit=5');
  eq(r.body.total, N / 5, 'namespace and pod, other case');
});

await test('list_pagination_10000', async () => {
  const seen = new Set();
  let after = 0, pages = 0, worst = 0;
  for (;;) {
    const t0 = Date.now();
    const r = await json(`/api/sessions?limit=500${after ? `&after=${after}` : ''}`);
    worst = Math.max(worst, Date.now() - t0);
    eq(r.status, 200, 'status');
    for (const s of r.body.sessions) { assert(!seen.has(s.id), `duplicate ${s.id}`); seen.add(s.id); }
    pages++;
    if (!r.body.next_after) break;
    after = r.body.next_after;
  }
  eq(seen.size, N + 1, 'sessions seen');
  assert(worst < 1000, `slowest page took ${worst} ms`);
  console.log(`# figure: 10,001 sessions in ${pages} pages of 500, slowest page ${worst} ms`);
});

await test('list_filters', async () => {
  let r = await json('/api/sessions?pod=pod-07&limit=500');
  eq(r.status, 200, 'status');
  eq(r.body.sessions.length, N / 50, 'pod-07 count');
  assert(r.body.sessions.every((s) => s.pod === 'pod-07'), 'pod filter leaked');
  r = await json('/api/sessions?namespace=ns-2&container=app&limit=500');
  assert(r.body.sessions.length > 0 && r.body.sessions.every((s) => s.k8s_namespace === 'ns-2' && s.container === 'app'), 'ns+container filter');
  r = await json('/api/sessions?active=1');
  eq(r.body.sessions.length, 3, 'active sessions');
  assert(r.body.sessions.every((s) => s.active && s.state === 'active' && s.end_us === 0), 'active flags');
  r = await json('/api/sessions?tty=0&limit=500');
  assert(r.body.sessions.length > 0 && r.body.sessions.every((s) => !s.has_tty), 'tty=0');
  r = await json('/api/sessions?node=node-demo');
  eq(r.body.sessions.length, 1, 'node filter');
  eq(r.body.sessions[0].id, demo, 'demo id');
  const d = r.body.sessions[0];
  r = await json(`/api/sessions?since=${d.start_us}&until=${d.end_us}&namespace=web`);
  eq(r.body.sessions.length, 1, 'time range');
  r = await json(`/api/sessions?until=${d.start_us - 1}&namespace=web`);
  eq(r.body.sessions.length, 0, 'time range before');
});

await test('session_and_commands', async () => {
  let r = await json(`/api/sessions/${demo}`);
  eq(r.status, 200, 'status');
  const s = r.body.session;
  eq(s.pod, 'web-demo', 'pod'); eq(s.exit_code, 3, 'exit code'); eq(s.lost_bytes, 3000, 'lost bytes');
  eq(s.cols, 80, 'cols'); eq(s.rows, 24, 'rows');
  r = await json(`/api/sessions/${demo}/commands`);
  eq(r.status, 200, 'commands status');
  eq(r.body.commands.map((c) => c.argv.join(' ')).join('|'), 'ls /|cat /etc/hostname|echo third', 'argv');
  r = await json(`/api/sessions/${demo}/commands?limit=1&after=0`);
  eq(r.body.commands.length, 1, 'paged'); eq(r.body.commands[0].seq, 1, 'after seq'); eq(r.body.next_after, 1, 'next_after');
  eq((await json('/api/sessions/999999/commands')).status, 404, 'missing session commands');
});

await test('bad_ids', async () => {
  for (const id of ['abc', '0', '-1', '1e3', '01', '99999999999999999999', '1.5', '%20']) {
    const r = await get(srv.port, `/api/sessions/${id}`);
    eq(r.status, 400, `id ${id}`);
    eq(JSON.parse(r.body.toString()).error.status, 400, `id ${id} JSON error`);
  }
  // lws itself drops a request whose path decodes to a NUL (no response)
  const nul = await get(srv.port, '/api/sessions/1%00');
  assert(nul.status === 0 || nul.status === 400, `id 1%00: ${nul.status}`);
  eq((await json('/api/sessions/123456789')).status, 404, 'unknown id');
  eq((await json(`/api/sessions/${demo}/nope`)).status, 404, 'unknown sub-resource');
});

await test('bad_parameters', async () => {
  const cases = ['/api/sessions?limit=0', '/api/sessions?limit=501', '/api/sessions?limit=abc',
    '/api/sessions?limit=1&limit=2', '/api/sessions?bogus=1', '/api/sessions?active=maybe',
    '/api/sessions?since=-5', '/api/sessions?since=10&until=5', '/api/sessions?after=0',
    `/api/sessions?pod=${'a'.repeat(300)}`, '/api/sessions?pod=%ff%fe', '/api/sessions?pod=a%01b', '/api/sessions?pod=a%7fb',
    '/api/sessions?pod', '/api/search', '/api/search?q=', '/api/search?q=%20%20',
    '/api/search?q=x&in=bogus', '/api/search?q=%c3%28', `/api/search?q=${'x'.repeat(1100)}`,
    `/api/sessions/${demo}/stream?from=-1`, `/api/sessions/${demo}/stream?from=abc`,
    `/api/sessions/${demo}/export.cast?from=1`, '/api/info?x=1'];
  for (const c of cases) {
    const r = await get(srv.port, c);
    eq(r.status, 400, c.slice(0, 80));
    const b = JSON.parse(r.body.toString());
    assert(b.error && typeof b.error.message === 'string', `${c}: no JSON error`);
    eq(r.headers['content-type'], 'application/json', `${c} content-type`);
  }
});

await test('huge_request', async () => {
  // up to 128 KiB of headers reach the validators: a JSON 400 with a reason
  const m = await get(srv.port, `/api/sessions?pod=${'x'.repeat(5000)}`);
  eq(m.status, 400, 'long parameter');
  const r = await get(srv.port, `/api/sessions?pod=${'x'.repeat(100 * 1024)}`);
  eq(r.status, 400, '100 KiB query');
  assert(/json/.test(r.headers['content-type']) && r.headers['content-security-policy'], '100 KiB query: JSON with CSP');
  const h = await get(srv.port, '/api/info', `X-Big: ${'y'.repeat(10000)}\r\n`);
  eq(h.status, 200, '10 KB of headers');
  // beyond that lws drops the request without a response (status 0 here)
  const x = await get(srv.port, '/api/info', `X-Big: ${'y'.repeat(140 * 1024)}\r\n`).catch(() => ({ status: 0 }));
  assert(x.status === 0 || (x.status >= 400 && x.status < 500), `140 KiB header status ${x.status}`);
  const b = await rawHttp(srv.port, `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Length: 100000\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n${'t'.repeat(5000)}`)
    .catch(() => ({ status: 'closed' }));
  assert(b.status === 'closed' || b.status === 413 || b.status === 303, `big body status ${b.status}`);
  eq((await json('/api/info')).status, 200, 'server still up');
});

await test('path_traversal', async () => {
  for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/app.js/../../../etc/passwd',
    '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e%2f%2e%2e%2fetc/passwd', '//etc/passwd', '/./../etc/passwd',
    '/ui/../../Makefile', '/..\\..\\etc\\passwd', '/node_modules/@xterm/xterm/lib/xterm.js']) {
    const r = await get(srv.port, p).catch(() => ({ status: 'closed', body: Buffer.alloc(0) }));
    assert(r.status === 'closed' || (r.status >= 400 && r.status < 500), `${p}: status ${r.status}`);
    assert(!r.body.toString().includes('root:'), `${p}: leaked /etc/passwd`);
  }
  eq((await get(srv.port, '/api/sessions/%ff')).status, 400, 'invalid UTF-8 path');
});

await test('wrong_methods', async () => {
  for (const [m, p] of [['POST', '/api/sessions'], ['PUT', '/api/sessions'], ['DELETE', `/api/sessions/${demo}`],
    ['PATCH', '/api/info'], ['POST', '/'], ['GET', '/login'], ['OPTIONS', '/api/sessions']]) {
    const r = await rawHttp(srv.port, `${m} ${p} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
      .catch(() => ({ status: 'closed' }));
    assert(r.status === 405 || r.status === 'closed' || (r.status >= 400 && r.status < 500), `${m} ${p}: ${r.status}`);
    if (m !== 'OPTIONS' && m !== 'PATCH') eq(r.status, 405, `${m} ${p}`);
  }
  const junk = await rawHttp(srv.port, `FROB / HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`).catch(() => ({ status: 'closed' }));
  assert(junk.status === 'closed' || junk.status >= 400, `unknown method: ${junk.status}`);
  const garbage = await rawHttp(srv.port, '\x00\xff\xfe garbage\r\n\r\n').catch(() => ({ status: 'closed' }));
  assert(garbage.status === 'closed' || garbage.status >= 400, `garbage: ${garbage.status}`);
  eq((await json('/api/info')).status, 200, 'server still up');
});

await test('search_commands', async () => {
  let r = await json('/api/search?q=hostname');
  eq(r.status, 200, 'status');
  assert(r.body.hits.some((h) => h.session.id === demo && h.command.argv.join(' ') === 'cat /etc/hostname'), 'demo hit missing');
  r = await json('/api/search?q=session-12&in=commands&pod=pod-12&limit=5');
  assert(r.body.hits.length > 0 && r.body.hits.every((h) => h.session.pod === 'pod-12'), 'filtered search');
  r = await json('/api/search?q=%22%3B%20DROP%20TABLE%20sessions%3B%20--');
  eq(r.status, 200, 'hostile query is text');
  eq(r.body.hits.length, 0, 'hostile query hits');
  r = await json('/api/search?q=session&limit=3');
  eq(r.body.hits.length, 3, 'limit');
  const r2 = await json(`/api/search?q=session&limit=3&after=${r.body.next_after}`);
  assert(r2.body.hits.every((h) => h.command.id < r.body.next_after), 'search pagination');
  r = await json('/api/search?q=hostname&in=screen');
  assert(r.status === 501 || r.status === 200, `in=screen: ${r.status}`);
});

await test('stream_records', async () => {
  const r = await fetch(`${base}/api/sessions/${demo}/stream`);
  eq(r.status, 200, 'status');
  eq(r.headers.get('content-type'), 'application/vnd.kubetape.frames', 'content-type');
  const recs = parseFrames(Buffer.from(await r.arrayBuffer()));
  eq(recs[0].type, REC.META, 'first record');
  const meta = JSON.parse(recs[0].data.toString());
  eq(meta.session_id, demo, 'meta id');
  const text = recs.filter((x) => x.type === REC.OUT).map((x) => x.data.toString()).join('');
  assert(text.startsWith('DEMO-START') && text.includes('OUT-TWO') && text.includes('OUT-THREE'), 'output text');
  const gap = recs.find((x) => x.type === REC.GAP);
  assert(gap && gap.data.readBigUInt64LE(0) === 3000n, 'gap record');
  eq(recs[recs.length - 1].type, REC.END, 'END last');
  const ts = recs.slice(1).map((x) => x.t);
  assert(ts.every((t, i) => i === 0 || t >= ts[i - 1]), 'times decrease');
  const f = await fetch(`${base}/api/sessions/${demo}/stream?from=5000000`);
  const m2 = JSON.parse(parseFrames(Buffer.from(await f.arrayBuffer()))[0].data.toString());
  eq(m2.from_us - m2.start_us, 5000000, 'from_us');
  eq((await fetch(`${base}/api/sessions/424242/stream`)).status, 404, 'missing session');
});

await test('export_asciicast', async () => {
  const r = await fetch(`${base}/api/sessions/${demo}/export.cast`);
  eq(r.status, 200, 'status');
  assert(/attachment; filename="kubetape-\d+\.cast"/.test(r.headers.get('content-disposition')), 'disposition');
  const lines = (await r.text()).trim().split('\n');
  const h = JSON.parse(lines[0]);
  eq(h.version, 2, 'version'); eq(h.width, 80, 'width'); eq(h.height, 24, 'height');
  const ev = lines.slice(1).map((l) => JSON.parse(l));
  assert(ev.some((e) => e[1] === 'o' && e[2].includes('OUT-THREE')), 'output event');
  assert(ev.some((e) => e[1] === 'm' && /3000 bytes lost/.test(e[2])), 'gap marker');
  assert(ev.every((e, i) => i === 0 || e[0] >= ev[i - 1][0]), 'times decrease');
});

await test('live_websocket', async () => {
  const w = spawn(FILL, [db, 'live'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  w.stdout.on('data', (d) => lines.push(...d.toString().trim().split('\n')));
  while (!lines.length) await sleep(20);
  const id = Number(lines[0]);
  let text = '', end = false, closeCode = null;
  const p = new FrameParser((type, t, data) => {
    if (type === REC.OUT) text += data.toString();
    if (type === REC.END) end = true;
  });
  const ws = await wsConnect(srv.port, `/ws/sessions/${id}/live`, { onData: (d) => p.push(d), onClose: (c) => { closeCode = c; } });
  const deadline = (ms) => Date.now() + ms;
  let t = deadline(3000);
  while (!text.includes('LIVE-BEGIN') && Date.now() < t) await sleep(10);
  assert(text.includes('LIVE-BEGIN'), 'history not replayed');
  const t0 = Date.now();
  w.stdin.write('hello-live-1\n');
  t = deadline(3000);
  while (!text.includes('hello-live-1') && Date.now() < t) await sleep(5);
  const lat = Date.now() - t0;
  assert(text.includes('hello-live-1'), 'live line never arrived');
  assert(lat < 1000, `live latency ${lat} ms`);
  console.log(`# figure: live latency (store commit -> WebSocket, 100 ms poll): ${lat} ms`);
  w.stdin.end();
  t = deadline(5000);
  while (closeCode === null && Date.now() < t) await sleep(20);
  assert(end, 'no END record after the session ended');
  eq(closeCode, 1000, 'close code');
  ws.close();
  eq((await wsConnect(srv.port, '/ws/sessions/abc/live').catch((e) => e)).status, 404, 'bad id refused');
  eq((await wsConnect(srv.port, '/ws/nothing').catch((e) => e)).status, 404, 'bad ws path refused');
  const gone = await wsConnect(srv.port, '/ws/sessions/987654/live', { onClose: (c) => { closeCode = c; } }).catch((e) => e);
  closeCode = null;
  await sleep(200);
  assert(gone instanceof Error || closeCode !== null || gone.sock.destroyed, 'unknown session kept open');
});

await test('live_50_viewers', async () => {
  const w = spawn(FILL, [db, 'live'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = [];
  w.stdout.on('data', (d) => out.push(...d.toString().trim().split('\n')));
  while (!out.length) await sleep(20);
  const id = Number(out[0]);
  const viewers = [];
  for (let i = 0; i < 50; i++) {
    const v = { text: '' };
    const p = new FrameParser((type, t, data) => { if (type === REC.OUT) v.text += data.toString(); });
    v.ws = await wsConnect(srv.port, `/ws/sessions/${id}/live`, { onData: (d) => p.push(d) });
    viewers.push(v);
  }
  let worst = 0, apiWorst = 0;
  for (let n = 0; n < 10; n++) {
    const mark = `mark-${n}-${'z'.repeat(200)}`;
    const t0 = Date.now();
    w.stdin.write(mark + '\n');
    const tApi = Date.now();
    const r = await json('/api/sessions?limit=100');
    apiWorst = Math.max(apiWorst, Date.now() - tApi);
    eq(r.status, 200, 'list while live');
    const until = Date.now() + 3000;
    while (viewers.some((v) => !v.text.includes(mark)) && Date.now() < until) await sleep(5);
    const lat = Date.now() - t0;
    assert(viewers.every((v) => v.text.includes(mark)), `line ${n} missing for some viewers`);
    worst = Math.max(worst, lat);
  }
  w.stdin.end();
  for (const v of viewers) v.ws.close();
  assert(worst < 1000, `worst latency with 50 viewers ${worst} ms`);
  console.log(`# figure: 50 live viewers: worst line latency ${worst} ms, list request during it ${apiWorst} ms`);
});

await test('server_survived', async () => {
  eq((await json('/api/info')).status, 200, 'info');
  eq(srv.proc.exitCode, null, 'server exited');
});
const code = await stopServer(srv);
await test('sigterm_exit0', async () => eq(code, 0, 'exit code on SIGTERM'));

// ------------------------------------------------------------------ auth
const token = 'kt-test-token-' + 'a1b2c3d4e5f6';
fs.writeFileSync(`${dir}/token`, token + '\n', { mode: 0o600 });
let asrv;
try {
  asrv = await startServer(['--db', db, '--listen', '127.0.0.1:0', '--token-file', `${dir}/token`]);
} catch (e) { fatal('auth_server_start', e.message); }

if (asrv) {
  const ab = asrv.url;
  await test('auth_required', async () => {
    for (const p of ['/api/sessions', `/api/sessions/${demo}`, `/api/sessions/${demo}/commands`,
      `/api/sessions/${demo}/stream`, `/api/sessions/${demo}/export.cast`, '/api/search?q=ls', '/api/info']) {
      const r = await fetch(ab + p);
      eq(r.status, 401, p);
      const body = await r.text();
      assert(!body.includes('web-demo') && !body.includes('DEMO'), `${p}: data in a 401`);
      const bad = await fetch(ab + p, { headers: { Authorization: `Bearer ${token}x` } });
      eq(bad.status, 401, `${p} wrong token`);
      const short = await fetch(ab + p, { headers: { Authorization: `Bearer ${token.slice(0, -1)}` } });
      eq(short.status, 401, `${p} prefix token`);
    }
    eq((await fetch(ab + '/api/sessions', { headers: { Authorization: `Bearer ${token}` } })).status, 200, 'right token');
    eq((await fetch(ab + '/api/sessions', { headers: { Cookie: 'kt_session=' + 'a'.repeat(64) } })).status, 401, 'forged cookie');
    eq((await fetch(ab + '/login.html')).status, 200, 'login page is public');
  });

  await test('auth_login_cookie', async () => {
    let r = await fetch(ab + '/login', { method: 'POST', redirect: 'manual', body: 'token=wrong-token-value',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    eq(r.status, 303, 'wrong login status');
    assert(/login\.html#failed/.test(r.headers.get('location')), 'wrong login location');
    eq(r.headers.get('set-cookie'), null, 'cookie for a wrong token');
    r = await fetch(ab + '/login', { method: 'POST', redirect: 'manual', body: `token=${encodeURIComponent(token)}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    eq(r.status, 303, 'login status');
    const sc = r.headers.get('set-cookie');
    assert(/kt_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/.test(sc), `cookie: ${sc}`);
    assert(!sc.includes(token), 'token in cookie');
    const cookie = sc.split(';')[0];
    eq((await fetch(ab + '/api/sessions', { headers: { Cookie: cookie } })).status, 200, 'cookie works');
    // WebSocket: cookie + same Origin accepted; foreign Origin and no auth refused
    const id = demo;
    const okWs = await wsConnect(asrv.port, `/ws/sessions/${id}/live`, { headers: { Cookie: cookie, Origin: `http://127.0.0.1:${asrv.port}` } });
    okWs.close();
    const foreign = await wsConnect(asrv.port, `/ws/sessions/${id}/live`, { headers: { Cookie: cookie, Origin: 'http://evil.example' } }).catch((e) => e);
    eq(foreign.status, 403, 'foreign origin');
    const anon = await wsConnect(asrv.port, `/ws/sessions/${id}/live`).catch((e) => e);
    eq(anon.status, 401, 'unauthenticated websocket');
    r = await fetch(ab + '/logout', { method: 'POST', redirect: 'manual', headers: { Cookie: cookie } });
    eq(r.status, 303, 'logout');
    eq((await fetch(ab + '/api/sessions', { headers: { Cookie: cookie } })).status, 401, 'cookie after logout');
  });
  await stopServer(asrv);
}

// ------------------------------------------------------------------ listen policy
await test('listen_policy', async () => {
  let r = await startServer(['--db', db, '--listen', '0.0.0.0:0'], { expectExit: true });
  eq(r.code, 2, 'non-loopback without token');
  assert(/without authentication/.test(r.log), 'reason for no token');
  r = await startServer(['--db', db, '--listen', '0.0.0.0:0', '--token-file', `${dir}/token`], { expectExit: true });
  eq(r.code, 2, 'plain HTTP off loopback');
  assert(/insecure-http/.test(r.log), 'reason for plain HTTP');
  fs.writeFileSync(`${dir}/short`, 'short\n');
  r = await startServer(['--db', db, '--listen', '127.0.0.1:0', '--token-file', `${dir}/short`], { expectExit: true });
  eq(r.code, 1, 'short token');
  r = await startServer(['--db', db, '--listen', 'nonsense'], { expectExit: true });
  eq(r.code, 2, 'bad listen');
  r = await startServer(['--db', db, '--tls-cert', '/nonexistent'], { expectExit: true });
  eq(r.code, 2, 'cert without key');
  // with --insecure-http it starts, on all addresses, and still wants the token
  const s = await startServer(['--db', db, '--listen', '0.0.0.0:0', '--token-file', `${dir}/token`, '--insecure-http']);
  assert(/warn: --insecure-http: serving plain HTTP/.test(s.log()), `no --insecure-http warning: ${s.log()}`);
  eq((await fetch(`http://127.0.0.1:${s.port}/api/sessions`)).status, 401, 'token required off loopback');
  await stopServer(s);
});

await test('tls', async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`,
    '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const s = await startServer(['--db', db, '--listen', '0.0.0.0:0', '--token-file', `${dir}/token`,
    '--tls-cert', `${dir}/cert.pem`, '--tls-key', `${dir}/key.pem`]);
  const res = await new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: s.port, path: '/api/sessions?limit=1', rejectUnauthorized: false,
      headers: { Authorization: `Bearer ${token}` } }, (r) => {
      let body = ''; r.on('data', (d) => { body += d; }); r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body }));
    }).on('error', reject);
  });
  eq(res.status, 200, 'https status');
  assert(/max-age=/.test(res.headers['strict-transport-security'] || ''), 'HSTS over TLS');
  eq(JSON.parse(res.body).sessions.length, 1, 'https body');
  // plain HTTP to the HTTPS port: a JSON 400 that says so (badreq.c),
  // not a connection dropped without a word
  const plain = await get(s.port, '/api/info');
  eq(plain.status, 400, 'plain HTTP on the TLS port');
  assert(/application\/json/.test(plain.headers['content-type'] || ''), `content-type ${plain.headers['content-type']}`);
  assert(/default-src 'none'/.test(plain.headers['content-security-policy'] || ''), 'no CSP');
  eq(JSON.parse(plain.body.toString()).error.message, 'this server speaks HTTPS only', 'message');
  eq((await get(s.port, '/api/info')).status, 400, 'and again (the server survived it)');
  await stopServer(s);
});

fs.rmSync(dir, { recursive: true, force: true });
finish('web_api');
