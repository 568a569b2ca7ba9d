// SPDX-License-Identifier: Apache-2.0
// kubetape-web on the cluster store: one server on a node store (SQLite)
// and one on the PostgreSQL server it was shipped to (--db postgresql://
// as a kubetape_reader role), asked the same questions.  Session ids
// differ (the server's are sessions.gid), so answers are matched by uuid
// and compared with the ids taken out; everything else must be equal:
// lists (filters, pagination, totals), session JSON, commands, command
// search, the frame stream (from the start, with ?from= seeks through a
// keyframe and before the first one, with input), the asciicast export,
// and a live session followed over the WebSocket while it is written
// (node commit -> WebSocket on the server's web: < 5 s, figure printed),
// also across the server dropping the web's connection.
// Run by tests/e2e/pg_web_test.sh, which starts PostgreSQL and the
// follow-mode shipper; env: KT_NODE_DB, KT_PG_READER (the web's role),
// KT_PG_ADMIN (to drop its connections), KT_DEMO_ID, KT_BIG_ID.
import { spawn, execFileSync } from 'node:child_process';
import {
  test, fatal, finish, assert, eq, sleep, startServer, stopServer, wsConnect, parseFrames,
  FrameParser, REC, FILL,
} from './lib.mjs';

const db = process.env.KT_NODE_DB;
const reader = process.env.KT_PG_READER;
const admin = process.env.KT_PG_ADMIN;
const demo = Number(process.env.KT_DEMO_ID);
const big = Number(process.env.KT_BIG_ID);
let node, pg;

try {
  assert(db && reader && admin && demo && big, 'KT_NODE_DB, KT_PG_READER, KT_PG_ADMIN, KT_DEMO_ID, KT_BIG_ID must be set');
  node = await startServer(['--db', db, '--listen', '127.0.0.1:0']);
  pg = await startServer(['--db', reader, '--listen', '127.0.0.1:0']);
} catch (e) {
  fatal('pg_web_setup', e.message);
  finish('pg_web');
  process.exit(1);
}

async function both(path) {
  const [a, b] = await Promise.all([fetch(node.url + path), fetch(pg.url + path)]);
  return [a, b];
}
async function bothJson(pathNode, pathPg = pathNode) {
  const [a, b] = await Promise.all([fetch(node.url + pathNode), fetch(pg.url + pathPg)]);
  return [{ status: a.status, body: await a.json() }, { status: b.status, body: await b.json() }];
}

// node id -> server id, by uuid (learnt from the lists)
const gidOf = new Map();
async function mapIds() {
  for (const [url, side] of [[node.url, 'node'], [pg.url, 'pg']]) {
    let after = null;
    for (;;) {
      const r = await (await fetch(`${url}/api/sessions?limit=500${after ? `&after=${after}` : ''}`)).json();
      for (const s of r.sessions) {
        const e = gidOf.get(s.uuid) || {};
        e[side] = s.id;
        gidOf.set(s.uuid, e);
      }
      if (!r.next_after) break;
      after = r.next_after;
    }
  }
}
const toGid = (id) => {
  for (const e of gidOf.values()) if (e.node === id) return e.pg;
  throw new Error(`no server id for node session ${id}`);
};

// the server drops the web's connection (as a restart, a failover or an
// administrator would); returns how many were terminated
function dropReaders() {
  const role = new URL(reader).username;
  return Number(execFileSync('psql', ['-X', '-A', '-t', admin, '-c',
    `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${role}'`], { encoding: 'utf8' }).trim());
}

// a JSON value with the session ids taken out (they are the store's)
function strip(v) {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      if (['id', 'session_id', 'next_after'].includes(k)) continue;
      o[k] = strip(v[k]);
    }
    return o;
  }
  return v;
}
function sameJson(a, b, what) {
  const x = JSON.stringify(strip(a)), y = JSON.stringify(strip(b));
  if (x === y) return;
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  throw new Error(`${what} differs at ${i}: node …${x.slice(Math.max(0, i - 80), i + 80)}… server …${y.slice(Math.max(0, i - 80), i + 80)}…`);
}

