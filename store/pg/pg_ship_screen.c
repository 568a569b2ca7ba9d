// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index to the server: keyframes (seeking), screen_blocks,
 * the open blocks' screen_pending lines, screen_index, and each closed
 * block's trigram set (screen search candidates).
 *
 * A closed block's trigrams are stored as a text[] in
 * screen_blocks.trigrams (GIN index), which answers the same question the
 * node's index does: blocks holding every trigram of the words.  Since
 * schema v8 they come from the block's trigram set (screen_sets, decoded
 * by kt_index_block_terms; without whitespace and cross-line trigrams,
 * which no query asks for).  Blocks closed before v8 have only their
 * contentless screen_fts document, read through an fts5vocab 'instance'
 * table.  Limit: that vocab table is scanned whole, so a batch holding
 * such blocks costs a read of the node's screen_fts index (~0.05-0.1x the
 * text indexed before v8); batches of v8 blocks do not read it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_int.h"

#define TRIGRAM_BATCH 1000

static int pg_two(struct kt_shipper *sh, const char *sql, const char *const *v,
		  int64_t *a, int64_t *b, const char *what)
{
	PGresult *r = kt_pg_query(sh, sql, 2, v, what);

	if (!r)
		return -EIO;
	*a = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*b = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return 0;
}

int kt_ship_screen(struct kt_shipper *sh, int64_t id, const char *sid)
{
	const char *v[2] = { sh->src, sid };
	int64_t a, b;
	PGresult *r;
	int err;

	err = pg_two(sh, "SELECT coalesce(max(chunk_seq), -1), coalesce(max(frame_index)"
		     " FILTER (WHERE chunk_seq = (SELECT max(chunk_seq) FROM keyframes"
		     " WHERE src = $1 AND session_id = $2)), -1) FROM keyframes"
		     " WHERE src = $1 AND session_id = $2", v, &a, &b, "keyframe position");
	if (!err)
		err = kt_ship_copy_bound(sh, "SELECT * FROM keyframes WHERE session_id = ?1 AND"
					 " (chunk_seq, frame_index) > (?2, ?3) ORDER BY chunk_seq, frame_index",
					 id, a, b, "keyframes", "src, session_id, chunk_seq, frame_index",
					 KT_COPY_UPDATE | KT_COPY_BUDGET);
	/* blocks from the first one the server has open (it may have closed) */
	if (!err)
		err = pg_two(sh, "SELECT coalesce(min(seq) FILTER (WHERE open = 1), max(seq) + 1, 0),"
			     " 0 FROM screen_blocks WHERE src = $1 AND session_id = $2", v, &a, &b,
			     "screen block position");
	if (!err)
		err = kt_ship_copy_bound(sh,
					 "SELECT * FROM screen_blocks WHERE session_id = ?1 AND seq >= ?2"
					 " ORDER BY seq", id, a, 0, "screen_blocks", "src, id", KT_COPY_UPDATE);
	if (err)
		return err;
	/* pending lines: only while their block is open */
	r = kt_pg_query(sh, "DELETE FROM screen_pending p USING screen_blocks b WHERE p.src = $1"
			" AND b.src = $1 AND b.session_id = $2 AND b.id = p.block_id AND b.open = 0",
			2, v, "dropping pending lines of closed blocks");
	if (!r)
		return -EIO;
	PQclear(r);
	err = pg_two(sh, "SELECT coalesce(max(block_id), 0), coalesce(max(first_line), -1) FROM"
		     " (SELECT p.block_id, p.first_line FROM screen_pending p JOIN screen_blocks b"
		     " ON b.src = p.src AND b.id = p.block_id WHERE p.src = $1 AND b.session_id = $2"
		     " ORDER BY p.block_id DESC, p.first_line DESC LIMIT 1) t",
		     v, &a, &b, "pending lines position");
	if (!err)
		err = kt_ship_copy_bound(sh,
					 "SELECT p.block_id, p.first_line, p.lines FROM screen_pending p"
					 " JOIN screen_blocks b ON b.id = p.block_id WHERE b.session_id = ?1"
					 " AND b.open = 1 AND (p.block_id, p.first_line) > (?2, ?3)"
					 " ORDER BY p.block_id, p.first_line", id, a, b, "screen_pending",
					 "src, block_id, first_line", KT_COPY_UPDATE);
	if (!err)
		err = kt_ship_copy_bound(sh,
					 "SELECT * FROM screen_index WHERE session_id = ?1", id, 0, 0,
					 "screen_index", "src, session_id", KT_COPY_UPDATE);
	return err;
}

