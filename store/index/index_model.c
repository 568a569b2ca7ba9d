// SPDX-License-Identifier: Apache-2.0
/*
 * The index writer's screen model (issue 14): fastvt (store/term/fastvt.h)
 * instead of kt_screen.  Both give the same lines, time stamps and keyframe
 * bytes (tests/unit/test_fastvt.c, tests/fuzz/fuzz_term_diff.c); fastvt does
 * it without libvterm at 4-8 times the rate (bench/term.sh), which is what
 * the worker spends its CPU on.  Everything that reads the index (search
 * verification, seeking, replay, export, the web player) keeps kt_screen,
 * libvterm's model, which stays the reference fastvt is tested against.
 * The rendering rules are index_render.c's, for this model.
 */
#include "index_int.h"
#include "term/fastvt.h"

int ixw_screen_fresh(const struct kt_session_info *s, struct fv **out)
{
	/* any recorded size: fv_new normalises it as kt_screen_new does */
	int err = fv_new(s->rows, s->cols, out);

	if (!err && !s->has_tty)
		err = fv_feed(*out, "\x1b[20h", 5);
	return err;
}

int ixw_render_frame(struct fv *scr, const struct kt_frame *f)
{
	uint16_t cols, rows;

	fv_set_time(scr, f->ts_us);
	if (f->type == KT_FRAME_OUT)
		return fv_feed(scr, f->data, f->len);
	if (f->type == KT_FRAME_RESIZE && !kt_frame_resize_parse(f, &cols, &rows))
		return fv_resize(scr, rows, cols);
	return 0;
}
