// SPDX-License-Identifier: Apache-2.0
/*
 * kt_trigrams DB: every closed screen block's trigrams on a node store, one
 * "block_id|trigram" line each (unsorted), as the shipper reads them: the
 * block's v8 trigram set (kt_index_block_terms), or for a block closed
 * before v8 its screen_fts document (fts5vocab).  tests/lib/pg.sh
 * (pg_trigram_diff) compares them with the server's screen_blocks.trigrams.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

struct out {
	int64_t id;
};

static int put(const char *term, size_t len, void *ctx)
{
	const struct out *o = ctx;

	printf("%" PRId64 "|%.*s\n", o->id, (int)len, term);
	return 0;
}

int main(int argc, char **argv)
{
	struct kt_store *st = NULL;
	sqlite3_stmt *q = NULL, *v = NULL;
	int rc, err;

	if (argc != 2) {
		fprintf(stderr, "usage: kt_trigrams DB\n");
		return 2;
	}
	kt_log_init("kt_trigrams", KT_LOG_WARN);
	err = kt_store_open(argv[1], KT_STORE_RDONLY, &st);
	if (err) {
		fprintf(stderr, "kt_trigrams: %s: cannot open (%d)\n", argv[1], err);
		return 1;
	}
	if (sqlite3_exec(st->db, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, screen_fts,"
			 " instance)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT id FROM screen_blocks WHERE open = 0 ORDER BY id",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT term FROM temp.v WHERE doc = ?1", -1, &v,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "kt_trigrams: %s\n", sqlite3_errmsg(st->db));
		err = 1;
		goto out;
	}
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct out o = { sqlite3_column_int64(q, 0) };

		err = kt_index_block_terms(st, o.id, put, &o);
		if (err != 1)
			continue;
		err = 0;
		sqlite3_reset(v);
		sqlite3_bind_int64(v, 1, o.id);
		while (sqlite3_step(v) == SQLITE_ROW)
			put((const char *)sqlite3_column_text(v, 0), (size_t)sqlite3_column_bytes(v, 0),
			    &o);
	}
out:
	sqlite3_finalize(q);
	sqlite3_finalize(v);
	kt_store_close(st);
	return err ? 1 : 0;
}
