// SPDX-License-Identifier: Apache-2.0
// kubetape-web against hostile and greedy clients, on loopback only and
// bounded in time and count: DNS rebinding (Host/Origin, HTTP and
// WebSocket), malformed requests, slow-header clients, clients that open
// the big stream and never read, login throttling; plus screen-text search
// and /api/info.  Run by tests/e2e/web_api.sh.  Other loopback addresses
// (127.0.0.2-4) stand for other clients: the per-address caps apply to them.
import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import {
  test, fatal, finish, assert, eq, sleep, fill, startServer, stopServer, rawHttp, wsConnect, tmpdir, FILL,
} from './lib.mjs';

const dir = tmpdir('webhostile');
const db = `${dir}/kt.db`, bigdb = `${dir}/big.db`;
let demo, big, srv, port;
try {
  demo = Number(fill(db, 'populate', '200'));
  big = Number(fill(bigdb, 'big', '64'));
  srv = await startServer(['--db', db, '--listen', '127.0.0.1:0', '--allow-host', 'kubetape.example']);
  port = srv.port;
  await (await fetch(`${srv.url}/api/info`)).json();  // node's fetch warms up once (~50 ms), not in the figures
} catch (e) {
  fatal('web_hostile_setup', e.message);
  finish('web_hostile');
  process.exit(1);
}

const req = (p, target, headers = {}, method = 'GET', opts = {}) => {
  let r = `${method} ${target} HTTP/1.1\r\nConnection: close\r\n`;
  if (!('Host' in headers)) r += `Host: 127.0.0.1:${p}\r\n`;
  for (const [k, v] of Object.entries(headers)) if (v !== null) r += `${k}: ${v}\r\n`;
  return rawHttp(p, r + '\r\n', opts);
};
const isJsonErr = (r, status) => {
  eq(r.status, status, 'status');
  assert(/application\/json/.test(r.headers['content-type'] || ''), `content-type ${r.headers['content-type']}`);
  assert(/default-src 'none'/.test(r.headers['content-security-policy'] || ''), 'no CSP');
  eq(r.headers['x-content-type-options'], 'nosniff', 'nosniff');
  const j = JSON.parse(r.body.toString());
  eq(j.error.status, status, 'error.status');
};

// ------------------------------------------------------------------ DNS rebinding
await test('host_foreign_refused', async () => {
  for (const h of ['attacker.example', `attacker.example:${port}`, `127.0.0.2:${port}`, `localhost.attacker.example:${port}`,
    `127.0.0.1.nip.io:${port}`, `127.0.0.1:${port}@x`]) {
    const r = await req(port, '/api/sessions?limit=1', { Host: h });
    assert(r.status === 421 || r.status === 400, `Host '${h}': ${r.status}`);
    assert(!r.body.toString().includes('"sessions"'), `Host '${h}' got session data`);
    if (r.status === 421) isJsonErr(r, 421);
  }
  assert(/refused a request from 127.0.0.1 \(421/.test(srv.log()), 'refusal not logged');
});

await test('host_own_accepted', async () => {
  // a port-forward changes the port: 127.0.0.1:9000 -> pod 127.0.0.1:8321
  for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, 'kubetape.example', 'kubetape.example:443',
    '127.0.0.1:9000', 'localhost:9000', '127.0.0.1']) {
    const r = await req(port, '/api/sessions?limit=1', { Host: h });
    eq(r.status, 200, `Host '${h}'`);
  }
});

await test('origin_foreign_refused', async () => {
  let r = await req(port, '/api/sessions?limit=1', { Origin: 'http://attacker.example' });
  isJsonErr(r, 403);
  r = await req(port, '/api/sessions?limit=1', { Origin: 'null' });
  eq(r.status, 403, 'Origin null');
  r = await req(port, '/api/sessions?limit=1', { Origin: `http://127.0.0.1:${port}` });
  eq(r.status, 200, 'own Origin');
  // login CSRF from another site
  r = await req(port, '/login', { Origin: 'http://attacker.example', 'Content-Length': 0 }, 'POST');
  eq(r.status, 403, 'cross-site login post');
});

