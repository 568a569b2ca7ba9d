// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index: a session's OUT and RESIZE frames rendered through a
 * kt_screen, giving keyframes (seeking without replaying from the start)
 * and a search index over what was displayed.  Schema v2 in schema.c; the
 * tables and their meaning in FORMAT.md, "Screen index".
 *
 * Why blocks: one row and one FTS document per screen line made the index
 * ~100x the size of the compressed recording.  Text is now indexed in
 * blocks, the lines that left the screen between two keyframes, as one
 * document of a contentless trigram FTS5 table with detail=none (a set of
 * trigrams per block, no text, no positions).  A search turns its words
 * into trigrams, asks the FTS for the blocks holding all of them (a
 * superset), and verifies each candidate by rendering it again from its
 * keyframe: only lines that really contain every word are reported, with
 * the time and text the re-rendering gives.  A block spans at most one
 * keyframe interval (1 MiB of output), so one candidate costs at most one
 * keyframe restore and 1 MiB of rendering.
 *
 * The block still being filled (lines since the last keyframe) is "open":
 * its lines wait in screen_pending (text, line number, time) and search
 * reads them directly, so output is searchable as soon as it is indexed,
 * not only once a keyframe or the session end closes its block.  Closing a
 * block writes its FTS document from those rows and deletes them.
 *
 * kt_index_session renders outside any transaction and writes what it
 * found in short ones (one per MiB of output, and one per keyframe), so the
 * recorder, the other writer, is never held up by rendering.  Each write
 * transaction also moves the session's screen_index row: the position
 * reached, the open block and the screen there as a keyframe, so a run that
 * dies between transactions redoes exactly the frames after that.  Should
 * screen_index be lost anyway, the redo renders the same blocks again:
 * blocks are numbered per session (screen_blocks.seq), closed ones are left
 * alone and an open one's pending lines are rewritten, so nothing is
 * indexed twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_int.h"
#include "screen.h"
#include "log.h"
#include "satint.h"

#define KF_EVERY_BYTES (1u << 20)        /* a keyframe per MiB of output */
#define KF_EVERY_US (30 * 1000000LL)     /* or per 30 s of session time */
#define KF_MIN_BYTES (64u << 10)         /* but never two within 64 KiB */
#define TXN_BYTES (1u << 20)             /* output rendered per write transaction */
#define DEFAULT_BUDGET (4u << 20)
#define KF_RAW_MAX (16u << 20)           /* largest keyframe a reader accepts */
/* search hit id = block id << LINE_BITS | line number within the block */
#define LINE_BITS 24
#define BLOCK_LINES_MAX ((1 << LINE_BITS) - 1)
/* sequence numbers and byte offsets read back from the store: far above
 * anything real, low enough that the indexer's sums cannot overflow */
