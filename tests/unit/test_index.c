// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index on real SQLite stores built through the store API:
 * migration from v1, screen text search (with offsets, backspace editing,
 * colour codes, hostile queries) on open blocks (pending lines) and on
 * closed ones (trigram candidates verified by rendering again), block
 * boundaries at keyframes, trigram false positives rejected, encoded blobs
 * not indexed, stable pagination, idempotency and resume (small budgets, a
 * crash between transactions), keyframe spacing, the final screen, pending
 * sessions, and seeking: keyframe + the frames after it give the screen a
 * full replay gives.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "screen.h"
#include "store.h"
#include "store_int.h"

#define T0 1700000000000000LL

static char tmpdir[64];
static int dbn;

static struct kt_store *create_store(char *path, size_t len)
{
	struct kt_store *st = NULL;

	snprintf(path, len, "%s/i%d.db", tmpdir, ++dbn);
	if (kt_store_open(path, KT_STORE_CREATE, &st))
		return NULL;
	return st;
}

static int64_t add_session(struct kt_store *st, const char *uuid, bool tty)
{
	struct kt_session_info s = kt_fx_session(uuid, "prod", "web-1", T0);

	s.has_tty = tty;
	if (kt_store_session_create(st, &s))
		return -1;
	return s.id;
}


/* ---- a recorded session: frames in chunks of ~64 KiB ---- */

struct rec {
	struct kt_store *st;
	int64_t sid;
	struct kt_chunk_builder b;
	int64_t ts;
	/* everything written, for full replays */
	struct { uint8_t type; int64_t ts; char *data; uint32_t len; } *f;
	size_t n, cap;
};

static void rec_frame(struct rec *r, uint8_t type, const void *data, uint32_t len, int64_t dt)
{
	r->ts += dt;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->f = realloc(r->f, r->cap * sizeof(*r->f));
	}
	r->f[r->n].type = type;
	r->f[r->n].ts = r->ts;
	r->f[r->n].data = malloc(len ? len : 1);
	memcpy(r->f[r->n].data, data, len);
	r->f[r->n].len = len;
	r->n++;
	kt_chunk_add(&r->b, type, r->ts, data, len);
	if (r->b.len > 65536) {
		kt_store_chunk_append(r->st, r->sid, &r->b);
		kt_chunk_builder_reset(&r->b);
	}
}

static void rec_out(struct rec *r, const char *s, int64_t dt)
{
	rec_frame(r, KT_FRAME_OUT, s, (uint32_t)strlen(s), dt);
}

static void rec_resize(struct rec *r, uint16_t cols, uint16_t rows, int64_t dt)
{
	uint8_t p[4] = { cols & 0xff, cols >> 8, rows & 0xff, rows >> 8 };

	rec_frame(r, KT_FRAME_RESIZE, p, 4, dt);
}

static void rec_flush(struct rec *r)
{
	if (r->b.nframes)
		kt_store_chunk_append(r->st, r->sid, &r->b);
	kt_chunk_builder_reset(&r->b);
}

static void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].data);
	free(r->f);
	kt_chunk_builder_free(&r->b);
}

/* A shell session: commands, colourful output, an editor, a resize. */
static void record_shell(struct rec *r, int rounds)
{
	char buf[256];
	uint32_t x = 7;

	r->ts = T0;
	rec_out(r, "\x1b]0;root@web-1:/\x07\x1b[01;32mroot@web-1\x1b[00m:/# ", 1000);
	rec_out(r, "sdo\b\budo cat /etc/shadow\r\n", 2000000);
	rec_out(r, "root:$y$j9T$secrethash:19000:0:99999:7:::\r\n", 1000);
	for (int i = 0; i < rounds; i++) {
		x = x * 1103515245 + 12345;
		snprintf(buf, sizeof(buf), "\x1b[0m\x1b[01;34mdir%05d\x1b[0m  file-%u.txt  \x1b[31mcore.%d\x1b[0m\r\n",
			 i, x % 100000, i);
		rec_out(r, buf, 20000);
		if (i % 500 == 250) {
			rec_out(r, "\x1b[?1049h\x1b[H\x1b[2J~\r\n~\r\n\x1b[24;1H-- INSERT --", 100000);
			rec_out(r, "\x1b[1;1Hvim-only-text", 100000);
			rec_out(r, "\x1b[?1049l", 100000);
		}
		if (i == rounds / 2)
			rec_resize(r, 100, 30, 1000);
	}
	rec_out(r, "# echo LAST-SCREEN-MARKER\r\nLAST-SCREEN-MARKER\r\n# ", 1000000);
	rec_flush(r);
}

