// kubetape-web UI: session list with filters, search, session page.
// No framework: the DOM is built with createElement/textContent only (never
// innerHTML), so recorded strings can never become markup.
'use strict';

const $ = (sel) => document.querySelector(sel);
const PAGE = 100;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

function fmtTime(us) {
  if (!us) return '';
  return new Date(us / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}
function fmtDur(us) {
  if (us === null || us === undefined || us < 0) return '';
  let s = Math.floor(us / 1e6);
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (h ? `${h}:${String(m).padStart(2, '0')}` : `${m}`) + `:${String(s).padStart(2, '0')}`;
}
function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}
function exitText(o) {
  if (!o.has_exit) return '';
  if (o.exit_signal) return o.exit_signal;
  return String(o.exit_code);
}

class HttpError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}
async function api(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.status === 401) { location.href = '/login.html'; throw new HttpError(401, 'authentication required'); }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new HttpError(res.status, (body && body.error && body.error.message) || `HTTP ${res.status}`);
  return body;
}

function show(view) {
  for (const v of ['list-view', 'search-view', 'session-view']) $('#' + v).hidden = v !== view;
}

// ---------------------------------------------------------------- routing
function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = h.split('?');
  return { path, params: new URLSearchParams(qs || '') };
}
let player = null;
async function route() {
  if (player) { player.dispose(); player = null; window.ktPlayer = null; }
  const { path, params } = parseHash();
  const m = path.match(/^\/s\/(\d{1,16})$/);
  try {
    if (m) await sessionPage(m[1], params);
    else if (path === '/search') await searchPage(params);
    else await listPage(params);
  } catch (e) {
    const st = $('#list-status');
    show('list-view');
    st.textContent = e.message; st.className = 'status error';
  }
}

// ---------------------------------------------------------------- list
const FILTERS = ['namespace', 'pod', 'container', 'node', 'user', 'since', 'until', 'active', 'tty'];
function toUs(local) { const t = Date.parse(local + 'Z'); return Number.isFinite(t) ? t * 1000 : null; }
function toLocal(us) { return new Date(us / 1000).toISOString().slice(0, 19); }

function filterQuery(params) {
  const q = new URLSearchParams();
  for (const k of FILTERS) {
    const v = params.get(k);
    if (!v) continue;
    if (k === 'since' || k === 'until') { const us = toUs(v); if (us !== null) q.set(k, String(us)); } else q.set(k, v);
  }
  return q;
}

// Who ran it: the Kubernetes user joined from the API server's audit log
// (store/audit.h); no "identity" when the store has no audit events.
function who(i) {
  if (!i) return '';
  if (i.tier === 'exact' || i.tier === 'matched') return i.impersonated_user ? `${i.impersonated_user} (via ${i.user})` : i.user;
  if (i.tier === 'ambiguous') return i.candidates.map((c) => c.impersonated_user || c.username).join(' | ');
  return '';
}
function userCell(s) {
  const i = s.identity;
  if (!i) return el('td', {}, '');
  const badge = i.tier === 'none' ? el('span', { class: 'badge lost', title: 'no exec request in the audit log: entered from the node?' }, 'no request')
    : el('span', { class: i.tier === 'ambiguous' ? 'badge lost' : 'badge guess', title: `join: ${i.tier}` }, i.tier);
  return el('td', { class: 'user' }, who(i), badge);
}

function sessionRow(s) {
  const where = `${s.k8s_namespace || '?'} / ${s.pod || '?'} / ${s.container || '?'}`;
  const dur = s.end_us ? s.end_us - s.start_us : Date.now() * 1000 - s.start_us;
  return el('tr', { 'data-id': s.id, class: s.active ? 'live' : '' },
    el('td', {}, el('a', { href: `#/s/${s.id}` }, `#${s.id}`), s.active ? el('span', { class: 'badge live' }, 'LIVE') : null),
    el('td', {}, fmtTime(s.start_us)),
    el('td', {}, fmtDur(dur)),
    el('td', {}, where, s.attribution_guess ? el('span', { class: 'badge guess', title: 'pod guessed from hostname' }, 'guess') : null),
    el('td', {}, s.node),
    userCell(s),
    el('td', { class: 'cmd', title: s.first_command }, s.first_command),
    el('td', {}, exitText(s)),
    el('td', {}, fmtBytes(s.bytes_out), s.lost_bytes || s.lost_events ? el('span', { class: 'badge lost', title: `${s.lost_bytes} bytes lost` }, 'loss') : null));
}