await test('websocket_rebinding_refused', async () => {
  const w = spawnLive();
  const id = await w.id;
  // the rebinding attack: Host and Origin both the attacker's name
  let e = await wsConnect(port, `/ws/sessions/${id}/live`, { headers: { Host: `attacker.example:${port}`, Origin: `http://attacker.example:${port}` } })
    .then(() => null, (x) => x);
  assert(e && e.status === 421, `rebinding WebSocket: ${e && e.status}`);
  e = await wsConnect(port, `/ws/sessions/${id}/live`, { headers: { Origin: 'http://attacker.example' } }).then(() => null, (x) => x);
  assert(e && e.status === 403, `foreign Origin WebSocket: ${e && e.status}`);
  const ok = await wsConnect(port, `/ws/sessions/${id}/live`, { headers: { Origin: `http://127.0.0.1:${port}` } });
  ok.close();
  w.end();
});

function spawnLive() {
  const p = spawn(FILL, [db, 'live'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const id = new Promise((r) => p.stdout.once('data', (d) => r(Number(d.toString().trim().split('\n')[0]))));
  return { id, end: () => p.stdin.end() };
}

// ------------------------------------------------------------------ malformed requests
// Every malformed request lws lets us answer gets the JSON error with the
// security headers; what lws 4.1 answers itself, or closes, before any
// callback is checked to be exactly that (web/badreq.c, web/API.md).
const secHeaders = (r, what) => {
  assert(/default-src 'none'/.test(r.headers['content-security-policy'] || ''), `${what}: no CSP`);
  eq(r.headers['x-frame-options'], 'DENY', `${what}: x-frame-options`);
  eq(r.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
};
const raw = (line, extra = '') => rawHttp(port, `${line}\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extra}\r\n`, { timeout: 4000 })
  .catch((e) => ({ status: 0, headers: {}, body: Buffer.alloc(0), err: e.message }));
async function timed(p) { const t0 = Date.now(); const r = await p; r.ms = Date.now() - t0; return r; }

await test('malformed_requests_json', async () => {
  // methods lws does not know: handed to badreq.c by lws's raw fallback
  for (const m of ['TRACE', 'PROPFIND', 'CONNECT', 'BREW']) {
    const r = await raw(`${m} /api/info HTTP/1.1`);
    isJsonErr(r, 405);
    assert(/GET/.test(r.headers.allow || ''), `${m}: allow ${r.headers.allow}`);
  }
  // methods it knows and we refuse: answered and closed at once (lws
  // would otherwise wait for a body it cannot delimit)
  for (const m of ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
    const r = await timed(raw(`${m} /api/info HTTP/1.1`));
    isJsonErr(r, 405);
    assert(r.ms < 2000, `${m}: connection held ${r.ms} ms after the answer`);
  }
  // not HTTP at all (a TLS hello to the plain port)
  const bin = await rawHttp(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 13, 10, 13, 10]), { timeout: 4000 });
  isJsonErr(bin, 400);
  // a 100 KiB query reaches the validators
  isJsonErr(await req(port, `/api/sessions?pod=${'q'.repeat(100 * 1024)}`), 400);
  // ~10 KB of headers is a normal request: answered
  eq((await req(port, '/api/info', { 'X-Big': 'h'.repeat(10 * 1024) })).status, 200, '10 KB of headers');
  const many = {};
  for (let i = 0; i < 100; i++) many[`X-H${i}`] = 'v'.repeat(100);
  eq((await req(port, '/api/info', many)).status, 200, '100 unknown headers of 100 bytes');
  // %ff decodes to a byte that is not UTF-8: our 400
  isJsonErr(await req(port, '/api/sessions/%ff'), 400);
  isJsonErr(await req(port, '/api/sessions?pod=a%01b'), 400);
});

await test('malformed_requests_lws_answers_itself', async () => {
  // lws 4.1 refuses these in its URI parser and writes its own HTML 403
  // (lws_return_http_status, no callback): our security headers are
  // there (the vhost's canned headers), the body is not ours
  for (const [what, line] of [['bad % escape', 'GET /api/sessions?pod=%zz HTTP/1.1'], ['bad % escape in the path', 'GET /api/%zz HTTP/1.1'],
    ['absolute URI', `GET http://127.0.0.1:${port}/api/info HTTP/1.1`], ['OPTIONS *', 'OPTIONS * HTTP/1.1']]) {
    const r = await raw(line);
    eq(r.status, 403, what);
    secHeaders(r, what);
    assert(!r.body.toString().includes('"sessions"'), `${what}: data`);
  }
  // and these it closes without any answer, before any callback: %00 in
  // the URI (its decoder returns -1), more header fields of one known
  // name than its fragment table holds, a header block over 128 KiB.
  // They must not be held open.
  for (const [what, line, extra] of [['%00 in the path', 'GET /api/sessions%00 HTTP/1.1', ''], ['%00 in the query', 'GET /api/sessions?pod=a%00b HTTP/1.1', ''],
    ['100 Accept headers', 'GET /api/info HTTP/1.1', 'Accept: x\r\n'.repeat(100)], ['200 KiB header', 'GET /api/info HTTP/1.1', `X-Big: ${'h'.repeat(200 * 1024)}\r\n`]]) {
    const r = await timed(raw(line, extra));
    eq(r.status, 0, `${what}: lws answered after all (update badreq.c's comment and this test)`);
    // closed or reset, at once
    assert(!/timed out/.test(r.err || '') && r.ms < 2000, `${what}: held ${r.ms} ms (${r.err || 'closed'})`);
  }
  assert(/More hdr frags|Ran out of header data space/.test(srv.log()), 'lws did not log why it closed');
});

// ------------------------------------------------------------------ slow clients
// n connections from `from` that send a request line and then one header
// line a second, never finishing.
function slowClients(p, n, from) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port: p, host: '127.0.0.1', localAddress: from });
    s.on('error', () => {});
    s.on('close', () => { s.closedAt = Date.now(); clearInterval(s.iv); });
    s.on('connect', () => s.write('GET /api/info HTTP/1.1\r\n'));
    s.iv = setInterval(() => { if (!s.destroyed) s.write('X-Slow: 1\r\n'); }, 1000);
    socks.push(s);
  }
  return { socks, end: () => socks.forEach((s) => { clearInterval(s.iv); s.destroy(); }) };
}
// n connections that request the big stream and never read
function hogs(p, n, from) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port: p, host: '127.0.0.1', localAddress: from });
    s.on('error', () => {});
    s.on('connect', () => s.write(`GET /api/sessions/${big}/stream HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`));
    // the first bytes say the server has answered; then never read again
    s.once('data', () => { s.answered = true; s.pause(); });
    s.on('close', () => { s.answered = true; });
    socks.push(s);
  }
  // opening costs the server a store read and an access-log write each:
  // the figures are for clients that are connected and hold their
  // streams, once every one was answered
  const answered = async () => {
    const end = Date.now() + 30000;
    while (socks.some((s) => !s.answered) && Date.now() < end) await sleep(50);
    await sleep(500);
  };
  return { socks, answered, end: () => socks.forEach((s) => s.destroy()) };
}
// The slowest of 5 list requests, in ms.  The assertions only catch being
// held (before the fix: 10-30 s); the figure is what the closing note
// reports (goal < 100 ms), on a machine shared with other builds.
const HELD_MS = 1000;
async function waitMs(base) {
  let worst = 0;
  const all = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = await fetch(`${base}/api/sessions?limit=20`);
    await r.json();
    eq(r.status, 200, 'list status');
    all.push((performance.now() - t0).toFixed(1));
    worst = Math.max(worst, performance.now() - t0);
  }
  console.log(`# list request times: ${all.join(' ')} ms (median ${[...all].sort((a, b) => a - b)[2]} ms)`);
  return worst;
}