#define KT_DB_SEQ_MAX ((int64_t)1 << 56)
#ifndef ENCODED_RUN_MIN /* overridable to measure its effect (bench/screen_index_size.c) */
#define ENCODED_RUN_MIN 48               /* see encoded_line() */
#endif
#define QUERY_TRIGRAMS_MAX 32            /* FTS terms per query, see squery_make() */

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_put(struct buf *b, const void *data, size_t len)
{
	int err = buf_reserve(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static int buf_varint(struct buf *b, uint64_t v)
{
	uint8_t t[KT_VARINT_MAX];

	return buf_put(b, t, kt_varint_put(t, v));
}

/* A line as stored and searched: invalid UTF-8 replaced (cells hold valid
 * codepoints, but keep every stored text valid).  Result in *scratch. */
static int sanitize(struct buf *scratch, const char *text, size_t len, size_t *out)
{
	scratch->len = 0;
	if (buf_reserve(scratch, len * 3 + 1))
		return -ENOMEM;
	*out = kt_utf8_sanitize(scratch->p, text, len);
	return 0;
}

/*
 * A line carrying an encoded blob is not indexed: one with a run of at
 * least 48 characters without a space that uses only the base64, base64url
 * and hex alphabet ([A-Za-z0-9+/=_-]) and looks random: digits together
 * with either hex letters only or both upper and lower case (so numbers,
 * paths and words are kept: a dot, no digit or one case).  Nearly every
 * trigram of random text is new, so such lines cost an index as large as
 * the text itself, for searches nobody makes.  The whole line is skipped
 * (other words on it are not found either); it stays in the recording
 * (replay, export).
 */
static bool encoded_line(const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		bool alphabet = true, hex = true, hexletter = false, up = false, low = false;
		bool dig = false;
		size_t start;

		while (i < len && (t[i] == ' ' || t[i] == '\t'))
			i++;
		start = i;
		for (; i < len && t[i] != ' ' && t[i] != '\t'; i++) {
			char c = t[i];

			if (c >= '0' && c <= '9') {
				dig = true;
			} else if (c >= 'a' && c <= 'z') {
				low = true;
				hex = hex && c <= 'f';
				hexletter = true;
			} else if (c >= 'A' && c <= 'Z') {
				up = true;
				hex = hex && c <= 'F';
				hexletter = true;
			} else if (c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
				hex = false;
			} else {
				alphabet = false;
			}
		}
		if (i - start >= ENCODED_RUN_MIN && alphabet && dig &&
		    ((hex && hexletter) || (up && low)))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- zstd */

static int zcompress(const void *raw, size_t len, void **out, size_t *zlen)
{
	size_t bound = ZSTD_compressBound(len), n;
	void *z = malloc(bound ? bound : 1);

	if (!z)
		return -ENOMEM;
	n = ZSTD_compress(z, bound, raw, len, 3);
	if (ZSTD_isError(n)) {
		pr_err("screen index: zstd: %s", ZSTD_getErrorName(n));
		free(z);
		return -EIO;
	}
	*out = z;
	*zlen = n;
	return 0;
}

/* A keyframe blob as stored (codec, raw_len) -> malloc'd raw bytes. */
static int zdecompress(struct kt_store *st, int codec, int64_t raw_len, const void *z,
		       size_t zlen, uint8_t **out)
{
	uint8_t *raw;
	size_t n;

	if (raw_len < 0 || raw_len > KF_RAW_MAX) {
		pr_err("store %s: keyframe raw_len %lld out of range", st->path, (long long)raw_len);
		return -EBADMSG;
	}
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw)
		return -ENOMEM;
	if (codec == KT_CODEC_NONE && zlen == (size_t)raw_len) {
		if (zlen)
			memcpy(raw, z, zlen);
	} else if (codec == KT_CODEC_ZSTD) {
		n = ZSTD_decompress(raw, raw_len, z ? z : "", zlen);
		if (ZSTD_isError(n) || n != (size_t)raw_len) {
			pr_err("store %s: corrupt keyframe: %s", st->path,
			       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size differs from raw_len");
			free(raw);
			return -EBADMSG;
		}
	} else {
		pr_err("store %s: keyframe with unknown codec %d", st->path, codec);
		free(raw);
		return -EBADMSG;
	}
	*out = raw;
	return 0;
}

/* ---------------------------------------------------------------- rendering */

/* The screen at the session's start: its starting size, and without a tty
 * LNM on (the user's own terminal turned \n into \r\n). */
static int screen_fresh(const struct kt_session_info *s, struct kt_screen **out)
{
	/* any recorded size: kt_screen_new normalises it (screen.h) */
	int err = kt_screen_new(s->rows, s->cols, out);

	if (!err && !s->has_tty)
		err = kt_screen_feed(*out, "\x1b[20h", 5);
	return err;
}

/* One frame, as the indexer renders it (search renders blocks again the
 * same way).  Returns what kt_screen_feed/resize return. */
static int render_frame(struct kt_screen *scr, const struct kt_frame *f)
{
	uint16_t cols, rows;

	kt_screen_set_time(scr, f->ts_us);
	if (f->type == KT_FRAME_OUT)
		return kt_screen_feed(scr, f->data, f->len);
	if (f->type == KT_FRAME_RESIZE && !kt_frame_resize_parse(f, &cols, &rows))
		return kt_screen_resize(scr, rows, cols);
	return 0;
}

/*
 * (chunk, frame) positions in stream order.  A position is the session
 * frame number chunk_seq + frame_index (FORMAT.md): the same point may be
 * written relative to a chunk that compaction has since merged into an
 * earlier one, so compare the sums, never the pairs.
 */
static int pos_cmp(int64_t ca, uint32_t fa, int64_t cb, uint32_t fb)
{
	int64_t a = kt_add_sat(ca, fa), b = kt_add_sat(cb, fb);

	return a < b ? -1 : a > b;
}

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
	struct kt_screen *scr;
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
};

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

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
	err = sanitize(&ix->scratch, text, len, &n);
	if (!err && !encoded_line(ix->scratch.p, n)) {
		if (!ix->pend.len) {
			ix->pend_line = ix->blk_saved - 1;
			ix->pend_ts = 0;
		}
		err = buf_varint(&ix->pend, (uint64_t)(ix->blk_lines - ix->pend_line - 1));
		if (!err)
			/* wrapping, as pending_next adds it back: any frame times */
			err = buf_varint(&ix->pend, zigzag((int64_t)((uint64_t)ts_us - (uint64_t)ix->pend_ts)));
		if (!err)
			err = buf_varint(&ix->pend, n);
		if (!err)
			err = buf_put(&ix->pend, ix->scratch.p, n);
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
	err = sanitize(&ix->scratch, text, len, &n);
	if (err || encoded_line(ix->scratch.p, n))
		return err;
	if (ix->fin.len)
		err = buf_put(&ix->fin, "\n", 1);
	return err ? err : buf_put(&ix->fin, ix->scratch.p, n);
}

/* Serialize the screen and compress it. */
static int snapshot(struct indexer *ix, void **z, size_t *zlen, size_t *raw_len)
{
	uint8_t *raw = NULL;
	size_t len;
	int err;

	err = kt_screen_serialize(ix->scr, &raw, &len);
	if (err)
		return err;
	err = zcompress(raw, len, z, zlen);
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
	kt_screen_size(ix->scr, &k->rows, &k->cols);
	ix->have_kf = true;
	ix->kf_offset = ix->out_offset;
	ix->kf_us = ix->ts_us;
	return 1;
}

/* A one-off statement: prepared, bound by the caller, stepped, finalized. */
static int prep(struct kt_store *st, const char *sql, sqlite3_stmt **q)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, q, NULL);

	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, "screen index");
}

