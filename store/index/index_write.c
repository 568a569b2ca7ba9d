// SPDX-License-Identifier: Apache-2.0
/*
 * Writing the screen index: kt_index_session renders a session forward
 * and writes keyframes, blocks and pending lines; kt_index_pending lists
 * the sessions behind.  Design and the files' jobs in index_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "index_int.h"
#include "log.h"
#include "pg/pgr.h"
#include "satint.h"
#include "term/fastvt.h"

/* ---------------------------------------------------------------- writing */

struct pend_kf {
	int64_t chunk_seq, ts_us, out_offset;
	uint32_t frame_index;
	int rows, cols;
	size_t raw_len, zlen;
	void *z;
};

struct indexer {
	struct kt_store *st;
	int64_t sid;
	struct fv *scr;           /* fastvt: index_render.c says why */
	int err;                  /* first error of a line callback */
	/* where rendering stands: right after frame_index frames of chunk_seq */
	int64_t chunk_seq;
	uint32_t frame_index;
	int64_t ts_us, out_offset, kf_offset, kf_us;
	/* the open block: starts at (blk_chunk_seq, blk_frame_index) */
	int64_t blk_seq, blk_chunk_seq;
	uint32_t blk_frame_index;
	int64_t blk_lines;        /* its lines so far */
	int64_t blk_saved;        /* of which written by earlier transactions */
	int64_t new_ts_min, new_ts_max; /* times of the lines since then */
	bool warned;
	struct buf pend;          /* indexable lines since then, screen_pending format */
	int64_t pend_line, pend_ts; /* last line encoded in pend (deltas) */
	struct buf scratch;
	struct pend_kf kf;        /* a keyframe taken, written by the next flush */
	bool have_kf;
	/* the final screen (set once the session is done) */
	struct buf fin;           /* its indexable lines joined by '\n' */
	int64_t fin_lines, fin_ts_min, fin_ts_max;
	struct ix_tri_set *tri;   /* a closing block's trigrams (index_set.c) */
};

static void ts_span(int64_t ts, int64_t n, int64_t *lo, int64_t *hi)
{
	if (!n || ts < *lo)
		*lo = ts;
	if (!n || ts > *hi)
		*hi = ts;
}

static int on_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct indexer *ix = ctx;
	size_t n;
	int err;

	if (ix->blk_lines >= BLOCK_LINES_MAX) {
		/* unreachable in practice (a block is <= ~1 MiB of output) */
		if (!ix->warned)
			pr_warn("store %s: session %lld: more than %d lines in one screen block,"
				" the rest is not searchable", ix->st->path, (long long)ix->sid,
				BLOCK_LINES_MAX);
		ix->warned = true;
		return 0;
	}
	ts_span(ts_us, ix->blk_lines - ix->blk_saved, &ix->new_ts_min, &ix->new_ts_max);
	err = ix_sanitize(&ix->scratch, text, len, &n);
	if (!err && !ix_encoded_line(ix->scratch.p, n)) {
		if (!ix->pend.len) {
			ix->pend_line = ix->blk_saved - 1;
			ix->pend_ts = 0;
		}
		err = ix_buf_varint(&ix->pend, (uint64_t)(ix->blk_lines - ix->pend_line - 1));
		if (!err)
			/* wrapping, as pending_next adds it back: any frame times */
			err = ix_buf_varint(&ix->pend, zigzag((int64_t)((uint64_t)ts_us - (uint64_t)ix->pend_ts)));
		if (!err)
			err = ix_buf_varint(&ix->pend, n);
		if (!err)
			err = ix_buf_put(&ix->pend, ix->scratch.p, n);
		ix->pend_line = ix->blk_lines;
		ix->pend_ts = ts_us;
	}
	ix->blk_lines++;
	return err;
}

