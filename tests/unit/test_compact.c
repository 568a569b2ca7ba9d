// SPDX-License-Identifier: Apache-2.0
/*
 * Raw chunks (codec 0) and compaction on real SQLite stores: raw and mixed
 * codec round trips; compaction keeps the exact frame sequence, seeking
 * (keyframe + frames), screen search and chunk offsets; a follower opened
 * before compaction reads on correctly; a compaction rolled back or killed
 * mid-transaction leaves the old chunks; idempotency; live edge and index
 * position respected; v1 -> v2 renumbers chunks by frames.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

static struct kt_store *create_store(char *path, size_t len, int level)
{
	struct kt_store *st = NULL;

	snprintf(path, len, "%s/c%d.db", tmpdir, ++dbn);
	if (kt_store_open(path, KT_STORE_CREATE, &st))
		return NULL;
	kt_store_set_zstd_level(st, level);
	return st;
}

static int64_t add_session(struct kt_store *st, const char *uuid)
{
	struct kt_session_info s = { 0 };

	snprintf(s.uuid, sizeof(s.uuid), "%s", uuid);
	s.start_us = T0;
	s.has_tty = true;
	s.rows = 24;
	s.cols = 80;
	if (kt_store_session_create(st, &s))
		return -1;
	return s.id;
}


/* ---- a recorded session, chunks cut at `cut` raw bytes ---- */

static void write_session(struct kt_store *st, int64_t sid, int rounds, size_t cut, int64_t *ts)
{
	struct kt_chunk_builder b;
	char buf[256];
	uint32_t x = 7;

	kt_chunk_builder_init(&b);
	*ts = T0;
#define ADD(type, s, n, dt) do { *ts += (dt); kt_chunk_add(&b, type, *ts, s, n); \
	if (b.len >= cut) { kt_store_chunk_append(st, sid, &b); kt_chunk_builder_reset(&b); } } while (0)
	ADD(KT_FRAME_OUT, "\x1b[01;32mroot@web-1\x1b[00m:/# ", 27, 1000);
	for (int i = 0; i < rounds; i++) {
		int n;

		x = x * 1103515245 + 12345;
		n = snprintf(buf, sizeof(buf), "\x1b[01;34mdir%05d\x1b[0m  file-%u.txt  \x1b[31mcore.%d\x1b[0m\r\n",
			     i, x % 100000, i);
		ADD(KT_FRAME_OUT, buf, (uint32_t)n, 20000);
		if (i % 97 == 3)
			ADD(KT_FRAME_IN, "ls\r", 3, 5000);
		if (i % 800 == 400) {
			kt_chunk_add_resize(&b, *ts, (uint16_t)(80 + i % 40), 24);
			ADD(KT_FRAME_OUT, "NEEDLE-marker\r\n", 15, 1000);
		}
		if (i == rounds / 3)
			kt_chunk_add_gap(&b, *ts, 4096, 2);
	}
#undef ADD
	if (b.nframes)
		kt_store_chunk_append(st, sid, &b);
	kt_chunk_builder_free(&b);
}

/* every frame of the session, flattened: type, ts, len, bytes */
struct frames {
	uint8_t *buf;
	size_t len, cap;
	size_t n;
};

static void frames_add(struct frames *fs, const struct kt_frame *f)
{
	size_t need = fs->len + 1 + 8 + 4 + f->len;

	if (need > fs->cap) {
		fs->cap = need * 2;
		fs->buf = realloc(fs->buf, fs->cap);
	}
	fs->buf[fs->len++] = f->type;
	memcpy(fs->buf + fs->len, &f->ts_us, 8);
	fs->len += 8;
	memcpy(fs->buf + fs->len, &f->len, 4);
	fs->len += 4;
	if (f->len)
		memcpy(fs->buf + fs->len, f->data, f->len);
	fs->len += f->len;
	fs->n++;
}

