// SPDX-License-Identifier: Apache-2.0
/*
 * Groups of closed screen blocks: the coarse level of screen search
 * (schema v8, FORMAT.md "Screen index").
 *
 * Each closed block has its trigram set (screen_sets, index_set.c).  A
 * search must not decode every set of the store, so consecutive closed
 * blocks of a session form a group, and a closed group is ONE row of the
 * contentless FTS5 table screen_gfts (rowid = group id) holding the union
 * of its blocks' codes, each code one word.  A search asks screen_gfts for
 * the groups holding every query code, decodes only their blocks' sets,
 * and verifies the blocks whose set holds them all.  A session's group
 * stays open (searched through its sets directly) until it has
 * GROUP_BLOCKS blocks or GROUP_PAIRS (block, trigram) pairs, or the
 * session ends.
 *
 * Cost: one FTS5 insert per group of only the distinct codes (a few
 * thousand words), where v2-v7 fed FTS5 every character of every block.
 * Bounds: a candidate group costs at most GROUP_BLOCKS set decodes.
 *
 * Lazily: a closed group first waits without its screen_gfts row
 * (open = 2) and is searched through its sets like an open one; once the
 * waiting groups of the store hold more than LAZY_PAIRS (block, trigram)
 * pairs, all of them get their rows in one go.  Why: FTS5 stores each
 * distinct word of a row at ~5.5 B when no other row shares it, 5-10x a
 * set's 0.4-0.7 B a pair; a store of a few sessions (or the bench's one)
 * never needs the coarse level, while a search decodes at most
 * LAZY_PAIRS waiting codes (~0.2 ms) besides the open groups.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "log.h"

#define GROUP_BLOCKS 16
#define GROUP_PAIRS (256 * 1024)
#define LAZY_PAIRS (64 * 1024)

size_t ix_code_word(uint64_t code, char out[14])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	char t[14];
	size_t n = 0, o = 0;

	do {
		t[n++] = digits[code & 31];
		code >>= 5;
	} while (code);
	while (n)
		out[o++] = t[--n];
	out[o] = 0;
	return o;
}

static int open_group(struct kt_store *st, int64_t sid, int64_t *gid, int64_t *nb, int64_t *np)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	*gid = 0;
	err = ix_prep(st, "SELECT id, n_blocks, n_pairs FROM screen_groups"
		      " WHERE session_id = ?1 AND open = 1", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, sid);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*gid = sqlite3_column_int64(q, 0);
		*nb = sqlite3_column_int64(q, 1);
		*np = sqlite3_column_int64(q, 2);
	} else if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
	}
	sqlite3_finalize(q);
	return err;
}

int ix_group_add(struct kt_store *st, int64_t sid, int64_t id, struct ix_tri_set *set)
{
	struct buf blob = { 0 };
	sqlite3_stmt *q = NULL;
	const uint64_t *codes;
	int64_t gid, nb = 0, np = 0;
	size_t n;
	int err;

	codes = ix_tri_set_codes(set, &n);
	if (!n)
		return 0; /* no trigram: no search can find this block by one */
	if (n > IX_SET_MAX) {
		/* a reader refuses such a set (a block is ~1 MiB of output: not
		 * seen); failing would stop the session's indexing for good */
		pr_warn("store %s: screen block %lld: %zu trigrams, more than %u: its text is"
			" not searchable", st->path, (long long)id, n, IX_SET_MAX);
		return 0;
	}
	err = ix_set_encode(ix_cctx(st), codes, n, &blob) ?: open_group(st, sid, &gid, &nb, &np);
	if (err)
		goto cleanup;
	if (!gid) {
		err = ix_prep(st, "INSERT INTO screen_groups (session_id, open, n_blocks, n_pairs)"
			      " VALUES (?1, 1, 0, 0)", &q);
		if (err)
			goto cleanup;
		sqlite3_bind_int64(q, 1, sid);
		err = ix_step_done(st, q);
		q = NULL;
		if (err)
			goto cleanup;
		gid = sqlite3_last_insert_rowid(st->db);
	}
	err = ix_prep(st, "INSERT OR REPLACE INTO screen_sets (block_id, group_id, n, data)"
		      " VALUES (?1, ?2, ?3, ?4)", &q);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, gid);
	sqlite3_bind_int64(q, 3, (int64_t)n);
	sqlite3_bind_blob(q, 4, blob.p, (int)blob.len, SQLITE_STATIC);
	err = ix_step_done(st, q);
	q = NULL;
	if (err)
		goto cleanup;
	nb++;
	np += (int64_t)n;
	err = ix_prep(st, "UPDATE screen_groups SET n_blocks = ?2, n_pairs = ?3 WHERE id = ?1", &q);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(q, 1, gid);
	sqlite3_bind_int64(q, 2, nb);
	sqlite3_bind_int64(q, 3, np);
	err = ix_step_done(st, q);
	q = NULL;
	if (!err && (nb >= GROUP_BLOCKS || np >= GROUP_PAIRS))
		err = ix_group_close(st, sid);
cleanup:
	sqlite3_finalize(q);
	free(blob.p);
	return err;
}