await test('pg_web_list_identical', async () => {
  await mapIds();
  const pairs = [...gidOf.values()];
  assert(pairs.length > 100, `only ${pairs.length} sessions`);
  assert(pairs.every((e) => e.node && e.pg), 'a session is on one side only');
  for (const q of ['limit=100', 'limit=7&namespace=NS-1', 'pod=pod-1&limit=50', 'active=1', 'tty=0',
    'node=node-2', 'limit=500']) {
    const [a, b] = await bothJson(`/api/sessions?${q}`);
    eq(a.status, 200, `${q} node status`); eq(b.status, 200, `${q} server status`);
    eq(b.body.total, a.body.total, `${q} total`);
    sameJson(a.body.sessions, b.body.sessions, `list ${q}`);
  }
  // three pages, each after the last id of its own store's previous page
  let an = null, bn = null;
  for (let p = 0; p < 3; p++) {
    const [a, b] = await bothJson(`/api/sessions?limit=40${an ? `&after=${an}` : ''}`,
      `/api/sessions?limit=40${bn ? `&after=${bn}` : ''}`);
    sameJson(a.body.sessions, b.body.sessions, `page ${p}`);
    an = a.body.next_after; bn = b.body.next_after;
    assert(an && bn, `page ${p}: no next page`);
  }
});

await test('pg_web_session_and_commands_identical', async () => {
  for (const id of [demo, big]) {
    let [a, b] = await bothJson(`/api/sessions/${id}`, `/api/sessions/${toGid(id)}`);
    eq(b.status, 200, 'server status');
    eq(b.body.session.id, toGid(id), 'server id');
    sameJson(a.body, b.body, `session ${id}`);
    [a, b] = await bothJson(`/api/sessions/${id}/commands`, `/api/sessions/${toGid(id)}/commands`);
    eq(b.status, 200, 'commands status');
    assert(a.body.commands.length > 0, 'no commands');
    sameJson(a.body, b.body, `commands of ${id}`);
  }
  const [, b] = await bothJson('/api/sessions/987654321');
  eq(b.status, 404, 'missing session on the server');
});

await test('pg_web_search_identical', async () => {
  for (const q of ['q=hostname&in=commands', 'q=session-12&in=commands&pod=pod-12&limit=5', 'q=OUT-TWO&in=screen',
    'q=ok%20line&in=screen&limit=5']) {
    const [a, b] = await bothJson(`/api/search?${q}`);
    eq(b.status, a.status, `${q} status`);
    assert(a.body.hits.length > 0, `${q}: no hits on the node`);
    // command and screen hit ids are store positions: compare the rest
    sameJson(a.body.hits.map((h) => ({ ...h, command: h.command && { ...h.command, id: 0 }, screen: h.screen && { ...h.screen, id: 0 } })),
      b.body.hits.map((h) => ({ ...h, command: h.command && { ...h.command, id: 0 }, screen: h.screen && { ...h.screen, id: 0 } })), `search ${q}`);
  }
});

// the frame records of a stream, with META's session_id taken out
async function records(url) {
  const r = await fetch(url);
  eq(r.status, 200, `${url} status`);
  return parseFrames(Buffer.from(await r.arrayBuffer())).map((x) => {
    if (x.type !== REC.META) return x;
    const m = JSON.parse(x.data.toString());
    delete m.session_id;
    return { ...x, data: Buffer.from(JSON.stringify(m)) };
  });
}
function sameRecords(a, b, what) {
  eq(b.length, a.length, `${what}: records`);
  for (let i = 0; i < a.length; i++) {
    if (a[i].type !== b[i].type || a[i].t !== b[i].t || !a[i].data.equals(b[i].data))
      throw new Error(`${what}: record ${i} differs (type ${a[i].type}/${b[i].type}, t ${a[i].t}/${b[i].t}, ${a[i].data.length}/${b[i].data.length} bytes)`);
  }
}

await test('pg_web_stream_identical', async () => {
  let seeks = 0;
  for (const [id, froms] of [[demo, [0, 5000000, 11000000]], [big, [0, 600e6, 1800e6, 3000e6, 3599e6]]]) {
    for (const from of froms) {
      for (const input of ['', '&input=1']) {
        const q = `stream?from=${from}${input}`;
        const a = await records(`${node.url}/api/sessions/${id}/${q}`);
        const b = await records(`${pg.url}/api/sessions/${toGid(id)}/${q}`);
        sameRecords(a, b, `session ${id} ${q}`);
        const meta = JSON.parse(a[0].data.toString());
        if (meta.keyframe) seeks++;
      }
    }
  }
  assert(seeks >= 4, `only ${seeks} streams started at a keyframe`);
  const [a, b] = await Promise.all([fetch(`${node.url}/api/sessions/${big}/export.cast`),
    fetch(`${pg.url}/api/sessions/${toGid(big)}/export.cast`)]);
  // the header's title names the session by its store's id
  const title = (buf, id) => buf.toString('latin1').replace(`"title": "bench/big-pod/app session ${id}"`, '"title": "…"');
  const ab = title(Buffer.from(await a.arrayBuffer()), big), bb = title(Buffer.from(await b.arrayBuffer()), toGid(big));
  assert(ab.length > 1e6 && ab === bb, `export.cast: node ${ab.length} bytes, server ${bb.length}, differ`);
  assert(ab.includes('"title": "…"') && bb.includes('"title": "…"'), 'export.cast: title not found');
});