static int read_all(struct kt_store *st, int64_t sid, int64_t from_us, struct frames *fs)
{
	struct kt_stream *s = NULL;
	struct kt_frame f;
	int ret;

	memset(fs, 0, sizeof(*fs));
	ret = kt_stream_open(st, sid, from_us, &s);
	if (ret)
		return ret;
	while ((ret = kt_stream_next(s, &f)) == 1)
		frames_add(fs, &f);
	kt_stream_close(s);
	return ret;
}

static bool frames_eq(const struct frames *a, const struct frames *b)
{
	return a->n == b->n && a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

/* what seeking to t gives: keyframe bytes and the frames after it */
static int seek_sig(struct kt_store *st, int64_t sid, int64_t t, struct frames *fs)
{
	struct kt_stream *s = NULL;
	struct kt_frame f;
	uint8_t *kf = NULL;
	size_t kflen = 0;
	int64_t kts;
	uint16_t rows, cols;
	int ret;

	memset(fs, 0, sizeof(*fs));
	ret = kt_stream_open_at(st, sid, t, &s, &kf, &kflen, &kts, &rows, &cols);
	if (ret)
		return ret;
	f = (struct kt_frame){ .type = 0, .ts_us = kts, .len = (uint32_t)kflen, .data = kf };
	frames_add(fs, &f);
	for (int i = 0; i < 500 && (ret = kt_stream_next(s, &f)) == 1; i++)
		frames_add(fs, &f);
	free(kf);
	kt_stream_close(s);
	return ret < 0 ? ret : 0;
}

struct hits {
	char sig[8192];
	size_t len;
	int n;
};

static int on_hit(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	struct hits *x = ctx;
	int n = snprintf(x->sig + x->len, sizeof(x->sig) - x->len, "%lld/%lld/%d/%s;",
			 (long long)h->id, (long long)h->ts_us, h->final, h->text);

	if (n > 0 && (size_t)n < sizeof(x->sig) - x->len)
		x->len += n;
	x->n++;
	return 0;
}

static void search(struct kt_store *st, const char *q, struct hits *h)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;

	memset(h, 0, sizeof(*h));
	f.limit = 40;
	CHECK_EQ_INT(kt_store_screen_search(st, q, &f, on_hit, h), 0);
}

static int index_all(struct kt_store *st, int64_t sid)
{
	int ret;

	while ((ret = kt_index_session(st, sid, 0)) == 1)
		;
	return ret;
}

static int compact_all(struct kt_store *st, int64_t sid, struct kt_compact_stats *cs)
{
	int ret;

	while ((ret = kt_store_compact_session(st, sid, 0, cs)) == 1)
		;
	return ret;
}

/* chunks are contiguous: seq = previous seq + nframes, offsets add up */
static bool chunks_contiguous(const char *path, int64_t sid)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM (SELECT seq, nframes, out_offset, out_bytes, in_offset, in_bytes,"
		 " lag(seq + nframes, 1, 0) OVER w AS es, lag(out_offset + out_bytes, 1, 0) OVER w AS eo,"
		 " lag(in_offset + in_bytes, 1, 0) OVER w AS ei FROM chunks WHERE session_id = %lld"
		 " WINDOW w AS (ORDER BY seq)) WHERE seq != es OR out_offset != eo OR in_offset != ei",
		 (long long)sid);
	return kt_fx_sql_int(path, sql) == 0;
}

/* ---------------------------------------------------------------- tests */

