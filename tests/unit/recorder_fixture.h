/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorder core's test fixture (test_recorder.c, test_recorder_events.c):
 * a synthetic kernel behind struct kt_kops and a real SQLite store.
 *
 * The synthetic kernel keeps each ring as a list of records with byte
 * positions, a read and a consumer position, exactly the contract of
 * recorder/ring.c: records are handed over by read(), given back by
 * consume(), handed over again after rewind() or a new "process".  Its
 * session map and tty map are what session_lookup/retire/tty_claim see.
 * Header-only (static inline) like kt_fixture.h.
 */
#ifndef KT_RECORDER_FIXTURE_H
#define KT_RECORDER_FIXTURE_H

#include <assert.h>
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "sessions.h"
#include "store_int.h"


/* ---- a synthetic kernel ------------------------------------------------- */

#define MAXREC 4096
#define MAXSESS 16

struct rec {
	uint64_t pos;   /* ring position of the record */
	size_t len;
	void *data;
};

struct ring {
	struct rec recs[MAXREC];
	int n;
	uint64_t end;   /* producer position */
	uint64_t read, cons;
};

struct kernel {
	struct ring rings[KT_KOPS_RINGS];
	struct kt_session sess[MAXSESS];
	int nsess;
	uint64_t ttys[MAXSESS][2]; /* tty key -> sid */
	int nttys;
	bool adopted;
	int batch_err;             /* sessions_batch fails with this (0: works) */
	int batch_calls, lookup_calls;
	struct kt_recorder *r;     /* where read() delivers */
};

static inline void k_push(struct kernel *k, int ring, const void *ev, size_t len)
{
	struct ring *g = &k->rings[ring];

	assert(g->n < MAXREC);
	g->recs[g->n].pos = g->end;
	g->recs[g->n].len = len;
	g->recs[g->n].data = malloc(len);
	memcpy(g->recs[g->n].data, ev, len);
	g->n++;
	g->end += (len + 8 + 7) & ~7ull; /* as the kernel: header + padding */
}

static inline struct kt_session *k_sess(struct kernel *k, uint64_t sid)
{
	for (int i = 0; i < k->nsess; i++)
		if (k->sess[i].id == sid)
			return &k->sess[i];
	return NULL;
}

static inline const char *kk_backend(void *c) { (void)c; return "syscall"; }
static inline bool kk_adopted(void *c) { return ((struct kernel *)c)->adopted; }
static inline int kk_lookup(void *c, uint64_t sid, struct kt_session *o)
{
	struct kt_session *s = k_sess(c, sid);

	((struct kernel *)c)->lookup_calls++;
	if (!s)
		return -ENOENT;
	*o = *s;
	return 0;
}
static inline int kk_batch(void *c, int (*cb)(const struct kt_session *s, void *x), void *x)
{
	struct kernel *k = c;

	k->batch_calls++;
	if (k->batch_err)
		return k->batch_err;
	for (int i = 0; i < k->nsess; i++)
		if (k->sess[i].id && cb(&k->sess[i], x))
			return -ECANCELED;
	return 0;
}
static inline void kk_retire(void *c, uint64_t sid, uint64_t key)
{
	struct kernel *k = c;

	for (int i = 0; i < k->nttys; i++)
		if (k->ttys[i][0] == key && k->ttys[i][1] == sid)
			k->ttys[i][0] = k->ttys[i][1] = 0;
	for (int i = 0; i < k->nsess; i++)
		if (k->sess[i].id == sid)
			k->sess[i].id = 0;
}
static inline void kk_claim(void *c, uint64_t key, uint64_t sid)
{
	struct kernel *k = c;

	for (int i = 0; i < k->nttys; i++)
		if (k->ttys[i][0] == key)
			return;
	k->ttys[k->nttys][0] = key;
	k->ttys[k->nttys++][1] = sid;
}
static inline bool kk_false(void *c) { (void)c; return false; }
static inline bool kk_true(void *c) { (void)c; return true; }
static inline int kk_zero(void *c) { (void)c; return 0; }
static inline void kk_none(void *c) { (void)c; }
static inline uint32_t kk_nr(void *c) { (void)c; return 0; }
static inline int kk_wait(void *c, int ms) { (void)c; (void)ms; return 0; }
static inline int kk_read(void *c, size_t max)
{
	struct kernel *k = c;
	int n = 0;

	for (int i = 0; i < KT_KOPS_RINGS; i++) {
		struct ring *g = &k->rings[i];
		uint64_t start = g->read;

		for (int j = 0; j < g->n; j++) {
			if (g->recs[j].pos < g->read)
				continue;
			if (max && g->read - start >= max)
				break;
			if (kt_recorder_event(k->r, g->recs[j].data, g->recs[j].len) < 0)
				break;
			g->read = j + 1 < g->n ? g->recs[j + 1].pos : g->end;
			n++;
		}
	}
	return n;
}
static inline uint32_t kk_ring_id(void *c, int i) { (void)c; return 100 + i; }
static inline uint64_t kk_read_pos(void *c, int i) { return ((struct kernel *)c)->rings[i].read; }
static inline int kk_skip_to(void *c, int i, uint64_t pos)
{
	struct ring *g = &((struct kernel *)c)->rings[i];

	if (pos == g->cons)
		return 0;
	if (pos < g->cons || pos > g->end)
		return -ERANGE;
	g->read = g->cons = pos;
	return 1;
}
static inline bool kk_caught_up(void *c)
{
	struct kernel *k = c;

	for (int i = 0; i < KT_KOPS_RINGS; i++)
		if (k->rings[i].read != k->rings[i].end)
			return false;
	return true;
}
static inline void kk_consume(void *c)
{
	struct kernel *k = c;

	for (int i = 0; i < KT_KOPS_RINGS; i++)
		k->rings[i].cons = k->rings[i].read;
}
static inline void kk_rewind(void *c)
{
	struct kernel *k = c;

	for (int i = 0; i < KT_KOPS_RINGS; i++)
		k->rings[i].read = k->rings[i].cons;
}

