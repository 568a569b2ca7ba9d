// SPDX-License-Identifier: Apache-2.0
/*
 * libvterm's state callbacks, which keep kt_screen's cells: rows are
 * pointers, so a full-width scroll rotates pointers.  Also kt_screen_new
 * and kt_screen_free, which wire libvterm to them (screen_int.h).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen_int.h"

/* ------------------------------------------------------------- callbacks */


static int cb_putglyph(VTermGlyphInfo *info, VTermPos pos, void *user)
{
	struct kt_screen *s = user;
	struct row *r;
	struct kt_cell *c;
	int w = info->width, rw;
	uint8_t odd = 0;

	if (pos.row < 0 || pos.row >= s->rows || pos.col < 0 || pos.col >= s->cols)
		return 1;
	if (w < 1 || w > 2) {
		odd = KT_ATTR_ODD;
		w = 1;
	}
	if (pos.col + w > s->cols) {
		odd = KT_ATTR_ODD;
		w = 1;
	}
	r = s->buf[s->cur][pos.row];
	rw = info->dwl ? s->cols / 2 : s->cols;

	/* autowrap: the previous glyph ended the row above and the cursor
	 * never moved in between */
	if (s->g.valid && pos.col == 0 && s->g.crow >= 0 && pos.row == s->g.crow + 1 &&
	    s->g.end >= s->g.rw - 1)
		s->buf[s->cur][s->g.crow]->wrapped = true;

	c = &r->cells[pos.col];
	memset(c->ch, 0, sizeof(c->ch));
	for (int k = 0; k < KT_CELL_CHARS && info->chars[k]; k++)
		c->ch[k] = info->chars[k];
	c->width = (uint8_t)w;
	c->pen = s->pen;
	c->pen.attrs |= odd | (info->protected_cell ? KT_ATTR_PROTECTED : 0);
	if (w == 2) {
		struct kt_cell *c2 = c + 1;

		memset(c2->ch, 0, sizeof(c2->ch));
		c2->width = 0;
		c2->pen = c->pen;
	}
	scr_fix_wide(r, pos.col, s->cols);
	scr_fix_wide(r, pos.col + w, s->cols);
	r->ts = s->now;

	s->g.valid = true;
	s->g.row = s->g.crow = pos.row;
	s->g.col = pos.col;
	s->g.end = pos.col + info->width;
	s->g.rw = rw;
	s->g.edge = pos.col + info->width >= rw;
	s->g.has = true;
	s->g.w = info->width;
	memcpy(s->g.ch, c->ch, sizeof(s->g.ch));
	return 1;
}

static int cb_movecursor(VTermPos pos, VTermPos oldpos, int visible, void *user)
{
	struct kt_screen *s = user;

	/* on_text reports the move to the last glyph's cell; any other move
	 * cancels libvterm's pending wrap */
	if (pos.row != s->g.row || pos.col != s->g.col)
		s->g.valid = false;
	return 1;
}

static void erase_rect(struct kt_screen *s, VTermRect rect, bool selective)
{
	struct row **rows = s->buf[s->cur];
	bool full = rect.start_col == 0 && rect.end_col == s->cols;

	for (int i = rect.start_row; i < rect.end_row; i++) {
		struct row *r = rows[i];

		for (int k = rect.start_col; k < rect.end_col; k++) {
			if (selective && (r->cells[k].pen.attrs & KT_ATTR_PROTECTED))
				continue;
			scr_cell_erase(&r->cells[k], &s->pen);
		}
		scr_fix_wide(r, rect.start_col, s->cols);
		scr_fix_wide(r, rect.end_col, s->cols);
		if (full && !selective)
			r->wrapped = false;
	}
}

static bool clip_rect(struct kt_screen *s, VTermRect *r)
{
	r->start_row = clampi(r->start_row, 0, s->rows);
	r->end_row = clampi(r->end_row, 0, s->rows);
	r->start_col = clampi(r->start_col, 0, s->cols);
	r->end_col = clampi(r->end_col, 0, s->cols);
	return r->end_row > r->start_row && r->end_col > r->start_col;
}