static int final_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct indexer *ix = ctx;
	size_t n;
	int err;

	ts_span(ts_us, ix->fin_lines, &ix->fin_ts_min, &ix->fin_ts_max);
	ix->fin_lines++;
	err = ix_sanitize(&ix->scratch, text, len, &n);
	if (err || ix_encoded_line(ix->scratch.p, n))
		return err;
	if (ix->fin.len)
		err = ix_buf_put(&ix->fin, "\n", 1);
	return err ? err : ix_buf_put(&ix->fin, ix->scratch.p, n);
}

/* Serialize the screen and compress it. */
static int snapshot(struct indexer *ix, void **z, size_t *zlen, size_t *raw_len)
{
	uint8_t *raw = NULL;
	size_t len;
	int err;

	err = fv_serialize(ix->scr, &raw, &len);
	if (err)
		return err;
	err = ix_zcompress(ix->st, raw, len, z, zlen);
	*raw_len = len;
	free(raw);
	return err;
}

/* 1: a keyframe was taken (the caller flushes it at once, closing the
 * block), 0: not possible at this frame, <0 error. */
static int keyframe(struct indexer *ix)
{
	struct pend_kf *k = &ix->kf;
	int err;

	err = snapshot(ix, &k->z, &k->zlen, &k->raw_len);
	if (err == -EAGAIN)
		return 0; /* inside an over-long sequence: at a later frame */
	if (err)
		return err;
	k->chunk_seq = ix->chunk_seq;
	k->frame_index = ix->frame_index;
	k->ts_us = ix->ts_us;
	k->out_offset = ix->out_offset;
	fv_size(ix->scr, &k->rows, &k->cols);
	ix->have_kf = true;
	ix->kf_offset = ix->out_offset;
	ix->kf_us = ix->ts_us;
	return 1;
}

/* A one-off statement: prepared, bound by the caller, stepped, finalized. */
int ix_prep(struct kt_store *st, const char *sql, sqlite3_stmt **q)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, q, NULL);

	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, "screen index");
}

int ix_step_done(struct kt_store *st, sqlite3_stmt *q)
{
	int err = kt_stmt_done(st, q, "screen index");

	sqlite3_finalize(q);
	return err;
}

/*
 * The store's cached statement `id` (store.c kt_stmt_sql: prepared once per
 * store, reset on reuse) for the statements every flush and resume runs:
 * parsing them anew for every session in every round was ~5 % of the
 * worker with 100 sessions (bench/results/31-worker.md).  Never finalized;
 * ix_cached_done steps and resets, a SELECT is reset by its caller before
 * anything else runs.
 */
static int ix_cached(struct kt_store *st, enum kt_stmt_id id, const char *sql, sqlite3_stmt **q)
{
	*q = kt_stmt_sql(st, id, sql);
	return *q ? 0 : -EIO; /* logged */
}

static int ix_cached_done(struct kt_store *st, sqlite3_stmt *q)
{
	return kt_stmt_done(st, q, "screen index");
}

/* One write statement whose only parameter is ?1 = id. */
static int exec_id(struct kt_store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *q = NULL;
	int err = ix_prep(st, sql, &q);

	if (err)
		return err;
	sqlite3_bind_int64(q, 1, id);
	return ix_step_done(st, q);
}

int ix_pending_rows(struct kt_store *st, int64_t id, const char *what, ix_line_cb cb, void *ctx)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	err = ix_prep(st, "SELECT first_line, lines FROM screen_pending WHERE block_id = ?1"
		      " ORDER BY first_line", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = ix_pending_walk(st, id, sqlite3_column_blob(q, 1),
				      (size_t)sqlite3_column_bytes(q, 1), sqlite3_column_int64(q, 0),
				      cb, ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, what);
cleanup:
	sqlite3_finalize(q);
	return err;
}

/* A line of the closing block into its trigram set. */
static int set_line(int64_t line, int64_t ts, const char *text, size_t len, void *ctx)
{
	(void)line; (void)ts;
	return ix_tri_set_line(ctx, text, len);
}

