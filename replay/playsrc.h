/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store as a player source (struct kt_play_src, player.h): a session's
 * frames, seeking, and following an active session.
 *
 * Seeking (kt_playsrc_seek_at, the one function that knows how): the
 * store's keyframe index first (kt_stream_open_at: the last keyframe at or
 * before the target and a stream right after it; the player writes the
 * keyframe and then the frames up to the target).  Where the session has no
 * keyframe that early (not indexed yet, or the target is before the first
 * one) the frames from the session start to the target are fed through a
 * kt_screen off-terminal and its serialized screen is the redraw: correct,
 * but it reads everything before the target.
 *
 * Limits: corrupt chunks are skipped (the store logs them) and counted;
 * the redraw carries what kt_screen can (see store/screen.h: no tab stops,
 * charsets or DECSC cursor).
 */
#ifndef KUBETAPE_REPLAY_PLAYSRC_H
#define KUBETAPE_REPLAY_PLAYSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "player.h"
#include "store.h"

struct kt_playsrc {
	struct kt_store *st;
	int64_t session_id, start_us;
	uint16_t rows, cols;        /* at the session start (0: unknown) */
	bool follow;                /* more(): poll an active session */
	bool no_keyframes;          /* always fast-forward (tests, comparison) */
	bool ended;                 /* seen not active: one more drain */
	struct kt_stream *stream;
	bool have_peek;             /* `peek` is the next frame to return */
	struct kt_frame peek;
	/* counters */
	unsigned corrupt;
	uint64_t kf_seeks, ff_seeks, ff_bytes, kf_bytes;
};

int kt_playsrc_open(struct kt_playsrc *ps, struct kt_store *st,
		    const struct kt_session_info *s, bool follow);
void kt_playsrc_close(struct kt_playsrc *ps);
/* The ops over ps, for kt_player_init(). */
struct kt_play_src kt_playsrc_ops(struct kt_playsrc *ps);

/* See the top of this file; the kt_play_src.seek contract (player.h). */
int kt_playsrc_seek_at(struct kt_playsrc *ps, int64_t target_us, uint8_t **redraw,
		       size_t *len);

#endif