static int step_done(struct kt_store *st, sqlite3_stmt *q)
{
	int err = kt_stmt_done(st, q, "screen index");

	sqlite3_finalize(q);
	return err;
}

/* One write statement whose only parameter is ?1 = id. */
static int exec_id(struct kt_store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *q = NULL;
	int err = prep(st, sql, &q);

	if (err)
		return err;
	sqlite3_bind_int64(q, 1, id);
	return step_done(st, q);
}

/*
 * Walking one screen_pending blob (FORMAT.md): per line the line number
 * minus the previous one minus 1 (the first: minus first_line), the time
 * minus the previous line's (the first: minus 0) zigzag-coded, the length
 * and the text.  *line and *ts carry the previous values: start them at
 * kt_sub_sat(first_line, 1) and 0.  1 with a line, 0 at the end, -EBADMSG
 * (also for a hostile first_line outside 0..BLOCK_LINES_MAX).
 */
static int pending_next(const uint8_t **p, const uint8_t *end, int64_t *line, int64_t *ts,
			const char **text, size_t *len)
{
	uint64_t l, t, n;

	if (*line < -1 || *line > BLOCK_LINES_MAX)
		return -EBADMSG;
	if (*p == end)
		return 0;
	if (kt_varint_get(p, end, &l) || kt_varint_get(p, end, &t) ||
	    kt_varint_get(p, end, &n) || n > (uint64_t)(end - *p) || l > BLOCK_LINES_MAX ||
	    *line + 1 + (int64_t)l > BLOCK_LINES_MAX)
		return -EBADMSG;
	*line += 1 + (int64_t)l;
	*ts = (int64_t)((uint64_t)*ts + (uint64_t)unzigzag(t));
	*text = (const char *)*p;
	*len = (size_t)n;
	*p += n;
	return 1;
}

/* Append the lines of one screen_pending blob to doc, '\n'-separated. */
static int doc_add(struct kt_store *st, int64_t id, struct buf *doc, const uint8_t *p,
		   const uint8_t *end, int64_t first_line)
{
	int64_t line = kt_sub_sat(first_line, 1), ts = 0;
	const char *text;
	size_t len;
	int rc, err;

	while ((rc = pending_next(&p, end, &line, &ts, &text, &len)) == 1) {
		err = doc->len ? buf_put(doc, "\n", 1) : 0;
		if (!err)
			err = buf_put(doc, text, len);
		if (err)
			return err;
	}
	if (rc < 0) {
		pr_err("store %s: screen block %lld: corrupt pending lines", st->path, (long long)id);
		return -EBADMSG;
	}
	return 0;
}

/* The FTS document of block `id`: its pending lines (written earlier, and
 * those found since, still in memory) joined by '\n'. */