/* The indexer's trigram set, empty (made on first use: a 256 KiB bitmap). */
static int tri_set(struct indexer *ix, struct ix_tri_set **out)
{
	int err = ix->tri ? 0 : ix_tri_set_new(ix->st->db, &ix->tri);

	if (!err)
		ix_tri_set_clear(ix->tri);
	*out = ix->tri;
	return err;
}

/* The trigram set of block `id` (index_set.c): its pending lines (written
 * earlier, and those found since, still in memory), into the session's
 * open group (index_group.c). */
static int close_block(struct indexer *ix, int64_t id)
{
	struct kt_store *st = ix->st;
	struct ix_tri_set *set;
	int err;

	err = tri_set(ix, &set) ?: ix_pending_rows(st, id, "screen index", set_line, set);
	/* the lines found since, still in memory (pend.p is NULL when none
	 * came since the resume: fuzz_index_blobs) */
	if (!err)
		err = ix_pending_walk(st, id, (const uint8_t *)ix->pend.p, ix->pend.len,
				      ix->blk_saved, set_line, set);
	if (!err)
		err = ix_group_add(st, ix->sid, id, set);
	return err ?: exec_id(st, "DELETE FROM screen_pending WHERE block_id = ?1", id) ?:
	       exec_id(st, "UPDATE screen_blocks SET open = 0 WHERE id = ?1", id);
}

/*
 * Inside the write transaction: the open block's row (created with its
 * first line), the lines found since the last transaction as one
 * screen_pending row, and with `close` its FTS document.  A row that is
 * already closed was written by a run whose screen_index row was lost:
 * left alone.
 */
static int sync_block(struct indexer *ix, bool close)
{
	struct kt_store *st = ix->st;
	sqlite3_stmt *q = NULL;
	int64_t id = 0;
	bool exists = false, open = false;
	int rc, err;

	if (!ix->blk_lines)
		return 0;
	err = ix_cached(st, ST_IX_BLOCK_GET,
			"SELECT id, open FROM screen_blocks WHERE session_id = ?1 AND seq = ?2", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, ix->sid);
	sqlite3_bind_int64(q, 2, ix->blk_seq);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		exists = true;
		id = sqlite3_column_int64(q, 0);
		open = sqlite3_column_int(q, 1) != 0;
	} else if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
	}
	sqlite3_reset(q);
	q = NULL;
	if (err || (exists && !open))
		return err;

	if (ix->blk_lines > ix->blk_saved) {
		if (!exists) {
			err = ix_cached(st, ST_IX_BLOCK_INSERT,
					"INSERT INTO screen_blocks (session_id, seq, chunk_seq, frame_index,"
					" end_chunk_seq, end_frame_index, ts_first_us, ts_last_us, n_lines,"
					" final, open) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 1)", &q);
			if (err)
				return err;
			sqlite3_bind_int64(q, 1, ix->sid);
			sqlite3_bind_int64(q, 2, ix->blk_seq);
			sqlite3_bind_int64(q, 3, ix->blk_chunk_seq);
			sqlite3_bind_int64(q, 4, ix->blk_frame_index);
		} else {
			/* blk_saved 0 with a row: a redo from the block's start */
			err = ix_cached(st, ST_IX_BLOCK_GROW,
					"UPDATE screen_blocks SET end_chunk_seq = ?5, end_frame_index = ?6,"
					" ts_first_us = CASE WHEN ?10 THEN min(ts_first_us, ?7) ELSE ?7 END,"
					" ts_last_us = CASE WHEN ?10 THEN max(ts_last_us, ?8) ELSE ?8 END,"
					" n_lines = ?9 WHERE id = ?11", &q);
			if (err)
				return err;
			sqlite3_bind_int(q, 10, ix->blk_saved > 0);
			sqlite3_bind_int64(q, 11, id);
		}
		sqlite3_bind_int64(q, 5, ix->chunk_seq);
		sqlite3_bind_int64(q, 6, ix->frame_index);
		sqlite3_bind_int64(q, 7, ix->new_ts_min);
		sqlite3_bind_int64(q, 8, ix->new_ts_max);
		sqlite3_bind_int64(q, 9, ix->blk_lines);
		err = ix_cached_done(st, q);
		if (err)
			return err;
		if (!exists)
			id = sqlite3_last_insert_rowid(st->db);

		/* parts from a run whose position was not saved are replaced */
		err = ix_cached(st, ST_IX_PEND_DELETE,
				"DELETE FROM screen_pending WHERE block_id = ?1 AND first_line >= ?2", &q);
		if (err)
			return err;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, ix->blk_saved);
		err = ix_cached_done(st, q);
		if (err)
			return err;
		if (ix->pend.len && !close) {
			err = ix_cached(st, ST_IX_PEND_INSERT,
					"INSERT INTO screen_pending (block_id, first_line, lines)"
					" VALUES (?1, ?2, ?3)", &q);
			if (err)
				return err;
			sqlite3_bind_int64(q, 1, id);
			sqlite3_bind_int64(q, 2, ix->blk_saved);
			sqlite3_bind_blob(q, 3, ix->pend.p, (int)ix->pend.len, SQLITE_STATIC);
			err = ix_cached_done(st, q);
			if (err)
				return err;
		}
	} else if (close) {
		/* the block ends where the last transaction left it, or here */
		err = ix_cached(st, ST_IX_BLOCK_END,
				"UPDATE screen_blocks SET end_chunk_seq = ?1, end_frame_index = ?2"
				" WHERE id = ?3", &q);
		if (err)
			return err;
		sqlite3_bind_int64(q, 1, ix->chunk_seq);
		sqlite3_bind_int64(q, 2, ix->frame_index);
		sqlite3_bind_int64(q, 3, id);
		err = ix_cached_done(st, q);
		if (err)
			return err;
	}
	return close ? close_block(ix, id) : 0;
}