/* One block's trigrams as a text[] literal: {"abc","b\"c"}. */
struct tri_doc {
	int64_t id;
	char *lit;
	size_t len, cap;
	bool legacy;          /* no v8 set: from screen_fts */
};

static int lit_add(struct tri_doc *d, const char *term, size_t tlen)
{
	size_t need = d->len + tlen * 2 + 4;

	if (need + 2 > d->cap) {
		size_t cap = d->cap ? d->cap : 256;
		char *p;

		while (cap < need + 2)
			cap *= 2;
		p = realloc(d->lit, cap);
		if (!p)
			return -ENOMEM;
		d->lit = p;
		d->cap = cap;
	}
	char sep = d->len ? ',' : '{';

	d->lit[d->len++] = sep;
	d->lit[d->len++] = '"';
	for (size_t i = 0; i < tlen; i++) {
		if (term[i] == '"' || term[i] == '\\')
			d->lit[d->len++] = '\\';
		d->lit[d->len++] = term[i];
	}
	d->lit[d->len++] = '"';
	return 0;
}

static int set_term(const char *term, size_t len, void *ctx)
{
	return lit_add(ctx, term, len);
}

static int cmp_doc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = ((const struct tri_doc *)b)->id;

	return x < y ? -1 : x > y;
}

int kt_ship_trigrams(struct kt_shipper *sh)
{
	const char *v[1] = { sh->src };
	struct tri_doc *docs = NULL;
	sqlite3_stmt *q = NULL;
	PGresult *r;
	int n, rc, legacy = 0, err = 0;

	r = kt_pg_query(sh, "SELECT id FROM screen_blocks WHERE src = $1 AND open = 0 AND"
			" trigrams IS NULL ORDER BY id LIMIT 1000", 1, v, "blocks without trigrams");
	if (!r)
		return -EIO;
	n = PQntuples(r);
	if (!n) {
		PQclear(r);
		return 0;
	}
	docs = calloc((size_t)n, sizeof(*docs));
	if (!docs) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		docs[i].id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	PQclear(r);

	/* v8: each block's own set; blocks closed before v8 from screen_fts */
	for (int i = 0; i < n; i++) {
		err = kt_index_block_terms(sh->st, docs[i].id, set_term, &docs[i]);
		if (err == 1) {
			docs[i].legacy = true;
			legacy++;
			err = 0;
		}
		if (err)
			goto cleanup;
	}
	if (!legacy)
		goto store;
	q = kt_ship_prep(sh, "SELECT doc, term FROM temp.kt_ship_vocab WHERE doc BETWEEN ?1 AND ?2");
	if (!q) {
		err = -EIO;
		goto cleanup;
	}
	sqlite3_bind_int64(q, 1, docs[0].id);
	sqlite3_bind_int64(q, 2, docs[n - 1].id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t doc = sqlite3_column_int64(q, 0);
		struct tri_doc *d = bsearch(&doc, docs, (size_t)n, sizeof(*docs), cmp_doc);

		if (!d || !d->legacy)
			continue;
		err = lit_add(d, (const char *)sqlite3_column_text(q, 1),
			      (size_t)sqlite3_column_bytes(q, 1));
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(sh->st, rc, "ship: reading screen trigrams");
		goto cleanup;
	}
store:
	for (int i = 0; i < n && !err; i++) {
		char id[24];
		const char *uv[3] = { sh->src, id, docs[i].lit };

		if (docs[i].lit) {
			docs[i].lit[docs[i].len++] = '}';
			docs[i].lit[docs[i].len] = 0;
		} else {
			uv[2] = "{}"; /* nothing indexable (or only encoded blobs) */
		}
		snprintf(id, sizeof(id), "%" PRId64, docs[i].id);
		r = kt_pg_query(sh, "UPDATE screen_blocks SET trigrams = $3::text[]"
				" WHERE src = $1 AND id = $2", 3, uv, "storing trigrams");
		if (!r)
			err = -EIO;
		PQclear(r);
	}
cleanup:
	sqlite3_finalize(q);
	for (int i = 0; i < n; i++)
		free(docs[i].lit);
	free(docs);
	return err;
}
