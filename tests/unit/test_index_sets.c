// SPDX-License-Identifier: Apache-2.0
/*
 * Schema v8's screen search (store/index/index_set.c, index_group.c,
 * index_cand.c) on real stores: the set codec and its refusals, trigram
 * folding equal to FTS5's trigram tokenizer (the differential oracle is
 * SQLite's own fts5vocab), search over sessions of several groups, an open
 * group, a pruned session's groups, and a v7 store (blocks with screen_fts
 * documents, an open block) migrated and still found.
 */
#include "index_fixture.h"
#include "index_int.h"
#include "prune.h"

static void t_codec(void)
{
	uint64_t in[600], *out = NULL;
	size_t n = 0, k = 0;
	struct buf b = { 0 };
	uint32_t x = 1;
	uint64_t c = 0;

	/* ASCII codes, then non-ASCII ones up to the largest */
	for (k = 0; k < 500; k++) {
		x = x * 1103515245 + 12345;
		c += 1 + (x >> 20) % 900;
		in[k] = c;
	}
	in[k++] = ix_tri_code(0xe4, 'b', 'c');
	in[k++] = ix_tri_code(0x4e2d, 0x6587, 0x1f600);
	in[k++] = ix_tri_code(0x10FFFF, 0x10FFFF, 0x10FFFF);
	CHECK(in[k - 1] == IX_CODE_MAX);
	CHECK_EQ_INT(ix_set_encode(NULL, in, k, &b), 0);
	CHECK(b.len < k * 2); /* compressed: well under 2 bytes a code */
	CHECK_EQ_INT(ix_set_decode(b.p, b.len, &out, &n), 0);
	CHECK(n == k && out && !memcmp(in, out, k * sizeof(*in)));
	free(out);
	/* a few codes: no zstd frame (format 0) */
	CHECK_EQ_INT(ix_set_encode(NULL, in, 3, &b), 0);
	CHECK(b.p[0] == 0);
	CHECK_EQ_INT(ix_set_decode(b.p, b.len, &out, &n), 0);
	CHECK(n == 3 && !memcmp(in, out, 3 * sizeof(*in)));
	free(out);
	/* refusals: truncated, trailing byte, zero delta, unknown format, empty */
	CHECK_EQ_INT(ix_set_decode(b.p, b.len - 1, &out, &n), -EBADMSG);
	CHECK(!out && !n);
	b.p[b.len] = 1;
	CHECK_EQ_INT(ix_set_decode(b.p, b.len + 1, &out, &n), -EBADMSG);
	CHECK_EQ_INT(ix_set_decode("\0\2\5\0", 4, &out, &n), -EBADMSG);
	CHECK_EQ_INT(ix_set_decode("\2\1\1", 3, &out, &n), -EBADMSG);
	CHECK_EQ_INT(ix_set_decode("", 0, &out, &n), -EBADMSG);
	CHECK_EQ_INT(ix_set_encode(NULL, in, 0, &b), 0);
	CHECK_EQ_INT(ix_set_decode(b.p, b.len, &out, &n), 0);
	CHECK(n == 0);
	free(out);
	free(b.p);
	CHECK(ix_set_has_all(in, 500, in + 10, 3));
	CHECK(!ix_set_has_all(in, 500, (uint64_t[]){ in[3] + 1 }, 1) || in[4] == in[3] + 1);
}

/* The set of `line` equals FTS5's trigram tokens of it, minus those
 * holding whitespace. */
