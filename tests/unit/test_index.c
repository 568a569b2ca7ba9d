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
#include "index_fixture.h"

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
	/* ~60 KB of output in 6 s: no keyframe yet, one open block (pending lines) */
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

		CHECK(off - prev_off >= 256 * 1024);
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

/*
 * A slow session (~200 KB over 10 minutes, a line every 1.5 s): the 30 s
 * rule waits for 256 KiB of output, so no keyframe and one search block
 * (each block would repeat the trigrams the others hold); its first and
 * last lines are still found, and seeking into it renders from the start.
 */
static void t_slow_session_one_block(void)
{
	char path[128], line[1100];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct hits h = { 0 };
	struct kt_stream *stream = NULL;
	uint8_t *kf = (uint8_t *)"x";
	size_t kflen = 1;
	int64_t kts = -1;
	uint16_t rows, cols;

	r.sid = add_session(st, "s1", true);
	r.ts = T0;
	for (int i = 0; i < 400; i++) {
		int n = snprintf(line, sizeof(line), "slow-line-%04d ", i);

		memset(line + n, 'a' + i % 26, 500 - n);
		memcpy(line + 500, "\r\n", 3);
		rec_out(&r, line, 1500000);
	}
	rec_flush(&r);
	CHECK(index_all(st, r.sid, 0) >= 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks"), 1);
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes"), 0);
	/* the lines' block and the final screen's */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE final = 0"), 1);
	CHECK_EQ_INT(kt_store_screen_search(st, "slow-line-0003", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	memset(&h, 0, sizeof(h));
	CHECK_EQ_INT(kt_store_screen_search(st, "slow-line-0350", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	/* seeking to the middle: no keyframe, the stream starts at the start */
	CHECK_EQ_INT(kt_stream_open_at(st, r.sid, T0 + 300 * 1000000LL, &stream, &kf, &kflen,
				       &kts, &rows, &cols), 0);
	CHECK(kf == NULL);
	{
		struct kt_frame f;

		CHECK_EQ_INT(kt_stream_next(stream, &f), 1);
		CHECK_EQ_INT(f.ts_us, T0 + 1500000);
	}
	kt_stream_close(stream);
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
	RUN(t_slow_session_one_block);
	RUN(t_final_screen_and_pending);
	RUN(t_no_tty);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