static int close_block(struct indexer *ix, int64_t id)
{
	struct kt_store *st = ix->st;
	struct buf doc = { 0 };
	sqlite3_stmt *q = NULL;
	int rc, err;

	err = prep(st, "SELECT first_line, lines FROM screen_pending WHERE block_id = ?1"
		   " ORDER BY first_line", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* an empty blob is NULL: NULL + 0 is undefined (fuzz_index_blobs) */
		const uint8_t *p = sqlite3_column_blob(q, 1) ?: (const uint8_t *)"";

		err = doc_add(st, id, &doc, p, p + sqlite3_column_bytes(q, 1),
			      sqlite3_column_int64(q, 0));
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
		goto cleanup;
	}
	sqlite3_finalize(q);
	q = NULL;
	/* pend.p is NULL when no line came since the resume (NULL + 0 is
	 * undefined: found by fuzz_index_blobs) */
	err = doc_add(st, id, &doc, ix->pend.p ? (const uint8_t *)ix->pend.p : (const uint8_t *)"",
		      ix->pend.p ? (const uint8_t *)ix->pend.p + ix->pend.len : (const uint8_t *)"",
		      ix->blk_saved);
	if (err)
		goto cleanup;
	if (doc.len) {
		err = prep(st, "INSERT INTO screen_fts (rowid, x) VALUES (?1, ?2)", &q);
		if (err)
			goto cleanup;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_text(q, 2, doc.p, (int)doc.len, SQLITE_STATIC);
		err = step_done(st, q);
		q = NULL;
		if (err)
			goto cleanup;
	}
	err = exec_id(st, "DELETE FROM screen_pending WHERE block_id = ?1", id) ?:
	      exec_id(st, "UPDATE screen_blocks SET open = 0 WHERE id = ?1", id);
cleanup:
	sqlite3_finalize(q);
	free(doc.p);
	return err;
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
	err = prep(st, "SELECT id, open FROM screen_blocks WHERE session_id = ?1 AND seq = ?2", &q);
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
	sqlite3_finalize(q);
	q = NULL;
	if (err || (exists && !open))
		return err;

	if (ix->blk_lines > ix->blk_saved) {
		if (!exists) {
			err = prep(st, "INSERT INTO screen_blocks (session_id, seq, chunk_seq, frame_index,"
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
			err = prep(st, "UPDATE screen_blocks SET end_chunk_seq = ?5, end_frame_index = ?6,"
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
		err = step_done(st, q);
		if (err)
			return err;
		if (!exists)
			id = sqlite3_last_insert_rowid(st->db);

		/* parts from a run whose position was not saved are replaced */
		err = prep(st, "DELETE FROM screen_pending WHERE block_id = ?1 AND first_line >= ?2", &q);
		if (err)
			return err;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, ix->blk_saved);
		err = step_done(st, q);
		if (err)
			return err;
		if (ix->pend.len && !close) {
			err = prep(st, "INSERT INTO screen_pending (block_id, first_line, lines)"
				   " VALUES (?1, ?2, ?3)", &q);
			if (err)
				return err;
			sqlite3_bind_int64(q, 1, id);
			sqlite3_bind_int64(q, 2, ix->blk_saved);
			sqlite3_bind_blob(q, 3, ix->pend.p, (int)ix->pend.len, SQLITE_STATIC);
			err = step_done(st, q);
			if (err)
				return err;
		}
	} else if (close) {
		/* the block ends where the last transaction left it, or here */
		err = prep(st, "UPDATE screen_blocks SET end_chunk_seq = ?1, end_frame_index = ?2"
			   " WHERE id = ?3", &q);
		if (err)
			return err;
		sqlite3_bind_int64(q, 1, ix->chunk_seq);
		sqlite3_bind_int64(q, 2, ix->frame_index);
		sqlite3_bind_int64(q, 3, id);
		err = step_done(st, q);
		if (err)
			return err;
	}
	return close ? close_block(ix, id) : 0;
}

/* The session's final screen as its own, closed block (once). */
static int final_block(struct indexer *ix, int64_t seq)
{
	struct kt_store *st = ix->st;
	sqlite3_stmt *q = NULL;
	int err;

	if (!ix->fin_lines)
		return 0;
	err = prep(st, "INSERT OR IGNORE INTO screen_blocks (session_id, seq, chunk_seq, frame_index,"
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
	err = step_done(st, q);
	if (err || !sqlite3_changes(st->db) || !ix->fin.len)
		return err;
	err = prep(st, "INSERT INTO screen_fts (rowid, x) VALUES (?1, ?2)", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, sqlite3_last_insert_rowid(st->db));
	sqlite3_bind_text(q, 2, ix->fin.p, (int)ix->fin.len, SQLITE_STATIC);
	return step_done(st, q);
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

		err = prep(st, "INSERT OR IGNORE INTO keyframes (session_id, chunk_seq, frame_index,"
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
			err = step_done(st, q);
			q = NULL;
		}
	}
	if (!err && done)
		err = final_block(ix, next_seq);
	if (!err && (have_state || done)) {
		err = prep(st, "INSERT OR REPLACE INTO screen_index (session_id, chunk_seq, frame_index,"
			   " ts_us, out_offset, kf_offset, kf_us, block_seq, block_chunk_seq,"
			   " block_frame_index, block_lines, done, rows, cols, state)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)", &q);
		if (!err) {
			kt_screen_size(ix->scr, &rows, &cols);
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
			err = step_done(st, q);
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
	err = prep(st, "SELECT chunk_seq, frame_index, ts_us, out_offset, kf_offset, kf_us,"
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
		err = zdecompress(st, KT_CODEC_ZSTD, (int64_t)raw_len, z, zlen, &raw);
		if (!err)
			err = kt_screen_restore(sqlite3_column_int(q, 11), sqlite3_column_int(q, 12),
						raw, (size_t)raw_len, &ix->scr);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
		goto out;
	}
	/* first run */
	ix->kf_us = s->start_us;
	err = screen_fresh(s, &ix->scr);
out:
	sqlite3_finalize(q);
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
	kt_screen_set_line_cb(ix.scr, on_line, &ix);
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
		err = render_frame(ix.scr, &f);
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
		err = kt_screen_visible_lines(ix.scr, final_line, &ix);
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
	free(ix.fin.p);
	kt_screen_free(ix.scr);
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

/* ---------------------------------------------------------------- seeking */

int kt_stream_open_at(struct kt_store *st, int64_t session_id, int64_t target_us,
		      struct kt_stream **stream, uint8_t **kf, size_t *kf_len,
		      int64_t *kf_ts_us, uint16_t *rows, uint16_t *cols)
{
	struct kt_session_info *s = NULL;
	sqlite3_stmt *q = NULL;
	uint8_t *raw = NULL;
	int64_t chunk_seq = 0, raw_len = 0;
	uint32_t frame_index = 0;
	int rc, err;

	if (!st || !stream || !kf || !kf_len || !kf_ts_us || !rows || !cols)
		return -EINVAL;
	*stream = NULL;
	*kf = NULL;
	*kf_len = 0;
	*kf_ts_us = 0;
	*rows = *cols = 0;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = kt_store_session_get(st, session_id, s);
	if (err)
		goto cleanup;
	*rows = s->rows;
	*cols = s->cols;
	/* keyframes_ts: the last one at or before the target (positions by
	 * frame number: pairs may be relative to since merged chunks) */
	rc = sqlite3_prepare_v2(st->db,
				"SELECT chunk_seq, frame_index, ts_us, rows, cols, raw_len, codec, data"
				" FROM keyframes WHERE session_id = ?1 AND ts_us <= ?2"
				" ORDER BY ts_us DESC, chunk_seq + frame_index DESC LIMIT 1",
				-1, &q, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "seek");
		goto cleanup;
	}
	sqlite3_bind_int64(q, 1, session_id);
	sqlite3_bind_int64(q, 2, target_us);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		chunk_seq = sqlite3_column_int64(q, 0);
		frame_index = (uint32_t)sqlite3_column_int64(q, 1);
		raw_len = sqlite3_column_int64(q, 5);
		err = zdecompress(st, sqlite3_column_int(q, 6), raw_len, sqlite3_column_blob(q, 7),
				  (size_t)sqlite3_column_bytes(q, 7), &raw);
		if (err)
			goto cleanup;
		*kf_ts_us = sqlite3_column_int64(q, 2);
		*rows = (uint16_t)sqlite3_column_int(q, 3);
		*cols = (uint16_t)sqlite3_column_int(q, 4);
	} else if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "seek");
		goto cleanup;
	}
	/* no read snapshot outlives the call (the stream's rule too) */
	sqlite3_finalize(q);
	q = NULL;
	err = kt_stream_open_pos(st, session_id, chunk_seq, frame_index, stream);
	if (err)
		goto cleanup;
	*kf = raw;
	*kf_len = (size_t)raw_len;
	raw = NULL;
cleanup:
	sqlite3_finalize(q);
	free(raw);
	free(s);
	return err;
}

/* ---------------------------------------------------------------- search */

struct squery {
	char **words;        /* ASCII-lowered */
	size_t *wlen;
	int nwords;
	char *fts;           /* "t1" AND "t2" ...: single trigrams, bound as a parameter */
};

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void squery_free(struct squery *q)
{
	for (int i = 0; i < q->nwords; i++)
		free(q->words[i]);
	free(q->words);
	free(q->wlen);
	free(q->fts);
}

/*
 * User text -> words and an FTS5 query.  Validation (length, UTF-8, empty)
 * is the command search's, with its messages.  Each word of 3+ characters
 * gives its trigrams (of characters, not bytes), each one double-quoted
 * FTS5 string (internal " doubled) that the trigram tokenizer turns into
 * exactly one token, folded as the index is; they are ANDed (detail=none
 * refuses phrases, i.e. a quoted word longer than 3 characters).  At most
 * QUERY_TRIGRAMS_MAX terms, taken round-robin over the words so each word
 * constrains the candidates: the candidates are a superset anyway, and a
 * 1000-term AND would walk 1000 doclists.  No user byte reaches SQL text.
 * Only words of 1-2 characters: q->fts NULL (no trigram to look up).
 */
static int squery_make(const char *query, struct squery *q)
{
	struct kt_search_plan plan;
	size_t len, maxw, o = 0, nterms = 0;
	size_t **starts = NULL, *nchars = NULL;
	const char *terms[QUERY_TRIGRAMS_MAX];
	size_t tlen[QUERY_TRIGRAMS_MAX];
	bool indexable;
	int err;

	memset(q, 0, sizeof(*q));
	err = kt_search_plan_make(query, &plan);
	if (err)
		return err;
	indexable = plan.fts != NULL;
	kt_search_plan_free(&plan);
	len = strlen(query);
	maxw = len / 2 + 1;
	q->words = calloc(maxw, sizeof(*q->words));
	q->wlen = calloc(maxw, sizeof(*q->wlen));
	starts = calloc(maxw, sizeof(*starts));
	nchars = calloc(maxw, sizeof(*nchars));
	/* each term: 3 characters of <= 4 bytes, quotes doubled, "" and " AND " */
	q->fts = malloc(QUERY_TRIGRAMS_MAX * (3 * 4 * 2 + 2 + 5) + 1);
	if (!q->words || !q->wlen || !starts || !nchars || !q->fts) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < len;) {
		size_t start, n = 0;
		char *w;
		int wi;

		while (i < len && is_space(query[i]))
			i++;
		start = i;
		while (i < len && !is_space(query[i]))
			i++;
		if (i == start)
			break;
		wi = q->nwords++;
		w = q->words[wi] = malloc(i - start + 1);
		starts[wi] = malloc((i - start + 1) * sizeof(size_t));
		if (!w || !starts[wi]) {
			err = -ENOMEM;
			goto cleanup;
		}
		for (size_t k = start; k < i; k++) {
			w[k - start] = ascii_lower(query[k]);
			if (((unsigned char)query[k] & 0xc0) != 0x80)
				starts[wi][n++] = k - start;
		}
		w[i - start] = 0;
		starts[wi][n] = i - start;
		nchars[wi] = n;
		q->wlen[wi] = i - start;
	}
	for (size_t round = 0; nterms < QUERY_TRIGRAMS_MAX; round++) {
		bool any = false;

		for (int wi = 0; wi < q->nwords && nterms < QUERY_TRIGRAMS_MAX; wi++) {
			const char *t;
			size_t tl, k;

			if (nchars[wi] < round + 3)
				continue;
			any = true;
			t = q->words[wi] + starts[wi][round];
			tl = starts[wi][round + 3] - starts[wi][round];
			for (k = 0; k < nterms; k++)
				if (tlen[k] == tl && !memcmp(terms[k], t, tl))
					break;
			if (k < nterms)
				continue;
			terms[nterms] = t;
			tlen[nterms++] = tl;
			if (o)
				o += sprintf(q->fts + o, " AND ");
			q->fts[o++] = '"';
			for (k = 0; k < tl; k++) {
				if (t[k] == '"')
					q->fts[o++] = '"';
				q->fts[o++] = t[k];
			}
			q->fts[o++] = '"';
		}
		if (!any)
			break;
	}
	q->fts[o] = 0;
	if (!indexable) {
		/* only words of 1-2 characters: no trigram, every block is a candidate */
		free(q->fts);
		q->fts = NULL;
	}
cleanup:
	for (int i = 0; starts && i < q->nwords; i++)
		free(starts[i]);
	free(starts);
	free(nchars);
	if (err)
		squery_free(q);
	return err;
}

