// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt keyframes: fastvt's state handed to the one keyframe writer
 * (keyframe.c, which kt_screen uses too), and restore.  kt_screen_restore
 * and fv_restore both take them.  The limits of that format are screen.h's.
 */
#include <errno.h>
#include <string.h>

#include "fv_int.h"
#include "keyframe.h"

_Static_assert(FV_LI_DWL == KF_LI_DWL && FV_LI_DHL_TOP == KF_LI_DHL_TOP &&
	       FV_LI_DHL_BOTTOM == KF_LI_DHL_BOTTOM && FV_ATTR_ODD == KF_ATTR_ODD,
	       "fastvt's line info and odd-glyph mark are the keyframe writer's");

/* ------------------------------------------------------------- serialize */

static const struct kt_cell *fv_kf_cells(const void *m, int b, int row)
{
	const struct fv *s = m;

	return s->buf[b][row]->cells; /* fv_serialize made every cell real */
}

static uint8_t fv_kf_lineinfo(const void *m, int row)
{
	const struct fv *s = m;

	return s->li[row]; /* FV_LI_* are KF_LI_* */
}

static void fv_kf_row_meta(const void *m, int row, int64_t *ts, bool *wrapped)
{
	const struct fv *s = m;

	*ts = s->buf[0][row]->ts;
	*wrapped = s->buf[0][row]->wrapped;
}

int fv_serialize(struct fv *s, uint8_t **out, size_t *len)
{
	struct kf_src k = {
		.cells = fv_kf_cells, .lineinfo = fv_kf_lineinfo, .row_meta = fv_kf_row_meta,
	};

	if (!s || !out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (s->broken)
		return s->broken;
	if (s->passthru)
		return -EAGAIN; /* an unfinished sequence too long to carry */
	/* every cell is drawn: make the blanks past the high-water marks real */
	for (int bi = 0; bi < 2; bi++)
		for (int i = 0; i < s->rows; i++)
			fv_row_fill(s->buf[bi][i], s->cols);
	k.m = s;
	k.rows = s->rows;
	k.cols = s->cols;
	k.cur = s->cur;
	/* what kt_screen learns by DECRQSS and its feed layer */
	k.modes = (struct kf_modes){
		.ckm = s->ckm, .screen = s->reverse, .origin = s->origin,
		.autowrap = s->autowrap, .lrmm = s->lrmm, .paste = s->paste,
		.top = s->top + 1, .bottom = fv_bottom(s),
		.left = fv_left(s) + 1, .right = fv_right(s),
		.protected = s->protected_cell,
	};
	k.crow = s->row;
	k.ccol = s->col;
	k.g_has = s->g_has;
	k.g_edge = s->g_end >= s->g_rw;
	k.g_row = s->g_row;
	k.g_col = s->g_col;
	k.g_w = s->g_w;
	memcpy(k.g_ch, s->g_ch, sizeof(k.g_ch));
	k.phantom = s->g_valid && k.g_edge && s->autowrap && s->row == s->g_row &&
		    s->col == s->g_col;
	k.insert = s->insert;
	k.newline = s->newline;
	k.pen = s->pen;
	k.visible = s->visible;
	k.blink = s->blink;
	k.shape = s->shape;
	k.saved = s->kt_saved;
	k.saved_row = s->kt_saved_row;
	k.saved_col = s->kt_saved_col;
	k.saved_pen = s->sv.pen;
	k.saved_visible = s->sv.visible;
	k.saved_blink = s->sv.blink;
	k.saved_shape = s->sv.shape;
	k.charset = s->cs;
	k.title = s->title;
	k.title_len = s->title_len;
	k.pend = s->pend;
	k.pend_len = s->pend_len;
	k.pend_ts = s->pend_ts;
	if (s->utf_need) {
		k.hold = s->utf_buf;
		k.hold_len = s->utf_have;
	} else if (s->ps != FV_GROUND) {
		k.hold = s->hold;
		k.hold_len = s->hold_len;
	}
	return kf_write(&k, out, len);
}

/* ------------------------------------------------------------- restore */

static void fv_kf_set_row(void *ctx, int i, int64_t ts, bool wrapped)
{
	struct fv *s = ctx;

	s->buf[0][i]->ts = ts;
	s->buf[0][i]->wrapped = wrapped;
}

int fv_restore(int rows, int cols, const void *kf, size_t len, struct fv **out)
{
	struct fv *s = NULL;
	int err;

	err = fv_new(rows, cols, &s);
	if (err)
		return err;
	/* the OSC goes through the parser too (ignored), then the row
	 * metadata replaces what drawing stamped */
	err = fv_feed(s, kf, len);
	if (err) {
		fv_free(s);
		return err;
	}
	kf_meta_parse(kf, len, s->rows, fv_kf_set_row, s, &s->pend_ts, s->pend, &s->pend_len,
		      FV_LINE_MAX);
	*out = s;
	return 0;
}