/* ---- search helpers ---- */

struct hits {
	int n;
	int64_t id[64];
	int64_t ts[64];
	bool final[64];
	char text[64][256];
};

static int on_hit(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	struct hits *x = ctx;

	if (x->n < 64) {
		x->id[x->n] = h->id;
		x->ts[x->n] = h->ts_us;
		x->final[x->n] = h->final;
		snprintf(x->text[x->n], sizeof(x->text[0]), "%s", h->text);
	}
	x->n++;
	return 0;
}

static int index_all(struct kt_store *st, int64_t sid, size_t budget)
{
	int ret, calls = 0;

	while ((ret = kt_index_session(st, sid, budget)) == 1)
		calls++;
	return ret < 0 ? ret : calls;
}

/* ---------------------------------------------------------------- tests */

static void t_migrate_v1(void)
{
	char path[128];
	struct kt_store *st = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/v1.db", tmpdir);
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, kt_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_exec(db, "INSERT INTO meta VALUES ('schema_version', 1), ('stream_version', 1);"
		     "INSERT INTO sessions (uuid, start_us) VALUES ('old', 1)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ_INT(kt_store_open(path, 0, &st), -EPROTO); /* readers do not migrate */
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	kt_store_close(st);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), KT_SCHEMA_VERSION);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT entry_flags FROM sessions"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'screen_fts'"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sessions"), 1);
}

static void search_shell(struct kt_store *st, bool open);

static void t_search_and_offsets(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };

	r.sid = add_session(st, "s1", true);
	record_shell(&r, 300);
	CHECK(index_all(st, r.sid, 0) >= 0);
	/* 20 KB of output: no keyframe yet, one open block (pending lines) */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 1"), 1);
	search_shell(st, true);
	/* ended: the block is closed, candidates come from the FTS and are
	 * rendered again; same answers */
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 1"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_pending"), 0);
	search_shell(st, false);
	kt_store_close(st);
	rec_free(&r);
}

static void search_shell(struct kt_store *st, bool open)
{
	struct hits h = { 0 };
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct kt_screen_search_stats stats;

	/* backspace editing: what was shown is "sudo" */
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "sudo cat", NULL, on_hit, &h, &stats), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_INT(stats.open_blocks, open ? 1 : 0);
	CHECK(open ? stats.rendered == 0 : stats.rendered > 0);
	CHECK(strstr(h.text[0], "root@web-1:/# sudo cat /etc/shadow") != NULL);
	/* the line was completed 2 s after the prompt */
	CHECK_EQ_INT(h.ts[0] - T0, 1000 + 2000000);
	CHECK(!h.final[0]);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "sdo", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	/* colour codes do not split words */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "DIR00042 core.42", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	/* short words scan with LIKE, case-insensitively */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "$y$j9T", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	/* text only on the alternate screen is not scrolled-off text */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "vim-only-text", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	/* filter and limit */
	f.pod = "web-1";
	f.limit = 3;
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "file-", &f, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 3);
	f.pod = "other";
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "file-", &f, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
}

