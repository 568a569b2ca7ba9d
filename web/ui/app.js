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
// m:ss.mmm (h:mm:ss.mmm past an hour): offsets into a session
function fmtOffset(us) {
  // m:ss.mmm (h:mm:ss.mmm past an hour)
  const ms = Math.max(0, Math.round(us / 1000));
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, sec = Math.floor(ms / 1000) % 60;
  const frac = String(ms % 1000).padStart(3, '0');
  return (h ? `${h}:${String(m).padStart(2, '0')}` : `${m}`) + `:${String(sec).padStart(2, '0')}.${frac}`;
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
  if (res.status === 401) {
    // the deep link survives the login page: restored after it (see start)
    try { sessionStorage.setItem('kt-next', location.hash); } catch (e) { /* storage off */ }
    location.href = '/login.html';
    throw new HttpError(401, 'authentication required');
  }
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

// session entry_flags (store/FORMAT.md) shown as badges: [label, tooltip]
const ENTRY_BADGES = {
  'entered-from-node': ['node', "entered the container's namespaces from the node (nsenter), not through its runtime"],
  'interactive-container': ['interactive', "the container's own process on its terminal (kubectl run -it, kubectl debug)"],
  'host-pid': ['hostPID', "the session shares the node's pid namespace (hostPID pod, or nsenter without -p)"],
  'recording-started-late': ['late', 'recording started late: the session was running when the recorder started; only what came after is recorded'],
};
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

// Tamper evidence (store/evidence.h): the server checks the signatures
// and what they cover (kubetape verify also rehashes every frame).
const VERIFY_TEXT = { verified: 'verified', 'unsigned tail': 'unsigned tail', unsigned: 'unsigned', broken: 'BROKEN' };
function verifyTitle(v) {
  if (!v) return 'verification state not available';
  let t = `${v.frames_signed} of ${v.frames} frames signed, ${v.checkpoints} checkpoint${v.checkpoints === 1 ? '' : 's'}` +
    `${v.final ? ', final' : ''}; signatures checked (kubetape verify rehashes every frame)`;
  if (v.key_from_store) t += '; against the key stored in the database (no node.key.pub next to it: weaker)';
  if (v.problems) t += `; ${v.problems}`;
  return t;
}
function verifyBadge(v) {
  const st = v ? v.state : 'unknown';
  return el('span', { class: `badge verify v-${st.replace(/\s+/g, '-')}`, title: verifyTitle(v), 'data-state': st },
    VERIFY_TEXT[st] || st);
}

function sessionRow(s) {
  const where = `${s.k8s_namespace || '?'} / ${s.pod || '?'} / ${s.container || '?'}`;
  const dur = s.end_us ? s.end_us - s.start_us : Date.now() * 1000 - s.start_us;
  return el('tr', { 'data-id': s.id, class: s.active ? 'live' : '' },
    el('td', {}, el('a', { href: `#/s/${s.id}` }, `#${s.id}`), s.active ? el('span', { class: 'badge live' }, 'LIVE') : null),
    el('td', {}, fmtTime(s.start_us)),
    el('td', {}, fmtDur(dur)),
    el('td', {}, where, s.attribution_guess ? el('span', { class: 'badge guess', title: 'pod guessed from hostname' }, 'guess') : null,
      ...(s.entry_flags || []).filter((f) => ENTRY_BADGES[f]).map((f) => el('span', { class: 'badge guess', title: ENTRY_BADGES[f][1] }, ENTRY_BADGES[f][0]))),
    el('td', {}, s.node),
    userCell(s),
    el('td', { class: 'evidence' }, verifyBadge(s.verification)),
    el('td', { class: 'cmd', title: s.first_command }, s.first_command),
    el('td', {}, exitText(s)),
    el('td', {}, fmtBytes(s.bytes_out), s.lost_bytes || s.lost_events ? el('span', { class: 'badge lost', title: `${s.lost_bytes} bytes lost` }, 'loss') : null));
}

// the list's filters, applied to searches started from the header
let listFilters = new URLSearchParams();

async function listPage(params) {
  show('list-view');
  listFilters = filterQuery(params);
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
    status.textContent = r.total ? `${total.toLocaleString('en')} of ${r.total.toLocaleString('en')} session${r.total === 1 ? '' : 's'}, newest start first${r.next_after ? ' (more below)' : ''}` : 'No sessions match.';
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
  const p = new URLSearchParams({ q, in: $('#search-in').value });
  for (const [k, v] of listFilters) p.set(k, v);
  location.hash = '#/search?' + p;
});

