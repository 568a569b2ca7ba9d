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
		err = ix_zdecompress(st, sqlite3_column_int(q, 6), raw_len, sqlite3_column_blob(q, 7),
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