static void t_hostile_queries(void)
{
	static const char *q[] = {
		"\"", "\"\"\"", "a OR b", "NEAR(a b)", "*", "text:root", "root*", "'; DROP TABLE x;--",
		"%", "_", "\\", "^root", "(", ")", "{x}", "-", "AND", "\x01\x02",
	};
	char path[128], big[2048];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct hits h = { 0 };

	r.sid = add_session(st, "s1", true);
	rec_out(&r, "50% done_ok \"quoted\" a\\b\r\n\r\n\r\n", 1);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, T0 + 10);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	/* short words only: no trigram, every block is verified */
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		int err = kt_store_screen_search(st, q[i], NULL, on_hit, &h);

		CHECK(err == 0);
	}
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "\"", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "AND", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	/* a short word next to a long one must be on the same line */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "a\\b 50%", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "zz 50%", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "50%", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "done_", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "\"quoted\"", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "a\\b", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "d_ne", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	/* rejected, not sanitized */
	CHECK_EQ_INT(kt_store_screen_search(st, "", NULL, on_hit, &h), -EINVAL);
	CHECK_EQ_INT(kt_store_screen_search(st, "  \t", NULL, on_hit, &h), -EINVAL);
	CHECK_EQ_INT(kt_store_screen_search(st, "\xff\xfe", NULL, on_hit, &h), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, big, NULL, on_hit, &h), -EINVAL);
	kt_store_close(st);
	rec_free(&r);
}

/* everything about the blocks but ids, as one number */
#define BLOCKS_SIG "SELECT total(seq * 7 + chunk_seq * 11 + frame_index * 13 + end_chunk_seq * 17" \
	" + end_frame_index * 19 + n_lines * 23 + final * 29 + open * 31 + (ts_first_us % 1000003)" \
	" + (ts_last_us % 1000033)) + count(*) FROM screen_blocks"

struct all_hits {
	int n;
	int64_t sum_id, sum_ts, sum_len;
};

static int on_all(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	struct all_hits *x = ctx;

	x->n++;
	x->sum_id += h->id;
	x->sum_ts += h->ts_us;
	x->sum_len += (int64_t)strlen(h->text);
	return 0;
}

/* same hits in two stores built from the same recording (ids aside:
 * blocks are numbered in order within each store, so those match too) */
static void same_hits(struct kt_store *a, struct kt_store *b, const char *q)
{
	struct all_hits x = { 0 }, y = { 0 };

	CHECK_EQ_INT(kt_store_screen_search(a, q, NULL, on_all, &x), 0);
	CHECK_EQ_INT(kt_store_screen_search(b, q, NULL, on_all, &y), 0);
	CHECK(x.n > 0);
	CHECK_EQ_INT(x.n, y.n);
	CHECK_EQ_INT(x.sum_ts, y.sum_ts);
	CHECK_EQ_INT(x.sum_len, y.sum_len);
}

