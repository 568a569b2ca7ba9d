// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen: libvterm's parser and state layer driving our own cell model
 * (see screen.h for what it gives and its limits).
 *
 * Three parts:
 *   - the feed layer: a small mirror of libvterm's parser that steps over
 *     escape sequences only (text is skipped with memchr).  It holds back a
 *     sequence or UTF-8 character cut at the end of a feed, tracks the few
 *     things libvterm keeps private that a keyframe must carry (insert and
 *     newline mode, charset designations, the DECSC saved cursor), and keeps
 *     hostile input away from two libvterm 0.1.4 memory bugs: a CSI with more
 *     than 16 parameters overflows csi_args[] (a segfault, reproduced), and
 *     a UTF-8 encoded C1 control (U+0080..U+009F) has width -1 and walks the
 *     cursor to column -1 (out-of-bounds tab stop writes), and REP (CSI b)
 *     loops forever when the last glyph had width 0 or there was none yet
 *     (reproduced: three bytes hang the process); and an OSC/DCS string whose
 *     ESC \\ terminator has a control byte in between, or is split across
 *     two writes, is copied with length -1 (heap over-read).  Such a CSI is cancelled
 *     (CAN, as a terminal does for an over-long sequence) at its 16th
 *     parameter or a parameter above 99999, C1 characters are dropped, a
 *     lone 0xC2 lead byte becomes U+FFFD, and an unsafe REP is cancelled.
 *   - the state callbacks, which keep the cells: rows are pointers, so a
 *     full-width scroll rotates pointers.
 *   - text, keyframe serialization and comparison.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

#include "screen.h"

#define HOLD_MAX 4096        /* longest sequence held back across feeds */
#define VT_SLICE 4096        /* libvterm's on_text puts uint32_t[len] on the stack */
#define LINE_MAX_BYTES 16384 /* a longer wrapped logical line is emitted in pieces */
#define CSI_SEPS_MAX 15      /* libvterm 0.1.4 has csi_args[16] and no bound check */
#define TITLE_MAX 256
#define KT_ATTR_ODD 0x80     /* glyph libvterm gave width < 1: cursor resync on redraw */
#define KT_OSC_META "\x1b]7717;kt1;"

enum scan_state {
	SC_NORMAL, SC_ESC, SC_CSI_LEADER, SC_CSI_ARGS, SC_CSI_INTER, SC_STRING, SC_ESC_IN_STRING,
};

/* What the feed layer tracks about the sequence being stepped over. */
struct scan {
	uint8_t st;
	uint8_t leader, nleader, inter, ninter, nsep;
	bool dcs;               /* the string is a DCS (else an OSC) */
	uint8_t nsb, sb[6];     /* its first bytes, as libvterm buffers them */
	int32_t param[CSI_SEPS_MAX + 1];
};

struct row {
	int64_t ts;        /* when a glyph was last written */
	bool wrapped;      /* autowrapped: the logical line continues below */
	struct kt_cell cells[];
};

/*
 * The last glyph libvterm put: its pending wrap (phantom column), autowrap
 * marks, and what REP repeats and a combining mark joins (libvterm's private
 * combine_chars, brought back in a keyframe by writing the glyph again).
 */
struct last_glyph {
	bool has;               /* any glyph yet */
	bool valid;             /* no cursor move since */
	bool edge;              /* it reached the row's end */
	int row, col;           /* as libvterm's cursor saw it */
	int crow;               /* its row in the cells, followed through scrolls */
	int end, rw;            /* column after it, row width */
	int w;                  /* libvterm's width (REP advances by it) */
	uint32_t ch[KT_CELL_CHARS];
};

struct saved_cursor {
	bool valid;
	int row, col;
	struct kt_pen pen;
	bool visible, blink;
	int shape;
};

struct kt_screen {
	VTerm *vt;
	VTermState *vs;
	int rows, cols;
	struct row **buf[2];    /* main, alternate */
	struct row **rowtmp;
	int cur;                /* 0 main, 1 alternate */
	struct kt_pen pen;
	bool visible, blink, reverse;
	int shape;
	char title[TITLE_MAX];
	size_t title_len;
	struct saved_cursor saved;
	/* tracked by the feed layer (libvterm has no query for them) */
	bool insert, newline, lrmm, ckm, origin, autowrap, paste;
	uint8_t charset[4];     /* designated G0..G3 final byte, 0 = default */
	bool table_cs;          /* one of them is DEC graphics or UK */

	struct last_glyph g;

	int64_t now;
	kt_screen_line_cb line_cb;
	void *line_ctx;
	int cb_err;
	char *pend;             /* wrapped rows already off the screen */
	size_t pend_len;
	int64_t pend_ts;
	char *tmp;              /* one row of text */

	uint8_t hold[HOLD_MAX];
	size_t hold_len, hold_need; /* need: UTF-8 bytes expected (SC_NORMAL hold) */
	bool passthru;          /* libvterm is inside an unfinished long sequence */
	int broken;             /* -ENOMEM in a resize: the model is unusable */
	bool esc_pending;       /* an ESC not yet given to libvterm (vt_write) */
	struct scan sc;

	char *reply;            /* answers to our mode queries */
	size_t reply_len, reply_cap;
	bool capture;
};

