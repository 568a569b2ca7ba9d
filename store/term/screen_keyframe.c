// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen keyframes: its state (modes asked of libvterm) handed to the
 * one keyframe writer (keyframe.c, which fastvt uses too), restore, and
 * the cell-by-cell comparison the keyframe tests use (screen.h).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyframe.h"
#include "screen_int.h"

_Static_assert(VTERM_PROP_CURSORSHAPE_BLOCK == KF_SHAPE_BLOCK &&
	       VTERM_PROP_CURSORSHAPE_UNDERLINE == KF_SHAPE_UNDERLINE &&
	       VTERM_PROP_CURSORSHAPE_BAR_LEFT == KF_SHAPE_BAR && KT_ATTR_ODD == KF_ATTR_ODD,
	       "kt_screen's cursor shapes and odd-glyph mark are the keyframe writer's");

/* ------------------------------------------------------------- modes */


/* "DCS 1 $ r a;b<final>" -> a, b; false if absent. */
static bool reply_status(const char *r, size_t len, const char *final, int *a, int *b)
{
	size_t fl = strlen(final);

	for (size_t i = 0; i + 3 < len; i++) {
		int x = 0, y = 0, k = 0;
		size_t j;

		if (memcmp(r + i, "1$r", 3))
			continue;
		j = i + 3;
		while (j < len && r[j] >= '0' && r[j] <= '9')
			x = x * 10 + (r[j++] - '0');
		if (j < len && r[j] == ';') {
			j++;
			while (j < len && r[j] >= '0' && r[j] <= '9')
				y = y * 10 + (r[j++] - '0'), k++;
		}
		if (j + fl <= len && !memcmp(r + j, final, fl)) {
			*a = x;
			*b = y;
			return true;
		}
	}
	return false;
}

/*
 * Modes come from the feed layer's tracking.  Scroll region, margins and
 * DECSCA come from libvterm's answers to DECRQSS: a DCS, which (unlike any
 * CSI, a DECRQM query included) does not clamp the cursor into the margins
 * in origin mode, so asking changes nothing.  Only called at a clean point:
 * feed holds back unfinished sequences.
 */