static void t_idempotent_resume(void)
{
	char p1[128], p2[128];
	struct kt_store *a = create_store(p1, sizeof(p1)), *b = create_store(p2, sizeof(p2));
	struct rec ra = { .st = a }, rb = { .st = b };
	int64_t lines, kfs;

	ra.sid = add_session(a, "s1", true);
	rb.sid = add_session(b, "s1", true);
	record_shell(&ra, 4000);
	record_shell(&rb, 4000);

	/* a: one go; b: many small calls */
	CHECK(index_all(a, ra.sid, 0) >= 0);
	CHECK(index_all(b, rb.sid, 20000) > 10);
	lines = kt_fx_sql_int(p1, "SELECT total(n_lines) FROM screen_blocks");
	kfs = kt_fx_sql_int(p1, "SELECT count(*) FROM keyframes");
	CHECK(lines > 3900);
	if (lines <= 3900)
		printf("  lines %lld\n", (long long)lines);
	CHECK(kfs >= 1);
	CHECK_EQ_INT(kt_fx_sql_int(p2, "SELECT total(n_lines) FROM screen_blocks"), lines);
	CHECK_EQ_INT(kt_fx_sql_int(p2, "SELECT count(*) FROM keyframes"), kfs);
	CHECK_EQ_INT(kt_fx_sql_int(p1, BLOCKS_SIG), kt_fx_sql_int(p2, BLOCKS_SIG));
	/* the open block's pending lines (split into other parts) */
	same_hits(a, b, "file-");
	same_hits(a, b, "dir0");

	/* again: nothing new */
	CHECK_EQ_INT(kt_index_session(a, ra.sid, 0), 0);
	CHECK_EQ_INT(kt_fx_sql_int(p1, "SELECT total(n_lines) FROM screen_blocks"), lines);

	/* a crash before the position was saved: everything is redone, once */
	kt_store_close(a);
	{
		sqlite3 *db;

		sqlite3_open(p1, &db);
		sqlite3_exec(db, "DELETE FROM screen_index", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	CHECK_EQ_INT(kt_store_open(p1, KT_STORE_CREATE, &a), 0);
	CHECK(index_all(a, ra.sid, 20000) >= 0);
	CHECK_EQ_INT(kt_fx_sql_int(p1, "SELECT total(n_lines) FROM screen_blocks"), lines);
	CHECK_EQ_INT(kt_fx_sql_int(p1, "SELECT count(*) FROM keyframes"), kfs);
	CHECK_EQ_INT(kt_fx_sql_int(p1, BLOCKS_SIG), kt_fx_sql_int(p2, BLOCKS_SIG));
	/* no FTS document twice (a second copy would not show as a second
	 * hit; the FTS row count of a contentless table is in its data) */
	same_hits(a, b, "file-");
	same_hits(a, b, "dir0");
	/* and after the end, both close their last block the same way */
	kt_fx_end_id(a, ra.sid, ra.ts + 1);
	kt_fx_end_id(b, rb.sid, rb.ts + 1);
	CHECK_EQ_INT(index_all(a, ra.sid, 0), 0);
	CHECK_EQ_INT(index_all(b, rb.sid, 0), 0);
	CHECK_EQ_INT(kt_fx_sql_int(p1, BLOCKS_SIG), kt_fx_sql_int(p2, BLOCKS_SIG));
	same_hits(a, b, "file-");
	kt_store_close(a);
	kt_store_close(b);
	rec_free(&ra);
	rec_free(&rb);
}

static void t_keyframe_spacing(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t prev_off = 0, prev_ts = T0, n = 0;
	char line[200];

	r.sid = add_session(st, "s1", true);
	r.ts = T0;
	/* 3 MiB fast, then 2 minutes of slow output (100 KiB per 10 s) */
	for (int i = 0; i < 24000; i++) {
		snprintf(line, sizeof(line), "%0120d\r\n", i);
		rec_out(&r, line, 10);
	}
	for (int i = 0; i < 12; i++)
		for (int k = 0; k < 800; k++)
			rec_out(&r, line, k ? 0 : 10000000);
	rec_flush(&r);
	CHECK(index_all(st, r.sid, 0) >= 0);
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db, "SELECT out_offset, ts_us FROM keyframes ORDER BY ts_us", -1, &q, NULL);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t off = sqlite3_column_int64(q, 0), ts = sqlite3_column_int64(q, 1);

		CHECK(off - prev_off >= 64 * 1024);
		CHECK(off - prev_off <= (1 << 20) + 200);
		/* whichever first: 30 s without 1 MiB also gives one */
		CHECK(off - prev_off >= (1 << 20) || ts - prev_ts >= 30000000);
		prev_off = off;
		prev_ts = ts;
		n++;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	CHECK(n >= 3 + 2);
	kt_store_close(st);
	rec_free(&r);
}

static int pending_cb(int64_t id, void *ctx)
{
	int64_t *x = ctx;

	x[x[0] + 1] = id;
	x[0]++;
	return 0;
}

static void t_final_screen_and_pending(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct hits h = { 0 };
	int64_t pend[16] = { 0 }, other;

	r.sid = add_session(st, "s1", true);
	other = add_session(st, "s2", false); /* no output, active: not pending */
	record_shell(&r, 50);
	CHECK_EQ_INT(kt_index_pending(st, pending_cb, pend), 0);
	CHECK_EQ_INT(pend[0], 1);
	CHECK_EQ_INT(pend[1], r.sid);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	pend[0] = 0;
	kt_index_pending(st, pending_cb, pend);
	CHECK_EQ_INT(pend[0], 0);
	/* still on screen, session active: not searchable yet */
	CHECK_EQ_INT(kt_store_screen_search(st, "LAST-SCREEN-MARKER", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);

	kt_fx_end_id(st, r.sid, r.ts + 1);
	kt_fx_end_id(st, other, r.ts + 1);
	pend[0] = 0;
	kt_index_pending(st, pending_cb, pend);
	CHECK_EQ_INT(pend[0], 2);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	CHECK_EQ_INT(index_all(st, other, 0), 0);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "LAST-SCREEN-MARKER", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 2); /* the echo line and its output, both final */
	CHECK(h.final[0] && h.final[1]);
	pend[0] = 0;
	kt_index_pending(st, pending_cb, pend);
	CHECK_EQ_INT(pend[0], 0);
	/* done: more calls change nothing */
	CHECK_EQ_INT(kt_index_session(st, r.sid, 0), 0);
	h.n = 0;
	kt_store_screen_search(st, "LAST-SCREEN-MARKER", NULL, on_hit, &h);
	CHECK_EQ_INT(h.n, 2);
	kt_store_close(st);
	rec_free(&r);
}

/* non-tty output: \n only, as kubectl exec without -t writes it */
static void t_no_tty(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct hits h = { 0 };

	r.sid = add_session(st, "s1", false);
	rec_out(&r, "alpha-line\nbeta-line\n", 1);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, T0 + 10);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	CHECK_EQ_INT(kt_store_screen_search(st, "beta-line", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_STR(h.text[0], "beta-line");
	kt_store_close(st);
	rec_free(&r);
}

/* Replay frames [0, n) of r into a fresh screen. */
static struct kt_screen *replay(struct rec *r, int64_t until_us)
{
	struct kt_screen *s = NULL;

	kt_screen_new(24, 80, &s);
	for (size_t i = 0; i < r->n && r->f[i].ts <= until_us; i++) {
		if (r->f[i].type == KT_FRAME_OUT) {
			kt_screen_feed(s, r->f[i].data, r->f[i].len);
		} else if (r->f[i].type == KT_FRAME_RESIZE) {
			const uint8_t *p = (const uint8_t *)r->f[i].data;

			kt_screen_resize(s, p[2] | p[3] << 8, p[0] | p[1] << 8);
		}
	}
	return s;
}

static void t_seek(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct rec r = { .st = st };
	int64_t targets[6];

	r.sid = add_session(st, "s1", true);
	record_shell(&r, 6000);
	CHECK(index_all(st, r.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes") >= 2);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	targets[0] = T0;                       /* before any keyframe */
	targets[1] = r.ts;                     /* the end */
	for (int i = 2; i < 6; i++)
		targets[i] = T0 + (r.ts - T0) * (i * 2 - 1) / 10;
	for (int i = 0; i < 6; i++) {
		struct kt_stream *stream = NULL;
		struct kt_screen *seek = NULL, *full = replay(&r, targets[i]);
		uint8_t *kf = NULL;
		size_t kflen;
		int64_t kts;
		uint16_t rows, cols;
		struct kt_frame f;
		char why[256];
		int ret;

		CHECK_EQ_INT(kt_stream_open_at(ro, r.sid, targets[i], &stream, &kf, &kflen, &kts,
					       &rows, &cols), 0);
		if (i == 0)
			CHECK(kf == NULL);
		if (i == 1)
			CHECK(kf != NULL && kts > T0);
		if (kf) {
			CHECK(kts <= targets[i]);
			CHECK_EQ_INT(kt_screen_restore(rows, cols, kf, kflen, &seek), 0);
		} else {
			kt_screen_new(rows, cols, &seek);
		}
		/* the first frame after the keyframe is newer than the keyframe */
		while ((ret = kt_stream_next(stream, &f)) == 1 && f.ts_us <= targets[i]) {
			CHECK(f.ts_us >= kts);
			if (f.type == KT_FRAME_OUT) {
				kt_screen_feed(seek, f.data, f.len);
			} else if (f.type == KT_FRAME_RESIZE) {
				uint16_t c, rr;

				kt_frame_resize_parse(&f, &c, &rr);
				kt_screen_resize(seek, rr, c);
			}
		}
		CHECK_EQ_INT(kt_screen_compare(full, seek, why, sizeof(why)), 0);
		if (why[0])
			printf("  target %d: %s\n", i, why);
		free(kf);
		kt_stream_close(stream);
		kt_screen_free(seek);
		kt_screen_free(full);
	}
	{
		struct kt_stream *stream = NULL;
		uint8_t *kf = NULL;
		size_t kflen;
		int64_t kts;
		uint16_t rows, cols;

		CHECK_EQ_INT(kt_stream_open_at(ro, 999, T0, &stream, &kf, &kflen, &kts, &rows, &cols),
			     -ENOENT);
	}
	kt_store_close(ro);
	kt_store_close(st);
	rec_free(&r);
}

static int count_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

/* Blocks: one per keyframe interval, contiguous, starting at keyframes,
 * holding every line a full replay emits; the final screen on its own. */
static void t_blocks(void)
{
	char path[128], line[200], want[64];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct kt_screen *full = NULL;
	struct kt_screen_search_stats stats;
	struct hits h = { 0 };
	int64_t emitted = 0, nkf;

	r.sid = add_session(st, "s1", true);
	r.ts = T0;
	for (int i = 0; i < 30000; i++) {
		snprintf(line, sizeof(line), "row-%06d-end %0100d\r\n", i, i % 7);
		rec_out(&r, line, 10);
	}
	rec_out(&r, "the last screen\r\n", 10);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK_EQ_INT(index_all(st, r.sid, 300000) > 5, 1);

	kt_screen_new(24, 80, &full);
	kt_screen_set_line_cb(full, count_line, &emitted);
	for (size_t i = 0; i < r.n; i++)
		kt_screen_feed(full, r.f[i].data, r.f[i].len);
	nkf = kt_fx_sql_int(path, "SELECT count(*) FROM keyframes");
	CHECK(nkf >= 3);
	/* one block per interval (before the first keyframe, between two, after
	 * the last) plus the final screen */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE final = 0"), nkf + 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE final = 1"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT total(n_lines) FROM screen_blocks WHERE final = 0"), emitted);
	/* 115-column lines on 80 columns: two rows each */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT n_lines FROM screen_blocks WHERE final = 1"), 12);
	/* every block but the first starts at a keyframe */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks b JOIN keyframes k"
			   " ON k.session_id = b.session_id AND k.chunk_seq = b.chunk_seq"
			   " AND k.frame_index = b.frame_index WHERE b.final = 0"), nkf);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE seq = 0 AND chunk_seq = 0"
			   " AND frame_index = 0"), 1);
	/* contiguous: each ends where the next starts */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks a JOIN screen_blocks b"
			   " ON b.seq = a.seq + 1 AND b.final = 0 WHERE a.end_chunk_seq = b.chunk_seq"
			   " AND a.end_frame_index = b.frame_index"), nkf);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_pending"), 0);
	/* lines at both ends of a block, in the middle, and their times: the
	 * line of frame i is complete (scrolls off later) at T0 + 10 (i + 1) */
	for (int i = 0; i < 30000; i += 997) {
		snprintf(want, sizeof(want), "row-%06d-end", i);
		h.n = 0;
		CHECK_EQ_INT(kt_store_screen_search_stats(st, want, NULL, on_hit, &h, &stats), 0);
		CHECK_EQ_INT(h.n, 1);
		/* row-000000-end has no trigram row-001000-end lacks: candidates
		 * may be more, the hit is one */
		CHECK(stats.blocks >= 1 && stats.blocks <= 2);
		if (h.n == 1)
			CHECK_EQ_INT(h.ts[0], T0 + 10LL * (i + 1));
	}
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "the last screen", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK(h.final[0]);
	kt_screen_free(full);
	kt_store_close(st);
	rec_free(&r);
}