static const struct kt_pen default_pen;

/* ------------------------------------------------------------- cells */

static void cell_erase(struct kt_cell *c, const struct kt_pen *pen)
{
	memset(c->ch, 0, sizeof(c->ch));
	c->width = 1;
	c->pen = *pen;
	c->pen.attrs &= ~(KT_ATTR_PROTECTED | KT_ATTR_ODD);
}

static bool cell_default_blank(const struct kt_cell *c)
{
	return !c->ch[0] && c->width == 1 && !memcmp(&c->pen, &default_pen, sizeof(default_pen));
}

static void row_clear(struct row *r, int cols, const struct kt_pen *pen)
{
	for (int i = 0; i < cols; i++)
		cell_erase(&r->cells[i], pen);
	r->wrapped = false;
	r->ts = 0;
}

static struct row *row_new(int cols)
{
	struct row *r = malloc(sizeof(*r) + (size_t)cols * sizeof(struct kt_cell));

	if (r)
		row_clear(r, cols, &default_pen);
	return r;
}

/*
 * No half wide glyphs: at the boundary between col-1 and col, a wide glyph
 * whose right half was replaced, or a right half whose glyph is gone, is
 * erased (what a terminal shows).  Keeps redraws exact: a keyframe never
 * has to reproduce an orphan half.
 */
static void fix_wide(struct row *r, int col, int cols)
{
	if (col > 0 && col <= cols) {
		struct kt_cell *l = &r->cells[col - 1];

		if (l->width == 2 && (col == cols || r->cells[col].width != 0))
			cell_erase(l, &l->pen);
	}
	if (col >= 0 && col < cols) {
		struct kt_cell *c = &r->cells[col];

		if (c->width == 0 && (col == 0 || r->cells[col - 1].width != 2))
			cell_erase(c, &c->pen);
	}
}

/* ------------------------------------------------------------- text */

static size_t utf8_put(char *o, uint32_t cp, bool text)
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
			o += utf8_put(dst + o, c->ch[k], true);
	}
	while (!keep && o && dst[o - 1] == ' ')
		o--;
	dst[o] = 0;
	return o;
}

static size_t row_text(const struct row *r, int cols, char *dst)
{
	return row_text_k(r, cols, dst, false);
}

/* A row's part of a logical line: an autowrapped row was written up to its
 * last column, so its trailing blanks are text (the space between two
 * words that fell on the wrap, at any width); a blank row is still empty. */
static size_t line_part(const struct row *r, int cols, char *dst)
{
	size_t n = row_text(r, cols, dst);

	return r->wrapped && n ? row_text_k(r, cols, dst, true) : n;
}

static void emit(struct kt_screen *s, const char *text, size_t len, int64_t ts)
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
static void leave_row(struct kt_screen *s, struct row *r)
{
	size_t n = line_part(r, s->cols, s->tmp);
	int64_t ts = r->ts > s->pend_ts ? r->ts : s->pend_ts;

	if (s->pend_len + n > LINE_MAX_BYTES) {
		emit(s, s->pend, s->pend_len, s->pend_ts);
		s->pend_len = 0;
		s->pend_ts = 0;
		ts = r->ts;
	}
	memcpy(s->pend + s->pend_len, s->tmp, n);
	s->pend_len += n;
	s->pend_ts = ts;
	if (r->wrapped && n)
		return;
	emit(s, s->pend, s->pend_len, s->pend_ts);
	s->pend_len = 0;
	s->pend_ts = 0;
}

/* ------------------------------------------------------------- callbacks */

