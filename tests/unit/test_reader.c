// SPDX-License-Identifier: Apache-2.0
/*
 * The store reader (store/include/reader.h) on real SQLite stores:
 *   - the follow rule: WAIT while the session is active, DRAIN once when it
 *     has ended (its last chunk, committed before the state changed, is
 *     read by that drain), then DONE without touching the store;
 *   - seeking: with no keyframe the redraw is rendered from the session
 *     start and equals what a keyframe seek gives once the session is
 *     indexed; the frames after the target follow either way;
 *   - maintenance: kt_store_maintain_round indexes first and compacts only
 *     what the index has passed; kt_store_maintain does both to the end;
 *   - the default store path ($KUBETAPE_DB unless empty) and the default
 *     size of a session without one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "reader.h"
#include "screen.h"
#include "store_int.h"

#define T0 1700000000000000LL

static char dir[128];
static int dbn;

static struct kt_store *new_store(void)
{
	struct kt_store *st = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/r%d.db", dir, ++dbn);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	return st;
}

/* one chunk of OUT frames: text i at T0 + (i + 1) ms, for i in [from, to) */
static void append_out(struct kt_store *st, int64_t sid, int from, int to, size_t pad)
{
	struct kt_chunk_builder b;
	char line[4096];

	kt_chunk_builder_init(&b);
	for (int i = from; i < to; i++) {
		int n = snprintf(line, sizeof(line), "line %d %.*s\r\n", i, (int)pad,
				 "................................................................");

		CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, T0 + (i + 1) * 1000LL, line, (size_t)n), 0);
	}
	CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
	kt_chunk_builder_free(&b);
}

static int64_t new_session(struct kt_store *st, const char *uuid)
{
	struct kt_session_info s = kt_fx_session(uuid, "ns", "pod", T0);

	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	return s.id;
}

static int drain(struct kt_stream *s)
{
	struct kt_frame f;
	int n = 0;

	while (kt_stream_next(s, &f) == 1)
		n++;
	return n;
}

static void t_follow_rule(void)
{
	struct kt_store *st = new_store();
	struct kt_stream *s = NULL;
	struct kt_follow fw;
	int64_t sid = new_session(st, "follow-1");

	append_out(st, sid, 0, 3, 0);
	kt_follow_init(&fw, sid);
	CHECK_EQ_INT(kt_stream_open(st, sid, 0, &s), 0);
	CHECK_EQ_INT(drain(s), 3);
	CHECK_EQ_INT(kt_follow_caught_up(&fw, st), KT_FOLLOW_WAIT);
	/* the recorder's order: the last chunk, then the session's end */
	append_out(st, sid, 3, 5, 0);
	kt_fx_end_id(st, sid, T0 + 10000);
	CHECK_EQ_INT(kt_follow_caught_up(&fw, st), KT_FOLLOW_DRAIN);
	CHECK_EQ_INT(fw.end_us, T0 + 10000);
	CHECK_EQ_INT(drain(s), 2);               /* the drain gets the last chunk */
	CHECK_EQ_INT(kt_follow_caught_up(&fw, st), KT_FOLLOW_DONE);
	kt_stream_close(s);
	/* DONE does no I/O: it holds with the store closed */
	kt_store_close(st);
	CHECK_EQ_INT(kt_follow_caught_up(&fw, NULL), KT_FOLLOW_DONE);
	/* an unknown session is an error, not "ended" */
	st = new_store();
	kt_follow_init(&fw, 999);
	CHECK_EQ_INT(kt_follow_caught_up(&fw, st), -ENOENT);
	kt_store_close(st);
}

