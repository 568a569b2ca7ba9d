// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index: a session's OUT and RESIZE frames rendered through a
 * kt_screen, giving keyframes (seeking without replaying from the start)
 * and the text of what was displayed (screen text search).  Schema v2 in
 * schema.c; the tables and their meaning in FORMAT.md, "Screen index".
 *
 * kt_index_session renders outside any transaction and writes what it
 * found in short ones (one per MiB of output), so the recorder, the other
 * writer, is never held up by rendering.  Each write transaction also moves
 * the session's screen_index row: the position reached (chunk, frame), the
 * line counter and the screen there as a keyframe.  A run that dies between
 * transactions redoes the frames after the last saved position; lines are
 * numbered per session (screen_lines.seq) and keyframes keyed by position,
 * so the redo inserts nothing twice (INSERT OR IGNORE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_int.h"
#include "screen.h"
#include "log.h"

#define KF_EVERY_BYTES (1u << 20)        /* a keyframe per MiB of output */
#define KF_EVERY_US (30 * 1000000LL)     /* or per 30 s of session time */
#define KF_MIN_BYTES (64u << 10)         /* but never two within 64 KiB */
#define TXN_BYTES (1u << 20)             /* output rendered per write transaction */
#define DEFAULT_BUDGET (4u << 20)
#define KF_RAW_MAX (16u << 20)           /* largest keyframe a reader accepts */
#define DEFAULT_ROWS 24
#define DEFAULT_COLS 80

struct pend_line {
	int64_t seq, ts_us;
	bool final;
	size_t len;
	char *text;
};

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
	int64_t ts_us, out_offset, line_seq, kf_offset, kf_us;
	/* found since the last write transaction */
	struct pend_line *lines;
	size_t nlines, cap;
	struct pend_kf kf[4];
	int nkf;
};

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

/* ---------------------------------------------------------------- writing */

static int on_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct indexer *ix = ctx;
	struct pend_line *l;

	if (ix->nlines == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 256;
		struct pend_line *p = realloc(ix->lines, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ix->lines = p;
		ix->cap = cap;
	}
	l = &ix->lines[ix->nlines];
	l->text = malloc(len * 3 + 1);
	if (!l->text)
		return -ENOMEM;
	/* cells hold valid codepoints, but keep the column text-typed */
	l->len = kt_utf8_sanitize(l->text, text, len);
	l->seq = ix->line_seq++;
	l->ts_us = ts_us;
	l->final = false;
	ix->nlines++;
	return 0;
}

static int final_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct indexer *ix = ctx;
	int err = on_line(text, len, ts_us, ctx);

	if (!err)
		ix->lines[ix->nlines - 1].final = true;
	return err;
}

static void pending_free(struct indexer *ix)
{
	for (size_t i = 0; i < ix->nlines; i++)
		free(ix->lines[i].text);
	ix->nlines = 0;
	for (int i = 0; i < ix->nkf; i++)
		free(ix->kf[i].z);
	ix->nkf = 0;
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

static int keyframe(struct indexer *ix)
{
	struct pend_kf *k;
	int err;

	if (ix->nkf == (int)(sizeof(ix->kf) / sizeof(ix->kf[0])))
		return 0; /* the caller writes before more fit; never reached */
	k = &ix->kf[ix->nkf];
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
	ix->nkf++;
	ix->kf_offset = ix->out_offset;
	ix->kf_us = ix->ts_us;
	return 0;
}

static int exec_bound(struct kt_store *st, sqlite3_stmt **stmt, const char *sql,
		      const char *what)
{
	int rc;

	if (*stmt)
		return 0;
	rc = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);
	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, what);
}

/*
 * One write transaction: the pending lines and keyframes, and the position
 * with the screen (when it can be serialized; otherwise the position stays
 * behind and the next run renders those frames again, inserting nothing
 * twice).  `done`: the final screen is in the lines.
 */