static inline void k_free(struct kernel *k)
{
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		for (int j = 0; j < k->rings[i].n; j++)
			free(k->rings[i].recs[j].data);
	free(k);
}

/* ---- events ------------------------------------------------------------- */

static inline uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void ev_start(struct kernel *k, uint64_t sid, uint64_t tty, bool send)
{
	struct kt_ev_session e = {0};

	e.hdr.type = KT_EV_SESSION_START;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = now_boot_ns();
	e.hdr.session_id = sid;
	e.s.id = sid;
	e.s.start_ns = e.hdr.ts_ns;
	e.s.nprocs = 1;
	e.s.leader.pid = 1000 + (uint32_t)(sid % 1000);
	e.s.leader.ns_pid = 7;
	snprintf(e.s.leader.comm, sizeof(e.s.leader.comm), "bash");
	snprintf(e.s.uts_name, sizeof(e.s.uts_name), "pod-%llu", (unsigned long long)sid);
	snprintf(e.s.cgroup_path, sizeof(e.s.cgroup_path), "/");
	e.s.tty.key = tty;
	e.s.tty.rows = 24;
	e.s.tty.cols = 80;
	k->sess[k->nsess++] = e.s;
	if (tty)
		kk_claim(k, tty, sid);
	if (send)
		k_push(k, 0, &e, sizeof(e));
}

static inline void ev_out(struct kernel *k, uint64_t sid, const char *text)
{
	size_t n = strlen(text);
	struct kt_ev_data *e = calloc(1, sizeof(*e) + n);

	e->hdr.type = KT_EV_TTY_OUT;
	e->hdr.size = sizeof(*e) + n;
	e->hdr.ts_ns = now_boot_ns();
	e->hdr.session_id = sid;
	e->len = n;
	e->source = KT_SRC_SYSCALL;
	memcpy(e->data, text, n);
	k_push(k, 1, e, sizeof(*e) + n);
	free(e);
}

static inline void ev_exec(struct kernel *k, uint64_t sid, uint32_t pid, const char *argv0)
{
	char buf[sizeof(struct kt_ev_exec) + 64] = {0};
	struct kt_ev_exec *e = (void *)buf;
	size_t fl = strlen(argv0) + 1;

	e->hdr.type = KT_EV_EXEC;
	e->hdr.ts_ns = now_boot_ns();
	e->hdr.session_id = sid;
	e->task.pid = pid;
	e->filename_len = fl;
	e->argv_len = fl;
	e->argc = 1;
	memcpy(e->data, argv0, fl);
	memcpy(e->data + fl, argv0, fl);
	e->hdr.size = sizeof(*e) + 2 * fl;
	k_push(k, 0, e, e->hdr.size);
}

