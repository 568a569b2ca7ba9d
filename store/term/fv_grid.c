// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt's cells: glyphs, resize, lines leaving the main screen (erase and
 * scroll are in fv_scroll.c).  Each operation does what libvterm 0.1.4's
 * state layer does followed by what kt_screen's callback (store/screen.c)
 * does with it, in one step and without the per-glyph callback.
 *
 * Speed: rows are pointers (a full-width scroll slides a window over them:
 * fv_scroll.c), and each row knows its high-water column (hw): beyond it
 * every cell is the row's fill blank (the default one, or the pen's when
 * the row was cleared to its end with a coloured pen) whatever its bytes
 * say (fv_row_fill makes them so before they are read or written), so
 * clearing a scrolled-in row costs nothing and reading a leaving row's
 * text touches only the written part (a `seq` line is 7 cells of 80).
 * Printable ASCII runs are written a row piece at a time from a template
 * cell (fv_put_ascii).
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "fv_int.h"

/*
 * A cell is 16 bytes of code points and a 12-byte tail: the width, then
 * the pen's 11 bytes, no padding (default_pen is all zero).  The templates
 * and the text run's cells are handled as that tail in two integers
 * (little-endian byte order).
 */
_Static_assert(offsetof(struct kt_cell, width) == 16 && offsetof(struct kt_cell, pen) == 17 &&
		       sizeof(struct kt_pen) == 11 && sizeof(struct kt_cell) == 28,
	       "fastvt's cell tail is 8 + 4 bytes at offset 16");

static inline uint32_t color_u32(const struct kt_color *c)
{
	return c->type | (uint32_t)c->r << 8 | (uint32_t)c->g << 16 | (uint32_t)c->b << 24;
}

static inline void cell_tail_set(struct kt_cell *c, uint64_t lo, uint32_t hi)
{
	memset(c->ch, 0, sizeof(c->ch));
	memcpy((uint8_t *)c + 16, &lo, 8);
	memcpy((uint8_t *)c + 24, &hi, 4);
}

/* The templates written glyphs and erased cells copy, after the pen
 * changed (done once before they are used: an SGR-dense stream changes
 * the pen several times between two glyphs). */
void fv_pen_sync(struct fv *s)
{
	const struct kt_pen *p = &s->pen;
	/*
	 * Read a byte at a time and put together in registers: the SGR just
	 * before stored the pen a byte at a time, and a wider load of those
	 * bytes (a struct copy, or a memcmp against the default pen) waits
	 * for the stores to reach the cache (store forwarding fails); so
	 * did a cell built in a local (9% of ls-color).  The templates are
	 * stored as the text run reads them back (fv_put_ascii).
	 */
	uint8_t attrs = p->attrs & (uint8_t)~(KT_ATTR_PROTECTED | FV_ATTR_ODD);
	uint64_t lo = 1 | (uint64_t)attrs << 8 | (uint64_t)p->underline << 16 |
		      (uint64_t)p->font << 24 | (uint64_t)color_u32(&p->fg) << 32;
	uint32_t hi = color_u32(&p->bg);

	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the cell tail is little-endian");
	s->pen_dirty = false;
	s->pen_default = !(lo >> 8) && !hi;
	cell_tail_set(&s->blank, lo, hi);
	if (s->protected_cell)
		lo |= (uint64_t)KT_ATTR_PROTECTED << 8;
	cell_tail_set(&s->glyph, lo, hi);
}

struct fv_row *fv_row_new(int cols)
{
	struct fv_row *r = malloc(sizeof(*r) + (size_t)cols * sizeof(struct kt_cell));

	if (!r)
		return NULL;
	r->hw = 0;
	r->ts = 0;
	r->wrapped = false;
	r->mixed = false;
	r->fill_default = true;
	r->fill = (struct kt_cell){ .width = 1 };
	return r;
}