struct match {
	int64_t line, ts_us;
	char *text;
};

/* Verifying one block: its lines in order, the matching ones kept. */
struct verify {
	const struct squery *q;
	int64_t next_line;   /* line number of the next line rendered */
	int64_t stop_at;     /* lines from here on are not wanted (pagination) */
	bool stop;
	struct match *m;
	size_t n, cap;
	struct buf scratch, low;
	struct kt_screen_search_stats *stats;
};

static void verify_reset(struct verify *v, int64_t stop_at)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->m[i].text);
	v->n = 0;
	v->next_line = 0;
	v->stop_at = stop_at;
	v->stop = false;
}

/* Every word a substring, ASCII case-insensitively (as the LIKE plans of
 * the command search; non-ASCII letters must match exactly). */
static int line_matches(struct verify *v, const char *t, size_t n)
{
	if (buf_reserve(&v->low, n + 1))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v->low.p[i] = ascii_lower(t[i]);
	for (int i = 0; i < v->q->nwords; i++)
		if (!memmem(v->low.p, n, v->q->words[i], v->q->wlen[i]))
			return 0;
	return 1;
}

static int consider(struct verify *v, int64_t line, int64_t ts, const char *t, size_t n)
{
	struct match *m;
	int ret;

	if (v->stats)
		v->stats->lines++;
	if (encoded_line(t, n))
		return 0; /* never indexed: not found in closed blocks either */
	ret = line_matches(v, t, n);
	if (ret <= 0)
		return ret;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;

		m = realloc(v->m, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		v->m = m;
		v->cap = cap;
	}
	m = &v->m[v->n];
	m->text = strndup(t, n);
	if (!m->text)
		return -ENOMEM;
	m->line = line;
	m->ts_us = ts;
	v->n++;
	return 0;
}

