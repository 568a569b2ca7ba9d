// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index's rendering, shared by the writer and the search so
 * that both see the same screen (no SQL here; frames come from the store's
 * stream reader).  Design in index_int.h.  The model is fastvt
 * (store/term/fastvt.h): libvterm's rules without libvterm, 5-10 times its
 * rate (bench/term.sh), held to libvterm's kt_screen by the differential
 * tests (tests/unit/test_fastvt.c, tests/fuzz/fuzz_term_diff.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "log.h"
#include "satint.h"
#include "term/fastvt.h"

/* ---------------------------------------------------------------- rendering */

/* The screen at the session's start: its starting size, and without a tty
 * LNM on (the user's own terminal turned \n into \r\n). */
int ix_screen_fresh(const struct kt_session_info *s, struct fv **out)
{
	/* any recorded size: fv_new normalises it (screen.h) */
	int err = fv_new(s->rows, s->cols, out);

	if (!err && !s->has_tty)
		err = fv_feed(*out, "\x1b[20h", 5);
	return err;
}

/* One frame, as the indexer renders it (search renders blocks again the
 * same way).  Returns what fv_feed/fv_resize return. */
int ix_render_frame(struct fv *scr, const struct kt_frame *f)
{
	uint16_t cols, rows;

	fv_set_time(scr, f->ts_us);
	if (f->type == KT_FRAME_OUT)
		return fv_feed(scr, f->data, f->len);
	if (f->type == KT_FRAME_RESIZE && !kt_frame_resize_parse(f, &cols, &rows))
		return fv_resize(scr, rows, cols);
	return 0;
}

int ix_render_span(struct kt_store *st, int64_t sid, struct fv *scr, int64_t cs,
		   uint32_t fi, int64_t end_cs, uint32_t end_fi, const bool *stop,
		   int64_t *rendered)
{
	struct kt_stream *stream = NULL;
	struct kt_frame f;
	int ret, err;

	err = kt_stream_open_pos(st, sid, cs, fi, &stream);
	if (err)
		return err;
	while (!*stop && (ret = kt_stream_next(stream, &f)) != 0) {
		if (ret == -EBADMSG)
			continue; /* the indexer skipped the same frames */
		if (ret < 0) {
			err = ret;
			break;
		}
		kt_stream_tell(stream, &cs, &fi);
		if (ix_pos_cmp(cs, fi, end_cs, end_fi) > 0)
			break;
		if (rendered && f.type == KT_FRAME_OUT)
			*rendered += f.len;
		err = ix_render_frame(scr, &f);
		if (err || !ix_pos_cmp(cs, fi, end_cs, end_fi))
			break;
	}
	kt_stream_close(stream);
	return err;
}