static int cb_erase(VTermRect rect, int selective, void *user)
{
	struct kt_screen *s = user;

	if (!clip_rect(s, &rect))
		return 1;
	/* `clear` and friends: what was on the main screen leaves it */
	if (s->cur == 0 && rect.start_col == 0 && rect.end_col == s->cols &&
	    rect.end_row - rect.start_row >= 2 && !selective)
		for (int i = rect.start_row; i < rect.end_row; i++)
			scr_leave_row(s, s->buf[0][i]);
	erase_rect(s, rect, selective);
	return 1;
}

static int cb_scrollrect(VTermRect rect, int down, int right, void *user)
{
	struct kt_screen *s = user;
	struct row **rows = s->buf[s->cur];
	int h, w;

	if (!clip_rect(s, &rect))
		return 1;
	h = rect.end_row - rect.start_row;
	w = rect.end_col - rect.start_col;
	down = clampi(down, -h, h);
	right = clampi(right, -w, w);

	if (right == 0 && rect.start_col == 0 && rect.end_col == s->cols) {
		int n = down > 0 ? down : -down;

		if (!n)
			return 1;
		if (down > 0 && s->cur == 0 && rect.start_row == 0)
			for (int i = 0; i < n; i++)
				scr_leave_row(s, rows[i]);
		if (down > 0) {
			memcpy(s->rowtmp, rows + rect.start_row, n * sizeof(*rows));
			memmove(rows + rect.start_row, rows + rect.start_row + n,
				(h - n) * sizeof(*rows));
			memcpy(rows + rect.end_row - n, s->rowtmp, n * sizeof(*rows));
			for (int i = rect.end_row - n; i < rect.end_row; i++)
				scr_row_clear(rows[i], s->cols, &s->pen);
		} else {
			memcpy(s->rowtmp, rows + rect.end_row - n, n * sizeof(*rows));
			memmove(rows + rect.start_row + n, rows + rect.start_row,
				(h - n) * sizeof(*rows));
			memcpy(rows + rect.start_row, s->rowtmp, n * sizeof(*rows));
			for (int i = rect.start_row; i < rect.start_row + n; i++)
				scr_row_clear(rows[i], s->cols, &s->pen);
		}
		if (s->g.crow >= rect.start_row && s->g.crow < rect.end_row) {
			s->g.crow -= down;
			if (s->g.crow < rect.start_row || s->g.crow >= rect.end_row)
				s->g.crow = -1;
		}
		return 1;
	}

	/* a part of the width: move cells (ICH/DCH, scrolling inside margins) */
	if (down >= 0) {
		for (int i = rect.start_row; i < rect.end_row; i++)
			if (i + down < rect.end_row && (down || right)) {
				struct row *d = rows[i], *src = rows[i + down];
				int from = rect.start_col + (right > 0 ? right : 0);
				int to = rect.start_col + (right < 0 ? -right : 0);

				memmove(&d->cells[to], &src->cells[from],
					(size_t)(w - (right > 0 ? right : -right)) * sizeof(struct kt_cell));
				if (src->ts > d->ts)
					d->ts = src->ts;
			}
	} else {
		for (int i = rect.end_row - 1; i >= rect.start_row; i--)
			if (i + down >= rect.start_row) {
				struct row *d = rows[i], *src = rows[i + down];
				int from = rect.start_col + (right > 0 ? right : 0);
				int to = rect.start_col + (right < 0 ? -right : 0);

				memmove(&d->cells[to], &src->cells[from],
					(size_t)(w - (right > 0 ? right : -right)) * sizeof(struct kt_cell));
				if (src->ts > d->ts)
					d->ts = src->ts;
			}
	}
	/* erase what was uncovered */
	{
		VTermRect e;

		if (down > 0) {
			e = rect;
			e.start_row = rect.end_row - down;
			erase_rect(s, e, false);
		} else if (down < 0) {
			e = rect;
			e.end_row = rect.start_row - down;
			erase_rect(s, e, false);
		}
		if (right > 0) {
			e = rect;
			e.start_col = rect.end_col - right;
			erase_rect(s, e, false);
		} else if (right < 0) {
			e = rect;
			e.end_col = rect.start_col - right;
			erase_rect(s, e, false);
		}
	}
	for (int i = rect.start_row; i < rect.end_row; i++) {
		scr_fix_wide(rows[i], rect.start_col, s->cols);
		scr_fix_wide(rows[i], rect.end_col, s->cols);
	}
	return 1;
}