// Text with every occurrence of the query's words in <mark> (built with
// text nodes: recorded text never becomes markup).
function highlighted(text, words) {
  const out = el('span', {});
  const low = text.toLowerCase();
  let i = 0;
  while (i < text.length) {
    let best = -1, len = 0;
    for (const w of words) {
      const at = low.indexOf(w, i);
      if (at >= 0 && (best < 0 || at < best)) { best = at; len = w.length; }
    }
    if (best < 0) { out.append(text.slice(i)); break; }
    out.append(text.slice(i, best), el('mark', {}, text.slice(best, best + len)));
    i = best + len;
  }
  return out;
}

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
  const filters = filterQuery(params);   // the list's filters travel with the search
  for (const [k, v] of filters) base.set(k, v);
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  let total = 0;
  const load = async (after, afterScreen) => {
    base.delete('after'); base.delete('after_screen');
    if (after) base.set('after', String(after));
    if (afterScreen) base.set('after_screen', String(afterScreen));
    const r = await api('/api/search?' + base);
    for (const h of r.hits) {
      // t= is in ms, the hit in us: rounded up, so the frame that wrote
      // the match is on screen when the link opens
      const s = h.session, c = h.command;
      const rel = h.offset_us;
      const text = c ? c.argv.join(' ') : h.screen.text;
      tbody.append(el('tr', { class: `hit ${h.kind}` },
        el('td', {}, el('a', { href: `#/s/${s.id}?t=${Math.max(0, Math.ceil(rel / 1000))}` }, `#${s.id}`), s.active ? el('span', { class: 'badge live' }, 'LIVE') : null),
        el('td', {}, fmtTime(s.start_us + rel)),
        el('td', { class: 'offset' }, fmtOffset(rel)),
        el('td', {}, `${s.k8s_namespace} / ${s.pod} / ${s.container}`),
        el('td', {}, h.kind === 'command' ? 'command' : (h.screen.final ? 'final screen' : 'screen')),
        el('td', { class: 'match', title: text }, highlighted(text, words))));
    }
    total += r.hits.length;
    const fl = [...filters.keys()];
    status.textContent = (total ? `${total} match${total === 1 ? '' : 'es'}` : 'No matches.') +
      ` in ${inWhat === 'all' ? 'commands and screen text' : inWhat === 'screen' ? 'screen text' : 'commands'}` +
      (fl.length ? ` (filtered by ${fl.join(', ')})` : '');
    const more = $('#search-more');
    more.hidden = !r.next_after && !r.next_after_screen;
    more.onclick = more.hidden ? null : () => load(r.next_after, r.next_after_screen).catch((e) => { status.textContent = e.message; });
  };
  await load(0, 0);
}

// ---------------------------------------------------------------- start
window.addEventListener('hashchange', route);
(async () => {
  // back from the login page: where the auditor was going
  try {
    const next = sessionStorage.getItem('kt-next');
    sessionStorage.removeItem('kt-next');
    if (next && /^#\/[\w/?=&%.-]*$/.test(next) && (location.hash === '' || location.hash === '#/')) history.replaceState(null, '', next);
  } catch (e) { /* storage off */ }
  try {
    const info = await api('/api/info');
    $('#logout').hidden = !info.auth;
    if (!info.screen_search) $('#q').placeholder = 'Search commands';
  } catch (e) { /* route() reports */ }
  route();
})();