static int verify_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct verify *v = ctx;
	int64_t line = v->next_line++;
	size_t n;
	int err;

	if (line >= v->stop_at) {
		v->stop = true;
		return 0;
	}
	err = sanitize(&v->scratch, text, len, &n);
	return err ? err : consider(v, line, ts_us, v->scratch.p, n);
}

struct block {
	int64_t id, chunk_seq, end_chunk_seq;
	uint32_t frame_index, end_frame_index;
	bool final, open;
};

/* An open block: its lines are in screen_pending. */
static int verify_open(struct kt_store *st, const struct block *b, struct verify *v)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	err = prep(st, "SELECT first_line, lines FROM screen_pending WHERE block_id = ?1"
		   " ORDER BY first_line", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, b->id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* an empty blob is NULL: NULL + 0 is undefined (fuzz_index_blobs) */
		const uint8_t *p = sqlite3_column_blob(q, 1) ?: (const uint8_t *)"";
		const uint8_t *end = p + sqlite3_column_bytes(q, 1);
		int64_t line = kt_sub_sat(sqlite3_column_int64(q, 0), 1), ts = 0;
		const char *text;
		size_t len;

		while ((rc = pending_next(&p, end, &line, &ts, &text, &len)) == 1) {
			if (line >= v->stop_at)
				continue;
			err = consider(v, line, ts, text, len);
			if (err)
				goto cleanup;
		}
		if (rc < 0) {
			pr_err("store %s: screen block %lld: corrupt pending lines", st->path,
			       (long long)b->id);
			err = -EBADMSG;
			goto cleanup;
		}
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
cleanup:
	sqlite3_finalize(q);
	return err;
}