static int flush(struct indexer *ix, bool done)
{
	struct kt_store *st = ix->st;
	sqlite3_stmt *ins_line = NULL, *ins_kf = NULL, *pos = NULL;
	void *z = NULL;
	size_t zlen = 0, raw_len = 0;
	bool own = false, have_state;
	int rows, cols, err;

	err = snapshot(ix, &z, &zlen, &raw_len);
	have_state = !err;
	if (err && err != -EAGAIN)
		goto cleanup;
	err = exec_bound(st, &ins_line,
			 "INSERT OR IGNORE INTO screen_lines (session_id, seq, ts_us, final, text)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)", "screen index");
	if (!err)
		err = exec_bound(st, &ins_kf,
				 "INSERT OR IGNORE INTO keyframes (session_id, chunk_seq, frame_index,"
				 " ts_us, out_offset, rows, cols, raw_len, codec, data)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", "screen index");
	if (!err)
		err = exec_bound(st, &pos,
				 "INSERT OR REPLACE INTO screen_index (session_id, chunk_seq,"
				 " frame_index, ts_us, out_offset, line_seq, kf_offset, kf_us, done,"
				 " rows, cols, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
				 " ?11, ?12)", "screen index");
	if (err)
		goto cleanup;

	err = kt_op_begin(st, &own);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < ix->nlines && !err; i++) {
		const struct pend_line *l = &ix->lines[i];

		sqlite3_reset(ins_line);
		sqlite3_bind_int64(ins_line, 1, ix->sid);
		sqlite3_bind_int64(ins_line, 2, l->seq);
		sqlite3_bind_int64(ins_line, 3, l->ts_us);
		sqlite3_bind_int(ins_line, 4, l->final);
		sqlite3_bind_text(ins_line, 5, l->text, (int)l->len, SQLITE_STATIC);
		err = kt_stmt_done(st, ins_line, "screen index: lines");
	}
	for (int i = 0; i < ix->nkf && !err; i++) {
		const struct pend_kf *k = &ix->kf[i];

		sqlite3_reset(ins_kf);
		sqlite3_bind_int64(ins_kf, 1, ix->sid);
		sqlite3_bind_int64(ins_kf, 2, k->chunk_seq);
		sqlite3_bind_int64(ins_kf, 3, k->frame_index);
		sqlite3_bind_int64(ins_kf, 4, k->ts_us);
		sqlite3_bind_int64(ins_kf, 5, k->out_offset);
		sqlite3_bind_int(ins_kf, 6, k->rows);
		sqlite3_bind_int(ins_kf, 7, k->cols);
		sqlite3_bind_int64(ins_kf, 8, (int64_t)k->raw_len);
		sqlite3_bind_int(ins_kf, 9, KT_CODEC_ZSTD);
		sqlite3_bind_blob(ins_kf, 10, k->z, (int)k->zlen, SQLITE_STATIC);
		err = kt_stmt_done(st, ins_kf, "screen index: keyframes");
	}
	if (!err && (have_state || done)) {
		kt_screen_size(ix->scr, &rows, &cols);
		sqlite3_bind_int64(pos, 1, ix->sid);
		sqlite3_bind_int64(pos, 2, ix->chunk_seq);
		sqlite3_bind_int64(pos, 3, ix->frame_index);
		sqlite3_bind_int64(pos, 4, ix->ts_us);
		sqlite3_bind_int64(pos, 5, ix->out_offset);
		sqlite3_bind_int64(pos, 6, ix->line_seq);
		sqlite3_bind_int64(pos, 7, ix->kf_offset);
		sqlite3_bind_int64(pos, 8, ix->kf_us);
		sqlite3_bind_int(pos, 9, done);
		sqlite3_bind_int(pos, 10, rows);
		sqlite3_bind_int(pos, 11, cols);
		if (have_state)
			sqlite3_bind_blob(pos, 12, z, (int)zlen, SQLITE_STATIC);
		else
			sqlite3_bind_null(pos, 12);
		err = kt_stmt_done(st, pos, "screen index: position");
	}
	err = kt_op_end(st, own, err);
	if (!err)
		pending_free(ix);
cleanup:
	sqlite3_finalize(ins_line);
	sqlite3_finalize(ins_kf);
	sqlite3_finalize(pos);
	free(z);
	return err;
}

/* ---------------------------------------------------------------- resume */

/*
 * The saved position and screen, or a fresh start.  *done: nothing left.
 * The screen is restored from the saved keyframe (raw_len is kept in the
 * zstd frame header: screen_index.state is one zstd frame).
 */
