// SPDX-License-Identifier: Apache-2.0
/*
 * screen_gfts's merging (screen_fts's until v8, which no longer grows).
 * FTS5 writes every document (one closed block, v8: one closed group) as
 * a new segment, and each segment holds its own copy of every trigram it
 * shares with the others (the term, its doclist header, page slack).  Left
 * to FTS5's automerge, tiny one-block segments pile up: a 4.6 MB log
 * session ended with 14 segments on level 0 and an index of 254 KB, 127 KB
 * after an 'optimize' (bench/corpus_breakdown.c; blocks share most
 * trigrams: prompts, column headers, words).
 *
 * So after each document the writer asks for up to MERGE_PAGES leaf pages
 * of merge work with usermerge = 2: segments of one level are merged as
 * soon as there are two, a binary counter (log2(documents) segments; each
 * document rewritten once per level, a few KB per block against the ~1 MiB
 * of output rendered to make it).  usermerge is a row in
 * screen_gfts_config: set once, it persists.  Nothing a reader sees
 * changes; an old store's segments merge as new documents arrive.
 */
#include "index_int.h"

#define FTS_USERMERGE 2
/* more than a block's document, so merging keeps up; bounded, so one
 * write transaction never rewrites a large index (about 1 MiB) */
#define MERGE_PAGES 256

int ix_fts_merge(struct kt_store *st)
{
	sqlite3_stmt *q = NULL;
	int have = -1, rc, err;

	err = ix_prep(st, "SELECT v FROM screen_gfts_config WHERE k = 'usermerge'", &q);
	if (err)
		return err;
	if (sqlite3_step(q) == SQLITE_ROW)
		have = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (have != FTS_USERMERGE) {
		err = ix_prep(st, "INSERT INTO screen_gfts (screen_gfts, rank) VALUES ('usermerge', ?1)",
			      &q);
		if (err)
			return err;
		sqlite3_bind_int(q, 1, FTS_USERMERGE);
		err = ix_step_done(st, q);
		if (err)
			return err;
	}
	/* the document just inserted is still in FTS5's memory: to disk first
	 * (FTS5 flushes when a savepoint opens), or the merge would not see it
	 * and, groups being rare, the newest would stay a segment of its own */
	rc = sqlite3_exec(st->db, "SAVEPOINT ix_flush; RELEASE ix_flush", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "screen index");
	err = ix_prep(st, "INSERT INTO screen_gfts (screen_gfts, rank) VALUES ('merge', ?1)", &q);
	if (err)
		return err;
	sqlite3_bind_int(q, 1, MERGE_PAGES);
	return ix_step_done(st, q);
}
