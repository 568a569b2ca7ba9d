// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt's erase and scroll (split from fv_grid.c, which keeps the glyphs,
 * the leaving lines and resize): what libvterm 0.1.4's erase and scroll do
 * followed by kt_screen's cb_erase and cb_scrollrect (store/screen.c).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fv_int.h"

/* The row from column c0 to its end becomes the pen's blank: nothing is
 * written (the cells before c0 keep their fill). */
static void clear_to_end(struct fv *s, struct fv_row *r, int c0)
{
	if (r->hw < c0)
		fv_row_fill(r, c0);
	r->hw = c0;
	r->fill = s->blank;
	r->fill_default = s->pen_default;
}

/* kt_screen's row_clear with the current pen: nothing is written (a line
 * wrapping in a coloured name of `ls --color` used to write a row of 80
 * coloured blanks, and its text then read and trimmed them). */
static void row_clear(struct fv *s, struct fv_row *r)
{
	if (s->pen_dirty)
		fv_pen_sync(s);
	clear_to_end(s, r, 0);
	r->wrapped = false;
	r->mixed = false;
	r->ts = 0;
}

static void erase_rect(struct fv *s, int r0, int r1, int c0, int c1, bool selective)
{
	bool full = c0 == 0 && c1 == s->cols;

	if (s->pen_dirty)
		fv_pen_sync(s);
	for (int i = r0; i < r1; i++) {
		struct fv_row *r = s->buf[s->cur][i];
		int end = c1;

		if (!selective && c1 == s->cols) {
			clear_to_end(s, r, c0);
		} else if (s->pen_default && r->fill_default && !selective) {
			/* beyond hw the cells already are what erasing makes */
			if (end > r->hw)
				end = r->hw > c0 ? r->hw : c0;
			for (int k = c0; k < end; k++)
				r->cells[k] = s->blank;
			if (c1 >= r->hw && c0 < r->hw)
				r->hw = c0;
		} else {
			fv_row_fill(r, c1);
			for (int k = c0; k < end; k++) {
				if (selective && (r->cells[k].pen.attrs & KT_ATTR_PROTECTED))
					continue;
				r->cells[k] = s->blank;
			}
		}
		fv_fix_wide(r, c0, s->cols);
		fv_fix_wide(r, c1, s->cols);
		if (full && !selective)
			r->wrapped = false;
	}
}

/* Clip a rectangle to the screen; false when nothing of it is left. */
static bool clip_rect(const struct fv *s, int *r0, int *r1, int *c0, int *c1)
{
	*r0 = fv_clamp(*r0, 0, s->rows);
	*r1 = fv_clamp(*r1, 0, s->rows);
	*c0 = fv_clamp(*c0, 0, s->cols);
	*c1 = fv_clamp(*c1, 0, s->cols);
	return *r1 > *r0 && *c1 > *c0;
}

/* kt_screen's cb_erase (rect clipped to the screen). */
void fv_erase(struct fv *s, int r0, int r1, int c0, int c1, bool selective)
{
	if (!clip_rect(s, &r0, &r1, &c0, &c1))
		return;
	/* `clear` and friends: what was on the main screen leaves it */
	if (s->cur == 0 && c0 == 0 && c1 == s->cols && r1 - r0 >= 2 && !selective)
		for (int i = r0; i < r1; i++)
			fv_leave_row(s, s->buf[0][i]);
	erase_rect(s, r0, r1, c0, c1, selective);
}

static void move_cells(struct fv_row *d, struct fv_row *src, int to, int from, int n)
{
	fv_row_fill(src, from + n);
	fv_row_fill(d, to + n);
	memmove(&d->cells[to], &src->cells[from], (size_t)n * sizeof(struct kt_cell));
	d->mixed |= src->mixed;
	if (src->ts > d->ts)
		d->ts = src->ts;
}

/*
 * The whole screen moves up a row (a line feed at the bottom of a
 * full-screen scroll region: every line of plain output once the screen is
 * full).  Row 0 becomes the row just past the window: the window slides one
 * pointer forward instead of moving rows - 1 row pointers (and reading them
 * back at once, 7% of `seq` in memmove).  At the end of the allocation the
 * window moves back to its start, once per cap - rows line feeds.
 */
static void window_up(struct fv *s)
{
	struct fv_row **w = s->buf[s->cur], **m = s->mem[s->cur], *first = w[0];
	int rows = s->rows;

	assert(w >= m && w + rows <= m + s->cap);
	if (w + rows < m + s->cap) {
		w[rows] = first;
		s->buf[s->cur] = w + 1;
	} else {
		memmove(m, w + 1, (size_t)(rows - 1) * sizeof(*w));
		m[rows - 1] = first;
		s->buf[s->cur] = m;
	}
}

/* fv_scroll by one row up over the full width (a line feed at the bottom
 * of the scroll region); the caller checked 0 <= r0 < r1 <= rows. */