/*
 * A closed block: render it again from the keyframe at its start (or the
 * session start) up to its end, as the indexer did, and look at its lines
 * (the final block: the visible lines at its end).  Cost: one keyframe
 * restore and at most one keyframe interval of output.
 */
static int verify_closed(struct kt_store *st, const struct kt_session_info *s,
			 const struct block *b, struct verify *v)
{
	struct kt_screen *scr = NULL;
	struct kt_stream *stream = NULL;
	sqlite3_stmt *q = NULL;
	uint8_t *raw = NULL;
	struct kt_frame f;
	int64_t cs;
	uint32_t fi;
	int rc, ret, err;

	if (!b->chunk_seq && !b->frame_index) {
		err = screen_fresh(s, &scr);
	} else {
		err = prep(st, "SELECT rows, cols, raw_len, codec, data FROM keyframes"
			   " WHERE session_id = ?1 AND chunk_seq = ?2 AND frame_index = ?3", &q);
		if (err)
			return err;
		sqlite3_bind_int64(q, 1, s->id);
		sqlite3_bind_int64(q, 2, b->chunk_seq);
		sqlite3_bind_int64(q, 3, b->frame_index);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			int64_t raw_len = sqlite3_column_int64(q, 2);

			err = zdecompress(st, sqlite3_column_int(q, 3), raw_len,
					  sqlite3_column_blob(q, 4),
					  (size_t)sqlite3_column_bytes(q, 4), &raw);
			if (!err)
				err = kt_screen_restore(sqlite3_column_int(q, 0), sqlite3_column_int(q, 1),
							raw, (size_t)raw_len, &scr);
		} else if (rc == SQLITE_DONE) {
			pr_err("store %s: screen block %lld: no keyframe at its start", st->path,
			       (long long)b->id);
			err = -EBADMSG;
		} else {
			err = kt_sql_err(st, rc, "screen search");
		}
		sqlite3_finalize(q);
	}
	if (err)
		goto cleanup;
	err = kt_stream_open_pos(st, s->id, b->chunk_seq, b->frame_index, &stream);
	if (err)
		goto cleanup;
	if (!b->final)
		kt_screen_set_line_cb(scr, verify_line, v);
	while (!v->stop && (ret = kt_stream_next(stream, &f)) != 0) {
		if (ret == -EBADMSG)
			continue; /* the indexer skipped the same frames */
		if (ret < 0) {
			err = ret;
			goto cleanup;
		}
		kt_stream_tell(stream, &cs, &fi);
		if (pos_cmp(cs, fi, b->end_chunk_seq, b->end_frame_index) > 0)
			break;
		if (v->stats && f.type == KT_FRAME_OUT)
			v->stats->rendered += f.len;
		err = render_frame(scr, &f);
		if (err || !pos_cmp(cs, fi, b->end_chunk_seq, b->end_frame_index))
			break;
	}
	if (!err && b->final)
		err = kt_screen_visible_lines(scr, verify_line, v);
cleanup:
	kt_stream_close(stream);
	kt_screen_free(scr);
	free(raw);
	return err;
}

#define BLOCK_COLS(p) \
	p "id AS block_id, " p "chunk_seq, " p "frame_index, " p "end_chunk_seq, " \
	p "end_frame_index, " p "final, " p "open"
#define NBLOCK_COLS 7