/* the reader's view: kt_reader_more on top of kt_follow */
static void t_reader_follow(void)
{
	struct kt_store *st = new_store();
	int64_t sid = new_session(st, "follow-2");
	struct kt_session_info s;
	struct kt_reader r;
	struct kt_frame f;
	int n = 0, ret;

	append_out(st, sid, 0, 2, 0);
	CHECK_EQ_INT(kt_store_session_get(st, sid, &s), 0);
	kt_reader_init(&r, st, &s, true);
	CHECK_EQ_INT(kt_reader_next(&r, INT64_MAX, &f), 0); /* no stream yet */
	CHECK_EQ_INT(kt_reader_rewind(&r), 0);
	/* until_us keeps a later frame for the next call */
	CHECK_EQ_INT(kt_reader_next(&r, T0 + 1000, &f), 1);
	CHECK_EQ_INT(kt_reader_next(&r, T0 + 1000, &f), 0);
	CHECK_EQ_INT(kt_reader_next(&r, INT64_MAX, &f), 1);
	CHECK_EQ_INT(f.ts_us, T0 + 2000);
	CHECK(kt_reader_following(&r));
	CHECK_EQ_INT(kt_reader_more(&r), KT_FOLLOW_WAIT);
	append_out(st, sid, 2, 4, 0);
	kt_fx_end_id(st, sid, T0 + 9000);
	for (;;) {
		while ((ret = kt_reader_next(&r, INT64_MAX, &f)) == 1)
			n++;
		CHECK_EQ_INT(ret, 0);
		ret = kt_reader_more(&r);
		if (ret == KT_FOLLOW_DONE || ret < 0)
			break;
	}
	CHECK_EQ_INT(ret, KT_FOLLOW_DONE);
	CHECK_EQ_INT(n, 2);
	CHECK(!kt_reader_following(&r));
	kt_reader_close(&r);
	/* not following: done at once */
	kt_reader_init(&r, st, &s, false);
	CHECK_EQ_INT(kt_reader_more(&r), KT_FOLLOW_DONE);
	kt_reader_close(&r);
	kt_store_close(st);
}

/* the screen a redraw shows */
static char *redraw_text(const uint8_t *rd, size_t len)
{
	struct kt_screen *scr = NULL;
	char *t = NULL;
	size_t n;

	if (kt_screen_new(24, 80, &scr))
		return strdup("<no screen>");
	kt_screen_feed(scr, rd, len);
	if (kt_screen_text(scr, &t, &n))
		t = strdup("<no text>");
	kt_screen_free(scr);
	return t;
}

static void t_seek_fallback_and_keyframe(void)
{
	struct kt_store *st = new_store();
	int64_t sid = new_session(st, "seek-1");
	int64_t target = T0 + 30000 * 1000LL;
	struct kt_session_info s;
	struct kt_reader r;
	struct kt_frame f;
	uint8_t *rd = NULL;
	size_t len = 0;
	char *ff, *kf;

	/* ~2.5 MiB of output over 50 s: keyframes once indexed */
	for (int c = 0; c < 50; c++)
		append_out(st, sid, c * 600, (c + 1) * 600, 64);
	kt_fx_end_id(st, sid, T0 + 60000 * 1000LL);
	CHECK_EQ_INT(kt_store_session_get(st, sid, &s), 0);
	kt_reader_init(&r, st, &s, false);
	/* not indexed: rendered from the start */
	CHECK_EQ_INT(kt_reader_seek(&r, target, &rd, &len), 0);
	CHECK_EQ_INT(r.ff_seeks, 1);
	CHECK_EQ_INT(r.kf_seeks, 0);
	CHECK(rd && len > 0);
	ff = redraw_text(rd, len);
	free(rd);
	CHECK_EQ_INT(kt_reader_next(&r, INT64_MAX, &f), 1);
	CHECK(f.ts_us >= target);
	CHECK_EQ_INT(kt_store_maintain(st, sid, NULL), 0);
	CHECK_EQ_INT(kt_reader_seek(&r, target, &rd, &len), 0);
	CHECK_EQ_INT(r.kf_seeks, 1);
	kf = redraw_text(rd, len);
	free(rd);
	/* the keyframe is earlier: play up to the target, then compare */
	{
		struct kt_screen *scr = NULL;
		uint8_t *rd2 = NULL;
		size_t len2 = 0;
		char *t = NULL;
		size_t n;

		CHECK_EQ_INT(kt_reader_seek(&r, target, &rd2, &len2), 0);
		CHECK_EQ_INT(kt_screen_new(24, 80, &scr), 0);
		kt_screen_feed(scr, rd2, len2);
		while (kt_reader_next(&r, target - 1, &f) == 1)
			if (f.type == KT_FRAME_OUT)
				kt_screen_feed(scr, f.data, f.len);
		CHECK_EQ_INT(kt_screen_text(scr, &t, &n), 0);
		CHECK_EQ_STR(t, ff);
		free(t);
		free(rd2);
		kt_screen_free(scr);
	}
	CHECK(strlen(kf) > 0);
	free(ff);
	free(kf);
	kt_reader_close(&r);
	kt_store_close(st);
}

static int round_done(int64_t id, bool compaction, int ret, void *ctx)
{
	int *seen = ctx;

	if (ret >= 0)
		seen[compaction]++;
	return 0;
}

