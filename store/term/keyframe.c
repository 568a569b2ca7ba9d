// SPDX-License-Identifier: Apache-2.0
/*
 * The keyframe writer both screen models use (keyframe.h): the state of a
 * screen as ordinary terminal sequences that redraw it on a fresh terminal
 * of the same size, plus the private OSC 7717 for row times and wrap marks
 * (screen.h: kt_screen_serialize, which states the format's limits).
 * Before this file there were two copies of it, one per model, kept equal
 * by the differential tests; now the models differ only in how they fill
 * struct kf_src.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyframe.h"

static const struct kt_pen default_pen;

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

size_t kf_utf8_raw(char *o, uint32_t cp)
{
	static const uint8_t lead[7] = { 0, 0, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc };
	int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : cp < 0x200000 ? 4 :
		cp < 0x4000000 ? 5 : 6;

	if (n == 1) {
		o[0] = (char)cp;
		return 1;
	}
	for (int i = n - 1; i > 0; i--) {
		o[i] = (char)(0x80 | (cp & 0x3f));
		cp >>= 6;
	}
	/* 31 bits at most: libvterm decodes no more */
	o[0] = (char)(lead[n] | (n == 6 ? cp & 1 : cp));
	return (size_t)n;
}

bool kf_pen_eq(const struct kt_pen *a, const struct kt_pen *b)
{
	return a->attrs == b->attrs && a->underline == b->underline && a->font == b->font &&
	       !memcmp(&a->fg, &b->fg, sizeof(a->fg)) && !memcmp(&a->bg, &b->bg, sizeof(a->bg));
}

static bool cell_default_blank(const struct kt_cell *c)
{
	return !c->ch[0] && c->width == 1 && !memcmp(&c->pen, &default_pen, sizeof(default_pen));
}