static void scroll_up1(struct fv *s, int r0, int r1)
{
	struct fv_row **rows = s->buf[s->cur], *first = rows[r0];

	if (s->li_any) /* else every row's line info is 0 */
		memmove(s->li + r0, s->li + r0 + 1, (size_t)(r1 - r0 - 1));
	if (s->cur == 0 && r0 == 0)
		fv_leave_row(s, first);
	if (r0 == 0 && r1 == s->rows) {
		window_up(s);
	} else {
		memmove(rows + r0, rows + r0 + 1, (size_t)(r1 - r0 - 1) * sizeof(*rows));
		rows[r1 - 1] = first;
	}
	row_clear(s, first);
	if (s->g_crow >= r0 && s->g_crow < r1 && --s->g_crow < r0)
		s->g_crow = -1;
}

/* libvterm's scroll() (its line info) and kt_screen's cb_scrollrect. */
void fv_scroll(struct fv *s, int r0, int r1, int c0, int c1, int down, int right)
{
	struct fv_row **rows = s->buf[s->cur];
	int h, w;

	if (!down && !right)
		return;
	if (down == 1 && !right && c0 == 0 && c1 == s->cols && r0 >= 0 && r1 <= s->rows &&
	    r1 > r0) {
		scroll_up1(s, r0, r1);
		return;
	}
	h = r1 - r0;
	w = c1 - c0;
	down = fv_clamp(down, -(h > 0 ? h : 0), h > 0 ? h : 0);
	right = fv_clamp(right, -(w > 0 ? w : 0), w > 0 ? w : 0);
	if (c0 == 0 && c1 == s->cols && right == 0 && h > 0) {
		int height = h - abs(down);

		if (down > 0)
			memmove(s->li + r0, s->li + r0 + down, (size_t)height);
		else
			memmove(s->li + r0 - down, s->li + r0, (size_t)height);
	}
	if (!clip_rect(s, &r0, &r1, &c0, &c1))
		return;
	h = r1 - r0;
	w = c1 - c0;
	down = fv_clamp(down, -h, h);
	right = fv_clamp(right, -w, w);

	if (right == 0 && c0 == 0 && c1 == s->cols) {
		int n = down > 0 ? down : -down;

		if (!n)
			return;
		if (down > 0 && s->cur == 0 && r0 == 0)
			for (int i = 0; i < n; i++)
				fv_leave_row(s, rows[i]);
		if (down > 0) {
			memcpy(s->rowtmp, rows + r0, n * sizeof(*rows));
			memmove(rows + r0, rows + r0 + n, (h - n) * sizeof(*rows));
			memcpy(rows + r1 - n, s->rowtmp, n * sizeof(*rows));
			for (int i = r1 - n; i < r1; i++)
				row_clear(s, rows[i]);
		} else {
			memcpy(s->rowtmp, rows + r1 - n, n * sizeof(*rows));
			memmove(rows + r0 + n, rows + r0, (h - n) * sizeof(*rows));
			memcpy(rows + r0, s->rowtmp, n * sizeof(*rows));
			for (int i = r0; i < r0 + n; i++)
				row_clear(s, rows[i]);
		}
		if (s->g_crow >= r0 && s->g_crow < r1) {
			s->g_crow -= down;
			if (s->g_crow < r0 || s->g_crow >= r1)
				s->g_crow = -1;
		}
		return;
	}

	/* a part of the width: move cells (ICH/DCH, scrolling inside margins) */
	{
		int from = c0 + (right > 0 ? right : 0), to = c0 + (right < 0 ? -right : 0);
		int n = w - (right > 0 ? right : -right);

		if (down >= 0) {
			for (int i = r0; i < r1; i++)
				if (i + down < r1 && (down || right))
					move_cells(rows[i], rows[i + down], to, from, n);
		} else {
			for (int i = r1 - 1; i >= r0; i--)
				if (i + down >= r0)
					move_cells(rows[i], rows[i + down], to, from, n);
		}
	}
	if (down > 0)
		erase_rect(s, r1 - down, r1, c0, c1, false);
	else if (down < 0)
		erase_rect(s, r0, r0 - down, c0, c1, false);
	if (right > 0)
		erase_rect(s, r0, r1, c1 - right, c1, false);
	else if (right < 0)
		erase_rect(s, r0, r1, c0, c0 - right, false);
	for (int i = r0; i < r1; i++) {
		fv_fix_wide(rows[i], c0, s->cols);
		fv_fix_wide(rows[i], c1, s->cols);
	}
}

/* libvterm's linefeed. */
void fv_linefeed(struct fv *s)
{
	int bottom = fv_bottom(s);

	if (s->row == bottom - 1) {
		/* fv_scroll's first case, without its checks for the others */
		if (fv_left(s) == 0 && fv_right(s) == s->cols && s->top >= 0 && bottom <= s->rows &&
		    bottom > s->top)
			scroll_up1(s, s->top, bottom);
		else
			fv_scroll(s, s->top, bottom, fv_left(s), fv_right(s), 1, 0);
	} else if (s->row < s->rows - 1)
		s->row++;
}
