/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a session the way the store means it to be read: the rules every
 * reader (the CLI's cat/export/replay, the web's stream and live view,
 * bench, test helpers) used to write for itself.
 *
 *   - Following a live session (struct kt_follow): a reader that reached
 *     the end of what is stored asks whether the session is still active.
 *     The recorder commits a session's last chunks before it marks the
 *     session ended, so a reader that sees "ended" must drain the stream
 *     once more before it is done; one that sees "active" waits and reads
 *     again.
 *   - Seeking (kt_reader_seek): the last keyframe at or before the target
 *     (kt_stream_open_at); where there is none that early (not indexed yet,
 *     or before the first keyframe) the frames from the session start to
 *     the target are rendered off-terminal through a kt_screen and its
 *     serialized screen is the redraw: correct, but it reads everything
 *     before the target.
 *   - Maintenance (kt_store_maintain): the screen index first, then
 *     compaction (which only merges chunks the index has passed).
 *   - One default store path and one default terminal size.
 *
 * Functions return 0 or a negative errno (logged by the store where it
 * knows the context); close/free functions accept NULL.
 */
#ifndef KUBETAPE_READER_H
#define KUBETAPE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The store every program opens unless told otherwise. */
#define KT_DEFAULT_DB_PATH "/var/lib/kubetape/kubetape.db"
#define KT_DB_ENV "KUBETAPE_DB"
/* $KUBETAPE_DB when set and not empty, else KT_DEFAULT_DB_PATH. */
const char *kt_store_default_path(void);

/*
 * The terminal size to declare for a session (export headers need one):
 * the recorded size, and for a dimension not recorded (a session without a
 * tty) the screen model's default (KT_SCREEN_DEFAULT_COLS x _ROWS, 80x24).
 * Not clamped: a player clamps by kt_screen_size_norm.
 */
void kt_session_term_size(const struct kt_session_info *s, unsigned *cols, unsigned *rows);

/* ---- following ---------------------------------------------------------- */

enum kt_follow_state {
	KT_FOLLOW_DONE = 0,  /* ended, and drained once since: nothing more will come */
	KT_FOLLOW_DRAIN = 1, /* just ended: read once more (no wait), then ask again */
	KT_FOLLOW_WAIT = 2,  /* still active: wait, then read again */
};

struct kt_follow {
	int64_t session_id;
	bool ended;          /* seen not active (the drain is the caller's) */
	int64_t end_us;      /* the session's end, once ended */
	/* the cluster store only (reader.c; CLOCK_MONOTONIC us) */
	int64_t stall_us;    /* note a node that has not synced for this long */
	int64_t outage_max_us; /* give up when the server is down this long */
	int64_t down_since;  /* the server is unreachable since (0: it is not) */
	int64_t sync_mark;   /* the node's last sync (kt_nodes.shipped_us) */
	int64_t sync_seen;   /* when sync_mark was first seen */
	bool stall_noted;
};
/* Defaults of kt_follow's limits; the environment overrides them in
 * whole seconds (tests shorten them). */
#define KT_FOLLOW_STALL_S 30
#define KT_FOLLOW_STALL_ENV "KUBETAPE_FOLLOW_STALL_S"
#define KT_FOLLOW_OUTAGE_S 120
#define KT_FOLLOW_OUTAGE_ENV "KUBETAPE_FOLLOW_OUTAGE_S"

void kt_follow_init(struct kt_follow *fw, int64_t session_id);
/*
 * Call when the reader has read everything stored (kt_stream_next gave 0).
 * Returns an enum kt_follow_state, or a negative errno from reading the
 * session.  After KT_FOLLOW_DONE it does no I/O.
 *
 * On the cluster store a follower also watches what a node's SQLite
 * cannot go wrong with:
 *   - the server going away (-ECONNRESET): KT_FOLLOW_WAIT, one line when
 *     it goes and one when it is back (the connection's reconnect backoff
 *     spaces the tries: pgr_conn.c), until it has been unreachable for
 *     KT_FOLLOW_OUTAGE_S: then one line and -ECONNRESET;
 *   - the session's node no longer syncing (its shipper stopped, or cut
 *     off from the server): after KT_FOLLOW_STALL_S without a commit of
 *     that node's shipper, one line naming the node and how long, and
 *     the follower goes on waiting (the session may well still be
 *     recorded there: only its node knows); one line when it syncs again.
 */