static void t_raw_and_mixed(void)
{
	char path[128], sql[256];
	struct kt_store *st = create_store(path, sizeof(path), 0), *ref = NULL;
	struct frames a, b;
	int64_t sid, sid2, ts;
	char rpath[128];

	CHECK(st != NULL);
	sid = add_session(st, "raw");
	write_session(st, sid, 3000, 8192, &ts);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld AND codec != 0"
		 " OR length(data) != raw_len", (long long)sid);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 0);
	/* mixed: half raw, half zstd 3 */
	sid2 = add_session(st, "mixed");
	write_session(st, sid2, 1500, 8192, &ts);
	kt_store_set_zstd_level(st, 3);
	{
		/* the same frames again, as the reference store writes them */
		int64_t ts2;

		write_session(st, sid2, 1500, 8192, &ts2);
	}
	snprintf(sql, sizeof(sql), "SELECT count(DISTINCT codec) FROM chunks WHERE session_id = %lld",
		 (long long)sid2);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 2);
	CHECK(chunks_contiguous(path, sid) && chunks_contiguous(path, sid2));

	/* the same session through zstd only reads back identically */
	ref = create_store(rpath, sizeof(rpath), 3);
	CHECK(ref != NULL);
	CHECK_EQ_INT(add_session(ref, "raw"), 1);
	write_session(ref, 1, 3000, 8192, &ts);
	CHECK_EQ_INT(read_all(st, sid, 0, &a), 0);
	CHECK_EQ_INT(read_all(ref, 1, 0, &b), 0);
	CHECK(a.n > 3000 && frames_eq(&a, &b));
	free(a.buf);
	free(b.buf);
	/* from a time, across codecs */
	CHECK_EQ_INT(read_all(st, sid2, T0 + 20000LL * 1400, &a), 0);
	CHECK(a.n > 100);
	free(a.buf);
	kt_store_close(ref);
	kt_store_close(st);
}

struct snapshot {
	struct frames all, from, seek[5];
	struct hits h[3];
};

static const char *const queries[] = { "NEEDLE", "dir00042", "core.2999" };

static void snap(struct kt_store *st, int64_t sid, int64_t end_ts, struct snapshot *s)
{
	CHECK_EQ_INT(read_all(st, sid, 0, &s->all), 0);
	CHECK_EQ_INT(read_all(st, sid, T0 + (end_ts - T0) / 2, &s->from), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(seek_sig(st, sid, T0 + (end_ts - T0) * i / 4, &s->seek[i]), 0);
	for (int i = 0; i < 3; i++)
		search(st, queries[i], &s->h[i]);
}

static bool snap_eq(const struct snapshot *a, const struct snapshot *b)
{
	bool ok = frames_eq(&a->all, &b->all) && frames_eq(&a->from, &b->from);

	for (int i = 0; i < 5; i++)
		ok = ok && frames_eq(&a->seek[i], &b->seek[i]);
	for (int i = 0; i < 3; i++)
		ok = ok && a->h[i].n == b->h[i].n && a->h[i].len == b->h[i].len &&
		     !memcmp(a->h[i].sig, b->h[i].sig, a->h[i].len);
	return ok;
}

static void snap_free(struct snapshot *s)
{
	free(s->all.buf);
	free(s->from.buf);
	for (int i = 0; i < 5; i++)
		free(s->seek[i].buf);
}

static void t_compact_preserves(void)
{
	char path[128], sql[256];
	struct kt_store *st = create_store(path, sizeof(path), 0), *ro = NULL;
	struct kt_compact_stats cs = { 0 };
	struct kt_session_info before, after;
	struct snapshot s1, s2;
	int64_t sid, ts, n0;

	CHECK(st != NULL);
	sid = add_session(st, "s");
	write_session(st, sid, 40000, 16384, &ts);
	kt_fx_end_id(st, sid, T0 + 1000000000LL);
	CHECK_EQ_INT(index_all(st, sid), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld", (long long)sid);
	n0 = kt_fx_sql_int(path, sql);
	CHECK(n0 > 100);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes") >= 2);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	snap(ro, sid, ts, &s1);
	CHECK(s1.h[0].n > 0 && s1.h[1].n > 0 && s1.h[2].n > 0);
	CHECK_EQ_INT(kt_store_session_get(st, sid, &before), 0);

	/* small target: many merged chunks, boundaries inside keyframe spans */
	CHECK_EQ_INT(kt_store_set_compaction(st, 6, 200 << 10), 0);
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	CHECK(cs.chunks_in == (uint64_t)n0 && cs.chunks_out > 5 && cs.chunks_out < (uint64_t)n0 / 5);
	CHECK(cs.stored_out * 3 < cs.stored_in);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), (int64_t)cs.chunks_out);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	CHECK(chunks_contiguous(path, sid));
	snap(ro, sid, ts, &s2);
	CHECK(snap_eq(&s1, &s2));
	snap_free(&s2);
	CHECK_EQ_INT(kt_store_session_get(st, sid, &after), 0);
	CHECK(before.bytes_out == after.bytes_out && before.bytes_in == after.bytes_in &&
	      before.lost_bytes == after.lost_bytes);

	/* merged chunks below half the target merge again into bigger ones */
	CHECK_EQ_INT(kt_store_set_compaction(st, KT_COMPACT_LEVEL, 8 << 20), 0);
	memset(&cs, 0, sizeof(cs));
	/* nothing raw left: not pending, and compaction finds nothing */
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	CHECK_EQ_INT(cs.chunks_out, 0);
	snap(ro, sid, ts, &s2);
	CHECK(snap_eq(&s1, &s2));
	snap_free(&s2);
	snap_free(&s1);
	kt_store_close(ro);
	kt_store_close(st);
}

