// SPDX-License-Identifier: Apache-2.0
/*
 * The terminal stream on the cluster store (pgr_stream.h): the chunk and
 * keyframe rows the node's SQLite queries in stream.c and index_seek.c
 * read, here by (src, session_id) on PostgreSQL.  Same positions (a
 * chunk's seq is its first frame's number, FORMAT.md "Positions"), same
 * order, same bytes: the shipper copies the node's chunks and keyframes as
 * they are, so the frames decoded from them are the node's.
 *
 * Every call is one short query in its own (read-only) transaction, as on
 * SQLite no snapshot outlives a call: a follower polling with
 * kt_stream_next sees each batch the shipper commits.  The query that
 * finds a chunk transfers only the chunk it returns (unlike SQLite's
 * stepping, a PostgreSQL result is sent whole: the "consumed, take the
 * next" test is in the WHERE clause, not in the caller).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pgr_int.h"
#include "pgr_stream.h"

_Static_assert(sizeof(((struct kt_pgr_skey *)0)->src) == KT_PGR_SRC_MAX,
	       "a stream key holds a kt_pgr_session_key src");

void kt_pgr_row_free(void *hold)
{
	PQclear(hold);
}

/*
 * The row of a one-row query r (NULL: the query failed with err): its
 * bigint columns 0..n-1 into *out[i], column n (bytea) into *data and *len,
 * the shape of a chunk and of a keyframe row.  1 = a row (r is kept for
 * the data), 0 = none, <0 error (r is cleared in both cases).
 */
static int one_row(struct kt_pgr *pg, PGresult *r, int err, const char *what,
		   int64_t *const *out, int n, const void **data, size_t *len)
{
	if (!r)
		return err;
	err = PQntuples(r) == 0 ? 1 : 0;
	for (int i = 0; !err && i < n; i++)
		err = kt_pgr_i64(pg, r, 0, i, what, out[i]);
	if (!err)
		err = kt_pgr_bytes(pg, r, 0, n, what, false, (const char **)data, len);
	if (err) {
		PQclear(r);
		return err > 0 ? 0 : err;
	}
	return 1;
}

/* kt_pgr_prepared, again once when the connection broke: a follower polls
 * for as long as the session lasts and goes on after a server restart or
 * a dropped connection (the retry reconnects: pgr_conn.c). */
static PGresult *query(struct kt_pgr *pg, const char *name, const char *sql, int n,
		       const char *const *vals, const char *what, int *err)
{
	PGresult *r = kt_pgr_prepared(pg, name, sql, n, vals, what, err);

	if (!r && *err == -ECONNRESET)
		r = kt_pgr_prepared(pg, name, sql, n, vals, what, err);
	return r;
}

/* One bigint of row 0 (NULL: *found false). */
static int one_i64(struct kt_pgr *pg, const char *name, const char *sql, int n,
		   const char *const *vals, const char *what, int64_t *v, bool *found)
{
	PGresult *r;
	int err = -EIO;

	*found = false;
	r = query(pg, name, sql, n, vals, what, &err);
	if (!r)
		return err;
	err = 0;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		err = kt_pgr_i64(pg, r, 0, 0, what, v);
		*found = !err;
	}
	PQclear(r);
	return err;
}

int kt_pgr_stream_locate(struct kt_pgr *pg, int64_t gid, int64_t from_us,
			 struct kt_pgr_skey *key, int64_t *next)
{
	char b[2][24];
	const char *v[3];
	bool found;
	int err;

	*next = 0;
	err = kt_pgr_session_key(pg, gid, key->src, &key->id);
	if (err || !from_us)
		return err;
	v[0] = key->src;
	v[1] = kt_pgr_i64_param(key->id, b[0]);
	v[2] = kt_pgr_i64_param(from_us, b[1]);
	/* chunks_end: end_us grows with seq (stream.c) */
	err = one_i64(pg, "kt_pgr_stream_from",
		      "SELECT seq FROM chunks WHERE src = $1 AND session_id = $2 AND end_us >= $3"
		      " ORDER BY end_us, seq LIMIT 1", 3, v, "stream open", next, &found);
	if (err || found)
		return err;
	/* everything stored is older: follow from the next chunk */
	err = one_i64(pg, "kt_pgr_stream_end",
		      "SELECT max(seq + nframes) FROM chunks WHERE src = $1 AND session_id = $2",
		      2, v, "stream open", next, &found);
	if (!found)
		*next = 0;
	return err;
}

int kt_pgr_chunk_at(struct kt_pgr *pg, const struct kt_pgr_skey *key, int64_t next,
		    struct kt_chunk_row *row, void **hold)
{
	static const char what[] = "stream read";
	char b[2][24];
	const char *v[] = { key->src, kt_pgr_i64_param(key->id, b[0]),
			    kt_pgr_i64_param(next, b[1]) };
	int64_t codec;
	PGresult *r;
	int err = -EIO;