static struct kt_color conv_color(const VTermColor *c)
{
	struct kt_color k = { 0 };

	if (c->type & VTERM_COLOR_DEFAULT_MASK)
		return k;
	if (VTERM_COLOR_IS_INDEXED(c)) {
		k.type = KT_COLOR_INDEXED;
		k.r = c->indexed.idx;
	} else {
		k.type = KT_COLOR_RGB;
		k.r = c->rgb.red;
		k.g = c->rgb.green;
		k.b = c->rgb.blue;
	}
	return k;
}

static void set_bit(uint8_t *v, uint8_t bit, int on)
{
	if (on)
		*v |= bit;
	else
		*v &= ~bit;
}

static int cb_setpenattr(VTermAttr attr, VTermValue *val, void *user)
{
	struct kt_screen *s = user;

	switch (attr) {
	case VTERM_ATTR_BOLD:
		set_bit(&s->pen.attrs, KT_ATTR_BOLD, val->boolean);
		break;
	case VTERM_ATTR_UNDERLINE:
		s->pen.underline = (uint8_t)clampi(val->number, 0, 3);
		break;
	case VTERM_ATTR_ITALIC:
		set_bit(&s->pen.attrs, KT_ATTR_ITALIC, val->boolean);
		break;
	case VTERM_ATTR_BLINK:
		set_bit(&s->pen.attrs, KT_ATTR_BLINK, val->boolean);
		break;
	case VTERM_ATTR_REVERSE:
		set_bit(&s->pen.attrs, KT_ATTR_REVERSE, val->boolean);
		break;
	case VTERM_ATTR_STRIKE:
		set_bit(&s->pen.attrs, KT_ATTR_STRIKE, val->boolean);
		break;
	case VTERM_ATTR_FONT:
		s->pen.font = (uint8_t)clampi(val->number, 0, 9);
		break;
	case VTERM_ATTR_FOREGROUND:
		s->pen.fg = conv_color(&val->color);
		break;
	case VTERM_ATTR_BACKGROUND:
		s->pen.bg = conv_color(&val->color);
		break;
	default:
		break;
	}
	return 1;
}

static int cb_initpen(void *user)
{
	struct kt_screen *s = user;

	s->pen = default_pen;
	return 1;
}

void scr_save_cursor(struct kt_screen *s)
{
	VTermPos pos;

	vterm_state_get_cursorpos(s->vs, &pos);
	s->saved.valid = true;
	s->saved.row = pos.row;
	s->saved.col = pos.col;
	s->saved.pen = s->pen;
	s->saved.visible = s->visible;
	s->saved.blink = s->blink;
	s->saved.shape = s->shape;
}

static int cb_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	struct kt_screen *s = user;

	switch (prop) {
	case VTERM_PROP_CURSORVISIBLE:
		s->visible = val->boolean;
		break;
	case VTERM_PROP_CURSORBLINK:
		s->blink = val->boolean;
		break;
	case VTERM_PROP_CURSORSHAPE:
		s->shape = val->number;
		break;
	case VTERM_PROP_REVERSE:
		s->reverse = val->boolean;
		break;
	case VTERM_PROP_ALTSCREEN:
		if (s->cur != (val->boolean ? 1 : 0)) {
			s->cur = val->boolean ? 1 : 0;
			s->g.crow = -1;
		}
		break;
	case VTERM_PROP_TITLE: {
		size_t n = val->string ? strlen(val->string) : 0;

		if (n >= TITLE_MAX)
			n = TITLE_MAX - 1;
		/* clip on a UTF-8 boundary */
		while (n && ((unsigned char)val->string[n] & 0xc0) == 0x80)
			n--;
		memcpy(s->title, val->string ? val->string : "", n);
		s->title[n] = 0;
		s->title_len = n;
		break;
	}
	default:
		break;
	}
	/* 0 would make libvterm ignore the property */
	return 1;
}

static int cb_setlineinfo(int row, const VTermLineInfo *newinfo,
			  const VTermLineInfo *oldinfo, void *user)
{
	return 1;
}

static int cb_bell(void *user)
{
	return 1;
}

static bool row_blank(const struct row *r, int cols)
{
	for (int i = 0; i < cols; i++)
		if (r->cells[i].ch[0])
			return false;
	return true;
}