/* The session's final screen as its own, closed block (once). */
static int final_block(struct indexer *ix, int64_t seq)
{
	struct kt_store *st = ix->st;
	struct ix_tri_set *set;
	sqlite3_stmt *q = NULL;
	int64_t id;
	int err;

	if (!ix->fin_lines)
		return 0;
	err = ix_prep(st, "INSERT OR IGNORE INTO screen_blocks (session_id, seq, chunk_seq, frame_index,"
		      " end_chunk_seq, end_frame_index, ts_first_us, ts_last_us, n_lines, final, open)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, 0)", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, ix->sid);
	sqlite3_bind_int64(q, 2, seq);
	sqlite3_bind_int64(q, 3, ix->blk_chunk_seq);
	sqlite3_bind_int64(q, 4, ix->blk_frame_index);
	sqlite3_bind_int64(q, 5, ix->chunk_seq);
	sqlite3_bind_int64(q, 6, ix->frame_index);
	sqlite3_bind_int64(q, 7, ix->fin_ts_min);
	sqlite3_bind_int64(q, 8, ix->fin_ts_max);
	sqlite3_bind_int64(q, 9, ix->fin_lines);
	err = ix_step_done(st, q);
	if (err || !sqlite3_changes(st->db) || !ix->fin.len)
		return err;
	id = sqlite3_last_insert_rowid(st->db);
	err = tri_set(ix, &set);
	for (const char *p = ix->fin.p, *end = p + ix->fin.len; !err && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		err = ix_tri_set_line(set, p, n);
		p += n + 1;
	}
	return err ?: ix_group_add(st, ix->sid, id, set);
}

/*
 * One write transaction: the open block's new lines (closed with `cut`, a
 * keyframe just taken, or `done`), the keyframe, the final screen, and the
 * position with the screen (when it can be serialized; otherwise the
 * position stays behind and the next run renders those frames again,
 * writing nothing twice).
 */