/* The worker's pattern: index a little, compact, index on from positions
 * inside merged chunks, end, finish.  Same result as indexing alone. */
static void t_interleaved(void)
{
	char path[128], rpath[128];
	struct kt_store *st = create_store(path, sizeof(path), 0);
	struct kt_store *ref = create_store(rpath, sizeof(rpath), 0);
	struct kt_compact_stats cs = { 0 };
	struct snapshot s1, s2;
	int64_t sid, ts;
	int ret, rounds = 0;

	CHECK(st != NULL && ref != NULL);
	sid = add_session(st, "s");
	CHECK_EQ_INT(add_session(ref, "s"), sid);
	write_session(st, sid, 30000, 16384, &ts);
	write_session(ref, sid, 30000, 16384, &ts);
	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 100 << 10), 0);
	while ((ret = kt_index_session(st, sid, 100 << 10)) == 1) {
		CHECK(kt_store_compact_session(st, sid, 0, &cs) >= 0);
		rounds++;
	}
	CHECK_EQ_INT(ret, 0);
	CHECK(rounds > 5 && cs.chunks_out > 5);
	kt_fx_end_id(st, sid, T0 + 1000000000LL);
	kt_fx_end_id(ref, sid, T0 + 1000000000LL);
	CHECK_EQ_INT(index_all(st, sid), 0);
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	CHECK_EQ_INT(index_all(ref, sid), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	CHECK(chunks_contiguous(path, sid));
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes"),
		     kt_fx_sql_int(rpath, "SELECT count(*) FROM keyframes"));
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT total(chunk_seq + frame_index) FROM keyframes"),
		     kt_fx_sql_int(rpath, "SELECT total(chunk_seq + frame_index) FROM keyframes"));
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT total(chunk_seq + frame_index + end_chunk_seq + end_frame_index"
			   " + n_lines) FROM screen_blocks"),
		     kt_fx_sql_int(rpath, "SELECT total(chunk_seq + frame_index + end_chunk_seq + end_frame_index"
			   " + n_lines) FROM screen_blocks"));
	snap(st, sid, ts, &s1);
	snap(ref, sid, ts, &s2);
	CHECK(s1.h[0].n > 0 && snap_eq(&s1, &s2));
	snap_free(&s1);
	snap_free(&s2);
	kt_store_close(ref);
	kt_store_close(st);
}

static int pend_cb(int64_t id, void *ctx)
{
	int64_t *v = ctx;

	v[v[0] + 1] = id;
	v[0]++;
	return 0;
}