async function listPage(params) {
  show('list-view');
  const form = $('#filters');
  for (const k of FILTERS) form.elements[k].value = params.get(k) || '';
  const tbody = $('#sessions tbody');
  tbody.replaceChildren();
  const status = $('#list-status');
  status.className = 'status';
  status.textContent = 'Loading…';
  const q = filterQuery(params);
  q.set('limit', String(PAGE));
  let total = 0;
  const load = async (after) => {
    if (after) q.set('after', String(after)); else q.delete('after');
    const r = await api('/api/sessions?' + q);
    for (const s of r.sessions) tbody.append(sessionRow(s));
    total += r.sessions.length;
    status.textContent = total ? `${total} session${total === 1 ? '' : 's'}${r.next_after ? ' (more below)' : ''}` : 'No sessions match.';
    const more = $('#more');
    more.hidden = !r.next_after;
    more.onclick = r.next_after ? () => load(r.next_after).catch((e) => { status.textContent = e.message; }) : null;
  };
  await load(0);
}

$('#filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  const f = ev.target.elements;
  for (const k of FILTERS) if (f[k].value) q.set(k, f[k].value);
  location.hash = '#/' + (q.toString() ? '?' + q : '');
});
$('#filters').addEventListener('reset', () => { setTimeout(() => { location.hash = '#/'; }, 0); });

// ---------------------------------------------------------------- search
$('#search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = $('#q').value.trim();
  if (!q) return;
  location.hash = '#/search?' + new URLSearchParams({ q, in: $('#search-in').value });
});

async function searchPage(params) {
  show('search-view');
  const q = params.get('q') || '';
  const inWhat = params.get('in') || 'all';
  $('#q').value = q; $('#search-in').value = inWhat;
  const tbody = $('#hits tbody');
  tbody.replaceChildren();
  const status = $('#search-status');
  status.className = 'status';
  status.textContent = 'Searching…';
  const base = new URLSearchParams({ q, in: inWhat, limit: '50' });
  let total = 0;
  const load = async (after) => {
    if (after) base.set('after', String(after));
    let r;
    try {
      r = await api('/api/search?' + base);
    } catch (e) {
      if (e.status === 501 && inWhat === 'screen') { status.textContent = 'Screen-text search is not available on this server yet.'; return; }
      throw e;
    }
    for (const h of r.hits) {
      const s = h.session, c = h.command;
      const rel = c ? c.ts_us - s.start_us : 0;
      const text = c ? c.argv.join(' ') : (h.text || '');
      tbody.append(el('tr', {},
        el('td', {}, el('a', { href: `#/s/${s.id}?t=${Math.max(0, Math.floor(rel / 1000))}` }, `#${s.id}`), s.active ? el('span', { class: 'badge live' }, 'LIVE') : null),
        el('td', {}, fmtTime(c ? c.ts_us : s.start_us)),
        el('td', {}, `${s.pod} / ${s.container}`),
        el('td', { class: 'match', title: text }, text)));
    }
    total += r.hits.length;
    status.textContent = (total ? `${total} match${total === 1 ? '' : 'es'}` : 'No matches.') +
      (inWhat !== 'commands' && !r.screen_searched ? ' (commands only: screen-text search is not available yet)' : '');
    const more = $('#search-more');
    more.hidden = !r.next_after;
    more.onclick = r.next_after ? () => load(r.next_after).catch((e) => { status.textContent = e.message; }) : null;
  };
  await load(0);
}