static int flush(struct indexer *ix, bool cut, bool done)
{
	struct kt_store *st = ix->st;
	sqlite3_stmt *q = NULL;
	void *z = NULL;
	size_t zlen = 0, raw_len = 0;
	bool own = false, have_state;
	/* the open block after this transaction */
	int64_t next_seq = ix->blk_seq + (ix->blk_lines ? 1 : 0);
	int64_t nb_seq = ix->blk_seq, nb_chunk = ix->blk_chunk_seq, nb_lines = ix->blk_lines;
	uint32_t nb_frame = ix->blk_frame_index;
	int rows, cols, err;

	if (cut) {
		nb_seq = next_seq;
		nb_chunk = ix->chunk_seq;
		nb_frame = ix->frame_index;
		nb_lines = 0;
	}
	err = snapshot(ix, &z, &zlen, &raw_len);
	have_state = !err;
	if (err && err != -EAGAIN)
		goto cleanup;

	err = kt_op_begin(st, &own);
	if (err)
		goto cleanup;
	err = sync_block(ix, cut || done);
	if (!err && ix->have_kf) {
		const struct pend_kf *k = &ix->kf;

		err = ix_cached(st, ST_IX_KEYFRAME,
				"INSERT OR IGNORE INTO keyframes (session_id, chunk_seq, frame_index,"
				" ts_us, out_offset, rows, cols, raw_len, codec, data)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &q);
		if (!err) {
			sqlite3_bind_int64(q, 1, ix->sid);
			sqlite3_bind_int64(q, 2, k->chunk_seq);
			sqlite3_bind_int64(q, 3, k->frame_index);
			sqlite3_bind_int64(q, 4, k->ts_us);
			sqlite3_bind_int64(q, 5, k->out_offset);
			sqlite3_bind_int(q, 6, k->rows);
			sqlite3_bind_int(q, 7, k->cols);
			sqlite3_bind_int64(q, 8, (int64_t)k->raw_len);
			sqlite3_bind_int(q, 9, KT_CODEC_ZSTD);
			sqlite3_bind_blob(q, 10, k->z, (int)k->zlen, SQLITE_STATIC);
			err = ix_cached_done(st, q);
			q = NULL;
		}
	}
	if (!err && done)
		err = final_block(ix, next_seq) ?: ix_group_close(st, ix->sid);
	if (!err && (have_state || done)) {
		err = ix_cached(st, ST_IX_POSITION,
				"INSERT OR REPLACE INTO screen_index (session_id, chunk_seq, frame_index,"
				" ts_us, out_offset, kf_offset, kf_us, block_seq, block_chunk_seq,"
				" block_frame_index, block_lines, done, rows, cols, state)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)", &q);
		if (!err) {
			fv_size(ix->scr, &rows, &cols);
			sqlite3_bind_int64(q, 1, ix->sid);
			sqlite3_bind_int64(q, 2, ix->chunk_seq);
			sqlite3_bind_int64(q, 3, ix->frame_index);
			sqlite3_bind_int64(q, 4, ix->ts_us);
			sqlite3_bind_int64(q, 5, ix->out_offset);
			sqlite3_bind_int64(q, 6, ix->kf_offset);
			sqlite3_bind_int64(q, 7, ix->kf_us);
			sqlite3_bind_int64(q, 8, nb_seq);
			sqlite3_bind_int64(q, 9, nb_chunk);
			sqlite3_bind_int64(q, 10, nb_frame);
			sqlite3_bind_int64(q, 11, nb_lines);
			sqlite3_bind_int(q, 12, done);
			sqlite3_bind_int(q, 13, rows);
			sqlite3_bind_int(q, 14, cols);
			if (have_state)
				sqlite3_bind_blob(q, 15, z, (int)zlen, SQLITE_STATIC);
			else
				sqlite3_bind_null(q, 15);
			err = ix_cached_done(st, q);
			q = NULL;
		}
	}
	err = kt_op_end(st, own, err);
	if (err)
		goto cleanup;
	/* committed: the next transaction continues from here */
	ix->pend.len = 0;
	ix->blk_seq = nb_seq;
	ix->blk_chunk_seq = nb_chunk;
	ix->blk_frame_index = nb_frame;
	ix->blk_lines = ix->blk_saved = nb_lines;
	if (ix->have_kf) {
		free(ix->kf.z);
		ix->kf.z = NULL;
		ix->have_kf = false;
	}
cleanup:
	sqlite3_finalize(q);
	free(z);
	return err;
}

/* ---------------------------------------------------------------- resume */

/*
 * The saved position, open block and screen, or a fresh start.  *done:
 * nothing left.  The screen is restored from the saved keyframe (raw_len is
 * kept in the zstd frame header: screen_index.state is one zstd frame).
 */
static int resume(struct indexer *ix, const struct kt_session_info *s, bool *done)
{
	struct kt_store *st = ix->st;
	sqlite3_stmt *q = NULL;
	uint8_t *raw = NULL;
	int rc, err = 0;

	*done = false;
	err = ix_cached(st, ST_IX_RESUME,
			"SELECT chunk_seq, frame_index, ts_us, out_offset, kf_offset, kf_us,"
			" block_seq, block_chunk_seq, block_frame_index, block_lines, done, rows, cols,"
			" state FROM screen_index WHERE session_id = ?1", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, ix->sid);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *z = sqlite3_column_blob(q, 13);
		size_t zlen = (size_t)sqlite3_column_bytes(q, 13);
		unsigned long long raw_len;

		ix->chunk_seq = sqlite3_column_int64(q, 0);
		ix->frame_index = (uint32_t)sqlite3_column_int64(q, 1);
		ix->ts_us = sqlite3_column_int64(q, 2);
		ix->out_offset = sqlite3_column_int64(q, 3);
		ix->kf_offset = sqlite3_column_int64(q, 4);
		ix->kf_us = sqlite3_column_int64(q, 5);
		ix->blk_seq = sqlite3_column_int64(q, 6);
		ix->blk_chunk_seq = sqlite3_column_int64(q, 7);
		ix->blk_frame_index = (uint32_t)sqlite3_column_int64(q, 8);
		ix->blk_lines = ix->blk_saved = sqlite3_column_int64(q, 9);
		*done = sqlite3_column_int(q, 10) != 0;
		if (*done)
			goto out;
		/* the indexer adds to these: a hostile row must not overflow */
		if (ix->chunk_seq < 0 || ix->chunk_seq > KT_DB_SEQ_MAX || ix->blk_chunk_seq < 0 ||
		    ix->blk_chunk_seq > KT_DB_SEQ_MAX || ix->blk_seq < 0 ||
		    ix->blk_seq > KT_DB_SEQ_MAX || ix->blk_lines < 0 ||
		    ix->blk_lines > BLOCK_LINES_MAX || ix->out_offset < 0 ||
		    ix->out_offset > KT_DB_SEQ_MAX || ix->kf_offset < 0 ||
		    ix->kf_offset > ix->out_offset) {
			pr_err("store %s: session %lld: corrupt screen index position", st->path,
			       (long long)ix->sid);
			err = -EBADMSG;
			goto out;
		}
		if (!z) {
			pr_err("store %s: session %lld: screen index without state", st->path,
			       (long long)ix->sid);
			err = -EBADMSG;
			goto out;
		}
		raw_len = ZSTD_getFrameContentSize(z, zlen);
		if (raw_len == ZSTD_CONTENTSIZE_UNKNOWN || raw_len == ZSTD_CONTENTSIZE_ERROR) {
			pr_err("store %s: session %lld: corrupt screen index state", st->path,
			       (long long)ix->sid);
			err = -EBADMSG;
			goto out;
		}
		err = ix_zdecompress(st, KT_CODEC_ZSTD, (int64_t)raw_len, z, zlen, &raw);
		if (!err)
			err = fv_restore(sqlite3_column_int(q, 11), sqlite3_column_int(q, 12),
					 raw, (size_t)raw_len, &ix->scr);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
		goto out;
	}
	/* first run */
	ix->kf_us = s->start_us;
	err = ix_screen_fresh(s, &ix->scr);
out:
	sqlite3_reset(q);	/* cached: ends its read */
	free(raw);
	return err;
}