void fv_free_rows(struct fv_row **rows, int n)
{
	if (!rows)
		return;
	for (int i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
}

/* Buffer b's rows (the window) and its allocation. */
void fv_free_buf(struct fv *s, int b)
{
	if (!s->mem[b])
		return;
	for (int i = 0; i < s->rows; i++)
		free(s->buf[b][i]);
	free(s->mem[b]);
	s->mem[b] = s->buf[b] = NULL;
}

/* Cells from hw up to `upto` become real fill blanks (see the top). */
void fv_row_fill(struct fv_row *r, int upto)
{
	assert(r->hw >= 0);
	const struct kt_cell blank = r->fill;

	for (int i = r->hw; i < upto; i++)
		r->cells[i] = blank;
	if (r->hw < upto)
		r->hw = upto;
}


/* kt_screen's fix_wide: no half wide glyphs at the col-1 | col boundary. */
void fv_fix_wide_slow(struct fv_row *r, int col, int cols)
{
	if (col > 0 && col <= cols && col - 1 < r->hw) {
		struct kt_cell *l = &r->cells[col - 1];

		if (l->width == 2 && (col == cols || col >= r->hw || r->cells[col].width != 0)) {
			memset(l->ch, 0, sizeof(l->ch));
			l->width = 1;
			l->pen.attrs &= ~(KT_ATTR_PROTECTED | FV_ATTR_ODD);
		}
	}
	if (col >= 0 && col < cols && col < r->hw) {
		struct kt_cell *c = &r->cells[col];

		if (c->width == 0 && (col == 0 || r->cells[col - 1].width != 2)) {
			memset(c->ch, 0, sizeof(c->ch));
			c->width = 1;
			c->pen.attrs &= ~(KT_ATTR_PROTECTED | FV_ATTR_ODD);
		}
	}
}

/* ------------------------------------------------------------- lines */

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp > 0x10ffff)
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
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The text of the first n cells of a row of ASCII and blanks (not mixed:
 * most rows), a byte per cell; unless keep, without the trailing blanks,
 * found on the cells before anything is written.  Returns the bytes.
 */
static inline size_t ascii_text(const struct kt_cell *c, int n, char *dst, bool keep)
{
	while (!keep && n > 0 && (c[n - 1].ch[0] == 0 || c[n - 1].ch[0] == ' '))
		n--;
	for (int i = 0; i < n; i++) {
		uint32_t c0 = c[i].ch[0];

#ifdef __SANITIZE_ADDRESS__ /* the hot loop: checked in the SAN build */
		assert(c0 < 0x80 && !c[i].ch[1] && c[i].width == 1);
#endif
		dst[i] = c0 ? (char)c0 : ' ';
	}
	return n > 0 ? (size_t)n : 0;
}

/* kt_screen's row_text_k: erased cells as spaces, trailing blanks trimmed
 * unless keep; dst has room for cols * KT_CELL_CHARS * 4 + 1. */
size_t fv_row_text_k(const struct fv_row *r, int cols, char *dst, bool keep)
{
	int hw = r->hw < cols ? r->hw : cols;
	size_t o = 0;

	/* the flag tested once: dst may alias *r for the compiler, which then
	 * read it again for every cell */
	if (!r->mixed) {
		o = ascii_text(r->cells, hw, dst, keep);
		if (keep) {
			memset(dst + o, ' ', (size_t)(cols - hw));
			o += (size_t)(cols - hw);
		}
		dst[o] = 0;
		return o;
	}
	for (int i = 0; r->mixed && i < hw; i++) {
		const struct kt_cell *c = &r->cells[i];
		uint32_t c0 = c->ch[0];

		if (c0 < 0x80 && !c->ch[1]) {
			/* branch-free: a wide glyph's right half (width 0, ch 0)
			 * writes a byte the next cell overwrites */
			dst[o] = c0 ? (char)c0 : ' ';
			o += c->width != 0;
			continue;
		}
		if (c->width == 0)
			continue;
		for (int k = 0; k < KT_CELL_CHARS && c->ch[k]; k++)
			o += utf8_put(dst + o, c->ch[k]);
	}
	if (keep) {
		memset(dst + o, ' ', (size_t)(cols - hw));
		o += (size_t)(cols - hw);
	}
	while (!keep && o && dst[o - 1] == ' ')
		o--;
	dst[o] = 0;
	return o;
}

