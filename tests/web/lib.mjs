// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the kubetape-web tests (API, browser, bench):
// a PASS/FAIL harness in tests/run.sh's line format, starting servers on a
// free loopback port, raw HTTP (to send what fetch would normalize away),
// a minimal WebSocket client (node 20 has none built in) and the frame
// record parser (web/API.md).
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const OUT = path.resolve(REPO, process.env.KT_OUT || 'build');
export const WEB = path.join(OUT, 'kubetape-web');
export const FILL = path.join(OUT, 'tests/web/kt_webfill');

// ------------------------------------------------------------------ harness
let passed = 0, failed = 0;
export async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    const why = String(e && e.message ? e.message : e).replace(/\s+/g, ' ').slice(0, 400);
    console.log(`FAIL ${name}: ${why}`);
  }
}
export function fatal(name, why) { failed++; console.log(`FAIL ${name}: ${why}`); }
export function finish(label) {
  console.error(`${label}: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
export function assert(cond, why) { if (!cond) throw new Error(why); }
export function eq(a, b, what) {
  if (a !== b) throw new Error(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ processes
const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch (e) { /* gone */ } });

export function fill(db, ...args) {
  return execFileSync(FILL, [db, ...args], { encoding: 'utf8' }).trim();
}

// Start kubetape-web; resolves { port, url, proc, log() } once it listens.
export function startServer(args, { expectExit = false } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(WEB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    let log = '';
    const onData = (d) => {
      log += d;
      const m = log.match(/listening on (https?):\/\/([^/]+):(\d+)\//);
      if (m && !expectExit) resolve({ proc, port: Number(m[3]), url: `${m[1]}://127.0.0.1:${m[3]}`, log: () => log });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code, sig) => {
      children.delete(proc);
      if (expectExit) resolve({ code, log });
      else reject(new Error(`kubetape-web exited (${code ?? sig}) before listening: ${log.trim()}`));
    });
    setTimeout(() => reject(new Error(`kubetape-web did not listen in 10 s: ${log}`)), 10000).unref();
  });
}
export async function stopServer(s) {
  if (!s || s.proc.exitCode !== null) return null;
  const done = new Promise((r) => s.proc.on('exit', (code) => r(code)));
  s.proc.kill('SIGTERM');
  return done;
}

// RSS of a pid in KiB (from /proc).
export function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) : 0;
}
export function hwmKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/);
  return m ? Number(m[1]) : 0;
}

// ------------------------------------------------------------------ raw HTTP
// Sends `request` bytes as is; resolves { status, headers, body(Buffer) }.
export function rawHttp(port, request, { timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.setTimeout(timeout, () => { sock.destroy(); reject(new Error('raw HTTP timed out')); });
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => { if (chunks.length) finishIt(); else reject(e); });
    const finishIt = () => {
      const buf = Buffer.concat(chunks);
      const sep = buf.indexOf('\r\n\r\n');
      const head = (sep >= 0 ? buf.subarray(0, sep) : buf).toString('latin1');
      const m = head.match(/^HTTP\/1\.[01] (\d{3})/);
      const headers = {};
      for (const l of head.split('\r\n').slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: m ? Number(m[1]) : 0, headers, body: sep >= 0 ? buf.subarray(sep + 4) : Buffer.alloc(0), raw: buf });
    };
    sock.on('end', finishIt);
  });
}
export const get = (port, target, extra = '') =>
  rawHttp(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extra}\r\n`);

// ------------------------------------------------------------------ WebSocket
// Minimal client: handshake, then server frames (unmasked) as a byte stream
// of binary payloads.  Resolves with the 101 response or rejects with the
// status the server answered instead.
export function wsConnect(port, target, { headers = {}, onData, onClose } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0), open = false;
    sock.on('connect', () => {
      let req = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
      for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
      sock.write(req + '\r\n');
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const sep = buf.indexOf('\r\n\r\n');
        if (sep < 0) return;
        const head = buf.subarray(0, sep).toString('latin1');
        const status = Number((head.match(/^HTTP\/1\.[01] (\d{3})/) || [])[1] || 0);
        buf = buf.subarray(sep + 4);
        if (status !== 101) { sock.destroy(); reject(Object.assign(new Error(`websocket refused: ${status}`), { status })); return; }
        open = true;
        resolve({ sock, close: () => sock.destroy() });
      }
      for (;;) {
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 0x8) { if (onClose) onClose(payload.length >= 2 ? payload.readUInt16BE(0) : 1005); sock.destroy(); return; }
        if ((op === 0x2 || op === 0x0) && onData) onData(payload);
      }
    });
    sock.on('error', (e) => { if (!open) reject(e); });
    sock.on('close', () => { if (!open) reject(new Error('websocket: connection closed during handshake')); });
  });
}

// ------------------------------------------------------------------ frames
export const REC = { OUT: 1, IN: 2, RESIZE: 3, GAP: 4, META: 16, END: 17 };
export class FrameParser {
  constructor(onRecord) { this.rest = Buffer.alloc(0); this.onRecord = onRecord; }
  push(chunk) {
    if (!Buffer.isBuffer(chunk)) chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let b = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let off = 0;
    while (b.length - off >= 13) {
      const len = b.readUInt32LE(off + 1);
      if (b.length - off - 13 < len) break;
      this.onRecord(b[off], Number(b.readBigInt64LE(off + 5)), b.subarray(off + 13, off + 13 + len));
      off += 13 + len;
    }
    this.rest = Buffer.from(b.subarray(off));
  }
}
export function parseFrames(buf) {
  const recs = [];
  new FrameParser((type, t, data) => recs.push({ type, t, data: Buffer.from(data) })).push(buf);
  return recs;
}

export function tmpdir(name) { return fs.mkdtempSync(`/tmp/kubetape-${name}-`); }