/* ---------------------------------------------------------------- index */

int kt_index_session(struct kt_store *st, int64_t session_id, size_t budget)
{
	struct indexer ix = { .st = st, .sid = session_id };
	struct kt_session_info *s = NULL;
	struct kt_stream *stream = NULL;
	struct kt_frame f;
	size_t done_bytes = 0, txn_bytes = 0;
	bool finished, more = false;
	int ret, err;

	err = kt_store_check_writable(st, "screen index");
	if (err)
		return err;
	if (!budget)
		budget = DEFAULT_BUDGET;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = kt_store_session_get(st, session_id, s);
	if (err)
		goto cleanup;
	err = resume(&ix, s, &finished);
	if (err || finished)
		goto cleanup;
	fv_set_line_cb(ix.scr, on_line, &ix);
	err = kt_stream_open_pos(st, session_id, ix.chunk_seq, ix.frame_index, &stream);
	if (err)
		goto cleanup;

	while ((ret = kt_stream_next(stream, &f)) != 0) {
		if (ret == -EBADMSG)
			continue; /* logged; the rest of that chunk is lost */
		if (ret < 0) {
			err = ret;
			goto cleanup;
		}
		err = ix_render_frame(ix.scr, &f);
		if (err)
			goto cleanup;
		if (f.type == KT_FRAME_OUT) {
			ix.out_offset += f.len;
			done_bytes += f.len;
			txn_bytes += f.len;
		}
		ix.ts_us = f.ts_us;
		kt_stream_tell(stream, &ix.chunk_seq, &ix.frame_index);
		if (f.type == KT_FRAME_OUT &&
		    (ix.out_offset - ix.kf_offset >= KF_EVERY_BYTES ||
		     (kt_sub_sat(ix.ts_us, ix.kf_us) >= KF_EVERY_US &&
		      ix.out_offset - ix.kf_offset >= KF_MIN_BYTES))) {
			ret = keyframe(&ix);
			if (ret < 0) {
				err = ret;
				goto cleanup;
			}
			if (ret) {
				/* a new block starts at each keyframe */
				err = flush(&ix, true, false);
				if (err)
					goto cleanup;
				txn_bytes = 0;
			}
		}
		if (txn_bytes >= TXN_BYTES) {
			err = flush(&ix, false, false);
			if (err)
				goto cleanup;
			txn_bytes = 0;
		}
		if (done_bytes >= budget) {
			more = true;
			break;
		}
	}
	if (!more && s->state != KT_SESSION_ACTIVE) {
		/* ended and every stored chunk rendered: the final screen */
		err = fv_visible_lines(ix.scr, final_line, &ix);
		if (!err)
			err = flush(&ix, false, true);
		goto cleanup;
	}
	err = flush(&ix, false, false);
cleanup:
	kt_stream_close(stream);
	free(ix.kf.z);
	free(ix.pend.p);
	free(ix.scratch.p);
	ix_tri_set_free(ix.tri);
	free(ix.fin.p);
	fv_free(ix.scr);
	free(s);
	if (err)
		return err;
	return more ? 1 : 0;
}

int kt_index_pending(struct kt_store *st, kt_index_pending_cb cb, void *ctx)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_index_pending(st, cb, ctx);
	rc = sqlite3_prepare_v2(st->db,
				"SELECT s.id FROM sessions s LEFT JOIN screen_index x ON x.session_id = s.id"
				" WHERE (x.session_id IS NULL AND (s.bytes_out > 0 OR s.state != 0))"
				"    OR (x.done = 0 AND (x.out_offset < s.bytes_out OR s.state != 0))"
				" ORDER BY s.id", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "screen index pending");
	/* ids first: the callback indexes, which writes */
	return kt_sql_ids_each(st, q, "screen index pending", cb, ctx);
}