/* A row's part of a logical line: a wrapped row with text keeps its
 * trailing blanks (the line goes on below), any other row is trimmed.
 * The trimmed text is the kept one without its trailing spaces, so the
 * row is read once (wrapped rows are most of a long-line workload). */
size_t fv_line_part(const struct fv_row *r, int cols, char *dst)
{
	size_t n;

	if (!r->wrapped)
		return fv_row_text_k(r, cols, dst, false);
	n = fv_row_text_k(r, cols, dst, true);
	{
		size_t t = n;

		while (t && dst[t - 1] == ' ')
			t--;
		if (!t) {
			dst[0] = 0;
			return 0;
		}
	}
	return n;
}

void fv_emit(struct fv *s, const char *text, size_t len, int64_t ts)
{
	int err;

	if (!len || !s->line_cb)
		return;
	err = s->line_cb(text, len, ts, s->line_ctx);
	if (err && !s->cb_err)
		s->cb_err = err;
}

/* kt_screen's leave_row: wrapped rows collect until the line ends. */
void fv_leave_row(struct fv *s, struct fv_row *r)
{
	size_t n;
	int64_t ts;

	if (!s->pend_len && !r->wrapped) {
		/* the common case, a line of its own: straight from the row
		 * (of ASCII and blanks, most often: read here) */
		if (!r->mixed) {
			n = ascii_text(r->cells, r->hw < s->cols ? r->hw : s->cols, s->tmp, false);
			s->tmp[n] = 0;
		} else {
			n = fv_row_text_k(r, s->cols, s->tmp, false);
		}
		fv_emit(s, s->tmp, n, r->ts > s->pend_ts ? r->ts : s->pend_ts);
		s->pend_ts = 0;
		return;
	}
	/* straight after what is pending (pend has room for FV_LINE_MAX and a
	 * row: fv_new, fv_resize_grid), not through tmp and a copy */
	assert(s->pend_len <= FV_LINE_MAX);
	n = fv_line_part(r, s->cols, s->pend + s->pend_len);
	ts = r->ts > s->pend_ts ? r->ts : s->pend_ts;
	if (s->pend_len + n > FV_LINE_MAX) {
		fv_emit(s, s->pend, s->pend_len, s->pend_ts);
		memmove(s->pend, s->pend + s->pend_len, n);
		s->pend_len = 0;
		s->pend_ts = 0;
		ts = r->ts;
	}
	s->pend_len += n;
	s->pend_ts = ts;
	if (r->wrapped && n)
		return;
	fv_emit(s, s->pend, s->pend_len, s->pend_ts);
	s->pend_len = 0;
	s->pend_ts = 0;
}

/* ------------------------------------------------------------- glyphs */

/* kt_screen's wrap mark: the glyph lands at the start of the row below the
 * last one, which reached its row's end, and the cursor never moved. */
static inline void mark_wrap(struct fv *s, int row, int col)
{
	if (s->g_valid && col == 0 && s->g_crow >= 0 && row == s->g_crow + 1 &&
	    s->g_end >= s->g_rw - 1)
		s->buf[s->cur][s->g_crow]->wrapped = true;
}

static inline void set_g(struct fv *s, int row, int col, int w, int rw)
{
	s->g_valid = true;
	s->g_row = s->g_crow = row;
	s->g_col = col;
	s->g_end = col + w;
	s->g_rw = rw;
	s->g_has = true;
	s->g_w = w;
}