await test('pg_web_live_websocket', async () => {
  const w = spawn(FILL, [db, 'live'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = [];
  w.stdout.on('data', (d) => out.push(...d.toString().trim().split('\n')));
  let t = Date.now() + 5000;
  while (!out.length && Date.now() < t) await sleep(20);
  const id = Number(out.shift());
  const uuid = (await (await fetch(`${node.url}/api/sessions/${id}`)).json()).session.uuid;
  // on the server once the shipper has it
  let gid = null;
  t = Date.now() + 10000;
  while (!gid && Date.now() < t) {
    const r = await (await fetch(`${pg.url}/api/sessions?pod=live-pod&active=1`)).json();
    const s = r.sessions.find((x) => x.uuid === uuid);
    if (s) gid = s.id; else await sleep(50);
  }
  assert(gid, 'the live session never reached the server');
  let text = '', end = false, closeCode = null;
  const p = new FrameParser((type, tt, data) => {
    if (type === REC.OUT) text += data.toString();
    if (type === REC.END) end = true;
  });
  const ws = await wsConnect(pg.port, `/ws/sessions/${gid}/live`, { onData: (d) => p.push(d), onClose: (c) => { closeCode = c; } });
  t = Date.now() + 5000;
  while (!text.includes('LIVE-BEGIN') && Date.now() < t) await sleep(10);
  assert(text.includes('LIVE-BEGIN'), 'history not replayed');
  const lags = [];
  for (let n = 0; n < 8; n++) {
    // half way, the server drops the web's connection: the viewer goes on
    if (n === 4) assert(dropReaders() >= 1, 'no connection of the web to drop');
    const mark = `pg-live-${n}-${'q'.repeat(50)}`;
    w.stdin.write(mark + '\n');
    // "ok <commit µs>": the chunk is committed in the node store
    t = Date.now() + 5000;
    while (!out.length && Date.now() < t) await sleep(2);
    const committed = Number(out.shift().split(' ')[1]) / 1000;
    t = Date.now() + 10000;
    while (!text.includes(mark) && Date.now() < t) await sleep(5);
    assert(text.includes(mark), `line ${n} never arrived`);
    lags.push(Date.now() - committed);
    await sleep(300);
  }
  const worst = Math.max(...lags);
  console.log(`# figure: live over the server's web: node commit -> WebSocket ${lags.map((x) => x.toFixed(0)).join(' ')} ms (worst ${worst.toFixed(0)}; shipper poll 500 ms, web poll 100 ms)`);
  assert(worst < 5000, `worst lag ${worst} ms`);
  w.stdin.end();
  t = Date.now() + 15000;
  while (closeCode === null && Date.now() < t) await sleep(20);
  assert(end, 'no END record after the session ended');
  eq(closeCode, 1000, 'close code');
  ws.close();
  // the whole live session, as recorded
  sameRecords(await records(`${node.url}/api/sessions/${id}/stream`), await records(`${pg.url}/api/sessions/${gid}/stream`), 'live session afterwards');
});

await test('pg_web_reconnects', async () => {
  assert(dropReaders() >= 1, 'no connection of the web to drop');
  // the request that finds the connection gone may fail; the next reconnects
  const codes = [];
  for (let i = 0; i < 3 && codes[codes.length - 1] !== 200; i++) {
    codes.push((await fetch(`${pg.url}/api/sessions?limit=5`)).status);
    if (codes[codes.length - 1] !== 200) await sleep(1100);
  }
  eq(codes[codes.length - 1], 200, `statuses ${codes.join(',')}`);
  assert(codes.length <= 2, `more than one failed request: ${codes.join(',')}`);
  const [a, b] = await bothJson(`/api/sessions/${demo}`, `/api/sessions/${toGid(demo)}`);
  sameJson(a.body, b.body, 'session after the reconnect');
});

await test('pg_web_sigterm_exit0', async () => {
  eq(await stopServer(pg), 0, 'server exit code');
  eq(await stopServer(node), 0, 'node exit code');
});

finish('pg_web');
