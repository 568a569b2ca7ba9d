// SPDX-License-Identifier: Apache-2.0
/* The store as a player source: frames, seeking, following (playsrc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "playsrc.h"
#include "screen.h"


int kt_playsrc_open(struct kt_playsrc *ps, struct kt_store *st,
		    const struct kt_session_info *s, bool follow)
{
	memset(ps, 0, sizeof(*ps));
	ps->st = st;
	ps->session_id = s->id;
	ps->start_us = s->start_us;
	ps->rows = s->rows;
	ps->cols = s->cols;
	ps->follow = follow;
	return 0;
}

void kt_playsrc_close(struct kt_playsrc *ps)
{
	if (!ps)
		return;
	kt_stream_close(ps->stream);
	ps->stream = NULL;
	ps->have_peek = false;
}

/* The next stored frame; corrupt chunks (logged by the store) skipped. */
static int stream_next(struct kt_playsrc *ps, struct kt_frame *f)
{
	int err;

	while ((err = kt_stream_next(ps->stream, f)) == -EBADMSG)
		ps->corrupt++;
	return err;
}

/*
 * No keyframe at or before the target: render the frames before it into a
 * kt_screen and serialize that.  ps->stream is at the session start.  The
 * first frame at or after the target is kept in ps->peek.
 */
static int fast_forward(struct kt_playsrc *ps, int64_t target_us, uint16_t rows,
			uint16_t cols, uint8_t **redraw, size_t *len)
{
	struct kt_screen *scr = NULL;
	struct kt_frame f;
	char notice[96];
	int err;

	err = kt_screen_new(rows, cols, &scr); /* normalised there (screen.h) */
	if (err)
		return err;
	ps->ff_seeks++;
	for (;;) {
		uint16_t c, r;

		if (ps->have_peek) {
			f = ps->peek;
		} else {
			err = stream_next(ps, &f);
			if (err < 0)
				goto cleanup;
			if (err == 0)
				break;
		}
		/* -EAGAIN: a long unfinished sequence is passing through; the
		 * state after the next frames can be drawn */
		if (f.ts_us >= target_us) {
			err = kt_screen_serialize(scr, redraw, len);
			if (err != -EAGAIN) {
				ps->peek = f;
				ps->have_peek = true;
				goto cleanup;
			}
		}
		ps->have_peek = false;
		switch (f.type) {
		case KT_FRAME_OUT:
			ps->ff_bytes += f.len;
			err = kt_screen_feed(scr, f.data, f.len);
			break;
		case KT_FRAME_RESIZE:
			err = 0;
			if (!kt_frame_resize_parse(&f, &c, &r))
				err = kt_screen_resize(scr, r, c);
			break;
		case KT_FRAME_GAP:
			/* the notice the player draws, so both paths agree */
			err = kt_screen_feed(scr, notice, kt_play_gap_notice(&f, notice, sizeof(notice)));
			break;
		default:
			err = 0;
		}
		if (err)
			goto cleanup;
	}
	/* the end of what is stored comes before the target */
	err = kt_screen_serialize(scr, redraw, len);
cleanup:
	kt_screen_free(scr);
	return err;
}

int kt_playsrc_seek_at(struct kt_playsrc *ps, int64_t target_us, uint8_t **redraw,
		       size_t *len)
{
	uint16_t rows = ps->rows, cols = ps->cols;
	uint8_t *kf = NULL;
	size_t kf_len = 0;
	int64_t kf_ts = 0;
	int err;

	*redraw = NULL;
	*len = 0;
	kt_playsrc_close(ps);
	if (ps->no_keyframes)
		err = kt_stream_open(ps->st, ps->session_id, 0, &ps->stream);
	else
		err = kt_stream_open_at(ps->st, ps->session_id, target_us, &ps->stream,
					&kf, &kf_len, &kf_ts, &rows, &cols);
	if (err)
		return err;
	if (kf) {
		ps->kf_seeks++;
		ps->kf_bytes += kf_len;
		*redraw = kf;
		*len = kf_len;
		return 0;
	}
	return fast_forward(ps, target_us, rows, cols, redraw, len);
}

static int op_seek(void *ctx, int64_t target_us, uint8_t **redraw, size_t *len)
{
	return kt_playsrc_seek_at(ctx, target_us, redraw, len);
}

static int op_next(void *ctx, struct kt_frame *f)
{
	struct kt_playsrc *ps = ctx;

	if (!ps->stream)
		return 0;
	if (ps->have_peek) {
		ps->have_peek = false;
		*f = ps->peek;
		return 1;
	}
	return stream_next(ps, f);
}

static int op_more(void *ctx)
{
	struct kt_playsrc *ps = ctx;
	struct kt_session_info *s;
	int err;

	if (!ps->follow || ps->ended)
		return 0;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = kt_store_session_get(ps->st, ps->session_id, s);
	/* its last chunks were committed before the state changed: one more
	 * drain gets everything */
	if (!err && s->state != KT_SESSION_ACTIVE)
		ps->ended = true;
	free(s);
	return err ? err : 1;
}

struct kt_play_src kt_playsrc_ops(struct kt_playsrc *ps)
{
	return (struct kt_play_src){
		.ctx = ps, .seek = op_seek, .next = op_next, .more = op_more,
	};
}