	*hold = NULL;
	/*
	 * From the chunk holding frame $3 (the last one starting at or before
	 * it; a hole: $3 itself) forward, the first that still has frames at
	 * or after $3: that chunk, or the next one when it is fully consumed.
	 * The primary key's range scan, one row sent.
	 */
	r = query(pg, "kt_pgr_chunk_at",
			    "SELECT seq, nframes, start_us, raw_len, codec, data FROM chunks"
			    " WHERE src = $1 AND session_id = $2 AND seq >= coalesce((SELECT max(seq)"
			    "  FROM chunks WHERE src = $1 AND session_id = $2 AND seq <= $3), $3)"
			    " AND seq + nframes > $3 ORDER BY seq LIMIT 1", 3, v, what, &err);
	err = one_row(pg, r, err, what, (int64_t *const[]){ &row->seq, &row->nframes,
		      &row->start_us, &row->raw_len, &codec }, 5, &row->data, &row->len);
	if (err <= 0)
		return err;
	/* out of range: the decoder rejects it as an unknown codec */
	row->codec = codec >= 0 && codec <= 255 ? (int)codec : 255;
	*hold = r;
	return 1;
}

int kt_pgr_keyframe_at(struct kt_pgr *pg, const struct kt_pgr_skey *key, int64_t target_us,
		       struct kt_kf_row *row, void **hold)
{
	static const char what[] = "seek";
	char b[2][24];
	const char *v[] = { key->src, kt_pgr_i64_param(key->id, b[0]),
			    kt_pgr_i64_param(target_us, b[1]) };
	int64_t rows, cols, codec;
	PGresult *r;
	int err = -EIO;

	*hold = NULL;
	/* keyframes_ts; the same order as index_seek.c's */
	r = query(pg, "kt_pgr_keyframe_at",
			    "SELECT chunk_seq, frame_index, ts_us, rows, cols, raw_len, codec, data"
			    " FROM keyframes WHERE src = $1 AND session_id = $2 AND ts_us <= $3"
			    " ORDER BY ts_us DESC, chunk_seq + frame_index DESC LIMIT 1", 3, v, what,
			    &err);
	err = one_row(pg, r, err, what, (int64_t *const[]){ &row->chunk_seq, &row->frame_index,
		      &row->ts_us, &rows, &cols, &row->raw_len, &codec }, 7, &row->data, &row->len);
	if (err <= 0)
		return err;
	if (rows < 0 || rows > UINT16_MAX || cols < 0 || cols > UINT16_MAX ||
	    row->frame_index < 0 || row->frame_index > UINT32_MAX) {
		PQclear(r);
		return kt_pgr_corrupt(pg, what, "keyframe size %lldx%lld or frame %lld out of range",
				      (long long)cols, (long long)rows, (long long)row->frame_index);
	}
	row->rows = (uint16_t)rows;
	row->cols = (uint16_t)cols;
	row->codec = codec >= 0 && codec <= 255 ? (int)codec : 255;
	*hold = r;
	return 1;
}

int kt_pgr_follow_ended(struct kt_pgr *pg, int64_t gid, bool *ended, int64_t *end_us,
			char src[], int64_t *synced_us)
{
	static const char what[] = "following a session";
	char b[24];
	const char *v[] = { kt_pgr_i64_param(gid, b) };
	int64_t state = 0;
	bool complete = false;
	PGresult *r;
	int err = -EIO;

	*ended = false;
	*synced_us = 0;
	/* kt_ship_sessions.fp is written only by a sync that was not cut by
	 * the batch budget, in the transaction that shipped the chunks;
	 * done: settled (FORMAT-pg.md) */
	r = query(pg, "kt_pgr_follow_ended",
			    "SELECT s.state, s.end_us, coalesce(k.done OR k.fp <> '', false),"
			    " s.src, coalesce(n.shipped_us, 0)"
			    " FROM sessions s LEFT JOIN kt_ship_sessions k"
			    "  ON k.src = s.src AND k.session_id = s.id"
			    " LEFT JOIN kt_nodes n ON n.src = s.src WHERE s.gid = $1",
			    1, v, what, &err);
	if (!r)
		return err;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	err = kt_pgr_i64(pg, r, 0, 0, what, &state);
	if (!err)
		err = kt_pgr_i64(pg, r, 0, 1, what, end_us);
	if (!err)
		err = kt_pgr_bool(pg, r, 0, 2, what, &complete);
	if (!err)
		err = kt_pgr_str(pg, r, 0, 3, what, src, KT_PGR_SRC_MAX);
	if (!err)
		err = kt_pgr_i64(pg, r, 0, 4, what, synced_us);
	PQclear(r);
	if (!err)
		*ended = state != KT_SESSION_ACTIVE && complete;
	return err;
}
