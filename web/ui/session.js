// kubetape-web UI: the session page (metadata, player, process tree).
// Loaded after app.js; uses its helpers ($, el, api, fmt*, show).
//
// Keyboard-first, like `kubetape replay`: space play/pause, left/right
// -/+5 s, [ ] previous/next command, . one frame (paused), 0-9 jump to
// 0%-90%, f fullscreen.  The URL always names the session and the moment
// (#/s/ID?t=MS, replaced on every seek and pause), so a moment is shared by
// copying the address bar; app.js keeps it across the login page.
'use strict';

const SEEK_STEP_US = 5e6;

// Process tree: a command's parent is the latest earlier command whose pid
// is its ppid (an exec without fork keeps its pid: the same level).
function commandTree(cmds) {
  const depth = [], byPid = new Map();
  cmds.forEach((c, i) => {
    const parent = byPid.get(c.ppid);
    const same = byPid.get(c.pid);
    depth[i] = same !== undefined ? depth[same] : parent !== undefined ? depth[parent] + 1 : 0;
    byPid.set(c.pid, i);
  });
  return depth;
}

function metaItem(k, v, cls) {
  return el('div', cls ? { class: cls } : {}, el('dt', {}, k),
    el('dd', {}, v === '' || v === null || v === undefined ? '—' : String(v)));
}

// Scale the terminal to fit the width left of the timeline and, with the
// controls under it, one window height; never up.  The xterm screen
// element has the terminal's real size (cols x rows cells).
function fitTerminal(termEl) {
  const scr = termEl.querySelector('.xterm-screen');
  if (!scr) return;
  const w = scr.offsetWidth, h = scr.offsetHeight;
  if (!w || !h) return;
  const fs = document.fullscreenElement;
  termEl.style.width = '';
  const availW = (fs ? window.innerWidth : termEl.parentElement.clientWidth) - 14;
  const availH = window.innerHeight - (fs ? 70 : 135);
  const scale = Math.max(0.25, Math.min(1, availW / w, availH / h));
  termEl.style.setProperty('--kt-scale', scale.toFixed(3));
  termEl.style.width = `${Math.floor(w * scale) + 12}px`;
  termEl.style.height = `${Math.floor(h * scale) + 12}px`;
  termEl.dataset.scale = scale.toFixed(3);
  // the controls in view: a small window scrolls the metadata away
  const player = termEl.closest('.player');
  if (!fs && player && player.getBoundingClientRect().bottom > window.innerHeight) player.scrollIntoView({ block: 'end' });
}

// The verification state, with what was checked and what is wrong.
function verifyItem(v) {
  const dd = el('dd', {}, verifyBadge(v), ' ', v ? verifyTitle(v) : '');
  return el('div', { class: 'verify' }, el('dt', {}, 'Tamper evidence'), dd);
}

