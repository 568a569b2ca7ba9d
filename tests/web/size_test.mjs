// SPDX-License-Identifier: Apache-2.0
// kubetape-web over sessions with window sizes no screen can show (issue 10
// point 5): the store of tests/unit/test_hostile_size.c (KT_HOSTILE_FIXTURE)
// holds sessions at 1 column, at 0x0, at 2000 rows and resized to 65535x65535.
// Every stream (from the start and from a keyframe) and export must give the
// browser only sizes by the screen model's rule (store/screen.h: 0 -> 24x80,
// else rows 1..1000, cols 2..1000), since xterm.js would be asked for 65535
// columns otherwise; the session JSON keeps the sizes as recorded.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { OUT, test, eq, assert, finish, startServer, stopServer, parseFrames, REC, tmpdir } from './lib.mjs';

const dir = tmpdir('web-size');
const db = path.join(dir, 'kt.db');
execFileSync(path.join(OUT, 'tests/test_hostile_size'), [], { env: { ...process.env, KT_HOSTILE_FIXTURE: db } });
const srv = await startServer(['--db', db, '--listen', '127.0.0.1:0']);
const base = srv.url;
const sessions = (await (await fetch(`${base}/api/sessions`)).json()).sessions;
const byUuid = (u) => sessions.find((s) => s.uuid === u);
const ok = (rows, cols) => rows >= 1 && rows <= 1000 && cols >= 2 && cols <= 1000;

await test('web_size_session_json_as_recorded', async () => {
  eq(byUuid('cols1').cols, 1, 'cols1 cols');
  eq(byUuid('zero').rows, 0, 'zero rows');
  eq(byUuid('tall').rows, 2000, 'tall rows');
});

for (const [uuid, meta] of [['cols1', [24, 2]], ['zero', [24, 80]], ['tall', [1000, 300]]]) {
  for (const from of ['', '?from=35000000', '?from=39500000']) {
    await test(`web_size_stream_${uuid}${from ? '_from' : ''}${from.slice(-8, -6)}`, async () => {
      const s = byUuid(uuid);
      const r = await fetch(`${base}/api/sessions/${s.id}/stream${from}`);
      eq(r.status, 200, 'status');
      const recs = parseFrames(Buffer.from(await r.arrayBuffer()));
      const m = JSON.parse(recs.find((x) => x.type === REC.META).data.toString());
      if (!from) eq(`${m.rows}x${m.cols}`, `${meta[0]}x${meta[1]}`, 'META size');
      assert(ok(m.rows, m.cols), `META size ${m.rows}x${m.cols}`);
      const sizes = recs.filter((x) => x.type === REC.RESIZE).map((x) => [x.data.readUInt16LE(2), x.data.readUInt16LE(0)]);
      for (const [rows, cols] of sizes) assert(ok(rows, cols), `RESIZE ${rows}x${cols} sent`);
      if (uuid === 'tall' && !from) {
        assert(sizes.some(([rr, cc]) => rr === 1000 && cc === 1000), '65535x65535 sent as 1000x1000');
        assert(sizes.some(([rr, cc]) => rr === 1000 && cc === 19), '19 columns x 1000 rows');
      }
      assert(recs.some((x) => x.type === REC.OUT), 'no output');
    });
  }
  await test(`web_size_export_${uuid}`, async () => {
    const s = byUuid(uuid);
    const r = await fetch(`${base}/api/sessions/${s.id}/export.cast`);
    eq(r.status, 200, 'status');
    const lines = (await r.text()).trim().split('\n');
    const h = JSON.parse(lines[0]);
    eq(`${h.height}x${h.width}`, `${meta[0]}x${meta[1]}`, 'header size');
    for (const l of lines.slice(1)) {
      const e = JSON.parse(l);
      if (e[1] !== 'r') continue;
      const [c, rr] = e[2].split('x').map(Number);
      assert(ok(rr, c), `resize event ${e[2]}`);
    }
  });
}

await stopServer(srv);
execFileSync('rm', ['-rf', dir]);
finish('web_size');
