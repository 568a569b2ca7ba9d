// SPDX-License-Identifier: Apache-2.0
/*
 * kt_stream: a session's frames in order across chunks, loading one chunk
 * at a time.  The chunk query is reset as soon as a chunk is copied out, so
 * no read snapshot is held between calls: a follower sees every chunk the
 * recorder commits later, and never holds back WAL checkpoints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_int.h"
#include "log.h"
#include "satint.h"
#include "pg/pgr_stream.h"

struct kt_stream {
	struct kt_store *st;
	sqlite3_stmt *q_chunk;     /* SQLite */
	struct kt_pgr_skey pgkey;  /* PostgreSQL (st->pg): the session's rows */
	ZSTD_DCtx *dctx;
	int64_t session_id;
	int64_t next;         /* session frame number of the next frame to load */
	int64_t from_us;
	int64_t last_ts;      /* last returned timestamp, for clamping */
	uint8_t *buf;         /* the current chunk, decompressed */
	size_t cap;
	uint8_t *scratch;     /* codec 2 before un-splitting */
	size_t scratch_cap;
	struct kt_frame_decoder dec;
	bool in_chunk;
	int64_t cur_seq;      /* the chunk being decoded, frames decoded of it */
	uint32_t cur_frame;
	int64_t skip;         /* frames at the start of this chunk already seen */
};

/* One integer from a one-off query with (?1 = session, ?2 = arg). */
static int query_i64(struct kt_store *st, const char *sql, int64_t session_id,
		     int64_t arg, int64_t *val, bool *found)
{
	sqlite3_stmt *stmt = NULL;
	int rc, err = 0;

	*found = false;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "stream open");
	sqlite3_bind_int64(stmt, 1, session_id);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int64(stmt, 2, arg);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		*val = sqlite3_column_int64(stmt, 0);
		*found = true;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "stream open");
	}
	sqlite3_finalize(stmt);
	return err;
}

/* SQLite: the chunk query, and the frame to start at for from_us. */
static int sqlite_locate(struct kt_stream *s, int64_t from_us)
{
	struct kt_store *st = s->st;
	int64_t v;
	bool found;
	int rc, err;

	rc = sqlite3_prepare_v3(st->db,
				/*
				 * The chunk holding frame ?2, then the one after it.
				 * Chunk seq is the session frame number of the chunk's
				 * first frame, so this survives compaction replacing
				 * the chunk we read last by one that starts earlier.
				 * A hole (no chunk at or before ?2): the first after.
				 */
				"SELECT seq, nframes, start_us, raw_len, codec, data FROM chunks"
				" WHERE session_id = ?1 AND seq >= coalesce((SELECT max(seq) FROM chunks"
				"  WHERE session_id = ?1 AND seq <= ?2), ?2) ORDER BY seq LIMIT 2",
				-1, SQLITE_PREPARE_PERSISTENT, &s->q_chunk, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "stream open");
	if (!from_us)
		return 0;
	/* end_us grows with seq, so the chunks_end index finds the first
	 * chunk that can hold a frame at or after from_us. */
	err = query_i64(st, "SELECT seq FROM chunks WHERE session_id = ?1 AND end_us >= ?2"
			" ORDER BY end_us, seq LIMIT 1", s->session_id, from_us, &v, &found);
	if (err)
		return err;
	if (found) {
		s->next = v;
		return 0;
	}
	/* everything stored is older: follow from the next chunk */
	err = query_i64(st, "SELECT max(seq + nframes) FROM chunks WHERE session_id = ?1",
			s->session_id, 0, &v, &found);
	if (!err)
		s->next = found ? v : 0;
	return err;
}

int kt_stream_open(struct kt_store *st, int64_t session_id, int64_t from_us,
		   struct kt_stream **out)
{
	struct kt_stream *s = NULL;
	int64_t v;
	bool found;
	int err;

	if (!st || !out)
		return -EINVAL;
	*out = NULL;
	if (!st->pg) {
		err = query_i64(st, "SELECT 1 FROM sessions WHERE id = ?1", session_id, 0, &v,
				&found);
		if (err)
			return err;
		if (!found)
			return -ENOENT;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->st = st;
	s->session_id = session_id;
	s->from_us = from_us;
	s->last_ts = INT64_MIN;
	s->dctx = ZSTD_createDCtx();
	if (!s->dctx) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (st->pg)
		err = kt_pgr_stream_locate(st->pg, session_id, from_us, &s->pgkey, &s->next);
	else
		err = sqlite_locate(s, from_us);
	if (err)
		goto cleanup;
	*out = s;
	return 0;
cleanup:
	kt_stream_close(s);
	return err;
}

void kt_stream_close(struct kt_stream *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->q_chunk);
	ZSTD_freeDCtx(s->dctx);
	free(s->buf);
	free(s->scratch);
	free(s);
}