await test('slow_headers_200_other_client', async () => {
  const c = slowClients(port, 200, '127.0.0.2');
  await sleep(1500);
  const ms = await waitMs(srv.url);
  console.log(`# figure: list request while 200 slow-header clients (another address) are connected: ${ms.toFixed(1)} ms (slowest of 5)`);
  assert(ms < HELD_MS, `waited ${ms.toFixed(0)} ms`);
  const closed = c.socks.filter((s) => s.closedAt).length;
  assert(closed >= 200 - 128, `only ${closed} over the per-address cap were closed`);
  // the header deadline (5 s) closes the rest
  await sleep(6000);
  const open = c.socks.filter((s) => !s.closedAt).length;
  c.end();
  eq(open, 0, 'slow-header connections still open after the deadline');
  assert(/127.0.0.2 has 128 connections open/.test(srv.log()), 'cap not logged');
  // every closed connection was given back: the address may open 120 again
  await sleep(200);
  const again = await Promise.all(Array.from({ length: 120 }, () => new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    let b = '';
    s.on('connect', () => s.write(`GET /api/info HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    s.on('data', (d) => { b += d; if (b.includes('}')) { s.destroy(); resolve(b.startsWith('HTTP/1.1 200')); } });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(b.startsWith('HTTP/1.1 200')));
  })));
  eq(again.filter(Boolean).length, 120, 'answered after the slow clients left (a leaked count would refuse them)');
});

let nocap;
await test('slow_headers_200_same_address_no_cap', async () => {
  // even with the per-address cap off, the pool and the deadline keep the
  // server answering a client on the same address
  nocap = await startServer(['--db', bigdb, '--listen', '127.0.0.1:0', '--max-conns-per-ip', '0', '--max-streams-per-ip', '0']);
  const c = slowClients(nocap.port, 200, '127.0.0.1');
  await sleep(1500);
  const ms = await waitMs(nocap.url);
  c.end();
  console.log(`# figure: list request while 200 slow-header clients (same address, no cap) are connected: ${ms.toFixed(1)} ms (slowest of 5)`);
  assert(ms < HELD_MS, `waited ${ms.toFixed(0)} ms`);
});

// After the opens are answered the server still fills 200 socket buffers
// (each client's receive buffer, up to megabytes on loopback): the first
// requests wait for that.  Returns how long until a list request is quick
// again (ms), the "settling" figure; the wait figure is taken after it.
async function settle(base) {
  const t0 = Date.now();
  let first = null;
  for (;;) {
    const a = performance.now();
    await (await fetch(`${base}/api/sessions?limit=20`)).json();
    const ms = performance.now() - a;
    if (first === null) first = ms;
    if (ms < 100 || Date.now() - t0 > 15000) return { settle: Date.now() - t0, first };
    await sleep(100);
  }
}

await test('stream_hogs_200', async () => {
  const capped = await startServer(['--db', bigdb, '--listen', '127.0.0.1:0']);
  let h = hogs(capped.port, 200, '127.0.0.3');
  let t0 = Date.now();
  await h.answered();
  console.log(`# figure: 200 stream opens answered in ${Date.now() - t0 - 500} ms (per-address cap on)`);
  let st = await settle(capped.url);
  let ms = await waitMs(capped.url);
  h.end();
  console.log(`# figure: list request while 200 clients (another address) hold the 64 MiB stream unread: ${ms.toFixed(1)} ms (slowest of 5; first request ${st.first.toFixed(0)} ms, quick again after ${st.settle} ms)`);
  assert(ms < HELD_MS, `waited ${ms.toFixed(0)} ms (capped)`);
  assert(/refusing streams to 127.0.0.3/.test(capped.log()), 'stream cap not logged');
  await stopServer(capped);
  h = hogs(nocap.port, 200, '127.0.0.1');
  t0 = Date.now();
  await h.answered();
  console.log(`# figure: 200 stream opens answered in ${Date.now() - t0 - 500} ms (no cap)`);
  st = await settle(nocap.url);
  ms = await waitMs(nocap.url);
  h.end();
  console.log(`# figure: same, same address and no per-address cap: ${ms.toFixed(1)} ms (slowest of 5; first request ${st.first.toFixed(0)} ms, quick again after ${st.settle} ms)`);
  assert(st.settle < 15000, `list requests still slow ${st.settle} ms after the opens`);
  assert(ms < HELD_MS, `waited ${ms.toFixed(0)} ms (no cap)`);
  await stopServer(nocap);
});

// The stall deadline (web/peers.h KT_WEB_STALL_S = 30 s): a client that
// opens the 64 MiB stream and never reads is dropped within it, one that
// reads a little every 10 s is not, the stream slot is given back, and
// other clients stay fast meanwhile.  Bounded: 50 s at most.
// A paused socket does not see the server's FIN behind unread data, so the
// drop is seen from the server's side: the address may hold 2 streams
// (--max-streams-per-ip 2); a third is refused (429) until one is dropped.
const STALL_S = 30;
await test('stream_stalled_dropped', async () => {
  const s = await startServer(['--db', bigdb, '--listen', '127.0.0.1:0', '--max-streams-per-ip', '2']);
  const open = (from) => {
    const c = net.connect({ port: s.port, host: '127.0.0.1', localAddress: from });
    c.head = '';
    c.on('error', () => {});
    c.on('connect', () => { c.openedAt = Date.now(); c.write(`GET /api/sessions/${big}/stream HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`); });
    c.on('data', (d) => { if (c.head.length < 12) c.head += d.toString('latin1', 0, 12); });
    c.on('close', () => { c.closedAt = Date.now(); });
    return c;
  };
  const status = (c) => new Promise((resolve) => {
    const t = setInterval(() => { if (c.head.length >= 12 || c.closedAt) { clearInterval(t); resolve(Number(c.head.slice(9, 12)) || 0); } }, 20);
  });
  const stalled = open('127.0.0.2');
  stalled.once('data', () => stalled.pause());	// then never reads again
  eq(await status(stalled), 200, 'the stalled stream opens');
  const reader = open('127.0.0.2');
  reader.once('data', () => reader.pause());
  eq(await status(reader), 200, 'the reader opens');
  // the reader takes a little every 10 s (at most ~1 MiB: never the
  // whole 64 MiB, whose end would close the connection normally): the
  // server can write again, and its deadline starts over
  const drip = async (c) => { for (let i = 0; i < 20; i++) { c.read(); await sleep(5); } };
  const iv = setInterval(() => { drip(reader); }, 10000);
  let worst = 0, dropped = 0, refused = 0;
  const t0 = stalled.openedAt;
  try {
    while (Date.now() - t0 < (STALL_S + 20) * 1000) {
      const a = performance.now();
      const r = await fetch(`${s.url}/api/sessions?limit=20`);
      await r.json();
      eq(r.status, 200, 'list status during the stall');
      worst = Math.max(worst, performance.now() - a);
      const probe = open('127.0.0.2');
      const code = await status(probe);
      probe.destroy();
      if (code === 200) { dropped = Date.now(); break; }
      eq(code, 429, 'a third stream while two are held');
      refused++;
      await sleep(1000);
    }
    assert(dropped, `no stream slot came free in ${((Date.now() - t0) / 1000).toFixed(0)} s (${refused} probes refused)`);
    const after = (dropped - t0) / 1000;
    console.log(`# figure: a stream never read was dropped within ${after.toFixed(1)} s of its opening (deadline ${STALL_S} s after its last write); list requests meanwhile: slowest ${worst.toFixed(1)} ms`);
    assert(after >= STALL_S - 1 && after <= STALL_S + 10, `dropped after ${after.toFixed(1)} s`);
    assert(refused >= STALL_S - 10, `only ${refused} probes were refused before the drop`);
    assert(worst < HELD_MS, `a list request waited ${worst.toFixed(0)} ms during the stall`);
    // it was the stalled one: reading it now ends (the server closed it)
    stalled.resume();
    for (let i = 0; i < 100 && !stalled.closedAt; i++) await sleep(50);
    assert(stalled.closedAt, 'the never-read stream is still open');
    // and the reader was not: taking a little more, it gets more, no end
    clearInterval(iv);
    const before = reader.bytesRead;
    for (let i = 0; i < 5; i++) { await drip(reader); await sleep(100); }
    assert(!reader.closedAt, `the client reading every 10 s was dropped after ${((reader.closedAt - reader.openedAt) / 1000).toFixed(1)} s (${reader.bytesRead} bytes read)`);
    assert(reader.bytesRead > before, 'the reader got nothing more');
    assert(reader.bytesRead < 32 << 20, `the reader read ${reader.bytesRead} bytes: not a slow reader`);
    // from the server's side too: with one more stream held, the address
    // is at its cap of 2 again, so the reader still holds its slot
    const held = open('127.0.0.2');
    eq(await status(held), 200, 'a stream in the freed slot');
    const over = open('127.0.0.2');
    eq(await status(over), 429, 'a third stream (the reader must still hold one)');
    over.destroy();
    held.destroy();
  } finally {
    clearInterval(iv);
    stalled.destroy();
    reader.destroy();
    await stopServer(s);
  }
});

// ------------------------------------------------------------------ login
await test('login_throttled_and_logged', async () => {
  const token = 'hostile-test-token-0123456789';
  fs.writeFileSync(`${dir}/token`, token + '\n', { mode: 0o600 });
  const s = await startServer(['--db', db, '--listen', '127.0.0.1:0', '--token-file', `${dir}/token`]);
  const login = (tok, from) => rawHttp(s.port, `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${6 + tok.length}\r\n\r\ntoken=${tok}`, {}).then((r) => r);
  const codes = [];
  const t0 = Date.now();
  for (let i = 0; i < 50; i++) codes.push((await login(`wrong-${i}-xxxxxxxxxxxxxxx`)).status);
  const took = Date.now() - t0;
  const failed = codes.filter((c) => c === 303).length, throttled = codes.filter((c) => c === 429).length;
  console.log(`# figure: 50 wrong logins in ${took} ms: ${failed} checked, ${throttled} throttled (429)`);
  assert(failed <= 5 && throttled >= 45, `checked ${failed}, throttled ${throttled}`);
  const r = await login('anything-at-all-000000');
  eq(r.status, 429, 'still throttled');
  assert(Number(r.headers['retry-after']) > 0, 'retry-after');
  assert(/login failed from 127.0.0.1: wrong token/.test(s.log()), `failed logins not logged: ${s.log().slice(-300)}`);
  assert(/login attempts from 127.0.0.1 throttled/.test(s.log()), 'throttling not logged');
  await stopServer(s);
});

await test('login_other_address_not_locked_out', async () => {
  const token = 'hostile-test-token-0123456789';
  const s = await startServer(['--db', db, '--listen', '127.0.0.1:0', '--token-file', `${dir}/token`]);
  const post = (tok, from) => new Promise((resolve, reject) => {
    const sock = net.connect({ port: s.port, host: '127.0.0.1', localAddress: from });
    let b = '';
    sock.on('connect', () => sock.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${6 + tok.length}\r\n\r\ntoken=${tok}`));
    sock.on('data', (d) => { b += d; });
    sock.on('end', () => resolve(Number((b.match(/^HTTP\/1\.[01] (\d+)/) || [])[1])));
    sock.on('error', reject);
  });
  for (let i = 0; i < 10; i++) await post('wrong-token-xxxxxxxxxxxx', '127.0.0.2');
  eq(await post('wrong-token-xxxxxxxxxxxx', '127.0.0.2'), 429, 'attacker throttled');
  eq(await post(token, '127.0.0.4'), 303, 'the auditor from another address logs in');
  assert(/login from 127.0.0.4/.test(s.log()), 'successful login not logged');
  await stopServer(s);
});

// ------------------------------------------------------------------ search and info
await test('info_truthful', async () => {
  const j = await (await fetch(`${srv.url}/api/info`)).json();
  eq(j.keyframes, true, 'keyframes');
  eq(j.screen_search, true, 'screen_search');
});

await test('search_screen_text', async () => {
  // "OUT-TWO web-demo" is only ever on screen, never in a command line
  let j = await (await fetch(`${srv.url}/api/search?q=OUT-TWO&in=screen`)).json();
  assert(j.hits.length >= 1, `no screen hit: ${JSON.stringify(j).slice(0, 200)}`);
  const h = j.hits[0];
  eq(h.kind, 'screen', 'kind');
  eq(h.session.id, demo, 'session');
  assert(h.screen.text.includes('OUT-TWO web-demo'), `text ${h.screen.text}`);
  eq(h.offset_us, h.screen.ts_us - h.session.start_us, 'offset');
  assert(h.offset_us >= 5300000 && h.offset_us < 12000000, `offset ${h.offset_us}`);
  j = await (await fetch(`${srv.url}/api/search?q=OUT-TWO&in=commands`)).json();
  eq(j.hits.length, 0, 'commands only');
  j = await (await fetch(`${srv.url}/api/search?q=hostname&in=all`)).json();
  assert(j.hits.some((x) => x.kind === 'command') && j.commands_searched && j.screen_searched, 'in=all: commands');
  j = await (await fetch(`${srv.url}/api/search?q=OUT-TWO&in=all`)).json();
  assert(j.hits.some((x) => x.kind === 'screen'), 'in=all searches the screen too');
  // the list's filters apply
  j = await (await fetch(`${srv.url}/api/search?q=OUT-TWO&in=screen&namespace=nope`)).json();
  eq(j.hits.length, 0, 'namespace filter');
});

await test('server_survived', async () => eq((await fetch(`${srv.url}/api/info`)).status, 200, 'status'));
eq(await stopServer(srv), 0, 'exit code');
fs.rmSync(dir, { recursive: true, force: true });
finish('web_hostile');