int kt_store_screen_search_stats(struct kt_store *st, const char *query,
				 const struct kt_session_filter *f, kt_screen_hit_cb cb,
				 void *ctx, struct kt_screen_search_stats *stats)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct squery sq;
	struct verify v = { .q = &sq, .stats = stats };
	struct kt_session_info *s = NULL;
	sqlite3_stmt *stmt = NULL;
	char scols[1024], *sql = NULL;
	const size_t sqlcap = 8192;
	int64_t after_block = 0, after_line = 0, nhits = 0;
	size_t o;
	int n = 0, rc, err;

	if (!st || !query || !cb)
		return -EINVAL;
	if (!f)
		f = &any;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	err = squery_make(query, &sq);
	if (err)
		return err;
	sql = malloc(sqlcap);
	s = malloc(sizeof(*s));
	if (!sql || !s) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!kt_session_cols_prefixed("s.", scols, sizeof(scols))) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	if (f->after_id > 0) {
		after_block = f->after_id >> LINE_BITS;
		after_line = f->after_id & BLOCK_LINES_MAX;
	}
	/*
	 * Candidate blocks newest first: closed ones whose trigram set holds
	 * every query trigram, and the open ones (not in the FTS yet).
	 * ?1..?6 session filter, ?7 FTS query, ?8 last block (pagination).
	 * CROSS JOIN keeps the FTS index the outer loop.
	 */
	if (sq.fts) {
		snprintf(sql, sqlcap,
			 "SELECT %s, " BLOCK_COLS("b.") " FROM screen_fts"
			 " CROSS JOIN screen_blocks b ON b.id = screen_fts.rowid"
			 " CROSS JOIN sessions s ON s.id = b.session_id"
			 " WHERE screen_fts MATCH ?7%s", scols,
			 after_block ? " AND screen_fts.rowid <= ?8" : "");
		err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
		if (err)
			goto cleanup;
		o = strlen(sql);
		n = 0;
		snprintf(sql + o, sqlcap - o,
			 " UNION ALL SELECT %s, " BLOCK_COLS("b.") " FROM screen_blocks b"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE b.open = 1%s",
			 scols, after_block ? " AND b.id <= ?8" : "");
	} else {
		/* short words only: every block of the filter's sessions */
		snprintf(sql, sqlcap,
			 "SELECT %s, " BLOCK_COLS("b.") " FROM screen_blocks b"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE 1%s",
			 scols, after_block ? " AND b.id <= ?8" : "");
	}
	err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
	if (err)
		goto cleanup;
	o = strlen(sql);
	if ((size_t)snprintf(sql + o, sqlcap - o, " ORDER BY block_id DESC") >= sqlcap - o) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "screen search");
		goto cleanup;
	}
	kt_session_filter_bind(stmt, f, 1);
	if (sq.fts)
		sqlite3_bind_text(stmt, 7, sq.fts, -1, SQLITE_STATIC);
	if (after_block)
		sqlite3_bind_int64(stmt, 8, after_block);

	s->id = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int k = sqlite3_column_count(stmt) - NBLOCK_COLS;
		struct block b;

		if (sqlite3_column_int64(stmt, 0) != s->id || !s->id)
			kt_session_from_row(stmt, 0, s);
		b.id = sqlite3_column_int64(stmt, k);
		if (b.id <= 0 || b.id > INT64_MAX >> LINE_BITS) {
			/* hit ids are id << LINE_BITS: a hostile rowid overflows */
			pr_err("store %s: screen block id %lld out of range", st->path,
			       (long long)b.id);
			err = -EBADMSG;
			goto cleanup;
		}
		b.chunk_seq = sqlite3_column_int64(stmt, k + 1);
		b.frame_index = (uint32_t)sqlite3_column_int64(stmt, k + 2);
		b.end_chunk_seq = sqlite3_column_int64(stmt, k + 3);
		b.end_frame_index = (uint32_t)sqlite3_column_int64(stmt, k + 4);
		b.final = sqlite3_column_int(stmt, k + 5) != 0;
		b.open = sqlite3_column_int(stmt, k + 6) != 0;
		if (stats) {
			stats->blocks++;
			stats->open_blocks += b.open;
		}
		verify_reset(&v, b.id == after_block ? after_line : BLOCK_LINES_MAX + 1);
		err = b.open ? verify_open(st, &b, &v) : verify_closed(st, s, &b, &v);
		if (err)
			goto cleanup;
		/* newest first within the block too: ids must only go down */
		for (size_t i = v.n; i-- > 0;) {
			struct kt_screen_hit h = {
				.id = b.id << LINE_BITS | v.m[i].line,
				.session_id = s->id,
				.ts_us = v.m[i].ts_us,
				.final = b.final,
				.text = v.m[i].text,
			};

			if (stats)
				stats->hits++;
			err = cb(s, &h, ctx);
			if (err)
				goto cleanup;
			if (f->limit > 0 && ++nhits >= f->limit)
				goto cleanup;
		}
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
cleanup:
	sqlite3_finalize(stmt);
	verify_reset(&v, 0);
	free(v.m);
	free(v.scratch.p);
	free(v.low.p);
	squery_free(&sq);
	free(sql);
	free(s);
	return err;
}

int kt_store_screen_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f,
			   kt_screen_hit_cb cb, void *ctx)
{
	return kt_store_screen_search_stats(st, query, f, cb, ctx, NULL);
}