/*
 * One buffer to the new size, into fresh rows (the old ones stay intact if
 * memory runs out).  Losing rows: blank rows below `keep_row` go first, then
 * rows leave at the top, but never `keep_row` itself (the cursor's row: a
 * cursor above the screen is what libvterm would get from a larger push,
 * and nothing clamps it); what is still to lose goes at the bottom.
 * *moved says how far content moved up, *dropped how many rows went at the
 * bottom.
 */
static int resize_buf(struct kt_screen *s, int b, int rows, int cols, int keep_row,
		      struct row ***nbp, int *moved, int *dropped)
{
	struct row **old = s->buf[b], **nb;
	int push = 0, drop_bottom = 0, ncopy = cols < s->cols ? cols : s->cols;

	*moved = 0;
	*dropped = 0;
	nb = calloc(rows, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	if (rows < s->rows) {
		int lose = s->rows - rows;

		keep_row = clampi(keep_row, 0, s->rows - 1);
		while (drop_bottom < lose && s->rows - 1 - drop_bottom > keep_row &&
		       row_blank(old[s->rows - 1 - drop_bottom], s->cols))
			drop_bottom++;
		push = lose - drop_bottom;
		if (push > keep_row) {
			drop_bottom += push - keep_row;
			push = keep_row;
		}
	}
	for (int i = 0; i < rows; i++) {
		int src = i + push;

		nb[i] = scr_row_new(cols);
		if (!nb[i]) {
			for (int k = 0; k < i; k++)
				free(nb[k]);
			free(nb);
			return -ENOMEM;
		}
		if (src < s->rows - drop_bottom) {
			memcpy(nb[i]->cells, old[src]->cells, ncopy * sizeof(struct kt_cell));
			nb[i]->ts = old[src]->ts;
			nb[i]->wrapped = old[src]->wrapped && cols == s->cols;
			scr_fix_wide(nb[i], cols, cols);
		}
	}
	*nbp = nb;
	*moved = push;
	*dropped = drop_bottom;
	return 0;
}

static void free_rows(struct row **rows, int n)
{
	if (!rows)
		return;
	for (int i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
}

static int cb_resize(int rows, int cols, VTermPos *delta, void *user)
{
	struct kt_screen *s = user;
	struct row **nb[2] = { NULL, NULL }, **tmp;
	size_t text_cap = (size_t)(cols > s->cols ? cols : s->cols) * KT_CELL_CHARS * 6 + 1;
	VTermPos pos;
	int moved[2] = { 0, 0 }, dropped[2] = { 0, 0 }, err = -ENOMEM;
	char *t, *p;

	/* text buffers for the larger width: rows leaving now are the old width */
	tmp = realloc(s->rowtmp, rows * sizeof(*tmp));
	if (tmp)
		s->rowtmp = tmp;
	t = realloc(s->tmp, text_cap);
	if (t)
		s->tmp = t;
	p = realloc(s->pend, LINE_MAX_BYTES + text_cap);
	if (p)
		s->pend = p;
	if (!tmp || !t || !p)
		goto fail;
	vterm_state_get_cursorpos(s->vs, &pos);
	for (int b = 0; b < 2; b++) {
		int keep = b == s->cur ? pos.row : b == 0 && s->saved.valid ? s->saved.row : 0;

		err = resize_buf(s, b, rows, cols, keep, &nb[b], &moved[b], &dropped[b]);
		if (err)
			goto fail;
	}
	/* nothing fails from here: rows pushed off the main screen leave */
	for (int i = 0; i < moved[0]; i++)
		scr_leave_row(s, s->buf[0][i]);
	/* rows cut at the bottom (below the cursor) leave too, each on its own:
	 * a wrapped line is split there, which is better than lost */
	for (int i = s->rows - dropped[0]; i < s->rows; i++) {
		size_t n = scr_row_text(s->buf[0][i], s->cols, s->tmp);

		scr_emit(s, s->tmp, n, s->buf[0][i]->ts);
	}
	for (int b = 0; b < 2; b++) {
		free_rows(s->buf[b], s->rows);
		s->buf[b] = nb[b];
	}
	if (s->saved.valid && s->cur == 1) {
		s->saved.row = clampi(s->saved.row - moved[0], 0, rows - 1);
		s->saved.col = clampi(s->saved.col, 0, cols - 1);
	}
	delta->row = -moved[s->cur];
	assert(pos.row + delta->row >= 0);
	/* libvterm cancels a pending wrap that now has room to the right */
	if (s->g.valid && s->g.edge && pos.row == s->g.row && pos.col == s->g.col &&
	    pos.col < cols - 1)
		s->g.valid = false;
	s->g.crow = -1;
	s->rows = rows;
	s->cols = cols;
	return 1;
fail:
	free_rows(nb[0], rows);
	/* libvterm has the new size and this model has not: unusable */
	s->broken = err;
	s->cb_err = err;
	return 1;
}

static const VTermStateCallbacks state_cbs = {
	.putglyph = cb_putglyph,
	.movecursor = cb_movecursor,
	.scrollrect = cb_scrollrect,
	.erase = cb_erase,
	.initpen = cb_initpen,
	.setpenattr = cb_setpenattr,
	.settermprop = cb_settermprop,
	.bell = cb_bell,
	.resize = cb_resize,
	.setlineinfo = cb_setlineinfo,
};

static void on_output(const char *bytes, size_t len, void *user)
{
	struct kt_screen *s = user;

	/* answers to the stream's own queries (DA, DSR) go nowhere */
	if (!s->capture)
		return;
	if (s->reply_len + len > s->reply_cap) {
		size_t cap = (s->reply_len + len) * 2 + 64;
		char *p = realloc(s->reply, cap);

		if (!p)
			return;
		s->reply = p;
		s->reply_cap = cap;
	}
	memcpy(s->reply + s->reply_len, bytes, len);
	s->reply_len += len;
}


/* ------------------------------------------------------------- new/free */

void kt_screen_free(struct kt_screen *s)
{
	if (!s)
		return;
	if (s->vt)
		vterm_free(s->vt);
	for (int b = 0; b < 2; b++) {
		if (!s->buf[b])
			continue;
		for (int i = 0; i < s->rows; i++)
			free(s->buf[b][i]);
		free(s->buf[b]);
	}
	free(s->rowtmp);
	free(s->tmp);
	free(s->pend);
	free(s->reply);
	free(s);
}

int kt_screen_new(int rows, int cols, struct kt_screen **out)
{
	struct kt_screen *s;
	int err = -ENOMEM;

	if (!out)
		return -EINVAL;
	*out = NULL;
	kt_screen_size_norm(rows, cols, &rows, &cols);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rows = rows;
	s->cols = cols;
	s->g.crow = -1;
	s->autowrap = true;
	s->rowtmp = calloc(rows, sizeof(*s->rowtmp));
	s->tmp = malloc((size_t)cols * KT_CELL_CHARS * 6 + 1);
	s->pend = malloc(LINE_MAX_BYTES + (size_t)cols * KT_CELL_CHARS * 6 + 1);
	if (!s->rowtmp || !s->tmp || !s->pend)
		goto cleanup;
	for (int b = 0; b < 2; b++) {
		s->buf[b] = calloc(rows, sizeof(*s->buf[b]));
		if (!s->buf[b])
			goto cleanup;
		for (int i = 0; i < rows; i++) {
			s->buf[b][i] = scr_row_new(cols);
			if (!s->buf[b][i])
				goto cleanup;
		}
	}
	s->vt = vterm_new(rows, cols);
	if (!s->vt)
		goto cleanup;
	vterm_set_utf8(s->vt, 1);
	vterm_output_set_callback(s->vt, on_output, s);
	s->vs = vterm_obtain_state(s->vt);
	if (!s->vs)
		goto cleanup;
	vterm_state_set_callbacks(s->vs, &state_cbs, s);
	vterm_state_reset(s->vs, 1);
	*out = s;
	return 0;
cleanup:
	kt_screen_free(s);
	return err;
}

void kt_screen_size(const struct kt_screen *s, int *rows, int *cols)
{
	if (rows)
		*rows = s->rows;
	if (cols)
		*cols = s->cols;
}

void kt_screen_set_time(struct kt_screen *s, int64_t ts_us)
{
	s->now = ts_us;
}

void kt_screen_set_line_cb(struct kt_screen *s, kt_screen_line_cb cb, void *ctx)
{
	s->line_cb = cb;
	s->line_ctx = ctx;
}