static int resume(struct indexer *ix, const struct kt_session_info *s, bool *done)
{
	struct kt_store *st = ix->st;
	sqlite3_stmt *q = NULL;
	uint8_t *raw = NULL;
	int rc, err = 0;

	*done = false;
	rc = sqlite3_prepare_v2(st->db,
				"SELECT chunk_seq, frame_index, ts_us, out_offset, line_seq, kf_offset,"
				" kf_us, done, rows, cols, state FROM screen_index WHERE session_id = ?1",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "screen index");
	sqlite3_bind_int64(q, 1, ix->sid);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *z = sqlite3_column_blob(q, 10);
		size_t zlen = (size_t)sqlite3_column_bytes(q, 10);
		unsigned long long raw_len;

		ix->chunk_seq = sqlite3_column_int64(q, 0);
		ix->frame_index = (uint32_t)sqlite3_column_int64(q, 1);
		ix->ts_us = sqlite3_column_int64(q, 2);
		ix->out_offset = sqlite3_column_int64(q, 3);
		ix->line_seq = sqlite3_column_int64(q, 4);
		ix->kf_offset = sqlite3_column_int64(q, 5);
		ix->kf_us = sqlite3_column_int64(q, 6);
		*done = sqlite3_column_int(q, 7) != 0;
		if (*done)
			goto out;
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
			err = kt_screen_restore(sqlite3_column_int(q, 8), sqlite3_column_int(q, 9),
						raw, (size_t)raw_len, &ix->scr);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "screen index");
		goto out;
	}
	/* first run: the session's starting size */
	ix->kf_us = s->start_us;
	err = kt_screen_new(s->rows && s->rows <= KT_SCREEN_MAX_DIM ? s->rows : DEFAULT_ROWS,
			    s->cols >= 2 && s->cols <= KT_SCREEN_MAX_DIM ? s->cols : DEFAULT_COLS,
			    &ix->scr);
	/* without a tty, the user's own terminal turned \n into \r\n */
	if (!err && !s->has_tty)
		kt_screen_feed(ix->scr, "\x1b[20h", 5);
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
		kt_screen_set_time(ix.scr, f.ts_us);
		if (f.type == KT_FRAME_OUT) {
			ix.err = kt_screen_feed(ix.scr, f.data, f.len);
			ix.out_offset += f.len;
			done_bytes += f.len;
			txn_bytes += f.len;
		} else if (f.type == KT_FRAME_RESIZE) {
			uint16_t cols, rows;

			if (!kt_frame_resize_parse(&f, &cols, &rows) && rows && cols >= 2 &&
			    rows <= KT_SCREEN_MAX_DIM && cols <= KT_SCREEN_MAX_DIM)
				ix.err = kt_screen_resize(ix.scr, rows, cols);
		}
		if (ix.err) {
			err = ix.err;
			goto cleanup;
		}
		ix.ts_us = f.ts_us;
		kt_stream_tell(stream, &ix.chunk_seq, &ix.frame_index);
		if (f.type == KT_FRAME_OUT &&
		    (ix.out_offset - ix.kf_offset >= KF_EVERY_BYTES ||
		     (ix.ts_us - ix.kf_us >= KF_EVERY_US &&
		      ix.out_offset - ix.kf_offset >= KF_MIN_BYTES))) {
			err = keyframe(&ix);
			if (err)
				goto cleanup;
		}
		if (txn_bytes >= TXN_BYTES) {
			err = flush(&ix, false);
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
			err = flush(&ix, true);
		goto cleanup;
	}
	err = flush(&ix, false);
cleanup:
	kt_stream_close(stream);
	pending_free(&ix);
	free(ix.lines);
	kt_screen_free(ix.scr);
	free(s);
	if (err)
		return err;
	return more ? 1 : 0;
}