int kt_follow_caught_up(struct kt_follow *fw, struct kt_store *st);
/* A read error while following: 0 when it is the server's outage and the
 * follower should wait (as above), else err. */
int kt_follow_read_error(struct kt_follow *fw, struct kt_store *st, int err);

/* ---- a session reader --------------------------------------------------- */

struct kt_reader {
	struct kt_store *st;
	int64_t session_id, start_us;
	uint16_t rows, cols;        /* at the session start (0: unknown) */
	bool follow;                /* kt_reader_more(): the session may grow */
	bool no_keyframes;          /* seeking always renders from the start (tests) */
	struct kt_follow fw;
	struct kt_stream *stream;   /* NULL until kt_reader_rewind/seek */
	bool have_peek;             /* `peek` is the next frame to return */
	struct kt_frame peek;
	/* What a fallback seek renders for a GAP frame, so that it draws what
	 * the player draws (bytes into buf, its length); NULL: nothing. */
	size_t (*gap_notice)(const struct kt_frame *f, char *buf, size_t len);
	/* counters */
	unsigned corrupt;           /* chunks skipped (the store logs each) */
	uint64_t kf_seeks, ff_seeks, ff_bytes, kf_bytes;
};

/* No I/O: the stream is opened by kt_reader_rewind or kt_reader_seek. */
void kt_reader_init(struct kt_reader *r, struct kt_store *st, const struct kt_session_info *s,
		    bool follow);
void kt_reader_close(struct kt_reader *r);
/* The stream at the session start. */
int kt_reader_rewind(struct kt_reader *r);
/*
 * Position the reader for playing from target_us (see the top of this
 * file): *redraw (malloc'd, *len bytes) written to a fresh terminal of the
 * session's size shows the screen there; kt_reader_next then returns the
 * frames after it.  *redraw is NULL only for an empty fallback.
 */
int kt_reader_seek(struct kt_reader *r, int64_t target_us, uint8_t **redraw, size_t *len);
/*
 * 1: *f is the next frame and f->ts_us <= until_us (f->data valid until
 * the next call); 0: nothing more is stored now (or no stream), or the next
 * frame is later than until_us (kept for the next call).  Corrupt chunks
 * (-EBADMSG from the stream, logged by the store) are skipped and counted.
 */
int kt_reader_next(struct kt_reader *r, int64_t until_us, struct kt_frame *f);
/* True while following and the session has not been seen ended. */
bool kt_reader_following(const struct kt_reader *r);
/* After kt_reader_next gave 0: KT_FOLLOW_DONE also when not following. */
int kt_reader_more(struct kt_reader *r);

/* ---- maintenance ------------------------------------------------------- */

/* kt_index_session with the default budget until the session is caught up. */
int kt_store_index_all(struct kt_store *st, int64_t session_id);
/* The index caught up, then kt_store_compact_session until done (stats
 * added up in cs, which may be NULL).  What the recorder's worker does in
 * budgeted rounds, for one session at once (bench, tests, tools). */
int kt_store_maintain(struct kt_store *st, int64_t session_id, struct kt_compact_stats *cs);

/*
 * One round of the same over every session, in budgeted steps (the
 * recorder's index worker): each session whose index is behind gets one
 * kt_index_session(budget); then, unless ops->stop says so, each session
 * with raw chunks before its index position one
 * kt_store_compact_session(4 * budget).  ops->done sees every result
 * (kt_index_session's or, compaction true, kt_store_compact_session's) and
 * returns non-zero to end the round.  Returns 1 when a session had more to
 * do, else 0.
 */
struct kt_maintain_ops {
	int (*done)(int64_t session_id, bool compaction, int ret, void *ctx);
	bool (*stop)(void *ctx);   /* NULL: never */
	void *ctx;
};
int kt_store_maintain_round(struct kt_store *st, size_t budget, const struct kt_maintain_ops *ops);

#endif