static void fold_case(sqlite3 *db, struct ix_tri_set *s, const char *line)
{
	sqlite3_stmt *q = NULL;
	const uint64_t *codes;
	size_t n, i = 0;
	int rc;

	ix_tri_set_clear(s);
	CHECK_EQ_INT(ix_tri_set_line(s, line, strlen(line)), 0);
	codes = ix_tri_set_codes(s, &n);
	CHECK_EQ_INT(sqlite3_exec(db, "DELETE FROM f", NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "INSERT INTO f (x) VALUES (?1)", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, line, -1, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	/* vocab terms in code order: compare as sets, via the codes' texts */
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT term FROM v WHERE term NOT GLOB '*[ \t]*'"
					" ORDER BY term", -1, &q, NULL), SQLITE_OK);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *term = (const char *)sqlite3_column_text(q, 0);
		bool found = false;

		for (size_t k = 0; k < n && !found; k++) {
			char t[13];

			found = ix_tri_text(codes[k], t) > 0 && !strcmp(t, term);
		}
		if (!found)
			fprintf(stderr, "line \"%s\": FTS5 term \"%s\" not in the set\n", line, term);
		CHECK(found);
		i++;
	}
	sqlite3_finalize(q);
	if (i != n)
		fprintf(stderr, "line \"%s\": %zu FTS5 terms, %zu codes\n", line, i, n);
	CHECK(i == n);
}

static void t_fold_like_fts5(void)
{
	static const char *const lines[] = {
		"Hello World, HELLO world",
		"ÄÖÜ äöü ÉCOLE école Straße STRASSE",
		"ΑΒΓΔ αβγδ Привет ПРИВЕТ мир",
		"中文字符 テキスト 😀😀😀 x😀y",
		"MiXeD ÀbC-123_ok/path.TXT\tTAB",
		"ab",
		"",
	};
	struct ix_tri_set *s = NULL;
	sqlite3 *db = NULL;

	CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "CREATE VIRTUAL TABLE f USING fts5 (x, tokenize = 'trigram',"
				  " detail = 'none');"
				  "CREATE VIRTUAL TABLE v USING fts5vocab (f, row);", NULL, NULL, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(ix_tri_set_new(db, &s), 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fold_case(db, s, lines[i]);
	ix_tri_set_free(s);
	sqlite3_close(db);
}

static int search_n(struct kt_store *st, const char *q, struct hits *h,
		    struct kt_screen_search_stats *stats)
{
	memset(h, 0, sizeof(*h));
	return kt_store_screen_search_stats(st, q, NULL, on_hit, h, stats);
}

/* dir%05d of round i appears once (scrolled off, not on the final screen) */
static void check_rounds(struct kt_store *st, const int *rounds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct kt_screen_search_stats stats;
		struct hits h;
		char q[32];

		snprintf(q, sizeof(q), "DIR%05d", rounds[i]);
		CHECK_EQ_INT(search_n(st, q, &h, &stats), 0);
		if (h.n != 1)
			fprintf(stderr, "%s: %d hits\n", q, h.n);
		CHECK_EQ_INT(h.n, 1);
		CHECK(h.n < 1 || strstr(h.text[0], q + 3) != NULL);
		/* the sets narrow the candidates to few blocks */
		CHECK(stats.blocks <= 3);
	}
}

/* Lines of random lower-case words: many distinct trigrams (~17k a block),
 * and a marker line every 1000 lines. */
static void record_words(struct rec *r, int lines)
{
	char buf[160];
	uint32_t x = 99;

	r->ts = T0;
	for (int i = 0; i < lines; i++) {
		size_t o = 0;

		if (i % 1000 == 500) {
			snprintf(buf, sizeof(buf), "words-marker-%05d\r\n", i);
		} else {
			for (int w = 0; w < 12; w++) {
				for (int k = 0; k < 7; k++) {
					x = x * 1103515245 + 12345;
					buf[o++] = (char)('a' + (x >> 16) % 26);
				}
				buf[o++] = ' ';
			}
			memcpy(buf + o, "\r\n", 3);
		}
		rec_out(r, buf, 20000);
	}
	rec_flush(r);
}

/* screen_gfts stays close to fully merged (usermerge 2, index_fts.c) */
static void gfts_merged(const char *path)
{
	int64_t merged, optimized;
	sqlite3 *db = NULL;

	merged = kt_fx_sql_int(path, "SELECT sum(length(block)) FROM screen_gfts_data");
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT v FROM screen_gfts_config WHERE k = 'usermerge'"), 2);
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO screen_gfts (screen_gfts) VALUES ('optimize')",
				  NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	optimized = kt_fx_sql_int(path, "SELECT sum(length(block)) FROM screen_gfts_data");
	CHECK(merged > 0 && merged <= optimized * 3 / 2);
}