/* libvterm's putglyph and kt_screen's cb_putglyph. */
void fv_put_glyph(struct fv *s, const uint32_t *chars, int width, int row, int col)
{
	struct fv_row *r;
	struct kt_cell *c;
	int w = width;
	uint8_t odd = 0;

	if (row < 0 || row >= s->rows || col < 0 || col >= s->cols)
		return;
	if (w < 1 || w > 2 || col + w > s->cols) {
		odd = FV_ATTR_ODD;
		w = 1;
	}
	r = s->buf[s->cur][row];
	mark_wrap(s, row, col);
	fv_row_fill(r, col + w);
	if (chars[0] >= 0x80 || chars[1] || w != 1 || odd)
		r->mixed = true;
	if (s->pen_dirty)
		fv_pen_sync(s);
	c = &r->cells[col];
	*c = s->glyph;
	for (int k = 0; k < KT_CELL_CHARS && chars[k]; k++)
		c->ch[k] = chars[k];
	c->width = (uint8_t)w;
	c->pen.attrs |= odd;
	if (w == 2) {
		c[1] = *c;
		memset(c[1].ch, 0, sizeof(c[1].ch));
		c[1].width = 0;
	}
	fv_fix_wide(r, col, s->cols);
	fv_fix_wide(r, col + w, s->cols);
	r->ts = s->now;
	set_g(s, row, col, width, fv_rowwidth(s, row));
	memcpy(s->g_ch, c->ch, sizeof(s->g_ch));
}

/* Text wraps to the next line (libvterm's on_text). */
static void wrap(struct fv *s)
{
	fv_linefeed(s);
	s->col = 0;
	s->phantom = false;
}

/* One glyph of a text run at the cursor (libvterm's on_text loop body). */
static void text_glyph(struct fv *s, const uint32_t *chars, int width)
{
	int rw = fv_rowwidth(s, s->row);

	if (s->phantom || s->col + width > rw) {
		wrap(s);
		rw = fv_rowwidth(s, s->row);
	}
	if (s->insert)
		fv_scroll(s, s->row, s->row + 1, s->col, rw, 0, -1);
	fv_put_glyph(s, chars, width, s->row, s->col);
	memset(s->comb, 0, sizeof(s->comb));
	for (int k = 0; k < KT_CELL_CHARS && chars[k]; k++)
		s->comb[k] = chars[k];
	s->comb_w = width;
	s->comb_row = s->row;
	s->comb_col = s->col;
	s->run = true;
	if (s->col + width >= rw) {
		if (s->autowrap)
			s->phantom = true;
	} else {
		s->col += width;
	}
}

/* One decoded character of a text run. */
void fv_text_cp(struct fv *s, uint32_t cp)
{
	uint32_t chars[KT_CELL_CHARS] = { cp, 0, 0, 0 };

	if (fv_is_combining(cp)) {
		/* in the same run it joins the glyph before it; in a later one
		 * only with the cursor still right behind that glyph */
		if (s->run || (s->row == s->comb_row && s->col == s->comb_col + s->comb_w)) {
			int k = 0;

			while (k < KT_CELL_CHARS && s->comb[k])
				k++;
			if (k < KT_CELL_CHARS)
				s->comb[k] = cp;
			fv_put_glyph(s, s->comb, s->comb_w, s->comb_row, s->comb_col);
			return;
		}
	}
	text_glyph(s, chars, fv_width(cp));
}

/*
 * A run of printable ASCII through an identity charset, without insert
 * mode: whole row pieces at a time, with exactly the per-glyph rules of
 * text_glyph (wrap, pending wrap, autowrap off overwriting the last column).
 */
