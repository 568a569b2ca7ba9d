// SPDX-License-Identifier: Apache-2.0
/*
 * Screen search's closed candidate blocks on a node store (schema v8):
 * the blocks whose trigram set holds every query trigram.
 *
 *   - closed groups: screen_gfts (one FTS5 row per group, the union of its
 *     blocks' codes, index_group.c) names the groups holding every query
 *     code; only those groups' sets are decoded;
 *   - open groups (at most one per session, bounded by GROUP_BLOCKS) and
 *     closed ones still waiting for their screen_gfts row (bounded by
 *     LAZY_PAIRS in all): their sets are decoded directly;
 *   - blocks closed before v8: their screen_fts documents, as v2-v7 asked.
 *
 * A superset, like the FTS5 query it replaces: each candidate is verified
 * by rendering (index_search.c).  The session filter is applied to the
 * groups here (fewer sets decoded) and to the blocks by the caller.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "log.h"

static int ids_add(struct ix_ids *ids, int64_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		int64_t *p = realloc(ids->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ids->v = p;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

int ix_query_codes(struct kt_store *st, const char *const *terms, const size_t *tlen,
		   size_t nterms, uint64_t **codes, size_t *n)
{
	struct ix_tri_set *set = NULL;
	const uint64_t *c;
	int err;

	*codes = NULL;
	*n = 0;
	err = ix_tri_set_new(st->db, &set);
	for (size_t i = 0; !err && i < nterms; i++)
		err = ix_tri_set_line(set, terms[i], tlen[i]);
	if (err)
		goto cleanup;
	c = ix_tri_set_codes(set, n);
	*codes = malloc((*n ? *n : 1) * sizeof(**codes));
	if (!*codes) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (*n) /* c is NULL for an empty set */
		memcpy(*codes, c, *n * sizeof(**codes));
cleanup:
	ix_tri_set_free(set);
	return err;
}

/* Blocks before v8: their screen_fts documents. */
static int legacy(struct kt_store *st, const char *fts, int64_t after, struct ix_ids *ids)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	err = ix_prep(st, after ? "SELECT rowid FROM screen_fts WHERE screen_fts MATCH ?1"
			  " AND rowid <= ?2" : "SELECT rowid FROM screen_fts WHERE screen_fts MATCH ?1",
		      &q);
	if (err)
		return err;
	sqlite3_bind_text(q, 1, fts, -1, SQLITE_STATIC);
	if (after)
		sqlite3_bind_int64(q, 2, after);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && !err)
		err = ids_add(ids, sqlite3_column_int64(q, 0));
	if (!err && rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
	sqlite3_finalize(q);
	return err;
}

/* Group gid's blocks whose set holds every code. */
static int group_blocks(struct kt_store *st, sqlite3_stmt *sets, int64_t gid,
			const uint64_t *codes, size_t ncodes, int64_t after, struct ix_ids *ids)
{
	int rc, err = 0;

	sqlite3_reset(sets);
	sqlite3_bind_int64(sets, 1, gid);
	while ((rc = sqlite3_step(sets)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(sets, 0);
		uint64_t *c = NULL;
		size_t n;

		if (after && id > after)
			continue;
		err = ix_set_decode(sqlite3_column_blob(sets, 1),
				    (size_t)sqlite3_column_bytes(sets, 1), &c, &n);
		if (err == -EBADMSG)
			pr_err("store %s: screen block %lld: corrupt trigram set", st->path,
			       (long long)id);
		if (!err && ix_set_has_all(c, n, codes, ncodes))
			err = ids_add(ids, id);
		free(c);
		if (err)
			return err;
	}
	return rc == SQLITE_DONE ? 0 : kt_sql_err(st, rc, "screen search");
}

int ix_candidates(struct kt_store *st, const char *fts, const uint64_t *codes, size_t ncodes,
		  const struct kt_session_filter *f, int64_t after, struct ix_ids *ids)
{
	const size_t sqlcap = 8192;
	sqlite3_stmt *q = NULL, *sets = NULL;
	struct buf gq = { 0 };
	char *sql = NULL;
	size_t o;
	int n = 0, rc, err;

	assert(ncodes > 0);
	err = legacy(st, fts, after, ids);
	if (err)
		return err;
	/* "w1" AND "w2" ...: code words (index_group.c) */
	for (size_t i = 0; i < ncodes && !err; i++) {
		char w[14];
		size_t wl = ix_code_word(codes[i], w);

		err = (i ? ix_buf_put(&gq, " AND \"", 6) : ix_buf_put(&gq, "\"", 1)) ?:
		      ix_buf_put(&gq, w, wl) ?: ix_buf_put(&gq, "\"", 1);
	}
	if (!err)
		err = ix_buf_put(&gq, "", 1);
	sql = malloc(sqlcap);
	if (!err && !sql)
		err = -ENOMEM;
	if (err)
		goto cleanup;
	snprintf(sql, sqlcap, "SELECT g.id FROM screen_gfts CROSS JOIN screen_groups g"
		 " ON g.id = screen_gfts.rowid CROSS JOIN sessions s ON s.id = g.session_id"
		 " WHERE screen_gfts MATCH ?7");
	err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
	if (err)
		goto cleanup;
	o = strlen(sql);
	n = 0;
	snprintf(sql + o, sqlcap - o, " UNION ALL SELECT g.id FROM screen_groups g CROSS JOIN"
		 " sessions s ON s.id = g.session_id WHERE g.open != 0");
	err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
	if (err)
		goto cleanup;
	err = ix_prep(st, sql, &q) ?:
	      ix_prep(st, "SELECT block_id, data FROM screen_sets WHERE group_id = ?1", &sets);
	if (err)
		goto cleanup;
	kt_session_filter_bind(q, f, 1);
	sqlite3_bind_text(q, 7, gq.p, (int)gq.len - 1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = group_blocks(st, sets, sqlite3_column_int64(q, 0), codes, ncodes, after, ids);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(sets);
	free(gq.p);
	free(sql);
	return err;
}

int kt_index_block_terms(struct kt_store *st, int64_t block_id, kt_term_cb cb, void *ctx)
{
	sqlite3_stmt *q = NULL;
	uint64_t *c = NULL;
	size_t n = 0;
	int rc, err;

	err = ix_prep(st, "SELECT data FROM screen_sets WHERE block_id = ?1", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, block_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		err = 1;
	} else if (rc != SQLITE_ROW) {
		err = kt_sql_err(st, rc, "screen trigrams");
	} else {
		err = ix_set_decode(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0),
				    &c, &n);
		if (err == -EBADMSG)
			pr_err("store %s: screen block %lld: corrupt trigram set", st->path,
			       (long long)block_id);
	}
	for (size_t i = 0; !err && i < n; i++) {
		char t[13];
		int len = ix_tri_text(c[i], t);

		if (len < 0) {
			pr_err("store %s: screen block %lld: corrupt trigram set", st->path,
			       (long long)block_id);
			err = len;
			break;
		}
		err = cb(t, (size_t)len, ctx);
	}
	sqlite3_finalize(q);
	free(c);
	return err;
}
