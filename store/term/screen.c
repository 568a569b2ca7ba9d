// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen's cells: row helpers, the text of rows and of logical lines
 * leaving the main screen (the line callback), and the read accessors.
 * The object, and how the terminal model is split, in screen_int.h.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen_int.h"

/* ------------------------------------------------------------- cells */

struct row *scr_row_new(int cols)
{
	struct row *r = malloc(sizeof(*r) + (size_t)cols * sizeof(struct kt_cell));

	if (r)
		scr_row_clear(r, cols, &default_pen);
	return r;
}

/* ------------------------------------------------------------- text */

size_t scr_utf8_put(char *o, uint32_t cp, bool text)
{
	if (text && cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp < 0x200000) {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	/* libvterm decodes the old 5- and 6-byte forms; redraw them as such */
	if (cp < 0x4000000) {
		o[0] = (char)(0xf8 | cp >> 24);
		o[1] = (char)(0x80 | (cp >> 18 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[3] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[4] = (char)(0x80 | (cp & 0x3f));
		return 5;
	}
	o[0] = (char)(0xfc | (cp >> 30 & 1));
	o[1] = (char)(0x80 | (cp >> 24 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 18 & 0x3f));
	o[3] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[4] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[5] = (char)(0x80 | (cp & 0x3f));
	return 6;
}

/* Row text into dst (room for cols * KT_CELL_CHARS * 4 + 1), trailing blanks
 * trimmed unless `keep`; returns the length. */
static size_t row_text_k(const struct row *r, int cols, char *dst, bool keep)
{
	size_t o = 0;

	for (int i = 0; i < cols; i++) {
		const struct kt_cell *c = &r->cells[i];

		if (c->width == 0)
			continue;
		if (!c->ch[0]) {
			dst[o++] = ' ';
			continue;
		}
		for (int k = 0; k < KT_CELL_CHARS && c->ch[k]; k++)
			o += scr_utf8_put(dst + o, c->ch[k], true);
	}
	while (!keep && o && dst[o - 1] == ' ')
		o--;
	dst[o] = 0;
	return o;
}

size_t scr_row_text(const struct row *r, int cols, char *dst)
{
	return row_text_k(r, cols, dst, false);
}

/* A row's part of a logical line: an autowrapped row was written up to its
 * last column, so its trailing blanks are text (the space between two
 * words that fell on the wrap, at any width); a blank row is still empty. */
static size_t line_part(const struct row *r, int cols, char *dst)
{
	size_t n = scr_row_text(r, cols, dst);

	return r->wrapped && n ? row_text_k(r, cols, dst, true) : n;
}

void scr_emit(struct kt_screen *s, const char *text, size_t len, int64_t ts)
{
	int err;

	if (!len || !s->line_cb)
		return;
	err = s->line_cb(text, len, ts, s->line_ctx);
	if (err && !s->cb_err)
		s->cb_err = err;
}

/*
 * A main-screen row leaves: wrapped rows collect in pend until the row that
 * ends the logical line.  Lines are stamped with the latest write time.
 */
void scr_leave_row(struct kt_screen *s, struct row *r)
{
	size_t n = line_part(r, s->cols, s->tmp);
	int64_t ts = r->ts > s->pend_ts ? r->ts : s->pend_ts;

	if (s->pend_len + n > LINE_MAX_BYTES) {
		scr_emit(s, s->pend, s->pend_len, s->pend_ts);
		s->pend_len = 0;
		s->pend_ts = 0;
		ts = r->ts;
	}
	memcpy(s->pend + s->pend_len, s->tmp, n);
	s->pend_len += n;
	s->pend_ts = ts;
	if (r->wrapped && n)
		return;
	scr_emit(s, s->pend, s->pend_len, s->pend_ts);
	s->pend_len = 0;
	s->pend_ts = 0;
}


/* ------------------------------------------------------------- reading */

int kt_screen_row_text(const struct kt_screen *s, int row, char *buf, size_t size)
{
	size_t n;

	if (!s || row < 0 || row >= s->rows)
		return -EINVAL;
	n = scr_row_text(s->buf[s->cur][row], s->cols, s->tmp);
	if (size) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(buf, s->tmp, k);
		buf[k] = 0;
	}
	return (int)n;
}

int kt_screen_text(const struct kt_screen *s, char **out, size_t *len)
{
	size_t cap = (size_t)s->rows * ((size_t)s->cols * KT_CELL_CHARS * 6 + 1) + 1, o = 0, keep = 0;
	char *t = malloc(cap);

	if (!t)
		return -ENOMEM;
	for (int i = 0; i < s->rows; i++) {
		size_t n = scr_row_text(s->buf[s->cur][i], s->cols, t + o);

		o += n;
		if (n)
			keep = o;
		t[o++] = '\n';
	}
	t[keep] = 0;
	*out = t;
	if (len)
		*len = keep;
	return 0;
}

int kt_screen_visible_lines(struct kt_screen *s, kt_screen_line_cb cb, void *ctx)
{
	struct row **rows = s->buf[s->cur];
	char *line = NULL;
	size_t len = 0, cap = (size_t)s->cols * KT_CELL_CHARS * 6 + 1;
	int64_t ts = 0;
	int err = 0;

	if (s->cur == 0 && s->pend_len) {
		len = s->pend_len;
		ts = s->pend_ts;
	}
	cap += len + LINE_MAX_BYTES;
	line = malloc(cap);
	if (!line)
		return -ENOMEM;
	if (len)
		memcpy(line, s->pend, len);
	for (int i = 0; i < s->rows && !err; i++) {
		size_t n;

		if (len > LINE_MAX_BYTES) {
			err = cb(line, len, ts, ctx);
			len = 0;
			ts = 0;
		}
		n = line_part(rows[i], s->cols, line + len);
		len += n;
		if (rows[i]->ts > ts)
			ts = rows[i]->ts;
		if (rows[i]->wrapped && n && i < s->rows - 1)
			continue;
		if (len && !err)
			err = cb(line, len, ts, ctx);
		len = 0;
		ts = 0;
	}
	free(line);
	return err;
}

const struct kt_cell *kt_screen_cell(const struct kt_screen *s, int row, int col)
{
	if (!s || row < 0 || row >= s->rows || col < 0 || col >= s->cols)
		return NULL;
	return &s->buf[s->cur][row]->cells[col];
}

void kt_screen_cursor(const struct kt_screen *s, int *row, int *col, bool *visible)
{
	VTermPos pos;

	vterm_state_get_cursorpos(s->vs, &pos);
	/* libvterm does not clamp what a resize callback moves; cb_resize
	 * keeps the cursor's row, so it is always on the screen */
	assert(pos.row >= 0 && pos.row < s->rows);
	if (row)
		*row = pos.row;
	if (col)
		*col = pos.col;
	if (visible)
		*visible = s->visible;
}

bool kt_screen_altscreen(const struct kt_screen *s)
{
	return s->cur == 1;
}