void fv_put_ascii(struct fv *s, const uint8_t *p, size_t n)
{
	if (s->pen_dirty)
		fv_pen_sync(s);
	while (n) {
		int rw = fv_rowwidth(s, s->row), col, k;
		struct fv_row *r;
		struct kt_cell *c;

		if (s->phantom || s->col + 1 > rw) {
			wrap(s);
			rw = fv_rowwidth(s, s->row);
		}
		col = s->col;
		if (col >= s->cols)
			return; /* no cell (cannot happen: CSIs and wraps clamp) */
		k = rw - col;
		if ((size_t)k > n)
			k = (int)n;
		r = s->buf[s->cur][s->row];
		mark_wrap(s, s->row, col);
		if (r->hw < col)
			fv_row_fill(r, col);
		c = &r->cells[col];
		{
			/* the template's tail in locals (s->glyph could alias the
			 * row for the compiler, which then reloaded it for every
			 * cell), read as fv_pen_sync stored it */
			uint64_t lo;
			uint32_t hi;

			memcpy(&lo, (const uint8_t *)&s->glyph + 16, 8);
			memcpy(&hi, (const uint8_t *)&s->glyph + 24, 4);
#ifdef __SSE2__
			/* two 16-byte stores a cell: the code points (the
			 * character, three zeros), then bytes 12-27 (a zero,
			 * the tail) over the last zero */
			const __m128i t = _mm_set_epi32((int)hi, (int)(lo >> 32), (int)lo, 0);

			for (int i = 0; i < k; i++) {
				uint8_t *d = (uint8_t *)&c[i];

				_mm_storeu_si128((__m128i *)d, _mm_cvtsi32_si128(p[i]));
				_mm_storeu_si128((__m128i *)(d + 12), t);
			}
#else
			for (int i = 0; i < k; i++) {
				uint64_t ch0 = p[i], zero = 0;
				uint8_t *d = (uint8_t *)&c[i];

				memcpy(d, &ch0, 8);
				memcpy(d + 8, &zero, 8);
				memcpy(d + 16, &lo, 8);
				memcpy(d + 24, &hi, 4);
			}
#endif
		}
		p += k;
		n -= (size_t)k;
		if (col + k >= rw && !s->autowrap && n) {
			/* every further glyph lands on the last column */
			c[k - 1].ch[0] = p[n - 1];
			p += n;
			n = 0;
		}
		if (r->hw < col + k)
			r->hw = col + k;
		if (r->mixed) { /* else no wide glyph or right half in the row */
			fv_fix_wide(r, col, s->cols);
			fv_fix_wide(r, col + k, s->cols);
		}
		r->ts = s->now;
		set_g(s, s->row, col + k - 1, 1, rw);
		memset(s->g_ch, 0, sizeof(s->g_ch));
		s->g_ch[0] = p[-1];
		memset(s->comb, 0, sizeof(s->comb));
		s->comb[0] = p[-1];
		s->comb_w = 1;
		s->comb_row = s->row;
		s->comb_col = col + k - 1;
		s->run = true;
		if (col + k >= rw) {
			s->col = rw - 1;
			if (s->autowrap)
				s->phantom = true;
		} else {
			s->col = col + k;
		}
	}
}

/* ------------------------------------------------------------- resize */

static bool row_blank(const struct fv_row *r, int cols)
{
	int hw = r->hw < cols ? r->hw : cols;

	for (int i = 0; i < hw; i++)
		if (r->cells[i].ch[0])
			return false;
	return true;
}

/* kt_screen's resize_buf: see there for which rows go. */
static int resize_buf(struct fv *s, int b, int rows, int cols, int keep_row,
		      struct fv_row ***nbp, int *moved, int *dropped)
{
	struct fv_row **old = s->buf[b], **nb;
	int push = 0, drop_bottom = 0, ncopy = cols < s->cols ? cols : s->cols;