static void t_idempotent_and_limits(void)
{
	char path[128], sql[512];
	struct kt_store *st = create_store(path, sizeof(path), 0);
	struct kt_compact_stats cs = { 0 };
	int64_t sid, ts, pend[8] = { 0 }, last_seq, pos;

	CHECK(st != NULL);
	sid = add_session(st, "s");
	write_session(st, sid, 20000, 16384, &ts);
	/* nothing indexed: nothing to compact */
	CHECK_EQ_INT(kt_store_compact_session(st, sid, 0, &cs), 0);
	CHECK_EQ_INT(cs.chunks_in, 0);
	CHECK_EQ_INT(kt_compact_pending(st, pend_cb, pend), 0);
	CHECK_EQ_INT(pend[0], 0);

	/* part indexed: merged only up to the index position */
	CHECK_EQ_INT(kt_index_session(st, sid, 512 << 10), 1);
	CHECK_EQ_INT(kt_compact_pending(st, pend_cb, pend), 0);
	CHECK_EQ_INT(pend[0], 1);
	CHECK_EQ_INT(pend[1], sid);
	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 128 << 10), 0);
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	CHECK(cs.chunks_out > 0);
	pos = kt_fx_sql_int(path, "SELECT chunk_seq + frame_index FROM screen_index");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld AND codec != 0"
		 " AND seq + nframes > %lld", (long long)sid, (long long)pos);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 0);

	/* all indexed, session active: the last chunk stays */
	CHECK_EQ_INT(index_all(st, sid), 0);
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	snprintf(sql, sizeof(sql), "SELECT max(seq) FROM chunks WHERE session_id = %lld", (long long)sid);
	last_seq = kt_fx_sql_int(path, sql);
	snprintf(sql, sizeof(sql), "SELECT codec FROM chunks WHERE session_id = %lld AND seq = %lld",
		 (long long)sid, (long long)last_seq);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld AND codec = 0",
		 (long long)sid);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 1);

	/* ended: everything; then idempotent: the rows do not change */
	kt_fx_end_id(st, sid, T0 + 1000000000LL);
	CHECK_EQ_INT(index_all(st, sid), 0);
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 0);
	CHECK(chunks_contiguous(path, sid));
	{
		const char *sig = "SELECT total(seq * 3 + length(data) * 7 + nframes * 11) FROM chunks";
		int64_t a = kt_fx_sql_int(path, sig), n = kt_fx_sql_int(path, "SELECT count(*) FROM chunks");

		memset(&cs, 0, sizeof(cs));
		CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
		CHECK_EQ_INT(cs.chunks_in, 0);
		CHECK_EQ_INT(kt_fx_sql_int(path, sig), a);
		CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks"), n);
		pend[0] = 0;
		CHECK_EQ_INT(kt_compact_pending(st, pend_cb, pend), 0);
		CHECK_EQ_INT(pend[0], 0);
	}
	CHECK_EQ_INT(kt_store_compact_session(st, 999, 0, NULL), -ENOENT);
	CHECK_EQ_INT(kt_store_set_compaction(st, 0, 1 << 20), -EINVAL);
	kt_store_close(st);
}

/* A reader following the session (another connection, as in another
 * process) keeps its place while chunks it read are merged away. */
static void t_follower(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path), 0), *ro = NULL;
	struct kt_stream *s = NULL, *s2 = NULL;
	struct frames all, got = { 0 }, got2 = { 0 };
	struct kt_frame f;
	int64_t sid, ts;
	int ret;

	CHECK(st != NULL);
	sid = add_session(st, "s");
	write_session(st, sid, 20000, 8192, &ts);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(read_all(ro, sid, 0, &all), 0);
	CHECK_EQ_INT(kt_stream_open(ro, sid, 0, &s), 0);
	CHECK_EQ_INT(kt_stream_open(ro, sid, 0, &s2), 0);
	/* s: in the middle of a chunk; s2: after a few whole chunks */
	for (size_t i = 0; i < all.n / 3 && kt_stream_next(s, &f) == 1; i++)
		frames_add(&got, &f);
	for (size_t i = 0; i < all.n / 2 && kt_stream_next(s2, &f) == 1; i++)
		frames_add(&got2, &f);
	kt_fx_end_id(st, sid, T0 + 1000000000LL);
	CHECK_EQ_INT(index_all(st, sid), 0);
	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 64 << 10), 0);
	CHECK_EQ_INT(compact_all(st, sid, NULL), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	while ((ret = kt_stream_next(s, &f)) == 1)
		frames_add(&got, &f);
	CHECK_EQ_INT(ret, 0);
	while ((ret = kt_stream_next(s2, &f)) == 1)
		frames_add(&got2, &f);
	CHECK_EQ_INT(ret, 0);
	CHECK(frames_eq(&all, &got));
	CHECK(frames_eq(&all, &got2));
	kt_stream_close(s);
	kt_stream_close(s2);
	free(all.buf);
	free(got.buf);
	free(got2.buf);
	kt_store_close(ro);
	kt_store_close(st);
}