/* All trigrams of the word in one block, the word nowhere: a candidate
 * that verification rejects. */
static void t_false_positive(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct kt_screen_search_stats stats;
	struct hits h = { 0 };

	r.sid = add_session(st, "s1", true);
	rec_out(&r, "a sudden move\r\n", 1);
	rec_out(&r, "judo class\r\nsudden judo\r\nSUDO-less\r\n", 1);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, T0 + 10);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "sudo", NULL, on_hit, &h, &stats), 0);
	/* both blocks are candidates (the lines that scrolled off: none here;
	 * the final screen holds them all): only SUDO-less is a hit */
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_STR(h.text[0], "SUDO-less");
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "sudo class", NULL, on_hit, &h, &stats), 0);
	CHECK_EQ_INT(h.n, 0);
	CHECK_EQ_INT(stats.blocks, 1);     /* a candidate ... */
	CHECK(stats.lines >= 4);           /* ... rendered and looked at */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "judo sudden", NULL, on_hit, &h, &stats), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_STR(h.text[0], "sudden judo");
	/* trigrams are of characters: a multi-byte word */
	rec_free(&r);
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.sid = add_session(st, "s2", true);
	rec_out(&r, "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e\r\n", 1);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, T0 + 10);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "CR\xc3\xa8ME br\xc3\xbbl\xc3\xa9", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	/* non-ASCII letters compare exactly (ASCII-only case folding) */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "caf\xc3\x89", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	kt_store_close(st);
	rec_free(&r);
}