	*moved = 0;
	*dropped = 0;
	nb = calloc((size_t)fv_buf_cap(rows), sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	if (rows < s->rows) {
		int lose = s->rows - rows;

		keep_row = fv_clamp(keep_row, 0, s->rows - 1);
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

		nb[i] = fv_row_new(cols);
		if (!nb[i]) {
			fv_free_rows(nb, i);
			return -ENOMEM;
		}
		if (src < s->rows - drop_bottom) {
			int hw;

			/* the new row's fill is the default blank (new columns are) */
			if (!old[src]->fill_default)
				fv_row_fill(old[src], ncopy);
			hw = old[src]->hw < ncopy ? old[src]->hw : ncopy;

			memcpy(nb[i]->cells, old[src]->cells, (size_t)hw * sizeof(struct kt_cell));
			nb[i]->hw = hw;
			nb[i]->ts = old[src]->ts;
			nb[i]->wrapped = old[src]->wrapped && cols == s->cols;
			nb[i]->mixed = old[src]->mixed;
			fv_fix_wide(nb[i], cols, cols);
		}
	}
	*nbp = nb;
	*moved = push;
	*dropped = drop_bottom;
	return 0;
}

/* libvterm's on_resize around kt_screen's cb_resize; rows x cols normalised. */
int fv_resize_grid(struct fv *s, int rows, int cols)
{
	struct fv_row **nb[2] = { NULL, NULL }, **tmp;
	size_t text_cap = (size_t)(cols > s->cols ? cols : s->cols) * KT_CELL_CHARS * 6 + 1;
	int moved[2] = { 0, 0 }, dropped[2] = { 0, 0 }, err = -ENOMEM;
	int orow = s->row, ocol = s->col;
	uint8_t *tabs, *li;
	char *t, *p;

	tmp = realloc(s->rowtmp, rows * sizeof(*tmp));
	if (tmp)
		s->rowtmp = tmp;
	t = realloc(s->tmp, text_cap);
	if (t)
		s->tmp = t;
	p = realloc(s->pend, FV_LINE_MAX + text_cap);
	if (p)
		s->pend = p;
	tabs = calloc((size_t)(cols + 7) / 8, 1);
	li = calloc((size_t)rows, 1);
	if (!tmp || !t || !p || !tabs || !li)
		goto fail;
	for (int b = 0; b < 2; b++) {
		int keep = b == s->cur ? s->row : b == 0 && s->kt_saved ? s->kt_saved_row : 0;

		err = resize_buf(s, b, rows, cols, keep, &nb[b], &moved[b], &dropped[b]);
		if (err)
			goto fail;
	}
	/* libvterm: tab stops and line info keep what fits */
	memcpy(tabs, s->tabs, (size_t)((cols < s->cols ? cols : s->cols) + 7) / 8);
	memcpy(li, s->li, (size_t)(rows < s->rows ? rows : s->rows));
	for (int i = 0; i < moved[0]; i++)
		fv_leave_row(s, s->buf[0][i]);
	for (int i = s->rows - dropped[0]; i < s->rows; i++) {
		size_t n = fv_row_text_k(s->buf[0][i], s->cols, s->tmp, false);

		fv_emit(s, s->tmp, n, s->buf[0][i]->ts);
	}
	for (int b = 0; b < 2; b++) {
		fv_free_buf(s, b);
		s->buf[b] = s->mem[b] = nb[b];
	}
	s->cap = fv_buf_cap(rows);
	free(s->tabs);
	s->tabs = tabs;
	free(s->li);
	s->li = li;
	if (s->kt_saved && s->cur == 1) {
		s->kt_saved_row = fv_clamp(s->kt_saved_row - moved[0], 0, rows - 1);
		s->kt_saved_col = fv_clamp(s->kt_saved_col, 0, cols - 1);
	}
	if (s->g_valid && s->g_end >= s->g_rw && s->row == s->g_row && s->col == s->g_col &&
	    s->col < cols - 1)
		s->g_valid = false;
	s->g_crow = -1;
	{
		int ocols = s->cols;

		s->rows = rows;
		s->cols = cols;
		fv_tabs_default(s, ocols);
	}
	if (s->bottom > -1 && s->bottom > rows)
		s->bottom = rows;
	if (s->right > -1 && s->right > cols)
		s->right = cols;
	if (s->phantom && s->col < cols - 1) {
		s->phantom = false;
		s->col++;
	}
	s->row -= moved[s->cur];
	assert(s->row >= 0);
	if (s->row >= rows)
		s->row = rows - 1;
	if (s->col >= cols)
		s->col = cols - 1;
	assert(s->row < rows && s->col >= 0);
	if (s->row != orow || s->col != ocol)
		s->phantom = false, fv_moved(s);
	return 0;
fail:
	free(tabs);
	free(li);
	fv_free_rows(nb[0], nb[0] ? rows : 0);
	s->broken = err;
	return err;
}