static inline int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

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
	fix_wide(r, pos.col, s->cols);
	fix_wide(r, pos.col + w, s->cols);
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
			cell_erase(&r->cells[k], &s->pen);
		}
		fix_wide(r, rect.start_col, s->cols);
		fix_wide(r, rect.end_col, s->cols);
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
			leave_row(s, s->buf[0][i]);
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
				leave_row(s, rows[i]);
		if (down > 0) {
			memcpy(s->rowtmp, rows + rect.start_row, n * sizeof(*rows));
			memmove(rows + rect.start_row, rows + rect.start_row + n,
				(h - n) * sizeof(*rows));
			memcpy(rows + rect.end_row - n, s->rowtmp, n * sizeof(*rows));
			for (int i = rect.end_row - n; i < rect.end_row; i++)
				row_clear(rows[i], s->cols, &s->pen);
		} else {
			memcpy(s->rowtmp, rows + rect.end_row - n, n * sizeof(*rows));
			memmove(rows + rect.start_row + n, rows + rect.start_row,
				(h - n) * sizeof(*rows));
			memcpy(rows + rect.start_row, s->rowtmp, n * sizeof(*rows));
			for (int i = rect.start_row; i < rect.start_row + n; i++)
				row_clear(rows[i], s->cols, &s->pen);
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
		fix_wide(rows[i], rect.start_col, s->cols);
		fix_wide(rows[i], rect.end_col, s->cols);
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

static void save_cursor(struct kt_screen *s)
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

		nb[i] = row_new(cols);
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
			fix_wide(nb[i], cols, cols);
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
		leave_row(s, s->buf[0][i]);
	/* rows cut at the bottom (below the cursor) leave too, each on its own:
	 * a wrapped line is split there, which is better than lost */
	for (int i = s->rows - dropped[0]; i < s->rows; i++) {
		size_t n = row_text(s->buf[0][i], s->cols, s->tmp);

		emit(s, s->tmp, n, s->buf[0][i]->ts);
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
			s->buf[b][i] = row_new(cols);
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

/* ------------------------------------------------------------- feeding */

/*
 * All bytes reach libvterm here.  A write never ends with ESC: libvterm
 * 0.1.4 reads before the start of the next write when an OSC/DCS string's
 * "ESC \\" terminator is split between two writes (done_string with length
 * -1: a heap over-read, found by fuzz_keyframe).  A trailing ESC waits for
 * the next byte (only in passthrough or slicing; the feed layer holds
 * unfinished sequences back otherwise).
 */
static void vt_write(struct kt_screen *s, const uint8_t *p, size_t n)
{
	if (n && s->esc_pending) {
		char two[2] = { 0x1b, (char)*p };

		vterm_input_write(s->vt, two, 2);
		s->esc_pending = false;
		p++;
		n--;
	}
	while (n) {
		size_t k = n > VT_SLICE ? VT_SLICE : n;

		if (p[k - 1] == 0x1b) {
			if (k == n) {
				s->esc_pending = true;
				n--;
				if (!--k)
					break;
			} else {
				k--;
			}
		}
		if (k)
			vterm_input_write(s->vt, (const char *)p, k);
		p += k;
		n -= k;
	}
}

static void reset_tracked(struct kt_screen *s)
{
	/* what libvterm 0.1.4's vterm_state_reset does to them */
	s->insert = s->newline = s->lrmm = s->table_cs = false;
	s->ckm = s->origin = s->paste = false;
	s->autowrap = true;
	memset(s->charset, 0, sizeof(s->charset));
}

enum step_ret { STEP_OK, STEP_DONE, STEP_SAVE, STEP_OVERFLOW, STEP_REP, STEP_DECALN,
		STEP_RESTORE, STEP_CANCEL_STRING };

/*
 * libvterm 0.1.4 answers a DECRQSS (DCS $ q Pt ST) it does not know with
 * vterm_push_output_sprintf_dcs(vt, "0$r%.s", (int)cmdlen, command): "%.s"
 * takes the length as the string pointer (undefined behaviour; the
 * instrumented libvterm of `make fuzz` crashes on it, found by
 * fuzz_keyframe).  Only m, r, s, " q and "q are answered properly: any
 * other DECRQSS is cancelled before libvterm sees its end.
 */
static bool bad_decrqss(const struct scan *c)
{
	static const char *const ok[] = { "$qm", "$qr", "$qs", "$q q", "$q\"q" };

	if (!c->dcs || c->nsb < 2 || c->sb[0] != '$' || c->sb[1] != 'q')
		return false;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (c->nsb == strlen(ok[i]) && !memcmp(c->sb, ok[i], c->nsb))
			return false;
	return true;
}

/*
 * A sequence just finished (its final byte not yet run by libvterm): track
 * what libvterm 0.1.4 does with it; STEP_SAVE when the saved cursor must be
 * recorded once libvterm has run it, STEP_REP / STEP_DECALN for the
 * sequences that need a look at libvterm's state first.
 */
static enum step_ret seq_done(struct kt_screen *s, uint8_t final)
{
	struct scan *c = &s->sc;

	if (c->st == SC_ESC) {
		if (!c->ninter && final == '7')
			return STEP_SAVE;
		if (!c->ninter && final == '8')
			return STEP_RESTORE;
		if (!c->ninter && final == 'c') {
			reset_tracked(s);
			return STEP_DONE;
		}
		if (c->ninter == 1 && c->inter == '#' && final == '8')
			return STEP_DECALN;
		if (c->ninter == 1 && c->inter >= '(' && c->inter <= '+' &&
		    (final == '0' || final == 'A' || final == 'B'))
			s->charset[c->inter - '('] = final;
		s->table_cs = false;
		for (int i = 0; i < 4; i++)
			s->table_cs |= s->charset[i] == '0' || s->charset[i] == 'A';
		return STEP_DONE;
	}
	/* CSI */
	if (!c->ninter && !c->leader && final == 'b')
		return STEP_REP;
	/* libvterm 0.1.4 runs no CSI with more than one leader or
	 * intermediate byte, nor DECSTR (CSI ! p): its '!' is not accepted */
	if (c->nleader > 1)
		return STEP_DONE;
	if (c->ninter || (final != 'h' && final != 'l'))
		return STEP_DONE;
	/* libvterm 0.1.4 sets or resets only the first mode listed */
	if (!c->leader) {
		if (c->param[0] == 4)
			s->insert = final == 'h';
		else if (c->param[0] == 20)
			s->newline = final == 'h';
		return STEP_DONE;
	}
	if (c->leader == '?') {
		bool on = final == 'h';

		switch (c->param[0]) {
		case 1: s->ckm = on; break;
		case 6: s->origin = on; break;
		case 7: s->autowrap = on; break;
		case 69: s->lrmm = on; break;
		case 2004: s->paste = on; break;
		case 1048: case 1049:
			return on ? STEP_SAVE : STEP_DONE;
		}
	}
	return STEP_DONE;
}

/* One byte of an escape sequence (libvterm 0.1.4 parser.c, UTF-8 mode). */
static enum step_ret step(struct kt_screen *s, uint8_t ch)
{
	struct scan *c = &s->sc;

	/*
	 * libvterm 0.1.4: a control, NUL or DEL between a string's ESC and
	 * its "\\" makes done_string() copy with length -1 (heap over-read,
	 * found by fuzz_keyframe).  Cancel the string before it.
	 */
	if (c->st == SC_ESC_IN_STRING && (ch < 0x20 || ch == 0x7f) &&
	    ch != 0x18 && ch != 0x1a && ch != 0x1b)
		return STEP_OVERFLOW;
	if (ch == 0x00 || ch == 0x7f)
		return STEP_OK;
	if (ch == 0x18 || ch == 0x1a) {
		c->st = SC_NORMAL;
		return STEP_DONE;
	}
	if (ch == 0x1b) {
		c->st = c->st == SC_STRING ? SC_ESC_IN_STRING : SC_ESC;
		c->ninter = 0;
		return STEP_OK;
	}
	if (ch == 0x07 && c->st == SC_STRING) {
		c->st = SC_NORMAL;
		return bad_decrqss(c) ? STEP_CANCEL_STRING : STEP_DONE;
	}
	if (ch < 0x20)
		return STEP_OK;
	switch (c->st) {
	case SC_ESC_IN_STRING:
		if (ch == 0x5c) {
			c->st = SC_NORMAL;
			return bad_decrqss(c) ? STEP_CANCEL_STRING : STEP_DONE;
		}
		c->st = SC_ESC;
		/* fallthrough */
	case SC_ESC:
		if (ch == 'P' || ch == ']') {
			c->st = SC_STRING;
			c->dcs = ch == 'P';
			c->nsb = 0;
			return STEP_OK;
		}
		if (ch == '[') {
			c->st = SC_CSI_LEADER;
			c->leader = 0;
			c->nleader = 0;
			c->ninter = 0;
			c->nsep = 0;
			c->param[0] = -1;
			return STEP_OK;
		}
		if (ch >= 0x20 && ch <= 0x2f) {
			if (!c->ninter)
				c->inter = ch;
			if (c->ninter < 255)
				c->ninter++;
			return STEP_OK;
		}
		if ((!c->ninter && ch >= 0x40 && ch < 0x60) || (ch >= 0x30 && ch < 0x7f)) {
			enum step_ret r = seq_done(s, ch);

			c->st = SC_NORMAL;
			return r;
		}
		return STEP_OK; /* libvterm ignores the byte and stays in ESC */
	case SC_CSI_LEADER:
		if (ch >= 0x3c && ch <= 0x3f) {
			if (!c->leader)
				c->leader = ch;
			if (c->nleader < 255)
				c->nleader++;
			return STEP_OK;
		}
		c->st = SC_CSI_ARGS;
		/* fallthrough */
	case SC_CSI_ARGS:
		if (ch >= '0' && ch <= '9') {
			int32_t *v = &c->param[c->nsep];

			*v = (*v < 0 ? 0 : *v) * 10 + (ch - '0');
			if (*v > 99999)
				return STEP_OVERFLOW;
			return STEP_OK;
		}
		if (ch == ':' || ch == ';') {
			if (c->nsep >= CSI_SEPS_MAX)
				return STEP_OVERFLOW;
			c->param[++c->nsep] = -1;
			return STEP_OK;
		}
		c->st = SC_CSI_INTER;
		c->ninter = 0;
		/* fallthrough */
	case SC_CSI_INTER:
		if (ch >= 0x20 && ch <= 0x2f) {
			if (!c->ninter)
				c->inter = ch;
			if (c->ninter < 255)
				c->ninter++;
			return STEP_OK;
		}
		{
			enum step_ret r = ch >= 0x40 && ch <= 0x7e ? seq_done(s, ch) : STEP_DONE;

			c->st = SC_NORMAL;
			return r;
		}
	case SC_STRING:
		if (c->nsb < sizeof(c->sb))
			c->sb[c->nsb++] = ch;
		return STEP_OK;
	case SC_NORMAL:
		return STEP_OK;
	}
	return STEP_OK;
}

static int utf8_need(uint8_t lead)
{
	return lead >= 0xfc ? 6 : lead >= 0xf8 ? 5 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}

/* Bytes at the end of [from, end) that start an unfinished UTF-8 character. */
static size_t utf8_partial(const uint8_t *from, const uint8_t *end, size_t *need)
{
	size_t k = 0;

	while (k < 6 && end - k > from) {
		uint8_t b = end[-1 - (ptrdiff_t)k];

		k++;
		if ((b & 0xc0) == 0x80)
			continue;
		if (b >= 0xc0 && b < 0xfe && (size_t)utf8_need(b) > k) {
			*need = utf8_need(b);
			return k;
		}
		return 0;
	}
	return 0;
}

/* The first byte >= 0x80 in [p, e), or e. */
static const uint8_t *first_high(const uint8_t *p, const uint8_t *e)
{
	while (e - p >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		if (w & 0x8080808080808080ull)
			break;
		p += 8;
	}
	while (p < e && *p < 0x80)
		p++;
	return p;
}

struct feeder {
	struct kt_screen *s;
	const uint8_t *flush; /* first byte not yet given to libvterm */
};

/* Give libvterm the hold and everything before p. */
static void sync_to(struct feeder *f, const uint8_t *p)
{
	struct kt_screen *s = f->s;

	if (s->hold_len) {
		vt_write(s, s->hold, s->hold_len);
		s->hold_len = 0;
	}
	if (p > f->flush)
		vt_write(s, f->flush, p - f->flush);
	f->flush = p;
}

/* The step result at byte *p is acted upon; returns the next byte. */
static const uint8_t *after_step(struct feeder *f, enum step_ret r, const uint8_t *p)
{
	struct kt_screen *s = f->s;

	if (r == STEP_SAVE) {
		sync_to(f, p + 1);
		save_cursor(s);
	} else if (r == STEP_RESTORE) {
		/*
		 * libvterm 0.1.4's DECRC (ESC 8) puts back a cursor saved before
		 * a resize without clamping it (CSIs clamp, ESC 8 does not), and
		 * the next glyph is then written past its line arrays.  Move it
		 * back by CUU/CUB, whose end-of-CSI bounds (origin mode included)
		 * then hold, as on a terminal that clamps the restored cursor.
		 */
		VTermPos pos;
		char mv[32];
		int n = 0;

		sync_to(f, p + 1);
		vterm_state_get_cursorpos(s->vs, &pos);
		if (pos.row >= s->rows)
			n += snprintf(mv + n, sizeof(mv) - n, "\x1b[%dA", pos.row - (s->rows - 1));
		if (pos.col >= s->cols)
			n += snprintf(mv + n, sizeof(mv) - n, "\x1b[%dD", pos.col - (s->cols - 1));
		if (n)
			vt_write(s, (const uint8_t *)mv, (size_t)n);
	} else if (r == STEP_REP) {
		/* libvterm has run everything before the final byte: is REP safe? */
		sync_to(f, p);
		if (!s->g.has || s->g.w < 1) {
			vt_write(s, (const uint8_t *)"\x18", 1);
			f->flush = p + 1;
		}
	} else if (r == STEP_DECALN) {
		/* DECALN's glyphs are not libvterm's last glyph */
		struct last_glyph g;

		sync_to(f, p);
		g = s->g;
		sync_to(f, p + 1);
		s->g = g;
	} else if (r == STEP_CANCEL_STRING) {
		/* CAN instead of the terminator (after a string's ESC too):
		 * libvterm drops the string unanswered */
		sync_to(f, p);
		vt_write(s, (const uint8_t *)"\x18", 1);
		f->flush = p + 1;
	} else if (r == STEP_OVERFLOW) {
		/* cancel the sequence; the separator and what follows are text */
		sync_to(f, p);
		vt_write(s, (const uint8_t *)"\x18", 1);
		s->sc.st = SC_NORMAL;
		return p;
	}
	return p + 1;
}

int kt_screen_feed(struct kt_screen *s, const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len, *seq = NULL, *text_from;
	struct feeder f = { .s = s, .flush = p };
	size_t n, need = 0;

	if (!s || (!buf && len))
		return -EINVAL;
	if (s->broken)
		return s->broken;
	s->cb_err = 0;

	/* a UTF-8 character held back last time */
	if (s->hold_len && s->sc.st == SC_NORMAL) {
		while (p < end && s->hold_len < s->hold_need && (*p & 0xc0) == 0x80)
			s->hold[s->hold_len++] = *p++;
		if (s->hold_len < s->hold_need && p == end)
			return 0;
		if (s->hold_len == 2 && s->hold[0] == 0xc2 && s->hold[1] < 0xa0) {
			s->hold_len = 0; /* a C1 control: dropped, see the top */
		} else if (s->hold_len < s->hold_need) {
			/* cut short, as in the ground loop below */
			s->hold_len = 0;
			vt_write(s, (const uint8_t *)"\xef\xbf\xbd", 3);
		}
		f.flush = p;
		sync_to(&f, p);
	}
	/* an escape sequence unfinished last time */
	while (p < end && s->sc.st != SC_NORMAL)
		p = after_step(&f, step(s, *p), p);
	if (s->sc.st != SC_NORMAL) {
		if (!s->passthru && s->hold_len + (size_t)(end - f.flush) <= HOLD_MAX) {
			memcpy(s->hold + s->hold_len, f.flush, end - f.flush);
			s->hold_len += end - f.flush;
		} else {
			sync_to(&f, end);
			s->passthru = true;
		}
		return s->cb_err;
	}
	s->passthru = false;
	text_from = p;

	/* ground state: text up to the next ESC, then the sequence */
	while (p < end) {
		const uint8_t *e = memchr(p, 0x1b, end - p), *te = e ? e : end;

		while ((p = first_high(p, te)) < te) {
			size_t want = *p >= 0xc0 && *p < 0xfe ? utf8_need(*p) : 1, k = 1;

			while (k < want && p + k < te && (p[k] & 0xc0) == 0x80)
				k++;
			if (k == want) {
				if (want == 2 && *p == 0xc2 && p[1] < 0xa0) {
					/* a C1 control: dropped (see the top) */
					sync_to(&f, p);
					f.flush = p + 2;
				}
				p += k;
				/*
				 * libvterm picks the decoder by a text run's first
				 * byte: ASCII right after a UTF-8 character in the
				 * same write escapes a DEC graphics or UK G0 set.
				 * Always end the write there, as xterm translates.
				 */
				if (s->table_cs && p < te && *p >= 0x20 && *p < 0x7f)
					sync_to(&f, p);
			} else if (p + k == end) {
				p = end; /* held back below */
			} else {
				/* cut short: libvterm's decoder would keep it pending
				 * across sequences and controls; show it as U+FFFD
				 * now, as libvterm does when text follows */
				sync_to(&f, p);
				vt_write(s, (const uint8_t *)"\xef\xbf\xbd", 3);
				p += k;
				f.flush = p;
			}
		}
		if (!e)
			break;
		seq = e;
		p = e;
		do
			p = after_step(&f, step(s, *p), p);
		while (p < end && s->sc.st != SC_NORMAL);
		text_from = p;
	}
	if (s->sc.st != SC_NORMAL) {
		if (seq < f.flush)
			seq = f.flush;
		sync_to(&f, seq);
		if ((size_t)(end - seq) <= HOLD_MAX) {
			memcpy(s->hold, seq, end - seq);
			s->hold_len = end - seq;
		} else {
			sync_to(&f, end);
			s->passthru = true;
		}
		return s->cb_err;
	}
	if (text_from < f.flush)
		text_from = f.flush;
	n = utf8_partial(text_from, end, &need);
	sync_to(&f, end - n);
	if (n) {
		memcpy(s->hold, end - n, n);
		s->hold_len = n;
		s->hold_need = need;
	}
	return s->cb_err;
}

int kt_screen_resize(struct kt_screen *s, int rows, int cols)
{
	if (!s)
		return -EINVAL;
	kt_screen_size_norm(rows, cols, &rows, &cols);
	if (rows == s->rows && cols == s->cols)
		return 0;
	if (s->broken)
		return s->broken;
	s->cb_err = 0;
	vterm_set_size(s->vt, rows, cols);
	if (!s->broken) {
		VTermPos pos;

		vterm_state_get_cursorpos(s->vs, &pos);
		assert(pos.row >= 0 && pos.row < s->rows && pos.col >= 0 && pos.col < s->cols);
	}
	return s->cb_err;
}

/* ------------------------------------------------------------- reading */

int kt_screen_row_text(const struct kt_screen *s, int row, char *buf, size_t size)
{
	size_t n;

	if (!s || row < 0 || row >= s->rows)
		return -EINVAL;
	n = row_text(s->buf[s->cur][row], s->cols, s->tmp);
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
		size_t n = row_text(s->buf[s->cur][i], s->cols, t + o);

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

/* ------------------------------------------------------------- modes */

struct modes {
	int ckm, origin, autowrap, lrmm, paste, screen;  /* DECRQM answers: 1 set */
	int top, bottom, left, right;                    /* 1-based, inclusive */
	int protected;
};

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
static int query_modes(struct kt_screen *s, struct modes *m)
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

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_put(struct sbuf *b, const void *d, size_t n)
{
	if (b->err)
		return;
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

static bool pen_eq(const struct kt_pen *a, const struct kt_pen *b)
{
	return a->attrs == b->attrs && a->underline == b->underline && a->font == b->font &&
	       !memcmp(&a->fg, &b->fg, sizeof(a->fg)) && !memcmp(&a->bg, &b->bg, sizeof(a->bg));
}

struct draw {
	struct kt_pen pen;  /* what the terminal's pen is */
	bool prot;          /* DECSCA state */
};

static void draw_pen(struct sbuf *b, struct draw *d, const struct kt_pen *want)
{
	struct kt_pen p = *want;
	bool prot = p.attrs & KT_ATTR_PROTECTED;

	p.attrs &= ~(KT_ATTR_PROTECTED | KT_ATTR_ODD);
	if (!pen_eq(&p, &d->pen)) {
		sb_sgr(b, &p);
		d->pen = p;
	}
	if (prot != d->prot) {
		sb_put(b, prot ? "\x1b[1\"q" : "\x1b[0\"q", 5);
		d->prot = prot;
	}
}

static void draw_glyph(struct sbuf *b, const struct kt_cell *c)
{
	char u[6];

	for (int k = 0; k < KT_CELL_CHARS && c->ch[k]; k++)
		sb_put(b, u, utf8_put(u, c->ch[k], false));
}

/*
 * One buffer's cells, row by row, on a terminal with autowrap on, no
 * margins, no insert mode.  Glyphs libvterm gave width < 1 (a combining
 * mark it could not join, say) go first on their row: drawn right after
 * their left neighbour, libvterm would join them to it.
 */
static void draw_rows(struct kt_screen *s, struct sbuf *b, struct draw *d, struct row **rows)
{
	for (int i = 0; i < s->rows; i++) {
		struct row *r = rows[i];
		int last = s->cols - 1, col = 0, skip = 0;
		bool any_odd = false;

		while (last >= 0 && cell_default_blank(&r->cells[last]))
			last--;
		if (last < 0)
			continue;
		for (int k = 0; k <= last; k++) {
			const struct kt_cell *c = &r->cells[k];

			if (c->ch[0] && (c->pen.attrs & KT_ATTR_ODD)) {
				sb_printf(b, "\x1b[%d;%dH", i + 1, k + 1);
				draw_pen(b, d, &c->pen);
				draw_glyph(b, c);
				any_odd = true;
			}
		}
		sb_printf(b, "\x1b[%d;1H", i + 1);
		while (col <= last) {
			const struct kt_cell *c = &r->cells[col];
			int run = 1;

			if (c->width == 0) { /* never alone, see fix_wide */
				col++;
				continue;
			}
			if (cell_default_blank(c) || (c->ch[0] && (c->pen.attrs & KT_ATTR_ODD))) {
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
				while (col + run <= last && !r->cells[col + run].ch[0] &&
				       r->cells[col + run].width == 1 &&
				       pen_eq(&r->cells[col + run].pen, &c->pen))
					run++;
				/* ECH does not move the cursor */
				sb_printf(b, "\x1b[%dX", run);
				skip = run;
				col += run;
				continue;
			}
			draw_glyph(b, c);
			col += c->width;
		}
		(void)any_odd;
	}
}

static void draw_cursor_look(struct sbuf *b, bool visible, bool blink, int shape)
{
	int ps = shape == VTERM_PROP_CURSORSHAPE_UNDERLINE ? 3 :
		 shape == VTERM_PROP_CURSORSHAPE_BAR_LEFT ? 5 : 1;

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
static void draw_cup(struct sbuf *b, const struct modes *m, int row, int col)
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
static bool draw_last_glyph(struct kt_screen *s, struct sbuf *b, struct draw *d,
			    const struct modes *m, VTermPos pos, bool phantom)
{
	const struct last_glyph *g = &s->g;
	const struct kt_cell *c;
	int w;
	bool same, erased;
	VTermPos after;

	if (!g->has || g->row < 0 || g->row >= s->rows || g->col < 0 || g->col >= s->cols)
		return false;
	c = &s->buf[s->cur][g->row]->cells[g->col];
	w = g->w < 1 || g->w > 2 || g->col + g->w > s->cols ? 1 : g->w;
	same = c->width == w && !memcmp(c->ch, g->ch, sizeof(c->ch));
	erased = !c->ch[0] && c->width == 1 && w == 1;
	if (!same && !erased)
		return false;
	/* a double-width row is half as wide: the glyph would wrap */
	{
		const VTermLineInfo *li = vterm_state_get_lineinfo(s->vs, g->row);

		if (li && li->doublewidth && g->col + w > s->cols / 2)
			return false;
	}
	/* origin mode: inside the margins, or the CSIs after it would move it */
	if (m->origin && (g->row < m->top - 1 || g->row > m->bottom - 1 ||
			  (m->lrmm && (g->col < m->left - 1 || g->col > m->right - 1))))
		return false;
	draw_cup(b, m, g->row, g->col);
	draw_pen(b, d, &c->pen);
	draw_glyph(b, &(struct kt_cell){ .ch = { g->ch[0], g->ch[1], g->ch[2], g->ch[3] } });
	after.row = g->row;
	after.col = g->col + (g->edge && m->autowrap ? 0 : g->w);
	if (g->edge)
		after.col = g->col;
	if (erased) {
		if (after.col != g->col)
			sb_printf(b, "\x1b[%dD", after.col - g->col);
		sb_put(b, "\x1b[X", 4);
		after.col = g->col;
	}
	/* the caller places the cursor unless it is already right */
	return after.row == pos.row && after.col == pos.col && !(!phantom && g->edge && m->autowrap);
}

/* ESC # for row i's line attributes, if any (move there first if cup). */
static void draw_lineinfo(struct kt_screen *s, struct sbuf *b, int i, bool cup)
{
	const VTermLineInfo *li = vterm_state_get_lineinfo(s->vs, i);

	if (!li || (!li->doublewidth && !li->doubleheight))
		return;
	if (cup)
		sb_printf(b, "\x1b[%d;1H", i + 1);
	sb_printf(b, "\x1b#%c", li->doubleheight == 1 ? '3' : li->doubleheight == 2 ? '4' : '6');
}

/* Row stamps and wrap marks (index-only state) in a private OSC. */
static void draw_meta(struct kt_screen *s, struct sbuf *b)
{
	struct row **rows = s->buf[0];

	sb_put(b, KT_OSC_META, sizeof(KT_OSC_META) - 1);
	for (int i = 0; i < s->rows; i++)
		sb_printf(b, "%lld%s,", (long long)rows[i]->ts, rows[i]->wrapped ? "w" : "");
	sb_printf(b, ";%lld;", (long long)s->pend_ts);
	sb_put(b, s->pend, s->pend_len);
	sb_put(b, "\x07", 1);
}

int kt_screen_serialize(struct kt_screen *s, uint8_t **out, size_t *len)
{
	struct sbuf b = { 0 };
	struct draw d = { 0 };
	struct modes m;
	VTermPos pos;
	bool phantom, at_pos;
	int err;

	if (!s || !out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (s->broken)
		return s->broken;
	err = query_modes(s, &m);
	if (err)
		return err;
	vterm_state_get_cursorpos(s->vs, &pos);
	phantom = s->g.valid && s->g.edge && m.autowrap && pos.row == s->g.row &&
		  pos.col == s->g.col;

	draw_meta(s, &b);
	/* RIS: a known state (modes, margins, charsets, tabs, pen) */
	sb_put(&b, "\x1b" "c", 2);
	draw_rows(s, &b, &d, s->buf[0]);
	if (s->cur == 1) {
		/* 1049 saves the main screen's cursor and clears the alt one */
		draw_pen(&b, &d, &default_pen);
		sb_put(&b, "\x1b[?1049h\x1b[2J", 13);
		draw_rows(s, &b, &d, s->buf[1]);
	}
	if (s->saved.valid) {
		sb_printf(&b, "\x1b[%d;%dH", s->saved.row + 1, s->saved.col + 1);
		draw_pen(&b, &d, &s->saved.pen);
		draw_cursor_look(&b, s->saved.visible, s->saved.blink, s->saved.shape);
		sb_put(&b, "\x1b" "7", 2);
	}
	/*
	 * Line attributes after every absolute CUP (a double-width row clamps
	 * the column to half the width) and before DECLRMM (which makes libvterm
	 * ignore them); the cursor's own row last, once the cursor is there.
	 */
	for (int i = 0; i < s->rows; i++)
		if (i != pos.row || m.lrmm || s->g.row == pos.row)
			draw_lineinfo(s, &b, i, true);
	if (m.top != 1 || m.bottom != s->rows)
		sb_printf(&b, "\x1b[%d;%dr", m.top, m.bottom);
	if (m.lrmm) {
		sb_put(&b, "\x1b[?69h", 6);
		if (m.left != 1 || m.right != s->cols)
			sb_printf(&b, "\x1b[%d;%ds", m.left, m.right);
	}
	if (m.origin)
		sb_put(&b, "\x1b[?6h", 5);
	if (!m.autowrap)
		sb_put(&b, "\x1b[?7l", 5);
	/*
	 * Every CSI clamps the cursor into the row (half of it on a
	 * double-width row) and, in origin mode, into the margins, as the
	 * stream's own cursor need not be: the last glyph, then every mode,
	 * pen and cursor CSI, and only then the cursor, its row's line
	 * attributes and the ESC / OSC tail, which do not move it.
	 */
	at_pos = draw_last_glyph(s, &b, &d, &m, pos, phantom);
	if (s->insert)
		sb_put(&b, "\x1b[4h", 4);
	if (s->newline)
		sb_put(&b, "\x1b[20h", 5);
	if (m.ckm)
		sb_put(&b, "\x1b[?1h", 5);
	if (m.paste)
		sb_put(&b, "\x1b[?2004h", 8);
	if (m.screen)
		sb_put(&b, "\x1b[?5h", 5);
	draw_pen(&b, &d, &s->pen);
	if (m.protected != d.prot)
		sb_put(&b, m.protected ? "\x1b[1\"q" : "\x1b[0\"q", 5);
	draw_cursor_look(&b, s->visible, s->blink, s->shape);
	if (!at_pos)
		draw_cup(&b, &m, pos.row, pos.col);
	if (!m.lrmm && s->g.row != pos.row)
		draw_lineinfo(s, &b, pos.row, false);
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

/* Apply the private OSC at the start of a keyframe; returns bytes used. */
static size_t apply_meta(struct kt_screen *s, const char *kf, size_t len)
{
	const size_t hl = sizeof(KT_OSC_META) - 1;
	const char *p, *end, *bel;

	if (len < hl || memcmp(kf, KT_OSC_META, hl))
		return 0;
	bel = memchr(kf + hl, 0x07, len - hl);
	if (!bel)
		return 0;
	p = kf + hl;
	end = bel;
	for (int i = 0; i < s->rows && p < end && *p != ';'; i++) {
		s->buf[0][i]->ts = parse_i64(&p, end);
		s->buf[0][i]->wrapped = p < end && *p == 'w';
		while (p < end && *p != ',' && *p != ';')
			p++;
		if (p < end && *p == ',')
			p++;
	}
	if (p < end && *p == ';') {
		p++;
		s->pend_ts = parse_i64(&p, end);
		if (p < end && *p == ';')
			p++;
		/* text only: a hostile keyframe may carry anything here */
		s->pend_len = 0;
		for (; p < end && s->pend_len < LINE_MAX_BYTES; p++)
			if ((unsigned char)*p >= 0x20 && *p != 0x7f)
				s->pend[s->pend_len++] = *p;
	}
	return (size_t)(bel + 1 - kf);
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
		apply_meta(s, kf, len);
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
	struct modes ma, mb;
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
				    !pen_eq(&x->pen, &y->pen)) {
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
	if (a->cur != b->cur || a->visible != b->visible || !pen_eq(&a->pen, &b->pen)) {
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
