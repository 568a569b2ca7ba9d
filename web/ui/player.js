// kubetape-web player: the frame stream (web/API.md) into xterm.js.
//
// Playback reads /api/sessions/ID/stream with fetch() and parses records as
// they arrive; it reads ahead at most READ_AHEAD bytes past the playhead, so
// a multi-GB session never sits in the browser either (the server only
// produces when the socket drains).  Seeking forward replays the frames up
// to the target without delay; seeking backward (or far forward) restarts
// the stream at the target: the server begins it at the last keyframe before
// it, so the player fast-forwards through less than one keyframe interval.
// Following live reads the WebSocket and writes every record at once.
'use strict';

const NEAR_SEEK_US = 5e6;  // forward seeks closer than this play on
const REC_OUT = 1, REC_IN = 2, REC_RESIZE = 3, REC_GAP = 4, REC_META = 16, REC_END = 17;
const READ_AHEAD = 8 << 20;      // bytes queued past the playhead
const FF_BATCH = 1 << 20;        // bytes per xterm write while fast-forwarding
const IDLE_LIMIT_US = 1e6;       // "skip idle": no pause longer than this

class FrameParser {
  constructor(onRecord) { this.rest = null; this.onRecord = onRecord; }
  push(chunk) {
    let b = chunk;
    if (this.rest) {
      b = new Uint8Array(this.rest.length + chunk.length);
      b.set(this.rest); b.set(chunk, this.rest.length);
      this.rest = null;
    }
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let off = 0;
    while (b.length - off >= 13) {
      const len = dv.getUint32(off + 1, true);
      if (b.length - off - 13 < len) break;
      const t = dv.getInt32(off + 9, true) * 4294967296 + dv.getUint32(off + 5, true);
      this.onRecord(b[off], t, b.subarray(off + 13, off + 13 + len));
      off += 13 + len;
    }
    if (off < b.length) this.rest = b.slice(off);
  }
}

function concat(parts, total) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function gapNotice(bytes) {
  const what = bytes ? `${bytes} bytes lost here` : 'output lost here';
  return `\r\n\x1b[7m[kubetape: ${what}]\x1b[27m\r\n`;
}

// store/screen.h: 0 (unset) -> the default, else clamped into lo..1000
function screenDim(v, lo, def) {
  return !(v > 0) ? def : Math.min(1000, Math.max(lo, v));
}

class Player {
  // session: the /api/sessions/ID object; hooks: { onTime, onGap, onState }
  constructor(el, session, hooks) {
    this.session = session;
    this.hooks = hooks || {};
    this.startUs = session.start_us;
    this.term = new Terminal({
      // the session's size as recorded can be anything the kernel took
      // (0, 1, 65535): the screen model's rule (store/screen.h), which the
      // server also applies to every META and RESIZE record it sends
      cols: screenDim(session.cols, 2, 80), rows: screenDim(session.rows, 1, 24), disableStdin: true,
      convertEol: false, scrollback: 2000, fontSize: 14,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      theme: { background: '#11161c' },
    });
    this.term.open(el);
    this.speed = 1;
    this.skipIdle = true;
    this.playing = false;
    this.pos = 0;                 // playhead, us since session start
    this.queue = []; this.qi = 0; this.queued = 0;
    this.gen = 0;                 // bumps on every (re)load: stale readers stop
    this.ws = null;
    this.live = false;
    this.ended = false;           // END seen or the stream finished
    this.sourceDone = false;
    this.lastFrameUs = 0;
    this.stats = { seekMs: null, firstFrameMs: null, bytes: 0 };
    this.gaps = new Set();
    this._raf = this._raf.bind(this);
    this._wake = null;
  }

  duration() {
    const s = this.session;
    if (s.end_us) return Math.max(s.end_us - s.start_us, this.lastFrameUs);
    return this.lastFrameUs;
  }

  _reset() {
    this.gen++;
    if (this.abort) this.abort.abort();
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.live = false;
    this.queue = []; this.qi = 0; this.queued = 0;
    this.sourceDone = false; this.ended = false;
    this.term.reset();
  }

