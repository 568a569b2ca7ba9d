// SPDX-License-Identifier: Apache-2.0
/*
 * What issue 14's storage changes promise, on real SQLite stores:
 * a v6 store (keyframes WITHOUT ROWID, as the code before v7 wrote it) is
 * migrated to v7 by the writer with the same keyframes and the same seeks;
 * a small store's screen index is its trigram sets alone (v8) and search
 * still finds the first and the last block; compaction folds an ended
 * session's short last chunks into the run before them (or, once, into
 * the chunk merged while it ran), and only then.
 */
#include "index_fixture.h"

struct kfsum {
	int64_t n, bytes, pos;
	size_t kf_len;
	uint64_t kf_hash;
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void kf_sum(const char *path, struct kt_store *st, int64_t sid, int64_t at, struct kfsum *k)
{
	struct kt_stream *s = NULL;
	uint8_t *kf = NULL;
	int64_t kts = 0;
	uint16_t rows = 0, cols = 0;

	k->n = kt_fx_sql_int(path, "SELECT count(*) FROM keyframes");
	k->bytes = kt_fx_sql_int(path, "SELECT total(length(data)) FROM keyframes");
	k->pos = kt_fx_sql_int(path, "SELECT total(chunk_seq * 7 + frame_index * 3 + ts_us % 1000)"
			       " FROM keyframes");
	CHECK_EQ_INT(kt_stream_open_at(st, sid, at, &s, &kf, &k->kf_len, &kts, &rows, &cols), 0);
	CHECK(kf != NULL && k->kf_len > 0);
	k->kf_hash = kf ? fnv(kf, k->kf_len) : 0;
	free(kf);
	kt_stream_close(s);
}

static void t_keyframes_v6_to_v7(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct kfsum a, c;
	int64_t mid;
	sqlite3 *db;

	r.sid = add_session(st, "s1", true);
	record_shell(&r, 30000);
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK(index_all(st, r.sid, 0) >= 0);
	mid = T0 + (r.ts - T0) / 2;
	kf_sum(path, st, r.sid, mid, &a);
	CHECK(a.n >= 3);
	kt_store_close(st);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'keyframes'"
				   " AND sql LIKE '%WITHOUT ROWID%'"), 0);

	/* the table as v2..v6 created it */
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db,
		"CREATE TABLE k6 (session_id INTEGER NOT NULL REFERENCES sessions (id),"
		" chunk_seq INTEGER NOT NULL, frame_index INTEGER NOT NULL, ts_us INTEGER NOT NULL,"
		" out_offset INTEGER NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL,"
		" raw_len INTEGER NOT NULL, codec INTEGER NOT NULL, data BLOB NOT NULL,"
		" PRIMARY KEY (session_id, chunk_seq, frame_index)) WITHOUT ROWID;"
		"INSERT INTO k6 SELECT * FROM keyframes; DROP TABLE keyframes;"
		"ALTER TABLE k6 RENAME TO keyframes;"
		"CREATE INDEX keyframes_ts ON keyframes (session_id, ts_us);"
		/* and without v8's tables (its own test: test_index_sets.c) */
		"DROP TABLE screen_sets; DROP TABLE screen_groups; DROP TABLE screen_gfts;"
		/* nor v9's chain versions */
		"ALTER TABLE sessions DROP COLUMN chain_ver; ALTER TABLE checkpoints DROP COLUMN ver;"
		"UPDATE meta SET value = 6 WHERE key = 'schema_version';", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* readers do not migrate (FORMAT.md, Opening): the recorder does */
	CHECK_EQ_INT(kt_store_open(path, 0, &st), -EPROTO);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'keyframes'"
				   " AND sql LIKE '%WITHOUT ROWID%'"), 1);

	/* the writer migrates it: the same keyframes, in a rowid table */
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
		     KT_SCHEMA_VERSION);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'keyframes'"
				   " AND sql LIKE '%WITHOUT ROWID%'"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'keyframes_ts'"), 1);
	kf_sum(path, st, r.sid, mid, &c);
	CHECK(a.n == c.n && a.bytes == c.bytes && a.pos == c.pos && a.kf_len == c.kf_len &&
	      a.kf_hash == c.kf_hash);
	kt_store_close(st);
	rec_free(&r);
}

