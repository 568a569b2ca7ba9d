/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's session reader (struct kt_reader, reader.h: seeking with the
 * fallback when no keyframe exists yet, following an active session) as a
 * player source (struct kt_play_src, player.h).  A fallback seek draws a
 * loss with the player's own notice, so both paths agree.
 *
 * Limits: corrupt chunks are skipped (the store logs them) and counted in
 * the reader; the redraw carries what kt_screen can (see screen.h: no tab
 * stops, charsets or DECSC cursor).
 */
#ifndef KUBETAPE_REPLAY_PLAYSRC_H
#define KUBETAPE_REPLAY_PLAYSRC_H

#include "player.h"
#include "reader.h"

/* The ops over r (kt_reader_init'ed), for kt_player_init(). */
struct kt_play_src kt_playsrc_ops(struct kt_reader *r);

#endif