/* The union of group gid's sets, as screen_gfts's document (code words). */
static int group_doc(struct kt_store *st, int64_t gid, struct buf *doc)
{
	struct ix_tri_set *u = NULL;
	sqlite3_stmt *q = NULL;
	const uint64_t *all;
	size_t n;
	int rc, err;

	err = ix_tri_set_new(NULL, &u);
	if (!err)
		err = ix_prep(st, "SELECT block_id, data FROM screen_sets WHERE group_id = ?1", &q);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(q, 1, gid);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		uint64_t *c = NULL;
		size_t nc;

		err = ix_set_decode(sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1),
				    &c, &nc);
		if (err == -EBADMSG)
			pr_err("store %s: screen block %lld: corrupt trigram set", st->path,
			       (long long)sqlite3_column_int64(q, 0));
		for (size_t i = 0; !err && i < nc; i++)
			err = ix_tri_set_code(u, c[i]);
		free(c);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
		goto cleanup;
	}
	all = ix_tri_set_codes(u, &n);
	for (size_t i = 0; i < n && !err; i++) {
		char w[14];
		size_t wl = ix_code_word(all[i], w);

		err = (doc->len ? ix_buf_put(doc, " ", 1) : 0) ?: ix_buf_put(doc, w, wl);
	}
cleanup:
	sqlite3_finalize(q);
	ix_tri_set_free(u);
	return err;
}

/*
 * For each group id q returns: its document (group_doc) through stmt
 * (?1 = id, ?2 = document): coarse_rows inserts, kt_index_prune deletes.
 * A group whose set no longer decodes (logged by group_doc) is skipped:
 * its blocks cannot be matched either way, and one bad blob must not stop
 * every later group's row.  *n counts the rows written.
 */
static int group_docs(struct kt_store *st, sqlite3_stmt *q, sqlite3_stmt *stmt, const char *what,
		      int *n)
{
	struct buf doc = { 0 };
	int rc, err = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t gid = sqlite3_column_int64(q, 0);

		doc.len = 0;
		err = group_doc(st, gid, &doc);
		if (err == -EBADMSG) {
			err = 0;
			continue;
		}
		if (err)
			goto cleanup;
		if (!doc.len)
			continue;
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, gid);
		sqlite3_bind_text(stmt, 2, doc.p, (int)doc.len, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		if (rc != SQLITE_DONE) {
			err = kt_sql_err(st, rc, what);
			goto cleanup;
		}
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, what);
cleanup:
	free(doc.p);
	return err;
}

/* Closed groups still without their screen_gfts row (open = 2) get it,
 * once they hold more than LAZY_PAIRS pairs in all (see the top). */
static int coarse_rows(struct kt_store *st)
{
	sqlite3_stmt *q = NULL, *ins = NULL;
	int64_t pending = 0;
	int err, n = 0;

	err = ix_prep(st, "SELECT total(n_pairs) FROM screen_groups WHERE open != 0 AND open = 2",
		      &q);
	if (err)
		return err;
	if (sqlite3_step(q) == SQLITE_ROW)
		pending = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (pending <= LAZY_PAIRS)
		return 0;
	err = ix_prep(st, "SELECT id FROM screen_groups WHERE open != 0 AND open = 2", &q) ?:
	      ix_prep(st, "INSERT INTO screen_gfts (rowid, x) VALUES (?1, ?2)", &ins);
	if (err)
		goto cleanup;
	err = group_docs(st, q, ins, "screen index", &n);
	if (err)
		goto cleanup;
	sqlite3_finalize(q);
	q = NULL;
	err = ix_prep(st, "UPDATE screen_groups SET open = 0 WHERE open != 0 AND open = 2", &q);
	if (!err)
		err = ix_step_done(st, q);
	q = NULL;
	if (!err && n)
		err = ix_fts_merge(st);
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	return err;
}

int ix_group_close(struct kt_store *st, int64_t sid)
{
	sqlite3_stmt *q = NULL;
	int64_t gid, nb, np;
	int err;

	err = open_group(st, sid, &gid, &nb, &np);
	if (err || !gid)
		return err;
	err = ix_prep(st, "UPDATE screen_groups SET open = 2 WHERE id = ?1", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, gid);
	return ix_step_done(st, q) ?: coarse_rows(st);
}

/*
 * A pruned session's groups and sets.  A contentless FTS5 row is deleted
 * by giving FTS5 its document again ('delete'); the group's document is
 * its sets' union, rebuilt from them, so screen_gfts keeps no orphans
 * (v2-v7's per-block screen_fts documents could not be rebuilt and stay).
 * A set that no longer decodes leaves its group's row as an orphan, never
 * returned (search joins screen_groups).
 */
int kt_index_prune(struct kt_store *st, int64_t sid)
{
	sqlite3_stmt *q = NULL, *del = NULL;
	int err, n = 0;

	err = ix_prep(st, "SELECT id FROM screen_groups WHERE session_id = ?1 AND open = 0", &q) ?:
	      ix_prep(st, "INSERT INTO screen_gfts (screen_gfts, rowid, x) VALUES ('delete', ?1, ?2)",
		      &del);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(q, 1, sid);
	err = group_docs(st, q, del, "prune: screen groups", &n);
	if (err)
		goto cleanup;
	sqlite3_finalize(q);
	q = NULL;
	err = ix_prep(st, "DELETE FROM screen_sets WHERE group_id IN"
		      " (SELECT id FROM screen_groups WHERE session_id = ?1)", &q);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(q, 1, sid);
	err = ix_step_done(st, q);
	q = NULL;
	if (err)
		goto cleanup;
	err = ix_prep(st, "DELETE FROM screen_groups WHERE session_id = ?1", &q);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(q, 1, sid);
	err = ix_step_done(st, q);
	q = NULL;
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(del);
	return err;
}