static void t_groups(void)
{
	static const int rounds[] = { 7, 3000, 12345, 24000, 33333, 41000 };
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st }, w = { .st = st };
	struct hits h;

	r.sid = add_session(st, "s1", true);
	record_shell(&r, 45000);
	/* not ended: closed groups of 16 blocks and one open group; few
	 * pairs (repetitive text): the closed ones wait for their FTS5 row */
	CHECK(index_all(st, r.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 2") >= 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 1"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 0"), 0);
	check_rounds(st, rounds, sizeof(rounds) / sizeof(rounds[0]));
	/* a session of many distinct trigrams: past LAZY_PAIRS, every closed
	 * group gets its screen_gfts row */
	w.sid = add_session(st, "s2", true);
	record_words(&w, 12000);
	kt_fx_end_id(st, w.sid, w.ts + 1);
	CHECK(index_all(st, w.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 0") >= 2);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 2"), 0);
	CHECK_EQ_INT(search_n(st, "WORDS-MARKER-03500", &h, NULL), 0);
	CHECK_EQ_INT(h.n, 1);
	gfts_merged(path);
	rec_free(&w);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_fts_data WHERE id > 10"), 0);
	check_rounds(st, rounds, sizeof(rounds) / sizeof(rounds[0]));
	/* ended: every group closed, same answers */
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK(index_all(st, r.sid, 0) >= 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 1"), 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups") >= 2);
	CHECK(kt_fx_sql_int(path, "SELECT max(n_blocks) FROM screen_groups") <= 16);
	check_rounds(st, rounds, sizeof(rounds) / sizeof(rounds[0]));
	CHECK_EQ_INT(search_n(st, "last-screen-marker", &h, NULL), 0);
	CHECK(h.n >= 1 && h.final[0]);
	/* words of several trigrams AND across words: only lines holding both */
	CHECK_EQ_INT(search_n(st, "dir00007 core.7", &h, NULL), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_INT(search_n(st, "dir00007 core.8", &h, NULL), 0);
	CHECK_EQ_INT(h.n, 0);
	CHECK_EQ_INT(search_n(st, "no-such-text-anywhere", &h, NULL), 0);
	CHECK_EQ_INT(h.n, 0);
	kt_store_close(st);
	rec_free(&r);
}

/* Pruning deletes the session's sets, groups and screen_gfts rows. */
static void t_prune_groups(void)
{
	char path[128], w[14], sql[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct kt_prune_rule pr = { .older_than_us = 1, .who = "test" };
	struct kt_prune_stats stats;

	r.sid = add_session(st, "s1", true);
	record_words(&r, 12000); /* past LAZY_PAIRS: screen_gfts rows */
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK(index_all(st, r.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_sets") > 0);
	ix_code_word(ix_tri_code('m', 'a', 'r'), w);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM screen_gfts WHERE screen_gfts MATCH '\"%s\"'", w);
	CHECK(kt_fx_sql_int(path, sql) >= 1);
	CHECK_EQ_INT(kt_store_prune(st, &pr, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM sessions"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_sets"), 0);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups"), 0);
	/* the FTS5 rows went too (a contentless 'delete' with the same words) */
	CHECK_EQ_INT(kt_fx_sql_int(path, sql), 0);
	kt_store_close(st);
	rec_free(&r);
}

/* A v8 store turned into what v7 wrote: each closed block's trigrams as
 * its screen_fts document (a superset, as v7's was), no v8 tables. */
static void to_v7(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL, *ins = NULL;

	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT block_id, data FROM screen_sets", -1, &q, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "INSERT INTO screen_fts (rowid, x) VALUES (?1, ?2)", -1,
					&ins, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct buf doc = { 0 };
		uint64_t *c = NULL;
		size_t n = 0;

		CHECK_EQ_INT(ix_set_decode(sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1),
					   &c, &n), 0);
		for (size_t i = 0; i < n; i++) {
			char t[13];
			int len = ix_tri_text(c[i], t);

			CHECK(len > 0);
			if (len > 0)
				CHECK_EQ_INT(ix_buf_put(&doc, t, (size_t)len) ?:
					     ix_buf_put(&doc, "\n", 1), 0);
		}
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, sqlite3_column_int64(q, 0));
		sqlite3_bind_text(ins, 2, doc.p ? doc.p : "", (int)doc.len, SQLITE_TRANSIENT);
		CHECK_EQ_INT(sqlite3_step(ins), SQLITE_DONE);
		free(c);
		free(doc.p);
	}
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	CHECK_EQ_INT(sqlite3_exec(db, "DROP TABLE screen_sets; DROP TABLE screen_groups;"
				  " DROP TABLE screen_gfts;"
				  " UPDATE meta SET value = 7 WHERE key = 'schema_version';", NULL, NULL,
				  NULL), SQLITE_OK);
	sqlite3_close(db);
}

static const char *const mig_queries[] = {
	"dir00007", "DIR12345 core.12345", "dir29999", "last-screen-marker", "shadow",
};
#define NQ (sizeof(mig_queries) / sizeof(mig_queries[0]))

static void t_migrate_v7(void)
{
	char path[128], line[64];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec a = { .st = st }, b = { .st = st };
	static struct hits before[NQ], after[NQ], h;

	a.sid = add_session(st, "a", true);
	record_shell(&a, 30000);
	kt_fx_end_id(st, a.sid, a.ts + 1);
	CHECK(index_all(st, a.sid, 0) >= 0);
	b.sid = add_session(st, "b", true);
	record_shell(&b, 30000);
	CHECK(index_all(st, b.sid, 0) >= 0); /* b: still recording, an open block */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 1"), 1);
	for (size_t i = 0; i < NQ; i++) {
		CHECK_EQ_INT(search_n(st, mig_queries[i], &before[i], NULL), 0);
		CHECK(before[i].n >= 1);
	}
	kt_store_close(st);
	to_v7(path);

	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	a.st = b.st = st;
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
		     KT_SCHEMA_VERSION);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_sets"), 0);
	/* the pre-v8 blocks: found through screen_fts, the same hits */
	for (size_t i = 0; i < NQ; i++) {
		CHECK_EQ_INT(search_n(st, mig_queries[i], &after[i], NULL), 0);
		CHECK_EQ_INT(after[i].n, before[i].n);
		for (int k = 0; k < after[i].n && k < 64; k++)
			CHECK(after[i].id[k] == before[i].id[k] &&
			      !strcmp(after[i].text[k], before[i].text[k]));
	}
	/* b goes on: its open block closes into a v8 set, beside its old blocks */
	for (int i = 0; i < 3000; i++) {
		snprintf(line, sizeof(line), "after-migration-%05d\r\n", i);
		rec_out(&b, line, 20000);
	}
	rec_flush(&b);
	kt_fx_end_id(st, b.sid, b.ts + 1);
	CHECK(index_all(st, b.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_sets") >= 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_groups WHERE open = 1"), 0);
	CHECK_EQ_INT(search_n(st, "after-migration-00010", &h, NULL), 0);
	CHECK_EQ_INT(h.n, 1);
	for (size_t i = 0; i < NQ; i++) {
		CHECK_EQ_INT(search_n(st, mig_queries[i], &h, NULL), 0);
		CHECK(h.n >= before[i].n);
	}
	kt_store_close(st);
	rec_free(&a);
	rec_free(&b);
}

int main(void)
{
	if (kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "kt_test_index_sets"))
		return 1;
	kt_log_init("test_index_sets", KT_LOG_ERROR);
	RUN(t_codec);
	RUN(t_fold_like_fts5);
	RUN(t_groups);
	RUN(t_prune_groups);
	RUN(t_migrate_v7);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
