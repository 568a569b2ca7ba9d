// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt's life cycle and what is read from it: size, cells, cursor, row
 * text and the visible logical lines (as kt_screen gives them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fv_int.h"

void fv_free(struct fv *s)
{
	if (!s)
		return;
	for (int b = 0; b < 2; b++)
		fv_free_buf(s, b);
	free(s->rowtmp);
	free(s->tmp);
	free(s->pend);
	free(s->tabs);
	free(s->li);
	free(s);
}

int fv_new(int rows, int cols, struct fv **out)
{
	struct fv *s;

	if (!out)
		return -EINVAL;
	*out = NULL;
	kt_screen_size_norm(rows, cols, &rows, &cols);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rows = rows;
	s->cols = cols;
	s->g_crow = -1;
	s->run_row = -1;
	s->cap = fv_buf_cap(rows);
	s->rowtmp = calloc(rows, sizeof(*s->rowtmp));
	s->tmp = malloc((size_t)cols * KT_CELL_CHARS * 6 + 1);
	s->pend = malloc(FV_LINE_MAX + (size_t)cols * KT_CELL_CHARS * 6 + 1);
	s->tabs = calloc((size_t)(cols + 7) / 8, 1);
	s->li = calloc((size_t)rows, 1);
	if (!s->rowtmp || !s->tmp || !s->pend || !s->tabs || !s->li)
		goto fail;
	for (int b = 0; b < 2; b++) {
		s->mem[b] = s->buf[b] = calloc((size_t)fv_buf_cap(rows), sizeof(*s->buf[b]));
		if (!s->buf[b])
			goto fail;
		for (int i = 0; i < rows; i++) {
			s->buf[b][i] = fv_row_new(cols);
			if (!s->buf[b][i])
				goto fail;
		}
	}
	/*
	 * libvterm's saved cursor starts zeroed: a DECRC before any DECSC
	 * restores row 0, column 0, an invisible cursor of shape 0 and a pen
	 * whose colours are RGB black (type 0 there is RGB, not default).
	 */
	s->sv.pen.fg.type = KT_COLOR_RGB;
	s->sv.pen.bg.type = KT_COLOR_RGB;
	fv_reset(s);
	*out = s;
	return 0;
fail:
	fv_free(s);
	return -ENOMEM;
}

int fv_resize(struct fv *s, int rows, int cols)
{
	if (!s)
		return -EINVAL;
	kt_screen_size_norm(rows, cols, &rows, &cols);
	if (rows == s->rows && cols == s->cols)
		return 0;
	if (s->broken)
		return s->broken;
	s->cb_err = 0;
	bool shrink = rows < s->rows;

	if (fv_resize_grid(s, rows, cols))
		return s->broken;
	if (shrink) {
		/*
		 * As kt_screen_resize: reset the scroll region libvterm could
		 * leave inverted, then CUP back to the cursor
		 * (KT_SCREEN_REGION_RESET_FMT).  kt_screen holds a sequence
		 * cut at the end of a feed back from libvterm, so its parser
		 * is idle there; here the two CSIs are dispatched directly and
		 * the parser's state (a cut sequence or UTF-8 character) is
		 * left as it is.
		 */
		int row = s->row + 1, col = s->col + 1, argi = s->argi;
		uint8_t nl = s->nleader, ni = s->ninter;
		long a0 = s->args[0], a1 = s->args[1];

		s->nleader = s->ninter = 0;
		s->argi = 1;
		s->args[0] = FV_ARG_MISSING;
		fv_csi(s, 'r');
		s->argi = 2;
		s->args[0] = row;
		s->args[1] = col;
		fv_csi(s, 'H');
		s->argi = argi;
		s->nleader = nl;
		s->ninter = ni;
		s->args[0] = a0;
		s->args[1] = a1;
		if (s->broken)
			return s->broken;
	}
	return s->cb_err;
}

void fv_size(const struct fv *s, int *rows, int *cols)
{
	if (rows)
		*rows = s->rows;
	if (cols)
		*cols = s->cols;
}

void fv_set_time(struct fv *s, int64_t ts_us)
{
	s->now = ts_us;
}

void fv_set_line_cb(struct fv *s, kt_screen_line_cb cb, void *ctx)
{
	s->line_cb = cb;
	s->line_ctx = ctx;
}

int fv_row_text(const struct fv *s, int row, char *buf, size_t size)
{
	size_t n;

	if (!s || row < 0 || row >= s->rows)
		return -EINVAL;
	n = fv_row_text_k(s->buf[s->cur][row], s->cols, s->tmp, false);
	if (size) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(buf, s->tmp, k);
		buf[k] = 0;
	}
	return (int)n;
}

int fv_text(const struct fv *s, char **out, size_t *len)
{
	size_t cap = (size_t)s->rows * ((size_t)s->cols * KT_CELL_CHARS * 6 + 1) + 1, o = 0, keep = 0;
	char *t = malloc(cap);

	if (!t)
		return -ENOMEM;
	for (int i = 0; i < s->rows; i++) {
		size_t n = fv_row_text_k(s->buf[s->cur][i], s->cols, t + o, false);

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

/* kt_screen_visible_lines, line for line. */
int fv_visible_lines(struct fv *s, kt_screen_line_cb cb, void *ctx)
{
	struct fv_row **rows = s->buf[s->cur];
	size_t len = 0, cap = (size_t)s->cols * KT_CELL_CHARS * 6 + 1;
	int64_t ts = 0;
	char *line;
	int err = 0;

	if (s->cur == 0 && s->pend_len) {
		len = s->pend_len;
		ts = s->pend_ts;
	}
	cap += len + FV_LINE_MAX;
	line = malloc(cap);
	if (!line)
		return -ENOMEM;
	if (len)
		memcpy(line, s->pend, len);
	for (int i = 0; i < s->rows && !err; i++) {
		size_t n;

		if (len > FV_LINE_MAX) {
			err = cb(line, len, ts, ctx);
			len = 0;
			ts = 0;
		}
		n = fv_line_part(rows[i], s->cols, line + len);
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

const struct kt_cell *fv_cell(const struct fv *s, int row, int col)
{
	struct fv_row *r;

	if (!s || row < 0 || row >= s->rows || col < 0 || col >= s->cols)
		return NULL;
	r = s->buf[s->cur][row];
	/* cells beyond the high-water mark are blanks whatever their bytes:
	 * make them so (the row's content does not change) */
	fv_row_fill(r, col + 1);
	return &r->cells[col];
}

void fv_cursor(const struct fv *s, int *row, int *col, bool *visible)
{
	if (row)
		*row = s->row;
	if (col)
		*col = s->col;
	if (visible)
		*visible = s->visible;
}

bool fv_altscreen(const struct fv *s)
{
	return s->cur == 1;
}
