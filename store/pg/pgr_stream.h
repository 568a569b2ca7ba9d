/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to store/: the terminal stream's rows on the cluster store
 * (PostgreSQL, FORMAT-pg.md), for store/stream.c (kt_stream),
 * store/index/index_seek.c (kt_stream_open_at) and store/reader.c
 * (following).  The frame decoding, the skip/clamp rules and the seek
 * logic stay in those files, shared by both backends: only fetching a
 * chunk or a keyframe row differs, so a session reads the same frames
 * from its node's SQLite and from the server.
 *
 * No libpq type here: stream.c and index_seek.c are built without it.
 * On PostgreSQL a session id is sessions.gid; the rows are keyed by the
 * node's (src, session id), resolved once per stream.
 */
#ifndef KUBETAPE_PGR_STREAM_H
#define KUBETAPE_PGR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kt_pgr;

/* A session's key on the server: the shipping node and its local id. */
struct kt_pgr_skey {
	char src[256];           /* FORMAT-pg.md: at most 253 characters */
	int64_t id;
};

/* One stored chunk or keyframe; data valid until kt_pgr_row_free(hold). */
struct kt_chunk_row {
	int64_t seq, nframes, start_us, raw_len;
	int codec;
	const void *data;
	size_t len;
};
struct kt_kf_row {
	int64_t chunk_seq, frame_index, ts_us, raw_len;
	uint16_t rows, cols;
	int codec;
	const void *data;
	size_t len;
};
void kt_pgr_row_free(void *hold);

/*
 * The session `gid` for a stream from from_us (0: the start): its key and
 * the frame number to start reading at (the first chunk that can hold a
 * frame at or after from_us; past the end: the next frame to be stored).
 * -ENOENT for no such session.
 */
int kt_pgr_stream_locate(struct kt_pgr *pg, int64_t gid, int64_t from_us,
			 struct kt_pgr_skey *key, int64_t *next);
/*
 * The chunk holding frame `next`, else the first one after it (a hole, or
 * `next` at the end of a chunk): 1 with *row, 0 when none is stored (yet),
 * <0 error.  *hold is released with kt_pgr_row_free.
 */
int kt_pgr_chunk_at(struct kt_pgr *pg, const struct kt_pgr_skey *key, int64_t next,
		    struct kt_chunk_row *row, void **hold);
/* The last keyframe at or before target_us: 1 with *row, 0 none, <0. */
int kt_pgr_keyframe_at(struct kt_pgr *pg, const struct kt_pgr_skey *key, int64_t target_us,
		       struct kt_kf_row *row, void **hold);
/*
 * Whether a follower may treat the session as ended: it is not active on
 * the server AND the shipper's last sync of it was complete (not cut by
 * its batch budget).  The shipper writes the sessions row before the
 * chunks and may cut a batch between them, so "not active" alone does not
 * promise that the last chunks are on the server yet; the completeness
 * mark (kt_ship_sessions) is committed in the transaction that ships them.
 * *end_us: the session's end.  src (256 bytes): the shipping node;
 * *synced_us: its shipper's last commit (kt_nodes.shipped_us, the node's
 * clock; 0 unknown): a shipper commits every poll, idle or not, so a mark
 * that stops moving means the node's shipper stopped or lost the server.
 * -ENOENT for no such session.
 */
int kt_pgr_follow_ended(struct kt_pgr *pg, int64_t gid, bool *ended, int64_t *end_us,
			char src[/*256*/], int64_t *synced_us);
/* How long the connection has been down (CLOCK_MONOTONIC us; 0 while it
 * is up or no query has met the outage yet: pgr_conn.c). */
int64_t kt_pgr_down_us(const struct kt_pgr *pg);

#endif
