/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay player core: timing, speed, idle cap, pause/step, seeking and
 * the command index.  No terminal, no clock, no store: frames come from a
 * source (struct kt_play_src, see playsrc.h for the store's), bytes go to a
 * write callback, and the caller passes the time in (monotonic
 * microseconds).  So the whole behaviour is unit-testable on a synthetic
 * frame list with a fake clock (tests/unit/test_player.c); cmd_replay.c
 * adds the terminal.
 *
 * Time model.  The player keeps `virt`, the session time playback has
 * reached.  While playing it advances by (wall time elapsed) x speed; a
 * frame is written once virt reaches its time.  With an idle limit, a frame
 * is due at most idle_limit after the previous one, and virt then jumps to
 * the frame's time (the pause is cut, not the rest of the timeline).
 * speed 0 writes everything at once.
 *
 * Seeking never replays the session from its start: the source positions
 * itself at a screen state at or before the target and gives the bytes that
 * redraw it (a keyframe, or a screen rendered off-terminal); the frames from
 * there to the target are written at once, then timing resumes.
 *
 * Functions return 0 or a negative errno (libbpf style) unless noted.
 */
#ifndef KUBETAPE_REPLAY_PLAYER_H
#define KUBETAPE_REPLAY_PLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store.h"

#define KT_PLAY_SEEK_STEP_US (10 * 1000000LL)  /* left/right arrows */
#define KT_PLAY_PREV_SLACK_US 1000000LL        /* '[' within 1 s of a command: the one before */
#define KT_PLAY_CMD_BURST_US 10000LL           /* commands this close (a pipeline) are one stop */
#define KT_PLAY_BATCH_BYTES (64 * 1024)        /* written per tick before input is read again */
#define KT_PLAY_SPEED_MIN (1.0 / 64)
#define KT_PLAY_SPEED_MAX 65536.0

struct kt_play_src {
	void *ctx;
	/*
	 * Position the source at a screen state at or before target_us: *redraw
	 * (malloc'd, the caller frees) is what makes a terminal show it, and
	 * next() then returns the frames after that state.  Never NULL on
	 * success (the start of a session is a blank-screen redraw).
	 */
	int (*seek)(void *ctx, int64_t target_us, uint8_t **redraw, size_t *len);
	/* 1 = frame (data valid until the next call), 0 = none stored now, <0 error */
	int (*next)(void *ctx, struct kt_frame *f);
	/* After next() returned 0: 1 if more may come (following an active
	 * session: ask again later), 0 if the session is complete, <0 error. */
	int (*more)(void *ctx);
};

typedef int (*kt_play_write_fn)(void *ctx, const void *buf, size_t len);

struct kt_player_cfg {
	double speed;            /* 1 = original timing; 0 = no timing at all */
	int64_t idle_limit_us;   /* 0 = no cap */
};

/* Which terminal modes the output left set, for the reset at the end. */
struct kt_modes {
	bool alt, cursor_hidden;
	int st;                  /* scanner state */
	bool priv;               /* '?' seen in the CSI */
	int nparam;
	unsigned param[8];
};

enum kt_play_status {
	KT_PLAY_WAIT = 0,  /* call tick again within *wait_us (-1: on input only) */
	KT_PLAY_IDLE = 1,  /* following: nothing stored yet, poll again soon */
	KT_PLAY_END = 2,   /* everything was played */
	KT_PLAY_QUIT = 3,  /* from kt_player_key: the user asked to quit */
};

struct kt_player {
	struct kt_player_cfg cfg;
	struct kt_play_src src;
	kt_play_write_fn write;
	void *write_ctx;
	int64_t start_us, end_us;   /* session bounds; end 0 = open */
	int64_t *stops;             /* command times for ]/[ (bursts merged) */
	size_t nstops;
	double speed;
	bool paused;
	int64_t virt_us, last_us, wall_us;
	bool have_next;
	struct kt_frame next;
	struct kt_modes modes;
	uint64_t frames, bytes, seeks; /* counters (tests, status) */
};

void kt_player_init(struct kt_player *p, const struct kt_player_cfg *cfg,
		    const struct kt_play_src *src, kt_play_write_fn write, void *wctx,
		    int64_t start_us, int64_t end_us);
void kt_player_free(struct kt_player *p);

/*
 * Command exec times, ascending (show's order); copied.  ]/[ stop at each,
 * except that commands within KT_PLAY_CMD_BURST_US of the previous one (a
 * pipeline) share its stop.  A stop is the exec time itself: the screen
 * shows the command line as it was typed (echoed before Enter) and none of
 * its output.  Limit: the recorder stamps the output the Enter caused a
 * little after the exec, in one frame with the command's first output, so
 * a line typed in one go (pasted) is not on the screen yet at its stop.
 */
int kt_player_set_commands(struct kt_player *p, const int64_t *ts, size_t n);

/* Jump to session time target_us (clamped to the session), now = wall clock. */
int kt_player_seek(struct kt_player *p, int64_t target_us, int64_t now_us);
/* The first positioning: a seek whose redraw is written only if `draw`
 * (output that is not a terminal needs no blank screen at the start). */
int kt_player_start(struct kt_player *p, int64_t target_us, int64_t now_us, bool draw);

/*
 * Writes every frame due by now_us.  Returns a kt_play_status (WAIT with
 * *wait_us = microseconds until the next frame is due, 0 = more to write
 * now, -1 = paused: wait for a key), or a negative errno.
 */
int kt_player_tick(struct kt_player *p, int64_t now_us, int64_t *wait_us);

/* Applies a key.  0, KT_PLAY_QUIT, or a negative errno (from a seek). */
int kt_player_key(struct kt_player *p, enum kt_key key, int64_t now_us);

/* Session time reached. */
int64_t kt_player_pos(const struct kt_player *p);

/* Bytes that undo what the replayed output may have left set (alternate
 * screen, hidden cursor, SGR, mouse and paste modes, margins, charset)
 * without moving the cursor; written by kt_player_finish and, as a
 * constant worst case, by the signal path (termio.c). */
extern const char kt_play_reset_seq[];
/* The part of kt_play_reset_seq this player's output needs (the alternate
 * screen is left only if the output entered it: ?1049l also restores a
 * saved cursor position). */
const char *kt_player_reset(const struct kt_player *p);
int kt_player_finish(struct kt_player *p);

/* The notice drawn where the recorder lost data: "\r\n" + a reverse-video
 * "[kubetape: N bytes lost here]" line.  Returns its length (< len). */
size_t kt_play_gap_notice(const struct kt_frame *f, char *buf, size_t len);

/* Mode tracking over output bytes (exposed for tests). */
void kt_modes_scan(struct kt_modes *m, const uint8_t *buf, size_t len);

#endif