static void t_maintain(void)
{
	struct kt_store *st = new_store();
	int64_t a = new_session(st, "maint-a"), b = new_session(st, "maint-b");
	struct kt_maintain_ops ops = { .done = round_done };
	int seen[2] = { 0, 0 }, rounds = 0, more;

	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 64 << 10), 0);
	kt_store_set_zstd_level(st, 0); /* raw appends, as with the recorder's worker */
	for (int c = 0; c < 8; c++) {
		append_out(st, a, c * 200, (c + 1) * 200, 32);
		append_out(st, b, c * 200, (c + 1) * 200, 32);
	}
	kt_fx_end_id(st, a, T0 + 5000 * 1000LL);
	kt_fx_end_id(st, b, T0 + 5000 * 1000LL);
	CHECK_EQ_INT(kt_fx_sql_int(st->path, "SELECT count(*) FROM chunks WHERE codec = 0"), 16);
	ops.ctx = seen;
	do {
		more = kt_store_maintain_round(st, 16 << 10, &ops);
		rounds++;
	} while (more && rounds < 1000);
	CHECK_EQ_INT(more, 0);
	CHECK(rounds > 1);                     /* budgeted: more than one round */
	CHECK(seen[0] >= 2 && seen[1] >= 2);   /* both sessions, both steps */
	CHECK_EQ_INT(kt_fx_sql_int(st->path, "SELECT count(*) FROM screen_index WHERE done = 1"), 2);
	CHECK_EQ_INT(kt_fx_sql_int(st->path, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	/* nothing left: a round finds nothing */
	seen[0] = seen[1] = 0;
	CHECK_EQ_INT(kt_store_maintain_round(st, 16 << 10, &ops), 0);
	CHECK_EQ_INT(seen[0] + seen[1], 0);
	kt_store_close(st);
}

static bool always(void *ctx)
{
	return true;
}

/* stop before compaction: the index still moves, no chunk is merged */
static void t_maintain_stop(void)
{
	struct kt_store *st = new_store();
	int64_t a = new_session(st, "stop-a");
	int seen[2] = { 0, 0 };
	struct kt_maintain_ops ops = { .done = round_done, .stop = always, .ctx = seen };

	kt_store_set_zstd_level(st, 0);
	for (int c = 0; c < 4; c++)
		append_out(st, a, c * 100, (c + 1) * 100, 0);
	kt_fx_end_id(st, a, T0 + 5000 * 1000LL);
	while (kt_store_maintain_round(st, 0, &ops) > 0)
		;
	CHECK(seen[0] >= 1);
	CHECK_EQ_INT(seen[1], 0);
	CHECK_EQ_INT(kt_fx_sql_int(st->path, "SELECT count(*) FROM screen_index WHERE done = 1"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(st->path, "SELECT count(*) FROM chunks WHERE codec = 0"), 4);
	CHECK_EQ_INT(kt_store_maintain(st, a, NULL), 0);
	CHECK_EQ_INT(kt_fx_sql_int(st->path, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	kt_store_close(st);
}

static void t_defaults(void)
{
	struct kt_session_info s = { 0 };
	unsigned cols = 0, rows = 0;

	setenv(KT_DB_ENV, "/tmp/x.db", 1);
	CHECK_EQ_STR(kt_store_default_path(), "/tmp/x.db");
	setenv(KT_DB_ENV, "", 1);
	CHECK_EQ_STR(kt_store_default_path(), KT_DEFAULT_DB_PATH);
	unsetenv(KT_DB_ENV);
	CHECK_EQ_STR(kt_store_default_path(), "/var/lib/kubetape/kubetape.db");
	kt_session_term_size(&s, &cols, &rows);
	CHECK(cols == KT_SCREEN_DEFAULT_COLS && rows == KT_SCREEN_DEFAULT_ROWS);
	CHECK(cols == 80 && rows == 24);
	s.cols = 132;
	kt_session_term_size(&s, &cols, &rows);
	CHECK(cols == 132 && rows == 24);
	s.rows = 65535;                        /* recorded as is: not clamped */
	kt_session_term_size(&s, &cols, &rows);
	CHECK(cols == 132 && rows == 65535);
}

int main(void)
{
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt_test_reader"))
		return 1;
	kt_log_init("test_reader", KT_LOG_ERROR);
	RUN(t_follow_rule);
	RUN(t_reader_follow);
	RUN(t_seek_fallback_and_keyframe);
	RUN(t_maintain);
	RUN(t_maintain_stop);
	RUN(t_defaults);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