static void t_fts_merged(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct hits h = { 0 };
	int64_t blocks, merged_bytes, optimized_bytes;
	sqlite3 *db;

	r.sid = add_session(st, "s1", true);
	record_shell(&r, 30000);
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK(index_all(st, r.sid, 0) >= 0);
	blocks = kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks");
	CHECK(blocks >= 8);
	/* the first block's and the final screen's lines are found */
	CHECK_EQ_INT(kt_store_screen_search(st, "dir00007", NULL, on_hit, &h), 0);
	CHECK(h.n >= 1);
	memset(&h, 0, sizeof(h));
	CHECK_EQ_INT(kt_store_screen_search(st, "LAST-SCREEN-MARKER", NULL, on_hit, &h), 0);
	CHECK(h.n >= 1);
	kt_store_close(st);
	/* v8: a store this small keeps its index in the trigram sets alone;
	 * screen_gfts (the coarse level) waits for more (index_group.c); its
	 * merging is checked in test_index_sets.c */
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_sets") >= blocks - 2);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 0"), 0);
	(void)merged_bytes;
	(void)optimized_bytes;
	(void)db;
	/* v8 writes no screen_fts document (only pre-v8 blocks have one) */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_fts_data WHERE id > 10"), 0);
	rec_free(&r);
}

/* chunks of `per` raw bytes, `n` of them, appended raw */
static void raw_chunks(struct kt_store *st, int64_t sid, int n, size_t per, int64_t *ts)
{
	struct kt_chunk_builder b;
	char line[100];

	kt_chunk_builder_init(&b);
	for (int c = 0; c < n; c++) {
		while (b.len < per) {
			snprintf(line, sizeof(line), "line %d of chunk %d, %lld\r\n", (int)b.nframes, c,
				 (long long)*ts);
			kt_chunk_add(&b, KT_FRAME_OUT, (*ts)++, line, (uint32_t)strlen(line));
		}
		CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
		kt_chunk_builder_reset(&b);
	}
	kt_chunk_builder_free(&b);
}

static void t_compact_short_tail(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	int64_t ts = T0, s1, s2, s3;
	char sql[160];

	kt_store_set_zstd_level(st, 0);
	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 64 << 10), 0);
	/* 64 KB + a 12 KB tail (chunks of 16 KB and a frame): one chunk once ended */
	s1 = add_session(st, "tail-short", true);
	raw_chunks(st, s1, 4, 16000, &ts);
	raw_chunks(st, s1, 1, 12000, &ts);
	/* 64 KB + a 32 KB tail (more than a quarter of the target): two */
	s2 = add_session(st, "tail-long", true);
	raw_chunks(st, s2, 4, 16000, &ts);
	raw_chunks(st, s2, 2, 16000, &ts);
	/* the short tail of an active session waits (it may grow) */
	s3 = add_session(st, "active", true);
	raw_chunks(st, s3, 4, 16000, &ts);
	raw_chunks(st, s3, 1, 12000, &ts);
	kt_fx_end_id(st, s1, ts);
	kt_fx_end_id(st, s2, ts);
	for (int64_t s = s1; s <= s3; s++) {
		CHECK(index_all(st, s, 0) >= 0);
		CHECK(kt_store_compact_session(st, s, 0, NULL) >= 0);
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld", (long long)s1);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld", (long long)s2);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld AND codec = 2",
		 (long long)s3);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 1);
	/* once it ends, its tail joins the chunk merged while it ran */
	kt_fx_end_id(st, s3, ts);
	CHECK(index_all(st, s3, 0) >= 0);
	CHECK(kt_store_compact_session(st, s3, 0, NULL) >= 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE session_id = %lld", (long long)s3);
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 1);
	/* and a merged chunk is not rewritten again */
	snprintf(sql, sizeof(sql), "SELECT length(data) FROM chunks WHERE session_id = %lld", (long long)s3);
	{
		int64_t len = kt_fx_sql_int(path, sql);

		CHECK(kt_store_compact_session(st, s3, 0, NULL) >= 0);
		CHECK_EQ_INT(kt_fx_sql_int(path, sql), len);
	}
	/* every frame still there, in order, with its bytes */
	for (int64_t sid = s1; sid <= s3; sid += s3 - s1) {
		struct kt_stream *x = NULL;
		struct kt_frame f;
		int64_t n = 0, bytes = 0, last = 0;
		int ret;

		CHECK_EQ_INT(kt_stream_open(st, sid, INT64_MIN, &x), 0);
		while ((ret = kt_stream_next(x, &f)) == 1) {
			CHECK(f.ts_us >= last);
			last = f.ts_us;
			bytes += f.len;
			n++;
		}
		CHECK_EQ_INT(ret, 0);
		kt_stream_close(x);
		snprintf(sql, sizeof(sql), "SELECT bytes_out FROM sessions WHERE id = %lld", (long long)sid);
		CHECK_EQ_INT(bytes, kt_fx_sql_int(path, sql));
		snprintf(sql, sizeof(sql), "SELECT nframes FROM chunks WHERE session_id = %lld", (long long)sid);
		CHECK_EQ_INT(n, kt_fx_sql_int(path, sql));
	}
	kt_store_close(st);
}

int main(void)
{
	if (kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "kt_test_storage_size"))
		return 1;
	kt_log_init("test_storage_size", KT_LOG_ERROR);
	RUN(t_keyframes_v6_to_v7);
	RUN(t_fts_merged);
	RUN(t_compact_short_tail);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