/* A compaction that does not commit (rolled back, or the process dies in
 * the transaction) leaves the old chunks, readable; the next run works. */
static void t_crash(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path), 0), *ro = NULL;
	struct kt_compact_stats cs = { 0 };
	struct frames all, again;
	int64_t sid, ts, n0;
	pid_t pid;
	int status;

	CHECK(st != NULL);
	sid = add_session(st, "s");
	write_session(st, sid, 20000, 8192, &ts);
	kt_fx_end_id(st, sid, T0 + 1000000000LL);
	CHECK_EQ_INT(index_all(st, sid), 0);
	n0 = kt_fx_sql_int(path, "SELECT count(*) FROM chunks");
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(read_all(ro, sid, 0, &all), 0);

	/* every merge inside one transaction, rolled back */
	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 64 << 10), 0);
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(compact_all(st, sid, &cs), 0);
	CHECK(cs.chunks_out > 1);
	/* not committed: another connection sees the old chunks */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks"), n0);
	CHECK_EQ_INT(read_all(ro, sid, 0, &again), 0);
	CHECK(frames_eq(&all, &again));
	free(again.buf);
	CHECK_EQ_INT(sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks WHERE codec = 0"), n0);

	/* killed in the middle of the transaction (no commit, no close) */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct kt_store *c = NULL;

		if (kt_store_open(path, KT_STORE_CREATE, &c))
			_exit(2);
		kt_store_set_compaction(c, 3, 64 << 10);
		kt_store_begin(c);
		kt_store_compact_session(c, sid, 256 << 10, NULL);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks WHERE codec = 0"), n0);
	CHECK_EQ_INT(read_all(ro, sid, 0, &again), 0);
	CHECK(frames_eq(&all, &again));
	free(again.buf);

	/* then for real */
	CHECK_EQ_INT(compact_all(st, sid, NULL), 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM chunks") < n0 / 4);
	CHECK(chunks_contiguous(path, sid));
	CHECK_EQ_INT(read_all(ro, sid, 0, &again), 0);
	CHECK(frames_eq(&all, &again));
	free(again.buf);
	free(all.buf);
	kt_store_close(ro);
	kt_store_close(st);
}

/* v1 numbered chunks 0, 1, 2; v2 numbers them by frames. */
static void t_migrate_v1(void)
{
	char path[128], v1[160], sql[1024];
	struct kt_store *st = create_store(path, sizeof(path), 0);
	struct frames a, b;
	int64_t ts;
	sqlite3 *db;

	CHECK(st != NULL);
	CHECK_EQ_INT(add_session(st, "one"), 1);
	write_session(st, 1, 3000, 8192, &ts);
	CHECK_EQ_INT(add_session(st, "two"), 2);
	write_session(st, 2, 2000, 4096, &ts);
	CHECK_EQ_INT(read_all(st, 1, 0, &a), 0);
	kt_store_close(st);

	snprintf(v1, sizeof(v1), "%s/v1.db", tmpdir);
	CHECK_EQ_INT(sqlite3_open(v1, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, kt_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "ATTACH '%s' AS v2;"
		 /* v1's sessions table: without the columns later versions add */
		 "ALTER TABLE v2.sessions DROP COLUMN entry_flags;"
		 "ALTER TABLE v2.sessions DROP COLUMN chain_ver;"
		 "INSERT INTO meta VALUES ('schema_version', 1), ('stream_version', 1);"
		 "INSERT INTO sessions SELECT * FROM v2.sessions;"
		 "INSERT INTO chunks SELECT session_id, row_number() OVER"
		 " (PARTITION BY session_id ORDER BY seq) - 1, start_us, end_us, out_offset, in_offset,"
		 " out_bytes, in_bytes, nframes, raw_len, codec, data FROM v2.chunks;"
		 "DETACH v2;", path);
	CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ_INT(kt_fx_sql_int(v1, "SELECT max(seq) FROM chunks WHERE session_id = 1") <
		     kt_fx_sql_int(path, "SELECT max(seq) FROM chunks WHERE session_id = 1"), 1);

	CHECK_EQ_INT(kt_store_open(v1, KT_STORE_CREATE, &st), 0);
	CHECK_EQ_INT(kt_fx_sql_int(v1, "SELECT value FROM meta WHERE key = 'schema_version'"), KT_SCHEMA_VERSION);
	/* the same rows as v2 wrote them */
	CHECK_EQ_INT(kt_fx_sql_int(v1, "SELECT total(seq * 7 + session_id * 3 + nframes) FROM chunks"),
		     kt_fx_sql_int(path, "SELECT total(seq * 7 + session_id * 3 + nframes) FROM chunks"));
	CHECK(chunks_contiguous(v1, 1) && chunks_contiguous(v1, 2));
	CHECK_EQ_INT(read_all(st, 1, 0, &b), 0);
	CHECK(frames_eq(&a, &b));
	free(b.buf);
	/* and it indexes and compacts as a new store */
	kt_fx_end_id(st, 1, T0 + 1000000000LL);
	CHECK_EQ_INT(index_all(st, 1), 0);
	CHECK_EQ_INT(compact_all(st, 1, NULL), 0);
	CHECK_EQ_INT(read_all(st, 1, 0, &b), 0);
	CHECK(frames_eq(&a, &b));
	free(b.buf);
	free(a.buf);
	kt_store_close(st);
}

/* codec 2's permutation: round trip, and garbage never read out of bounds */
static void t_split_join(void)
{
	struct kt_chunk_builder b;
	uint8_t *split, *back;
	uint32_t x = 1;
	char data[300];

	kt_chunk_builder_init(&b);
	for (int i = 0; i < 2000; i++) {
		x = x * 1103515245 + 12345;
		memset(data, 'a' + i % 26, sizeof(data));
		kt_chunk_add(&b, (uint8_t)(1 + x % 6), T0 + i * (int64_t)(x % 100000), data,
			     (x >> 8) % 300 == 299 ? 0 : (x >> 8) % 300);
	}
	split = malloc(b.len);
	back = malloc(b.len);
	CHECK_EQ_INT(kt_frames_split(b.buf, b.len, split), 0);
	CHECK(memcmp(split, b.buf, b.len) != 0);
	CHECK_EQ_INT(kt_frames_join(split, b.len, back), 0);
	CHECK(memcmp(back, b.buf, b.len) == 0);
	CHECK_EQ_INT(kt_frames_split(b.buf, b.len - 1, split), -EBADMSG);
	CHECK_EQ_INT(kt_frames_split(b.buf, 0, split), 0);
	CHECK_EQ_INT(kt_frames_join(split, 0, back), 0);
	/* truncations and random bytes: -EBADMSG or 0, never a crash (ASan) */
	for (size_t n = 1; n < 64; n++)
		CHECK(kt_frames_join(split, n, back) <= 0);
	for (int r = 0; r < 2000; r++) {
		size_t n = 1 + r % 64;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			split[i] = (uint8_t)(x >> 16);
		}
		CHECK(kt_frames_join(split, n, back) <= 0);
	}
	free(split);
	free(back);
	kt_chunk_builder_free(&b);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kt_test_compact.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	kt_log_init("test_compact", KT_LOG_ERROR);
	RUN(t_raw_and_mixed);
	RUN(t_split_join);
	RUN(t_compact_preserves);
	RUN(t_idempotent_and_limits);
	RUN(t_interleaved);
	RUN(t_follower);
	RUN(t_crash);
	RUN(t_migrate_v1);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd))
			return 1;
	}
	return kt_test_done();
}