/* Lines with a base64/hex blob are not indexed, open or closed. */
static void t_encoded(void)
{
	static const char *b64 = "data: QmFzZTY0IGlzIG5vdCBpbmRleGVkOyBpdCBjb3N0cyBhcyBtdWNoIGFzIHRoZSB0ZXh0Lg==";
	static const char *hex = "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	static const char *path_line = "/usr/share/doc/libgstreamer-plugins-base-dev/examples/readme";
	static const char *digits = "n 123456789012345678901234567890123456789012345678901234567890";
	char p[128];
	struct kt_store *st = create_store(p, sizeof(p));
	struct rec r = { .st = st };
	struct kt_screen_search_stats stats;
	char buf[512];

	r.sid = add_session(st, "s1", false);
	snprintf(buf, sizeof(buf), "%s\n%s\n%s\n%s\n", b64, hex, path_line, digits);
	rec_out(&r, buf, 1);
	for (int i = 0; i < 30; i++)
		rec_out(&r, "filler line\n", 1);
	rec_flush(&r);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	for (int round = 0; round < 2; round++) {
		struct hits h = { 0 };

		/* round 0: open block (pending lines), 1: closed (FTS) */
		CHECK_EQ_INT(kt_store_screen_search_stats(st, "IGlzIG5vdCBpbmRl", NULL, on_hit, &h,
							  &stats), 0);
		CHECK_EQ_INT(h.n, 0);
		CHECK_EQ_INT(kt_store_screen_search(st, "data:", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 0);
		CHECK_EQ_INT(kt_store_screen_search(st, "884c7d659a2f", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 0);
		if (round) /* not even a candidate */
			CHECK_EQ_INT(stats.blocks, 0);
		CHECK_EQ_INT(kt_store_screen_search(st, "plugins-base-dev/examples", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 1);
		CHECK_EQ_INT(kt_store_screen_search(st, "9012345678901", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 2);
		kt_fx_end_id(st, r.sid, r.ts + 1);
		CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	}
	kt_store_close(st);
	rec_free(&r);
}

struct page {
	int n;
	int64_t ids[4096];
	int64_t sum_ts;
};

static int on_page(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	struct page *p = ctx;

	if (p->n < 4096)
		p->ids[p->n] = h->id;
	p->n++;
	p->sum_ts += h->ts_us;
	return 0;
}

/* Pages of 7 over open, closed and final blocks of two sessions give the
 * same hits as one unlimited search, ids strictly decreasing. */
static void t_pagination(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r1 = { .st = st }, r2 = { .st = st };
	struct page *all = calloc(1, sizeof(*all)), *pages = calloc(1, sizeof(*pages));
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;

	r1.sid = add_session(st, "s1", true);
	r2.sid = add_session(st, "s2", true);
	record_shell(&r1, 6000);
	kt_fx_end_id(st, r1.sid, r1.ts + 1);
	record_shell(&r2, 3000);       /* active: its last block is open */
	CHECK(index_all(st, r1.sid, 0) >= 0);
	CHECK(index_all(st, r2.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 0 AND final = 0") >= 3);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 1"), 1);

	CHECK_EQ_INT(kt_store_screen_search(st, "core.1", NULL, on_page, all), 0);
	CHECK(all->n > 100 && all->n < 4096);
	for (int i = 1; i < all->n && i < 4096; i++)
		CHECK(all->ids[i] < all->ids[i - 1]);
	f.limit = 7;
	for (;;) {
		struct page one = { 0 };

		CHECK_EQ_INT(kt_store_screen_search(st, "core.1", &f, on_page, &one), 0);
		CHECK(one.n <= 7);
		for (int i = 0; i < one.n && pages->n < 4096; i++)
			pages->ids[pages->n++] = one.ids[i];
		pages->sum_ts += one.sum_ts;
		if (one.n < 7)
			break;
		f.after_id = one.ids[one.n - 1];
	}
	CHECK_EQ_INT(pages->n, all->n);
	CHECK_EQ_INT(pages->sum_ts, all->sum_ts);
	CHECK(!memcmp(pages->ids, all->ids, sizeof(int64_t) * (size_t)(all->n < 4096 ? all->n : 4096)));
	/* ids stay when the open block closes */
	kt_fx_end_id(st, r2.sid, r2.ts + 1);
	CHECK_EQ_INT(index_all(st, r2.sid, 0), 0);
	memset(pages, 0, sizeof(*pages));
	CHECK_EQ_INT(kt_store_screen_search(st, "core.1", NULL, on_page, pages), 0);
	/* the final screens add hits at the front, nothing else changes */
	CHECK(pages->n >= all->n);
	CHECK(!memcmp(pages->ids + (pages->n - all->n), all->ids,
		      sizeof(int64_t) * (size_t)all->n));
	free(all);
	free(pages);
	kt_store_close(st);
	rec_free(&r1);
	rec_free(&r2);
}

static void t_readonly(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	int64_t sid = add_session(st, "s1", true);

	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_index_session(ro, sid, 0), -EROFS);
	CHECK_EQ_INT(kt_index_session(st, 12345, 0), -ENOENT);
	kt_store_close(ro);
	kt_store_close(st);
}

int main(void)
{
	if (kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "kt_test_index"))
		return 1;
	kt_log_init("test_index", KT_LOG_ERROR);
	RUN(t_migrate_v1);
	RUN(t_search_and_offsets);
	RUN(t_hostile_queries);
	RUN(t_idempotent_resume);
	RUN(t_keyframe_spacing);
	RUN(t_final_screen_and_pending);
	RUN(t_no_tty);
	RUN(t_seek);
	RUN(t_blocks);
	RUN(t_false_positive);
	RUN(t_encoded);
	RUN(t_pagination);
	RUN(t_readonly);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