  _onRecord(type, t, data) {
    if (type === REC_META) {
      try { this.meta = JSON.parse(new TextDecoder().decode(data)); } catch (e) { /* keep old */ }
      return;
    }
    const rel = t - this.startUs;
    if (type === REC_END) { this.sessionEnded = true; if (this.hooks.onState) this.hooks.onState('ended'); return; }
    if (type === REC_GAP) {
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const lost = data.length >= 8 ? dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296 : 0;
      if (!this.gaps.has(rel)) { this.gaps.add(rel); if (this.hooks.onGap) this.hooks.onGap(rel, lost); }
      this.queue.push({ type, t: rel, data: new TextEncoder().encode(gapNotice(lost)) });
    } else if (type === REC_OUT || type === REC_RESIZE) {
      this.queue.push({ type, t: rel, data });
    } else {
      return;  // IN and unknown types are not shown
    }
    this.queued += data.length;
    if (rel > this.lastFrameUs) this.lastFrameUs = rel;
    if (this.stats.firstFrameMs === null && this.loadT0) this.stats.firstFrameMs = performance.now() - this.loadT0;
  }

  // Start (or restart) the HTTP stream; frames before `fromUs` will be
  // written without delay by the caller's fast-forward.
  async _load(fromUs) {
    this._reset();
    const gen = this.gen;
    this.abort = new AbortController();
    this.loadT0 = performance.now();
    this.stats.firstFrameMs = null;
    const parser = new FrameParser((ty, t, d) => this._onRecord(ty, t, d));
    const res = await fetch(`/api/sessions/${this.session.id}/stream?from=${Math.max(0, Math.floor(fromUs))}`,
                            { signal: this.abort.signal, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`stream: HTTP ${res.status}`);
    const reader = res.body.getReader();
    (async () => {
      try {
        for (;;) {
          // read ahead only so far past the playhead (fast-forward reads on)
          while (gen === this.gen && this.queued > READ_AHEAD && this.ffTarget === undefined)
            await new Promise((r) => { this._wake = r; });
          if (gen !== this.gen) { reader.cancel().catch(() => {}); return; }
          const { value, done } = await reader.read();
          if (gen !== this.gen) return;
          if (done) break;
          this.stats.bytes += value.length;
          parser.push(value);
          this._kick();
        }
        this.sourceDone = true;
        this._kick();
      } catch (e) {
        if (gen === this.gen && e.name !== 'AbortError') this._status(`stream failed: ${e.message}`);
      }
    })();
  }

  _status(msg) { if (this.hooks.onStatus) this.hooks.onStatus(msg); }
  _kick() { if (this._wakeFF) { const w = this._wakeFF; this._wakeFF = null; w(); } }

  // Take queued frames with t <= until; returns [batches...] split at resizes.
  async _drainTo(until, fast) {
    let parts = [], total = 0;
    const flush = async () => {
      if (!total) return;
      const buf = concat(parts, total);
      parts = []; total = 0;
      if (fast) await new Promise((r) => this.term.write(buf, r));
      else this.term.write(buf);
    };
    while (this.qi < this.queue.length && this.queue[this.qi].t <= until) {
      const f = this.queue[this.qi];
      this.queue[this.qi++] = null;
      this.queued -= f.data.length;
      if (f.type === REC_RESIZE) {
        await flush();
        const dv = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength);
        if (f.data.length >= 4) this.term.resize(dv.getUint16(0, true) || 80, dv.getUint16(2, true) || 24);
        continue;
      }
      parts.push(f.data); total += f.data.length;
      if (total >= FF_BATCH) await flush();
    }
    await flush();
    if (this.qi > 4096 && this.qi * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qi); this.qi = 0;
    }
    if (this._wake && this.queued <= READ_AHEAD) { const w = this._wake; this._wake = null; w(); }
  }

  // Write everything up to `target` at once, waiting for the stream as needed.
  async _fastForward(target) {
    this.ffTarget = target;
    if (this._wake) { const w = this._wake; this._wake = null; w(); }
    const gen = this.gen;
    for (;;) {
      await this._drainTo(target, true);
      if (gen !== this.gen) return false;
      const next = this.queue[this.qi];
      if ((next && next.t > target) || this.sourceDone) break;
      await new Promise((r) => { this._wakeFF = r; });
      if (gen !== this.gen) return false;
    }
    this.ffTarget = undefined;
    this.pos = target;
    return true;
  }

  async start() {
    await this._load(0);
    await this._fastForward(0);
    this._emitTime();
  }

  // Seek to us since the session start.  Resolves when the screen shows it.
  async seek(targetUs) {
    const t0 = performance.now();
    const wasPlaying = this.playing;
    this.playing = false;
    targetUs = Math.max(0, targetUs);
    if (this.live) this.stopLive();
    // Backward, or far forward: restart the stream at the target; the
    // server begins it at the nearest keyframe, so this costs one keyframe
    // plus less than one keyframe interval.  A short step forward plays on
    // from what is already queued.
    if (targetUs < this.pos || this.ended || targetUs - this.pos > NEAR_SEEK_US) {
      await this._load(targetUs);
      this.pos = 0;
    }
    const ok = await this._fastForward(targetUs);
    if (!ok) return;
    this.pos = targetUs;
    this.ended = false;
    this.stats.seekMs = performance.now() - t0;
    this._emitTime();
    if (wasPlaying) this.play();
  }

  play() {
    if (this.live) return;
    if (this.ended) { this.seek(0).then(() => this.play()); return; }
    this.playing = true;
    this._last = performance.now();
    if (this.hooks.onState) this.hooks.onState('playing');
    requestAnimationFrame(this._raf);
  }

  pause() {
    this.playing = false;
    if (this.hooks.onState) this.hooks.onState('paused');
  }

  _raf(now) {
    if (!this.playing) return;
    const dt = Math.max(0, now - this._last);
    this._last = now;
    if (this._busy) { requestAnimationFrame(this._raf); return; }
    const next = this.queue[this.qi];
    let pos = this.pos + dt * 1000 * this.speed;
    if (next && this.skipIdle && next.t - this.pos > IDLE_LIMIT_US && pos < next.t - IDLE_LIMIT_US)
      pos = next.t - IDLE_LIMIT_US;
    if (!next && !this.sourceDone) pos = this.pos;      // waiting for data: hold
    this.pos = pos;
    this._busy = true;
    this._drainTo(pos, false).then(() => {
      this._busy = false;
      if (this.qi >= this.queue.length && this.sourceDone) {
        this.pos = this.duration();
        this.playing = false;
        this.ended = true;
        if (this.hooks.onState) this.hooks.onState('finished');
      }
      this._emitTime();
    });
    if (this.playing) requestAnimationFrame(this._raf);
  }

  _emitTime() { if (this.hooks.onTime) this.hooks.onTime(this.pos, this.duration()); }

  // Follow the session live over the WebSocket.
  followLive() {
    this.pause();
    this._reset();
    this.live = true;
    const gen = this.gen;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws/sessions/${this.session.id}/live`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const parser = new FrameParser((ty, t, d) => this._onRecord(ty, t, d));
    ws.onmessage = (ev) => {
      if (gen !== this.gen) return;
      parser.push(new Uint8Array(ev.data));
      // live: everything received is shown now
      this._drainTo(Infinity, false);
      this.pos = this.lastFrameUs;
      this.stats.liveBytes = (this.stats.liveBytes || 0) + ev.data.byteLength;
      this._emitTime();
    };
    ws.onopen = () => { if (this.hooks.onState) this.hooks.onState('live'); };
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.live = false;
      this.ws = null;
      this.sourceDone = true;
      this.ended = true;
      if (this.hooks.onState) this.hooks.onState(this.sessionEnded ? 'ended' : `disconnected (${ev.code})`);
    };
  }

  stopLive() {
    if (!this.live) return;
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.live = false;
  }

  // Visible screen as text (tests and accessibility).
  screenText() {
    const b = this.term.buffer.active, lines = [];
    for (let i = 0; i < this.term.rows; i++) {
      const l = b.getLine(b.viewportY + i);
      lines.push(l ? l.translateToString(true) : '');
    }
    return lines.join('\n');
  }

  dispose() {
    this.playing = false;
    this._reset();
    this.term.dispose();
  }
}

window.KtPlayer = Player;