int kt_index_pending(struct kt_store *st, kt_index_pending_cb cb, void *ctx)
{
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	if (!st || !cb)
		return -EINVAL;
	/* not cached: the callback indexes, which writes */
	rc = sqlite3_prepare_v2(st->db,
				"SELECT s.id FROM sessions s LEFT JOIN screen_index x ON x.session_id = s.id"
				" WHERE (x.session_id IS NULL AND (s.bytes_out > 0 OR s.state != 0))"
				"    OR (x.done = 0 AND (x.out_offset < s.bytes_out OR s.state != 0))"
				" ORDER BY s.id", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "screen index pending");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = cb(sqlite3_column_int64(q, 0), ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen index pending");
cleanup:
	sqlite3_finalize(q);
	return err;
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
	/* keyframes_ts: the last one at or before the target */
	rc = sqlite3_prepare_v2(st->db,
				"SELECT chunk_seq, frame_index, ts_us, rows, cols, raw_len, codec, data"
				" FROM keyframes WHERE session_id = ?1 AND ts_us <= ?2"
				" ORDER BY ts_us DESC, chunk_seq DESC, frame_index DESC LIMIT 1",
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

int kt_store_screen_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f,
			   kt_screen_hit_cb cb, void *ctx)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct kt_search_plan plan = { 0 };
	struct kt_session_info *s = NULL;
	struct kt_screen_hit h;
	sqlite3_stmt *stmt = NULL;
	char scols[1024], *sql = NULL;
	size_t sqlcap, o;
	int n = 0, rc, err;

	if (!st || !query || !cb)
		return -EINVAL;
	if (!f)
		f = &any;
	err = kt_search_plan_make(query, &plan);
	if (err)
		return err;
	sqlcap = 4096 + (size_t)plan.nlike * 64;
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
	/*
	 * ?1..?6 session filter, ?7 FTS query, ?8 after_id, ?9 limit, ?10..
	 * LIKE for the words trigram cannot index.  CROSS JOIN keeps the FTS
	 * index the outer loop so ORDER BY rowid DESC LIMIT stops early.
	 */
	if (plan.fts)
		o = snprintf(sql, sqlcap,
			     "SELECT %s, l.id, l.session_id, l.ts_us, l.final, l.text"
			     " FROM screen_lines_fts CROSS JOIN screen_lines l"
			     " ON l.id = screen_lines_fts.rowid"
			     " CROSS JOIN sessions s ON s.id = l.session_id"
			     " WHERE screen_lines_fts MATCH ?7", scols);
	else
		o = snprintf(sql, sqlcap,
			     "SELECT %s, l.id, l.session_id, l.ts_us, l.final, l.text"
			     " FROM screen_lines l CROSS JOIN sessions s ON s.id = l.session_id"
			     " WHERE 1", scols);
	for (int i = 0; i < plan.nlike; i++)
		if (!plan.fts || !plan.indexed[i])
			o += snprintf(sql + o, sqlcap - o, " AND l.text LIKE ?%d ESCAPE '\\'", 10 + i);
	if (f->after_id > 0)
		o += snprintf(sql + o, sqlcap - o, " AND l.id < ?8");
	err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
	if (err)
		goto cleanup;
	o = strlen(sql);
	o += snprintf(sql + o, sqlcap - o, " ORDER BY %s DESC",
		      plan.fts ? "screen_lines_fts.rowid" : "l.id");
	if (f->limit > 0)
		snprintf(sql + o, sqlcap - o, " LIMIT ?9");

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "screen search");
		goto cleanup;
	}
	kt_session_filter_bind(stmt, f, 1);
	if (plan.fts)
		sqlite3_bind_text(stmt, 7, plan.fts, -1, SQLITE_STATIC);
	if (f->after_id > 0)
		sqlite3_bind_int64(stmt, 8, f->after_id);
	if (f->limit > 0)
		sqlite3_bind_int(stmt, 9, f->limit);
	for (int i = 0; i < plan.nlike; i++)
		if (!plan.fts || !plan.indexed[i])
			sqlite3_bind_text(stmt, 10 + i, plan.like[i], -1, SQLITE_STATIC);

	s->id = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int k = sqlite3_column_count(stmt) - 5;
		const char *text;

		if (sqlite3_column_int64(stmt, 0) != s->id || !s->id)
			kt_session_from_row(stmt, 0, s);
		h.id = sqlite3_column_int64(stmt, k);
		h.session_id = sqlite3_column_int64(stmt, k + 1);
		h.ts_us = sqlite3_column_int64(stmt, k + 2);
		h.final = sqlite3_column_int(stmt, k + 3) != 0;
		text = (const char *)sqlite3_column_text(stmt, k + 4);
		h.text = text ? text : "";
		err = cb(s, &h, ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
cleanup:
	sqlite3_finalize(stmt);
	kt_search_plan_free(&plan);
	free(sql);
	free(s);
	return err;
}