static int corrupt(struct kt_stream *s, int64_t seq, const char *why)
{
	pr_err("store %s: session %lld chunk %lld: %s", s->st->path,
	       (long long)s->session_id, (long long)seq, why);
	return -EBADMSG;
}

/* SQLite: the chunk holding frame s->next, else the next one (1), none
 * (0), <0.  Row pointers valid until the statement is reset. */
static int sqlite_chunk_at(struct kt_stream *s, struct kt_chunk_row *row)
{
	sqlite3_stmt *q = s->q_chunk;
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, s->session_id);
	sqlite3_bind_int64(q, 2, s->next);
	rc = sqlite3_step(q);
	/* the first row may be the chunk read last, fully consumed */
	if (rc == SQLITE_ROW &&
	    sqlite3_column_int64(q, 0) + sqlite3_column_int64(q, 1) <= s->next)
		rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return kt_sql_err(s->st, rc, "stream read");
	row->seq = sqlite3_column_int64(q, 0);
	row->nframes = sqlite3_column_int64(q, 1);
	row->start_us = sqlite3_column_int64(q, 2);
	row->raw_len = sqlite3_column_int64(q, 3);
	row->codec = sqlite3_column_int(q, 4);
	row->data = sqlite3_column_blob(q, 5);
	row->len = (size_t)sqlite3_column_bytes(q, 5);
	return 1;
}

/* 1 = next chunk loaded, 0 = none stored yet, <0 error. */
static int load_chunk(struct kt_stream *s)
{
	struct kt_chunk_row row;
	void *hold = NULL;
	const char *why;
	int err;

	if (s->st->pg)
		err = kt_pgr_chunk_at(s->st->pg, &s->pgkey, s->next, &row, &hold);
	else
		err = sqlite_chunk_at(s, &row);
	if (err <= 0)
		goto out;
	/* frames before s->next were returned already (from a chunk that
	 * compaction has merged into this one since) or are to be skipped
	 * (kt_stream_open_pos) */
	s->skip = s->next > row.seq ? kt_sub_sat(s->next, row.seq) : 0;
	/* whatever happens to this chunk, the next call moves on */
	s->next = kt_add_sat(row.seq, row.nframes > 0 ? row.nframes : 1);

	if (row.raw_len < 0 || row.raw_len > KT_CHUNK_RAW_MAX) {
		err = corrupt(s, row.seq, "raw_len out of range");
		goto out;
	}
	if ((size_t)row.raw_len > s->cap) {
		void *p = realloc(s->buf, row.raw_len);

		if (!p) {
			err = -ENOMEM;
			goto out;
		}
		s->buf = p;
		s->cap = row.raw_len;
	}
	err = kt_chunk_decode(s->dctx, row.codec, row.data, row.len, s->buf, row.raw_len,
			      &s->scratch, &s->scratch_cap, &why);
	if (err) {
		if (err == -EBADMSG)
			corrupt(s, row.seq, why);
		goto out;
	}
	kt_frame_decoder_init(&s->dec, s->buf, row.raw_len, row.start_us);
	s->in_chunk = true;
	s->cur_seq = row.seq;
	s->cur_frame = 0;
	err = 1;
out:
	/* release the read snapshot (SQLite) or the result before handing
	 * frames out */
	if (s->st->pg)
		kt_pgr_row_free(hold);
	else
		sqlite3_reset(s->q_chunk);
	return err;
}

int kt_stream_next(struct kt_stream *s, struct kt_frame *f)
{
	int ret;

	if (!s || !f)
		return -EINVAL;
	for (;;) {
		if (!s->in_chunk) {
			ret = load_chunk(s);
			if (ret <= 0)
				return ret;
		}
		ret = kt_frame_next(&s->dec, f);
		if (ret == 0) {
			s->in_chunk = false;
			continue;
		}
		if (ret < 0) {
			s->in_chunk = false;
			return corrupt(s, s->cur_seq, "malformed frame");
		}
		s->cur_frame++;
		if (s->cur_frame <= s->skip)
			continue;
		if (f->ts_us < s->last_ts)
			f->ts_us = s->last_ts;
		if (s->from_us && f->ts_us < s->from_us)
			continue;
		s->last_ts = f->ts_us;
		return 1;
	}
}

int kt_stream_open_pos(struct kt_store *st, int64_t session_id, int64_t chunk_seq,
		       uint32_t frame_index, struct kt_stream **out)
{
	int err = kt_stream_open(st, session_id, 0, out);

	if (err)
		return err;
	/* a position is a session frame number (FORMAT.md): valid even when
	 * chunk_seq names a chunk that compaction has merged into another */
	(*out)->next = kt_add_sat(chunk_seq, frame_index);
	return 0;
}

void kt_stream_tell(const struct kt_stream *s, int64_t *chunk_seq, uint32_t *frame_index)
{
	*chunk_seq = s->cur_seq;
	*frame_index = s->cur_frame;
}