// ---------------------------------------------------------------- session
function metaItem(k, v) { return el('div', {}, el('dt', {}, k), el('dd', {}, v === '' || v === null || v === undefined ? '—' : String(v))); }

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
    metaItem('Start (UTC)', fmtTime(s.start_us)),
    metaItem('End (UTC)', s.end_us ? fmtTime(s.end_us) : (s.active ? 'live' : '')),
    metaItem('Duration', fmtDur(s.end_us ? s.end_us - s.start_us : null)),
    metaItem('State', s.state), metaItem('Exit code', exitText(s)),
    metaItem('Lost bytes', `${s.lost_bytes}${s.lost_events ? ` (${s.lost_events} events)` : ''}`),
    metaItem('Output', fmtBytes(s.bytes_out)), metaItem('Terminal', s.has_tty ? `${s.cols}×${s.rows} ${s.tty_name}` : 'no tty'),
    metaItem('Leader', `${s.leader_comm} pid ${s.leader_ns_pid} uid ${s.leader_uid}`),
    metaItem('Capture', s.capture));
  $('#download').href = `/api/sessions/${s.id}/export.cast`;

  const termEl = $('#term');
  termEl.replaceChildren();
  $('#gaps').replaceChildren();
  const playBtn = $('#play'), seek = $('#seek'), clock = $('#clock'), pstatus = $('#player-status');
  pstatus.textContent = '';
  let dragging = false;
  const cmds = cr.commands;
  const items = [];
  const list = $('#commands');
  list.replaceChildren();
  let current = -1;

  const p = new window.KtPlayer(termEl, s, {
    onTime(pos, dur) {
      clock.textContent = `${fmtDur(pos)} / ${fmtDur(dur)}`;
      if (!dragging) { seek.max = String(Math.max(1, Math.ceil(dur / 1000))); seek.value = String(Math.floor(pos / 1000)); }
      let i = -1;
      while (i + 1 < cmds.length && cmds[i + 1].ts_us - s.start_us <= pos) i++;
      if (i !== current) {
        if (current >= 0 && items[current]) items[current].classList.remove('current');
        if (i >= 0 && items[i]) items[i].classList.add('current');
        current = i;
      }
    },
    onGap(rel, lost) {
      const dur = Math.max(1, p.duration());
      $('#gaps').append(el('span', { title: `${lost} bytes lost at ${fmtDur(rel)}`, 'data-us': rel }));
      for (const g of $('#gaps').children) g.style.left = `${Math.min(100, (Number(g.dataset.us) / dur) * 100)}%`;
    },
    onState(st) {
      playBtn.textContent = st === 'playing' ? 'Pause' : 'Play';
      playBtn.setAttribute('aria-label', playBtn.textContent);
      if (st === 'live') pstatus.textContent = 'Following live…';
      else if (st === 'ended' && p.live === false) pstatus.textContent = 'Session ended.';
      else if (st.startsWith('disconnected')) pstatus.textContent = `Live view ${st}.`;
      else if (st === 'finished') pstatus.textContent = 'End of recording.';
      else pstatus.textContent = '';
      termEl.dataset.state = st;
    },
    onStatus(msg) { pstatus.textContent = msg; },
  });
  player = p;
  window.ktPlayer = p;   // for tests and the console

  cmds.forEach((c, i) => {
    const rel = c.ts_us - s.start_us;
    const failed = c.has_exit && (c.exit_code !== 0);
    const li = el('li', { class: failed ? 'failed' : '' },
      el('button', { type: 'button', title: c.argv.join(' '), 'data-us': rel,
        onclick: () => { p.seek(rel).then(() => { pstatus.textContent = `At command ${i + 1}: ${c.argv.join(' ')}`; }); } },
      el('span', { class: 't' }, fmtDur(rel)), c.argv.join(' ')));
    items.push(li);
    list.append(li);
  });
  if (cr.next_after !== null) list.append(el('li', {}, `… more than ${cmds.length} commands; the rest are not listed`));

  playBtn.onclick = () => { if (p.playing) p.pause(); else p.play(); };
  $('#speed').onchange = (ev) => { p.speed = Number(ev.target.value) || 1; };
  $('#idle').onchange = (ev) => { p.skipIdle = ev.target.checked; };
  p.speed = Number($('#speed').value) || 1;
  p.skipIdle = $('#idle').checked;
  seek.oninput = () => { dragging = true; clock.textContent = `${fmtDur(Number(seek.value) * 1000)} / ${fmtDur(p.duration())}`; };
  seek.onchange = () => { dragging = false; p.seek(Number(seek.value) * 1000); };
  const liveBtn = $('#live');
  liveBtn.hidden = !s.active;
  liveBtn.onclick = () => p.followLive();

  await p.start();
  const t = Number(params.get('t'));
  if (t > 0) await p.seek(t * 1000);
  if (s.active && params.get('live') === '1') p.followLive();
}

// ---------------------------------------------------------------- start
window.addEventListener('hashchange', route);
(async () => {
  try {
    const info = await api('/api/info');
    $('#logout').hidden = !info.auth;
    if (!info.screen_search) $('#q').placeholder = 'Search commands';
  } catch (e) { /* route() reports */ }
  route();
})();