static int query_modes(struct kt_screen *s, struct kf_modes *m)
{
	static const char q[] = "\x1bP$qr\x1b\\\x1bP$qs\x1b\\\x1bP$q\"q\x1b\\";
	int x, y;

	/* a held-back sequence has not reached libvterm: it is clean */
	if (s->passthru || s->esc_pending)
		return -EAGAIN;
	s->reply_len = 0;
	s->capture = true;
	vterm_input_write(s->vt, q, sizeof(q) - 1);
	s->capture = false;
	memset(m, 0, sizeof(*m));
	m->ckm = s->ckm;
	m->screen = s->reverse;
	m->origin = s->origin;
	m->autowrap = s->autowrap;
	m->lrmm = s->lrmm;
	m->paste = s->paste;
	m->top = 1;
	m->bottom = s->rows;
	m->left = 1;
	m->right = s->cols;
	if (reply_status(s->reply, s->reply_len, "r", &x, &y)) {
		m->top = x;
		m->bottom = y;
	}
	if (reply_status(s->reply, s->reply_len, "s", &x, &y)) {
		m->left = x;
		m->right = y;
	}
	if (reply_status(s->reply, s->reply_len, "\"q", &x, &y))
		m->protected = x == 1;
	if (!s->reply_len)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------- serialize */

static const struct kt_cell *scr_kf_cells(const void *m, int b, int row)
{
	const struct kt_screen *s = m;

	return s->buf[b][row]->cells;
}

static uint8_t scr_kf_lineinfo(const void *m, int row)
{
	const struct kt_screen *s = m;
	const VTermLineInfo *li = vterm_state_get_lineinfo(s->vs, row);

	if (!li || (!li->doublewidth && !li->doubleheight))
		return 0;
	return KF_LI_DWL | (li->doubleheight == 1 ? KF_LI_DHL_TOP :
			    li->doubleheight == 2 ? KF_LI_DHL_BOTTOM : 0);
}

static void scr_kf_row_meta(const void *m, int row, int64_t *ts, bool *wrapped)
{
	const struct kt_screen *s = m;

	*ts = s->buf[0][row]->ts;
	*wrapped = s->buf[0][row]->wrapped;
}

/* kt_screen's state for the one keyframe writer (keyframe.c). */
int kt_screen_serialize(struct kt_screen *s, uint8_t **out, size_t *len)
{
	struct kf_src k = {
		.cells = scr_kf_cells, .lineinfo = scr_kf_lineinfo, .row_meta = scr_kf_row_meta,
	};
	VTermPos pos;
	int err;

	if (!s || !out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (s->broken)
		return s->broken;
	err = query_modes(s, &k.modes);
	if (err)
		return err;
	vterm_state_get_cursorpos(s->vs, &pos);
	k.m = s;
	k.rows = s->rows;
	k.cols = s->cols;
	k.cur = s->cur;
	k.crow = pos.row;
	k.ccol = pos.col;
	k.phantom = s->g.valid && s->g.edge && k.modes.autowrap && pos.row == s->g.row &&
		    pos.col == s->g.col;
	k.g_has = s->g.has;
	k.g_edge = s->g.edge;
	k.g_row = s->g.row;
	k.g_col = s->g.col;
	k.g_w = s->g.w;
	memcpy(k.g_ch, s->g.ch, sizeof(k.g_ch));
	k.insert = s->insert;
	k.newline = s->newline;
	k.pen = s->pen;
	k.visible = s->visible;
	k.blink = s->blink;
	k.shape = s->shape; /* VTERM_PROP_CURSORSHAPE_* are KF_SHAPE_* */
	k.saved = s->saved.valid;
	k.saved_row = s->saved.row;
	k.saved_col = s->saved.col;
	k.saved_pen = s->saved.pen;
	k.saved_visible = s->saved.visible;
	k.saved_blink = s->saved.blink;
	k.saved_shape = s->saved.shape;
	k.charset = s->charset;
	k.title = s->title;
	k.title_len = s->title_len;
	k.pend = s->pend;
	k.pend_len = s->pend_len;
	k.pend_ts = s->pend_ts;
	k.hold = s->hold;
	k.hold_len = s->hold_len;
	return kf_write(&k, out, len);
}

static void scr_kf_set_row(void *ctx, int i, int64_t ts, bool wrapped)
{
	struct kt_screen *s = ctx;

	s->buf[0][i]->ts = ts;
	s->buf[0][i]->wrapped = wrapped;
}

int kt_screen_restore(int rows, int cols, const void *kf, size_t len,
		      struct kt_screen **out)
{
	struct kt_screen *s = NULL;
	int err;

	err = kt_screen_new(rows, cols, &s);
	if (err)
		return err;
	/* the OSC goes through libvterm too (ignored there), then the row
	 * metadata replaces what drawing stamped */
	err = kt_screen_feed(s, kf, len);
	if (!err)
		kf_meta_parse(kf, len, s->rows, scr_kf_set_row, s, &s->pend_ts, s->pend,
			      &s->pend_len, LINE_MAX_BYTES);
	if (err) {
		kt_screen_free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------- compare */

int kt_screen_compare(struct kt_screen *a, struct kt_screen *b, char *why, size_t whylen)
{
	struct kf_modes ma, mb;
	VTermPos pa, pb;
	bool pha, phb;
	char dummy[8];

	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	why[0] = 0;
	if (a->rows != b->rows || a->cols != b->cols) {
		snprintf(why, whylen, "size %dx%d vs %dx%d", a->rows, a->cols, b->rows, b->cols);
		return 1;
	}
	/* an inactive alt screen is invisible and cleared on entry: not compared */
	for (int bi = 0; bi <= (a->cur | b->cur); bi++)
		for (int i = 0; i < a->rows; i++)
			for (int k = 0; k < a->cols; k++) {
				const struct kt_cell *x = &a->buf[bi][i]->cells[k];
				const struct kt_cell *y = &b->buf[bi][i]->cells[k];

				if (memcmp(x->ch, y->ch, sizeof(x->ch)) || x->width != y->width ||
				    !kf_pen_eq(&x->pen, &y->pen)) {
					snprintf(why, whylen,
						 "%s screen cell %d,%d: U+%04X w%d a%02x fg%d/%d bg%d/%d"
						 " vs U+%04X w%d a%02x fg%d/%d bg%d/%d",
						 bi ? "alt" : "main", i, k, x->ch[0], x->width,
						 x->pen.attrs, x->pen.fg.type, x->pen.fg.r,
						 x->pen.bg.type, x->pen.bg.r, y->ch[0], y->width,
						 y->pen.attrs, y->pen.fg.type, y->pen.fg.r,
						 y->pen.bg.type, y->pen.bg.r);
					return 1;
				}
			}
	for (int i = 0; i < a->rows; i++) {
		const VTermLineInfo *la = vterm_state_get_lineinfo(a->vs, i);
		const VTermLineInfo *lb = vterm_state_get_lineinfo(b->vs, i);

		if (la->doublewidth != lb->doublewidth || la->doubleheight != lb->doubleheight) {
			snprintf(why, whylen, "line attributes of row %d", i);
			return 1;
		}
	}
	vterm_state_get_cursorpos(a->vs, &pa);
	vterm_state_get_cursorpos(b->vs, &pb);
	if (pa.row != pb.row || pa.col != pb.col) {
		snprintf(why, whylen, "cursor %d,%d vs %d,%d", pa.row, pa.col, pb.row, pb.col);
		return 1;
	}
	if (a->cur != b->cur || a->visible != b->visible || !kf_pen_eq(&a->pen, &b->pen)) {
		snprintf(why, whylen, "alt %d/%d visible %d/%d or pen differ", a->cur, b->cur,
			 a->visible, b->visible);
		return 1;
	}
	if (query_modes(a, &ma) || query_modes(b, &mb)) {
		snprintf(why, whylen, "modes not comparable (unfinished sequence)");
		return 1;
	}
	if (memcmp(&ma, &mb, sizeof(ma)) || a->insert != b->insert || a->newline != b->newline) {
		snprintf(why, whylen, "modes differ (ckm %d/%d origin %d/%d wrap %d/%d region %d-%d/%d-%d)",
			 ma.ckm, mb.ckm, ma.origin, mb.origin, ma.autowrap, mb.autowrap,
			 ma.top, ma.bottom, mb.top, mb.bottom);
		return 1;
	}
	pha = a->g.valid && a->g.edge && ma.autowrap && pa.row == a->g.row && pa.col == a->g.col;
	phb = b->g.valid && b->g.edge && mb.autowrap && pb.row == b->g.row && pb.col == b->g.col;
	if (pha != phb) {
		snprintf(why, whylen, "pending wrap %d vs %d", pha, phb);
		return 1;
	}
	if (a->hold_len != b->hold_len || memcmp(a->hold, b->hold, a->hold_len)) {
		snprintf(why, whylen, "held-back bytes differ");
		return 1;
	}
	return 0;
}
