// SPDX-License-Identifier: Apache-2.0
/*
 * Seeking: the keyframe at or before a time and a stream positioned right
 * after it (kt_stream_open_at, store.h).  Design in index_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "log.h"
#include "satint.h"
#include "pg/pgr_stream.h"

/* ---------------------------------------------------------------- seeking */

/* SQLite: the last keyframe at or before target_us (1), none (0), <0; row
 * pointers valid until *q is finalized. */
static int sqlite_keyframe_at(struct kt_store *st, int64_t session_id, int64_t target_us,
			      struct kt_kf_row *row, sqlite3_stmt **q)
{
	int rc;

	/* keyframes_ts: the last one at or before the target (positions by
	 * frame number: pairs may be relative to since merged chunks) */
	rc = sqlite3_prepare_v2(st->db,
				"SELECT chunk_seq, frame_index, ts_us, rows, cols, raw_len, codec, data"
				" FROM keyframes WHERE session_id = ?1 AND ts_us <= ?2"
				" ORDER BY ts_us DESC, chunk_seq + frame_index DESC LIMIT 1",
				-1, q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "seek");
	sqlite3_bind_int64(*q, 1, session_id);
	sqlite3_bind_int64(*q, 2, target_us);
	rc = sqlite3_step(*q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return kt_sql_err(st, rc, "seek");
	row->chunk_seq = sqlite3_column_int64(*q, 0);
	row->frame_index = sqlite3_column_int64(*q, 1);
	row->ts_us = sqlite3_column_int64(*q, 2);
	row->rows = (uint16_t)sqlite3_column_int(*q, 3);
	row->cols = (uint16_t)sqlite3_column_int(*q, 4);
	row->raw_len = sqlite3_column_int64(*q, 5);
	row->codec = sqlite3_column_int(*q, 6);
	row->data = sqlite3_column_blob(*q, 7);
	row->len = (size_t)sqlite3_column_bytes(*q, 7);
	return 1;
}

int kt_stream_open_at(struct kt_store *st, int64_t session_id, int64_t target_us,
		      struct kt_stream **stream, uint8_t **kf, size_t *kf_len,
		      int64_t *kf_ts_us, uint16_t *rows, uint16_t *cols)
{
	struct kt_session_info *s = NULL;
	struct kt_pgr_skey key;
	struct kt_kf_row row = { 0 };
	sqlite3_stmt *q = NULL;
	void *hold = NULL;
	uint8_t *raw = NULL;
	int err;

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
	if (st->pg) {
		int64_t next;

		err = kt_pgr_stream_locate(st->pg, session_id, 0, &key, &next);
		if (!err)
			err = kt_pgr_keyframe_at(st->pg, &key, target_us, &row, &hold);
	} else {
		err = sqlite_keyframe_at(st, session_id, target_us, &row, &q);
	}
	if (err < 0)
		goto cleanup;
	if (err == 1) {
		err = ix_zdecompress(st, row.codec, row.raw_len, row.data, row.len, &raw);
		if (err)
			goto cleanup;
		*kf_ts_us = row.ts_us;
		*rows = row.rows;
		*cols = row.cols;
	}
	/* no read snapshot outlives the call (the stream's rule too) */
	sqlite3_finalize(q);
	q = NULL;
	kt_pgr_row_free(hold);
	hold = NULL;
	err = kt_stream_open_pos(st, session_id, row.chunk_seq, (uint32_t)row.frame_index, stream);
	if (err)
		goto cleanup;
	*kf = raw;
	*kf_len = (size_t)row.raw_len;
	raw = NULL;
cleanup:
	sqlite3_finalize(q);
	kt_pgr_row_free(hold);
	free(raw);
	free(s);
	return err;
}