async function sessionPage(id, params) {
  show('session-view');
  const [{ session: s }, cr] = await Promise.all([api(`/api/sessions/${id}`), api(`/api/sessions/${id}/commands?limit=5000`)]);
  $('#s-title').textContent = `#${s.id} ${s.k8s_namespace}/${s.pod}/${s.container}`;
  if (s.active) $('#s-title').append(el('span', { class: 'badge live' }, 'LIVE'));
  $('#meta').replaceChildren(
    metaItem('Namespace', s.k8s_namespace), metaItem('Pod', s.pod), metaItem('Container', s.container),
    metaItem('Node', s.node),
    ...(s.identity ? [metaItem('User', who(s.identity) || 'none: no exec request (entered from the node?)'), metaItem('Join', s.identity.tier),
      metaItem('Source IPs', s.identity.request ? s.identity.request.source_ips.join(', ') : ''),
      metaItem('User agent', s.identity.request ? s.identity.request.user_agent : '')] : []),
    verifyItem(s.verification),
    metaItem('Start (UTC)', fmtTime(s.start_us)),
    metaItem('End (UTC)', s.end_us ? fmtTime(s.end_us) : (s.active ? 'live' : '')),
    metaItem('Duration', fmtDur(s.end_us ? s.end_us - s.start_us : null)),
    metaItem('State', s.state), metaItem('Exit code', exitText(s)),
    metaItem('Lost bytes', `${s.lost_bytes}${s.lost_events ? ` (${s.lost_events} events)` : ''}`),
    metaItem('Output', fmtBytes(s.bytes_out)), metaItem('Terminal', s.has_tty ? `${s.cols}×${s.rows} ${s.tty_name}` : 'no tty'),
    metaItem('Leader', `${s.leader_comm} pid ${s.leader_ns_pid} uid ${s.leader_uid}`),
    metaItem('Capture', s.capture),
    // to match the Kubernetes audit log and the runtime's records
    metaItem('Pod UID', s.pod_uid, 'id'), metaItem('Container ID', s.container_id, 'id'),
    metaItem('Hostname', s.hostname), metaItem('Session UUID', s.uuid, 'id'));
  $('#download').href = `/api/sessions/${s.id}/export.cast`;

  const termEl = $('#term'), notty = $('#notty');
  termEl.replaceChildren();
  termEl.hidden = !s.has_tty;
  notty.hidden = s.has_tty;
  $('#markers').replaceChildren();
  const playBtn = $('#play'), seek = $('#seek'), clock = $('#clock'), pstatus = $('#player-status');
  pstatus.textContent = '';
  let dragging = false;
  const cmds = cr.commands;
  const depth = commandTree(cmds);
  const items = [];
  const list = $('#commands');
  list.replaceChildren();
  let current = -1;
  const dur = () => Math.max(1, p.duration());

  // the URL names the moment (replaceState: no history entry per seek)
  const setUrl = (us) => {
    const want = `#/s/${s.id}${us > 0 ? `?t=${Math.floor(us / 1000)}` : ''}`;
    if (location.hash !== want) history.replaceState(null, '', want);
  };

  const p = new window.KtPlayer(termEl, s, {
    onTime(pos, d) {
      clock.textContent = `${fmtOffset(pos)} / ${fmtDur(d)}`;
      if (!dragging) { seek.max = String(Math.max(1, Math.ceil(d / 1000))); seek.value = String(Math.floor(pos / 1000)); }
      let i = -1;
      while (i + 1 < cmds.length && cmds[i + 1].ts_us - s.start_us <= pos) i++;
      if (i !== current) {
        if (current >= 0 && items[current]) items[current].classList.remove('current');
        if (i >= 0 && items[i]) { items[i].classList.add('current'); items[i].scrollIntoView({ block: 'nearest' }); }
        current = i;
      }
    },
    onGap(rel, lost) {
      $('#markers').append(el('span', { class: 'gap', title: `${lost} bytes lost at ${fmtOffset(rel)}`, 'data-us': rel }));
      placeMarkers();
    },
    onState(st) {
      playBtn.textContent = st === 'playing' ? 'Pause' : 'Play';
      playBtn.setAttribute('aria-label', playBtn.textContent);
      if (st === 'live') pstatus.textContent = 'Following live…';
      // the END record of a played stream is not news; of a followed one it is
      else if (st === 'ended') pstatus.textContent = p.wasLive && !p.live ? 'Session ended.' : pstatus.textContent;
      else if (st.startsWith('disconnected')) pstatus.textContent = `Live view ${st}.`;
      else if (st === 'finished') pstatus.textContent = 'End of recording.';
      else if (st === 'paused') pstatus.textContent = 'Paused.';
      else pstatus.textContent = '';
      if (st === 'paused' || st === 'finished') setUrl(p.pos);
      termEl.dataset.state = st;
    },
    onSeek(us) { setUrl(us); },
    onResize() { fitTerminal(termEl); },
    onStatus(msg) { pstatus.textContent = msg; },
  });
  player = p;
  window.ktPlayer = p;   // for tests and the console

  function placeMarkers() {
    for (const m of $('#markers').children) m.style.left = `${Math.min(100, (Number(m.dataset.us) / dur()) * 100)}%`;
  }
  const seekTo = (us, why) => p.seek(us).then((ok) => { if (ok && why) pstatus.textContent = why; });

  cmds.forEach((c, i) => {
    const rel = c.ts_us - s.start_us;
    const failed = c.has_exit && (c.exit_code !== 0);
    const argv = c.argv.join(' ');
    // a process that exec'd again ends as its next command (same pid)
    const replaced = !c.has_exit && cmds.some((d, j) => j > i && d.pid === c.pid);
    const exit = c.has_exit ? (c.exit_signal || `exit ${c.exit_code}`) : replaced ? 'exec →' : (c.end_us ? '' : 'running');
    const li = el('li', { class: failed ? 'failed' : '', 'data-depth': depth[i] },
      el('button', { type: 'button', title: `${argv}\ncwd ${c.cwd || '?'}`, 'data-us': rel, 'data-seq': c.seq,
        onclick: () => seekTo(rel, `At command ${i + 1}: ${argv}`) },
      el('span', { class: 't' }, fmtOffset(rel)),
      el('span', { class: 'argv' }, argv),
      el('span', { class: 'proc' }, `pid ${c.ns_pid} · uid ${c.uid} · ${c.cwd || '?'}`),
      el('span', { class: failed ? 'exit bad' : 'exit' }, exit)));
    li.style.setProperty('--depth', String(depth[i]));   // CSSOM: CSP allows no style attributes
    items.push(li);
    list.append(li);
    $('#markers').append(el('span', { class: 'cmd', title: `${fmtOffset(rel)} ${argv}`, 'data-us': rel }));
  });
  if (cr.next_after !== null) list.append(el('li', {}, `… more than ${cmds.length} commands; the rest are not listed`));

  playBtn.onclick = () => { if (p.playing) p.pause(); else p.play(); };
  $('#speed').onchange = (ev) => { p.speed = Number(ev.target.value) || 1; };
  $('#idle').onchange = (ev) => { p.skipIdle = ev.target.checked; };
  p.speed = Number($('#speed').value) || 1;
  p.skipIdle = $('#idle').checked;
  seek.oninput = () => { dragging = true; clock.textContent = `${fmtOffset(Number(seek.value) * 1000)} / ${fmtDur(p.duration())}`; };
  seek.onchange = () => { dragging = false; seekTo(Number(seek.value) * 1000); };
  const liveBtn = $('#live');
  liveBtn.hidden = !s.active;
  liveBtn.onclick = () => { p.wasLive = true; p.followLive(); };
  const fsBtn = $('#fullscreen');
  const toggleFs = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else $('.player').requestFullscreen().catch(() => {});
  };
  fsBtn.onclick = toggleFs;

  // ---- keys (not while typing in a field)
  const stops = cmds.map((c) => c.ts_us - s.start_us);
  keyHandler = (ev) => {
    if (ev.target.closest && ev.target.closest('input[type=search], input:not([type]), input[type=text], select, textarea')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key;
    let handled = true;
    if (k === ' ' || k === 'k') { if (p.playing) p.pause(); else p.play(); }
    else if (k === 'ArrowRight') seekTo(p.pos + SEEK_STEP_US);
    else if (k === 'ArrowLeft') seekTo(p.pos - SEEK_STEP_US);
    else if (k === ']') { const t = stops.find((x) => x > p.pos + 1000); if (t !== undefined) seekTo(t, 'Next command'); }
    else if (k === '[') { const prev = stops.filter((x) => x < p.pos - 1000); seekTo(prev.length ? prev[prev.length - 1] : 0, 'Previous command'); }
    else if (k === '.') { p.pause(); p.step(); }
    else if (k >= '0' && k <= '9') seekTo((p.duration() * Number(k)) / 10);
    else if (k === 'f') toggleFs();
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  };

  if (!s.has_tty) {
    pstatus.textContent = '';
    window.ktSessionReady = Promise.resolve(true);
    return;
  }
  let ready;
  window.ktSessionReady = new Promise((r) => { ready = r; });
  fitTerminal(termEl);
  await p.start();
  const t = Number(params.get('t'));
  if (t > 0) await p.seek(t * 1000);
  placeMarkers();
  fitTerminal(termEl);
  if (!p.playing && !p.live) pstatus.textContent = 'Press Space or Play to start; ←/→ seek, [ ] commands, f fullscreen.';
  if (s.active && params.get('live') === '1') { p.wasLive = true; p.followLive(); }
  ready(true);
}

let keyHandler = null;
document.addEventListener('keydown', (ev) => { if (keyHandler && !$('#session-view').hidden) keyHandler(ev); });
window.addEventListener('resize', () => { if (!$('#session-view').hidden) fitTerminal($('#term')); });
document.addEventListener('fullscreenchange', () => fitTerminal($('#term')));