static inline void ev_exit(struct kernel *k, uint64_t sid, uint32_t pid, bool leader, bool last, int code)
{
	struct kt_ev_exit e = {0};

	e.hdr.type = leader ? KT_EV_SESSION_END : KT_EV_EXIT;
	e.hdr.flags = last ? KT_F_LAST_PROC : 0;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = now_boot_ns();
	e.hdr.session_id = sid;
	e.task.pid = pid;
	e.exit_status = code << 8;
	k_push(k, 0, &e, sizeof(e));
}

/* ---- harness -------------------------------------------------------------- */

static char dir[128], path[256];
static struct kt_attrib_config ac;
static struct kt_signer *signer; /* set: recorders sign checkpoints */

/* flush_age_us 0: every tick commits (the recorder's default is 400 ms;
 * test_recorder_batch.c sets it with rec_new_aged) */
static int64_t rec_flush_age_us;
static size_t rec_flush_bytes = 1 << 20;

static inline struct kt_recorder *rec_new(struct kt_store *st, struct kernel *k)
{
	struct kt_recorder_opts o = { .attrib = &ac, .flush_age_us = rec_flush_age_us,
				      .flush_bytes = rec_flush_bytes,
				      .close_grace_us = 0, .keep_kernel_state = true, .signer = signer };
	struct kt_kops ops = {
		.ctx = k, .backend = kk_backend, .adopted = kk_adopted, .session_lookup = kk_lookup,
		.sessions_batch = kk_batch, .session_retire = kk_retire, .tty_claim = kk_claim, .capture_lazy = kk_false,
		.capture_is_up = kk_true, .capture_up = kk_zero, .capture_down = kk_none,
		.nr_ttys = kk_nr, .wait = kk_wait, .read = kk_read, .ring_id = kk_ring_id,
		.ring_read_pos = kk_read_pos, .ring_skip_to = kk_skip_to, .caught_up = kk_caught_up,
		.consume = kk_consume, .rewind = kk_rewind,
	};
	struct kt_recorder *r = NULL;

	if (kt_recorder_new(st, &o, &r))
		return NULL;
	kt_recorder_set_kops(r, &ops);
	k->r = r;
	return r;
}

static inline struct kt_store *store_new(const char *name)
{
	struct kt_store *st = NULL;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	kt_store_open(path, KT_STORE_CREATE, &st);
	return st;
}

/* While `on`, the store refuses every write (SQLite's query_only): a store
 * fault under the recorder, which must lose nothing by it. */
static inline void query_only(struct kt_store *st, bool on)
{
	CHECK_EQ_INT(sqlite3_exec(st->db, on ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0",
				  NULL, NULL, NULL), SQLITE_OK);
}

/* all OUT bytes of session id, and its GAP totals */
static inline char *stream_of(struct kt_store *st, int64_t id, uint64_t *gap)
{
	struct kt_fx_buf b = {0};
	struct kt_stream *s = NULL;
	struct kt_frame f;

	*gap = 0;
	if (kt_stream_open(st, id, 0, &s))
		return strdup("<no stream>");
	while (kt_stream_next(s, &f) == 1) {
		uint64_t lb, le;

		if (f.type == KT_FRAME_OUT)
			kt_fx_buf_add(&b, f.data, f.len);
		else if (f.type == KT_FRAME_GAP && kt_frame_gap_parse(&f, &lb, &le) == 0)
			*gap += lb;
	}
	kt_stream_close(s);
	kt_fx_buf_add(&b, "", 1);
	return b.p;
}

static inline int count_cb(const struct kt_session_info *s, void *ctx)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

static inline int count_sessions(struct kt_store *st)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	int n = 0;

	kt_store_sessions_list(st, &f, count_cb, &n);
	return n;
}

struct id_q {
	uint64_t kid;
	int64_t id;
};

static inline int id_cb(const struct kt_session_info *s, void *ctx)
{
	struct id_q *q = ctx;

	if (s->kernel_id == q->kid)
		q->id = s->id;
	return 0;
}

static inline int64_t id_of(struct kt_store *st, uint64_t kid)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct id_q q = { kid, 0 };

	kt_store_sessions_list(st, &f, id_cb, &q);
	return q.id;
}

#endif