/* ------------------------------------------------------------- output */

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_put(struct sbuf *b, const void *d, size_t n)
{
	if (b->err || !n)
		return; /* d may be NULL then (no held-back bytes) */
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 256;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void sb_color(struct sbuf *b, const struct kt_color *c, int base)
{
	switch (c->type) {
	case KT_COLOR_INDEXED:
		if (c->r < 8)
			sb_printf(b, ";%d", base + c->r);
		else if (c->r < 16)
			sb_printf(b, ";%d", base + 60 + c->r - 8);
		else
			sb_printf(b, ";%d;5;%d", base + 8, c->r);
		break;
	case KT_COLOR_RGB:
		sb_printf(b, ";%d;2;%d;%d;%d", base + 8, c->r, c->g, c->b);
		break;
	default:
		break;
	}
}

/* SGR that sets exactly this pen (from any pen: it starts with 0). */
static void sb_sgr(struct sbuf *b, const struct kt_pen *p)
{
	sb_put(b, "\x1b[0", 3);
	if (p->attrs & KT_ATTR_BOLD)
		sb_put(b, ";1", 2);
	if (p->attrs & KT_ATTR_ITALIC)
		sb_put(b, ";3", 2);
	if (p->underline == 1)
		sb_put(b, ";4", 2);
	else if (p->underline == 2)
		sb_put(b, ";21", 3);
	else if (p->underline == 3)
		sb_put(b, ";4:3", 4);
	if (p->attrs & KT_ATTR_BLINK)
		sb_put(b, ";5", 2);
	if (p->attrs & KT_ATTR_REVERSE)
		sb_put(b, ";7", 2);
	if (p->attrs & KT_ATTR_STRIKE)
		sb_put(b, ";9", 2);
	if (p->font)
		sb_printf(b, ";%d", 10 + p->font);
	sb_color(b, &p->fg, 30);
	sb_color(b, &p->bg, 40);
	sb_put(b, "m", 1);
}

struct draw {
	struct kt_pen pen;  /* what the terminal's pen is */
	bool prot;          /* DECSCA state */
};

static void draw_pen(struct sbuf *b, struct draw *d, const struct kt_pen *want)
{
	struct kt_pen p = *want;
	bool prot = p.attrs & KT_ATTR_PROTECTED;

	p.attrs &= ~(KT_ATTR_PROTECTED | KF_ATTR_ODD);
	if (!kf_pen_eq(&p, &d->pen)) {
		sb_sgr(b, &p);
		d->pen = p;
	}
	if (prot != d->prot) {
		sb_put(b, prot ? "\x1b[1\"q" : "\x1b[0\"q", 5);
		d->prot = prot;
	}
}

static void draw_glyph(struct sbuf *b, const uint32_t *ch)
{
	char u[6];

	for (int k = 0; k < KT_CELL_CHARS && ch[k]; k++)
		sb_put(b, u, kf_utf8_raw(u, ch[k]));
}

/* ------------------------------------------------------------- drawing */

/*
 * One buffer's cells, row by row, on a terminal with autowrap on, no
 * margins, no insert mode.  Glyphs libvterm gave width < 1 (a combining
 * mark it could not join, say) go first on their row: drawn right after
 * their left neighbour, libvterm would join them to it.
 */
static void draw_rows(const struct kf_src *s, struct sbuf *b, struct draw *d, int buf)
{
	for (int i = 0; i < s->rows; i++) {
		const struct kt_cell *cells = s->cells(s->m, buf, i);
		int last = s->cols - 1, col = 0, skip = 0;

		while (last >= 0 && cell_default_blank(&cells[last]))
			last--;
		if (last < 0)
			continue;
		for (int k = 0; k <= last; k++) {
			const struct kt_cell *c = &cells[k];

			if (c->ch[0] && (c->pen.attrs & KF_ATTR_ODD)) {
				sb_printf(b, "\x1b[%d;%dH", i + 1, k + 1);
				draw_pen(b, d, &c->pen);
				draw_glyph(b, c->ch);
			}
		}
		sb_printf(b, "\x1b[%d;1H", i + 1);
		while (col <= last) {
			const struct kt_cell *c = &cells[col];
			int run = 1;

			if (c->width == 0) { /* never alone: both models fix half glyphs */
				col++;
				continue;
			}
			if (cell_default_blank(c) || (c->ch[0] && (c->pen.attrs & KF_ATTR_ODD))) {
				skip++;
				col++;
				continue;
			}
			if (skip) {
				sb_printf(b, "\x1b[%dC", skip);
				skip = 0;
			}
			draw_pen(b, d, &c->pen);
			if (!c->ch[0]) {
				while (col + run <= last && !cells[col + run].ch[0] &&
				       cells[col + run].width == 1 &&
				       kf_pen_eq(&cells[col + run].pen, &c->pen))
					run++;
				/* ECH does not move the cursor */
				sb_printf(b, "\x1b[%dX", run);
				skip = run;
				col += run;
				continue;
			}
			draw_glyph(b, c->ch);
			col += c->width;
		}
	}
}

static void draw_cursor_look(struct sbuf *b, bool visible, bool blink, int shape)
{
	int ps = shape == KF_SHAPE_UNDERLINE ? 3 : shape == KF_SHAPE_BAR ? 5 : 1;

	sb_printf(b, "\x1b[%d q", blink ? ps : ps + 1);
	sb_put(b, blink ? "\x1b[?12h" : "\x1b[?12l", 6);
	sb_put(b, visible ? "\x1b[?25h" : "\x1b[?25l", 6);
}

/*
 * Cursor to absolute (row, col) with the margins and origin mode already
 * set.  In origin mode CUP is relative and every CSI clamps the cursor into
 * the margins, but controls do not: a column left of the margin is reached
 * with BS, one right of it with HT (default tab stops, as after RIS) and BS.
 * A row outside the region cannot be reached (libvterm only gets there by
 * ESC 8 or a resize); it is clamped.
 */
static void draw_cup(struct sbuf *b, const struct kf_modes *m, int row, int col)
{
	int top = 0, left = 0, right = INT32_MAX, c;

	if (!m->origin) {
		sb_printf(b, "\x1b[%d;%dH", row + 1, col + 1);
		return;
	}
	top = m->top - 1;
	row = clampi(row, top, m->bottom - 1);
	if (m->lrmm) {
		left = m->left - 1;
		right = m->right - 1;
	}
	if (col >= left && col <= right) {
		sb_printf(b, "\x1b[%d;%dH", row - top + 1, col - left + 1);
		return;
	}
	sb_printf(b, "\x1b[%d;1H", row - top + 1);
	c = left;
	while (c < col) {
		sb_put(b, "\t", 1);
		c = (c / 8 + 1) * 8;
	}
	if (c - col > 0)
		for (int i = 0; i < c - col; i++)
			sb_put(b, "\b", 1);
}

/*
 * Write libvterm's last glyph again where it is, so what REP repeats, what
 * a combining mark joins and the pending wrap come back; when the cell still
 * shows that glyph (or was erased since) the cells do not change.  True when
 * that left the cursor where the screen has it (pending wrap included);
 * otherwise the caller places it.
 */
static bool draw_last_glyph(const struct kf_src *s, struct sbuf *b, struct draw *d)
{
	const struct kf_modes *m = &s->modes;
	const struct kt_cell *c;
	int w, after_row, after_col;
	bool same, erased;

	if (!s->g_has || s->g_row < 0 || s->g_row >= s->rows || s->g_col < 0 ||
	    s->g_col >= s->cols)
		return false;
	c = &s->cells(s->m, s->cur, s->g_row)[s->g_col];
	w = s->g_w < 1 || s->g_w > 2 || s->g_col + s->g_w > s->cols ? 1 : s->g_w;
	same = c->width == w && !memcmp(c->ch, s->g_ch, sizeof(c->ch));
	erased = !c->ch[0] && c->width == 1 && w == 1;
	if (!same && !erased)
		return false;
	/* a double-width row is half as wide: the glyph would wrap */
	if ((s->lineinfo(s->m, s->g_row) & KF_LI_DWL) && s->g_col + w > s->cols / 2)
		return false;
	/* origin mode: inside the margins, or the CSIs after it would move it */
	if (m->origin && (s->g_row < m->top - 1 || s->g_row > m->bottom - 1 ||
			  (m->lrmm && (s->g_col < m->left - 1 || s->g_col > m->right - 1))))
		return false;
	draw_cup(b, m, s->g_row, s->g_col);
	draw_pen(b, d, &c->pen);
	draw_glyph(b, s->g_ch);
	after_row = s->g_row;
	after_col = s->g_edge ? s->g_col : s->g_col + s->g_w;
	if (erased) {
		if (after_col != s->g_col)
			sb_printf(b, "\x1b[%dD", after_col - s->g_col);
		sb_put(b, "\x1b[X", 4);
		after_col = s->g_col;
	}
	/* the caller places the cursor unless it is already right */
	return after_row == s->crow && after_col == s->ccol &&
	       !(!s->phantom && s->g_edge && m->autowrap);
}

/* ESC # for row i's line attributes, if any (move there first if cup). */
static void draw_lineinfo(const struct kf_src *s, struct sbuf *b, int i, bool cup)
{
	uint8_t li = s->lineinfo(s->m, i);

	if (!li)
		return;
	if (cup)
		sb_printf(b, "\x1b[%d;1H", i + 1);
	sb_printf(b, "\x1b#%c", li & KF_LI_DHL_TOP ? '3' : li & KF_LI_DHL_BOTTOM ? '4' : '6');
}

/* Row stamps and wrap marks (index-only state) in a private OSC. */
static void draw_meta(const struct kf_src *s, struct sbuf *b)
{
	sb_put(b, KF_OSC_META, sizeof(KF_OSC_META) - 1);
	for (int i = 0; i < s->rows; i++) {
		int64_t ts;
		bool wrapped;

		s->row_meta(s->m, i, &ts, &wrapped);
		sb_printf(b, "%lld%s,", (long long)ts, wrapped ? "w" : "");
	}
	sb_printf(b, ";%lld;", (long long)s->pend_ts);
	sb_put(b, s->pend, s->pend_len);
	sb_put(b, "\x07", 1);
}

int kf_write(const struct kf_src *s, uint8_t **out, size_t *len)
{
	const struct kf_modes *m = &s->modes;
	struct sbuf b = { 0 };
	struct draw d = { 0 };
	bool at_pos;

	*out = NULL;
	*len = 0;
	draw_meta(s, &b);
	/* RIS: a known state (modes, margins, charsets, tabs, pen) */
	sb_put(&b, "\x1b" "c", 2);
	draw_rows(s, &b, &d, 0);
	if (s->cur == 1) {
		/* 1049 saves the main screen's cursor and clears the alt one */
		draw_pen(&b, &d, &default_pen);
		sb_put(&b, "\x1b[?1049h\x1b[2J", 13);
		draw_rows(s, &b, &d, 1);
	}
	if (s->saved) {
		sb_printf(&b, "\x1b[%d;%dH", s->saved_row + 1, s->saved_col + 1);
		draw_pen(&b, &d, &s->saved_pen);
		draw_cursor_look(&b, s->saved_visible, s->saved_blink, s->saved_shape);
		sb_put(&b, "\x1b" "7", 2);
	}
	/*
	 * Line attributes after every absolute CUP (a double-width row clamps
	 * the column to half the width) and before DECLRMM (which makes libvterm
	 * ignore them); the cursor's own row last, once the cursor is there.
	 */
	for (int i = 0; i < s->rows; i++)
		if (i != s->crow || m->lrmm || s->g_row == s->crow)
			draw_lineinfo(s, &b, i, true);
	if (m->top != 1 || m->bottom != s->rows)
		sb_printf(&b, "\x1b[%d;%dr", m->top, m->bottom);
	if (m->lrmm) {
		sb_put(&b, "\x1b[?69h", 6);
		if (m->left != 1 || m->right != s->cols)
			sb_printf(&b, "\x1b[%d;%ds", m->left, m->right);
	}
	if (m->origin)
		sb_put(&b, "\x1b[?6h", 5);
	if (!m->autowrap)
		sb_put(&b, "\x1b[?7l", 5);
	/*
	 * Every CSI clamps the cursor into the row (half of it on a
	 * double-width row) and, in origin mode, into the margins, as the
	 * stream's own cursor need not be: the last glyph, then every mode,
	 * pen and cursor CSI, and only then the cursor, its row's line
	 * attributes and the ESC / OSC tail, which do not move it.
	 */
	at_pos = draw_last_glyph(s, &b, &d);
	if (s->insert)
		sb_put(&b, "\x1b[4h", 4);
	if (s->newline)
		sb_put(&b, "\x1b[20h", 5);
	if (m->ckm)
		sb_put(&b, "\x1b[?1h", 5);
	if (m->paste)
		sb_put(&b, "\x1b[?2004h", 8);
	if (m->screen)
		sb_put(&b, "\x1b[?5h", 5);
	draw_pen(&b, &d, &s->pen);
	if (m->protected != d.prot)
		sb_put(&b, m->protected ? "\x1b[1\"q" : "\x1b[0\"q", 5);
	draw_cursor_look(&b, s->visible, s->blink, s->shape);
	if (!at_pos)
		draw_cup(&b, m, s->crow, s->ccol);
	if (!m->lrmm && s->g_row != s->crow)
		draw_lineinfo(s, &b, s->crow, false);
	/* after every glyph: cells hold translated characters */
	for (int i = 0; i < 4; i++)
		if (s->charset[i])
			sb_printf(&b, "\x1b%c%c", '(' + i, s->charset[i]);
	if (s->title_len) {
		sb_put(&b, "\x1b]2;", 4);
		sb_put(&b, s->title, s->title_len);
		sb_put(&b, "\x07", 1);
	}
	/* an unfinished sequence or character continues after the keyframe */
	sb_put(&b, s->hold, s->hold_len);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = (uint8_t *)b.p;
	*len = b.len;
	return 0;
}

/* ------------------------------------------------------------- restore */

static int64_t parse_i64(const char **p, const char *end)
{
	int64_t v = 0;
	bool neg = false;

	if (*p < end && **p == '-') {
		neg = true;
		(*p)++;
	}
	while (*p < end && **p >= '0' && **p <= '9') {
		if (v < INT64_MAX / 10)
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return neg ? -v : v;
}

size_t kf_meta_parse(const char *kf, size_t len, int rows,
		     void (*row)(void *ctx, int i, int64_t ts, bool wrapped), void *ctx,
		     int64_t *pend_ts, char *pend, size_t *pend_len, size_t pend_max)
{
	const size_t hl = sizeof(KF_OSC_META) - 1;
	const char *p, *end, *bel;

	if (len < hl || memcmp(kf, KF_OSC_META, hl))
		return 0;
	bel = memchr(kf + hl, 0x07, len - hl);
	if (!bel)
		return 0;
	p = kf + hl;
	end = bel;
	for (int i = 0; i < rows && p < end && *p != ';'; i++) {
		int64_t ts = parse_i64(&p, end);

		row(ctx, i, ts, p < end && *p == 'w');
		while (p < end && *p != ',' && *p != ';')
			p++;
		if (p < end && *p == ',')
			p++;
	}
	if (p < end && *p == ';') {
		p++;
		*pend_ts = parse_i64(&p, end);
		if (p < end && *p == ';')
			p++;
		/* text only: a hostile keyframe may carry anything here */
		*pend_len = 0;
		for (; p < end && *pend_len < pend_max; p++)
			if ((unsigned char)*p >= 0x20 && *p != 0x7f)
				pend[(*pend_len)++] = *p;
	}
	return (size_t)(bel + 1 - kf);
}
