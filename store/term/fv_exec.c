// SPDX-License-Identifier: Apache-2.0
/*
 * What controls, ESC and CSI sequences and SGR do to a fastvt: libvterm
 * 0.1.4's state.c and pen.c rule by rule (its quirks included: only the
 * first mode of a CSI h/l is set, a handled CSI clamps the cursor and an
 * unhandled one does not, a pending wrap survives a control that does not
 * move the cursor), plus what kt_screen's feed layer adds (the DECRC clamp,
 * the REP guard, its saved-cursor row).
 */
#include <string.h>

#include "fv_int.h"

#define ARG(a) ((a) & ~FV_ARG_MORE)
#define HAS_MORE(a) (((a) & FV_ARG_MORE) != 0)
#define IS_MISSING(a) (ARG(a) == FV_ARG_MISSING)
#define ARG_OR(a, d) (IS_MISSING(a) ? (d) : ARG(a))
#define ARG_COUNT(a) (IS_MISSING(a) || ARG(a) == 0 ? 1 : ARG(a))

#define SHAPE_BLOCK 1
#define SHAPE_UNDERLINE 2
#define SHAPE_BAR 3

/* ------------------------------------------------------------- helpers */

static void set_tab(struct fv *s, int col, bool on)
{
	if (col < 0 || col >= s->cols)
		return;
	if (on)
		s->tabs[col >> 3] |= (uint8_t)(1 << (col & 7));
	else
		s->tabs[col >> 3] &= (uint8_t)~(1 << (col & 7));
}

static bool is_tab(const struct fv *s, int col)
{
	return s->tabs[col >> 3] & (1 << (col & 7));
}

/* Columns from `from` on get the default stops (every 8). */
void fv_tabs_default(struct fv *s, int from)
{
	for (int col = from < 0 ? 0 : from; col < s->cols; col++)
		set_tab(s, col, col % 8 == 0);
}

static void tab(struct fv *s, int count, int dir)
{
	while (count > 0) {
		if (dir > 0) {
			if (s->col >= fv_rowwidth(s, s->row) - 1)
				return;
			s->col++;
		} else {
			if (s->col < 1)
				return;
			s->col--;
		}
		if (is_tab(s, s->col))
			count--;
	}
}

/* libvterm's updatecursor: a move cancels the pending wrap (if asked) and
 * tells kt_screen, whose last glyph is then no longer behind the cursor. */
static void update_cursor(struct fv *s, int orow, int ocol, bool cancel_phantom)
{
	if (s->row == orow && s->col == ocol)
		return;
	if (cancel_phantom)
		s->phantom = false;
	fv_moved(s);
}

static void reverse_index(struct fv *s)
{
	if (s->row == s->top)
		fv_scroll(s, s->top, fv_bottom(s), fv_left(s), fv_right(s), -1, 0);
	else if (s->row > 0)
		s->row--;
}

void fv_control(struct fv *s, uint8_t c)
{
	int orow = s->row, ocol = s->col;

	switch (c) {
	case 0x07:
		break;
	case 0x08:
		if (s->col > 0)
			s->col--;
		break;
	case 0x09:
		tab(s, 1, +1);
		break;
	case 0x0a: case 0x0b: case 0x0c:
		fv_linefeed(s);
		if (s->newline)
			s->col = 0;
		break;
	case 0x0d:
		s->col = 0;
		break;
	case 0x0e:
		s->gl = 1;
		break;
	case 0x0f:
		s->gl = 0;
		break;
	case 0x84: /* IND */
		fv_linefeed(s);
		break;
	case 0x85: /* NEL */
		fv_linefeed(s);
		s->col = 0;
		break;
	case 0x88: /* HTS */
		set_tab(s, s->col, true);
		break;
	case 0x8d: /* RI */
		reverse_index(s);
		break;
	case 0x8e: /* SS2 */
		s->gsingle = 2;
		break;
	case 0x8f: /* SS3 */
		s->gsingle = 3;
		break;
	default:
		return;
	}
	update_cursor(s, orow, ocol, true);
}

/* ------------------------------------------------------------- cursor save, modes */

static void save_cursor(struct fv *s, bool save)
{
	if (save) {
		s->sv.row = s->row;
		s->sv.col = s->col;
		s->sv.visible = s->visible;
		s->sv.blink = s->blink;
		s->sv.shape = s->shape;
		s->sv.pen = s->pen;
	} else {
		int orow = s->row, ocol = s->col;

		s->row = s->sv.row;
		s->col = s->sv.col;
		s->visible = s->sv.visible;
		s->blink = s->sv.blink;
		s->shape = s->sv.shape;
		s->pen = s->sv.pen;
		fv_pen_changed(s);
		update_cursor(s, orow, ocol, true);
	}
}

/* kt_screen's own record of the saved cursor, taken once libvterm ran the
 * whole sequence (for a CSI: after its clamp, unlike libvterm's). */
static void kt_saved(struct fv *s)
{
	s->kt_saved = true;
	s->kt_saved_row = s->row;
	s->kt_saved_col = s->col;
}

/* The end of a handled CSI: libvterm clamps the cursor into the screen, or
 * into the margins in origin mode. */
static void clamp_cursor(struct fv *s)
{
	if (s->origin) {
		if (s->row < s->top)
			s->row = s->top;
		if (s->row > fv_bottom(s) - 1)
			s->row = fv_bottom(s) - 1;
		if (s->col < fv_left(s))
			s->col = fv_left(s);
		if (s->col > fv_right(s) - 1)
			s->col = fv_right(s) - 1;
	} else {
		if (s->row < 0)
			s->row = 0;
		if (s->row > s->rows - 1)
			s->row = s->rows - 1;
		if (s->col < 0)
			s->col = 0;
		if (s->col > fv_rowwidth(s, s->row) - 1)
			s->col = fv_rowwidth(s, s->row) - 1;
	}
}

/*
 * ESC 8 and kt_screen's guard for it: a cursor saved before a resize comes
 * back clamped by CUU/CUB, whose end-of-CSI bounds then hold.
 */
static void restore_cursor(struct fv *s)
{
	int up, left;

	save_cursor(s, false);
	/* kt_screen computes both from the restored cursor, then writes the
	 * CUU and the CUB: each one's end clamps the cursor on its own */
	up = s->row >= s->rows ? s->row - (s->rows - 1) : 0;
	left = s->col >= s->cols ? s->col - (s->cols - 1) : 0;
	if (up) {
		int orow = s->row, ocol = s->col;

		s->row -= up;
		s->phantom = false;
		clamp_cursor(s);
		update_cursor(s, orow, ocol, true);
	}
	if (left) {
		int orow = s->row, ocol = s->col;

		s->col -= left;
		s->phantom = false;
		clamp_cursor(s);
		update_cursor(s, orow, ocol, true);
	}
}

static void set_altscreen(struct fv *s, bool on)
{
	if (s->cur != (on ? 1 : 0)) {
		s->cur = on ? 1 : 0;
		s->g_crow = -1;
	}
	if (on)
		fv_erase(s, 0, s->rows, 0, s->cols, false);
}

static void set_dec_mode(struct fv *s, long num, bool val)
{
	switch (num) {
	case 1:
		s->ckm = val;
		break;
	case 5:
		s->reverse = val;
		break;
	case 6: {
		int orow = s->row, ocol = s->col;

		s->origin = val;
		s->row = val ? s->top : 0;
		s->col = val ? fv_left(s) : 0;
		update_cursor(s, orow, ocol, true);
		break;
	}
	case 7:
		s->autowrap = val;
		break;
	case 12:
		s->blink = val;
		break;
	case 25:
		s->visible = val;
		break;
	case 69:
		s->lrmm = val;
		if (val)
			memset(s->li, 0, (size_t)s->rows);
		break;
	case 1047:
		set_altscreen(s, val);
		break;
	case 1048: /* a CSI: its end clamps what comes back */
		save_cursor(s, val);
		break;
	case 1049:
		set_altscreen(s, val);
		save_cursor(s, val);
		break;
	case 2004:
		s->paste = val;
		break;
	default:
		break;
	}
}

void fv_reset(struct fv *s)
{
	s->top = 0;
	s->bottom = -1;
	s->left = 0;
	s->right = -1;
	s->keypad = s->ckm = s->insert = s->newline = false;
	s->origin = s->lrmm = s->paste = false;
	s->autowrap = true;
	fv_tabs_default(s, 0);
	memset(s->li, 0, (size_t)s->rows);
	memset(&s->pen, 0, sizeof(s->pen));
	memset(s->cs, 0, sizeof(s->cs));
	s->gl = 0;
	s->gsingle = 0;
	s->protected_cell = false;
	fv_pen_changed(s);
	s->visible = true;
	s->blink = true;
	s->shape = SHAPE_BLOCK;
	s->row = 0;
	s->col = 0;
	s->phantom = false;
	fv_erase(s, 0, s->rows, 0, s->cols, false);
	fv_moved(s); /* RIS reports the cursor even when it stays */
}

/* ------------------------------------------------------------- ESC */

static void decaln(struct fv *s)
{
	/* kt_screen: DECALN's glyphs are not the last glyph (its g is kept),
	 * but each one did see the one before for the wrap mark */
	bool has = s->g_has, valid = s->g_valid;
	int row = s->g_row, col = s->g_col, crow = s->g_crow, end = s->g_end, rw = s->g_rw,
	    w = s->g_w;
	static const uint32_t e[KT_CELL_CHARS] = { 'E', 0, 0, 0 };
	uint32_t ch[KT_CELL_CHARS];

	memcpy(ch, s->g_ch, sizeof(ch));
	for (int r = 0; r < s->rows; r++)
		for (int c = 0; c < fv_rowwidth(s, r); c++)
			fv_put_glyph(s, e, 1, r, c);
	s->g_has = has;
	s->g_valid = valid;
	s->g_row = row;
	s->g_col = col;
	s->g_crow = crow;
	s->g_end = end;
	s->g_rw = rw;
	s->g_w = w;
	memcpy(s->g_ch, ch, sizeof(ch));
}

void fv_escape(struct fv *s, uint8_t final)
{
	if (!s->ninter) {
		switch (final) {
		case '7':
			save_cursor(s, true);
			kt_saved(s);
			break;
		case '8':
			restore_cursor(s);
			break;
		case '=':
			s->keypad = true;
			break;
		case '>':
			s->keypad = false;
			break;
		case 'c':
			fv_reset(s);
			break;
		case 'n':
			s->gl = 2;
			break;
		case 'o':
			s->gl = 3;
			break;
		default:
			break;
		}
		return;
	}
	if (s->ninter != 1)
		return;
	if (s->inter == '#') {
		uint8_t li = s->li[s->row];

		if (final == '8') {
			decaln(s);
			return;
		}
		if (s->lrmm || final < '3' || final > '6')
			return;
		li = final == '3' ? FV_LI_DWL | FV_LI_DHL_TOP :
		     final == '4' ? FV_LI_DWL | FV_LI_DHL_BOTTOM :
		     final == '6' ? FV_LI_DWL : 0;
		s->li[s->row] = li;
		s->li_any |= li != 0;
	} else if (s->inter >= '(' && s->inter <= '+') {
		if (final == '0' || final == 'A' || final == 'B')
			s->cs[s->inter - '('] = final;
	}
}

/* ------------------------------------------------------------- SGR */

static void color_ansi(struct kt_color *c, long idx)
{
	c->type = KT_COLOR_INDEXED;
	c->r = (uint8_t)idx;
	c->g = c->b = 0;
}

/* libvterm's lookup_colour, over its argument array (argc may be < 0). */
static int lookup_colour(struct fv *s, long palette, int at, int argc, struct kt_color *c)
{
	const long *a = at < FV_NARGS ? &s->args[at] : NULL;

	switch (palette) {
	case 2:
		if (argc < 3)
			return argc;
		if (at + 3 > FV_NARGS)
			return 3;
		c->type = KT_COLOR_RGB;
		c->r = (uint8_t)ARG(a[0]);
		c->g = (uint8_t)ARG(a[1]);
		c->b = (uint8_t)ARG(a[2]);
		return 3;
	case 5:
		if (!argc || !a || IS_MISSING(a[0]))
			return argc ? 1 : 0;
		color_ansi(c, a[0]);
		return 1;
	default:
		return 0;
	}
}

static void sgr(struct fv *s, int argcount)
{
	struct kt_pen *p = &s->pen;
	int argi = 0;

	while (argi < argcount && argi < FV_NARGS) {
		long arg = ARG(s->args[argi]);

		switch (arg) {
		case FV_ARG_MISSING:
		case 0:
			memset(p, 0, sizeof(*p));
			break;
		case 1: p->attrs |= KT_ATTR_BOLD; break;
		case 3: p->attrs |= KT_ATTR_ITALIC; break;
		case 4:
			p->underline = 1;
			if (HAS_MORE(s->args[argi]) && argi + 1 < FV_NARGS) {
				argi++;
				switch (ARG(s->args[argi])) {
				case 0: p->underline = 0; break;
				case 1: p->underline = 1; break;
				case 2: p->underline = 2; break;
				case 3: p->underline = 3; break;
				}
			}
			break;
		case 5: p->attrs |= KT_ATTR_BLINK; break;
		case 7: p->attrs |= KT_ATTR_REVERSE; break;
		case 9: p->attrs |= KT_ATTR_STRIKE; break;
		case 10: case 11: case 12: case 13: case 14:
		case 15: case 16: case 17: case 18: case 19:
			p->font = (uint8_t)(arg - 10);
			break;
		case 21: p->underline = 2; break;
		case 22: p->attrs &= ~KT_ATTR_BOLD; break;
		case 23: p->attrs &= ~KT_ATTR_ITALIC; break;
		case 24: p->underline = 0; break;
		case 25: p->attrs &= ~KT_ATTR_BLINK; break;
		case 27: p->attrs &= ~KT_ATTR_REVERSE; break;
		case 29: p->attrs &= ~KT_ATTR_STRIKE; break;
		case 30: case 31: case 32: case 33: case 34: case 35: case 36: case 37:
			color_ansi(&p->fg, arg - 30);
			break;
		case 38: case 48: {
			long pal = argi + 1 < FV_NARGS ? ARG(s->args[argi + 1]) : 0;

			argi += 1 + lookup_colour(s, pal, argi + 2, argcount - argi - 2,
						  arg == 38 ? &p->fg : &p->bg);
			break;
		}
		case 39: memset(&p->fg, 0, sizeof(p->fg)); break;
		case 40: case 41: case 42: case 43: case 44: case 45: case 46: case 47:
			color_ansi(&p->bg, arg - 40);
			break;
		case 49: memset(&p->bg, 0, sizeof(p->bg)); break;
		case 90: case 91: case 92: case 93: case 94: case 95: case 96: case 97:
			color_ansi(&p->fg, arg - 90 + 8);
			break;
		case 100: case 101: case 102: case 103: case 104: case 105: case 106: case 107:
			color_ansi(&p->bg, arg - 100 + 8);
			break;
		default:
			break;
		}
		/* skip the sub-parameters (libvterm: while(HAS_MORE(args[argi++]))) */
		while (argi >= 0 && argi < FV_NARGS && HAS_MORE(s->args[argi]))
			argi++;
		argi++;
	}
	fv_pen_changed(s);
}

/* ------------------------------------------------------------- CSI */

static bool in_region(const struct fv *s)
{
	return s->row >= s->top && s->row < fv_bottom(s) && s->col >= fv_left(s) &&
	       s->col < fv_right(s);
}

static void rep(struct fv *s, long count)
{
	int rw = fv_rowwidth(s, s->row), col = s->col + (int)count;

	if (col > rw)
		col = rw;
	while (s->col < col) {
		fv_put_glyph(s, s->comb, s->comb_w, s->row, s->col);
		s->col += s->comb_w;
	}
}

static void set_region_tb(struct fv *s, int argcount)
{
	long top = ARG_OR(s->args[0], 1) - 1;
	long bot = argcount < 2 || IS_MISSING(s->args[1]) ? -1 : ARG(s->args[1]);

	top = top < 0 ? 0 : top > s->rows ? s->rows : top;
	if (bot < -1)
		bot = -1;
	if (top == 0 && bot == s->rows)
		bot = -1;
	else if (bot > s->rows)
		bot = s->rows;
	s->top = (int)top;
	s->bottom = (int)bot;
	if (fv_bottom(s) <= s->top) {
		s->top = 0;
		s->bottom = -1;
	}
}

static void set_region_lr(struct fv *s, int argcount)
{
	long left = ARG_OR(s->args[0], 1) - 1;
	long right = argcount < 2 || IS_MISSING(s->args[1]) ? -1 : ARG(s->args[1]);

	left = left < 0 ? 0 : left > s->cols ? s->cols : left;
	if (right < -1)
		right = -1;
	if (left == 0 && right == s->cols)
		right = -1;
	else if (right > s->cols)
		right = s->cols;
	s->left = (int)left;
	s->right = (int)right;
	if (s->right > -1 && s->right <= s->left) {
		s->left = 0;
		s->right = -1;
	}
}

static void home(struct fv *s)
{
	s->row = s->origin ? s->top : 0;
	s->col = s->origin ? fv_left(s) : 0;
}

static void cursor_shape(struct fv *s, long v)
{
	switch (v) {
	case 0: case 1: s->blink = true; s->shape = SHAPE_BLOCK; break;
	case 2: s->blink = false; s->shape = SHAPE_BLOCK; break;
	case 3: s->blink = true; s->shape = SHAPE_UNDERLINE; break;
	case 4: s->blink = false; s->shape = SHAPE_UNDERLINE; break;
	case 5: s->blink = true; s->shape = SHAPE_BAR; break;
	case 6: s->blink = false; s->shape = SHAPE_BAR; break;
	}
}

/* ED: lines below/above the cursor lose their line attributes. */
static void erase_display(struct fv *s, long how, bool sel)
{
	switch (how) {
	case FV_ARG_MISSING:
	case 0:
		fv_erase(s, s->row, s->row + 1, s->col, s->cols, sel);
		for (int r = s->row + 1; r < s->rows; r++)
			s->li[r] = 0;
		fv_erase(s, s->row + 1, s->rows, 0, s->cols, sel);
		break;
	case 1:
		for (int r = 0; r < s->row; r++)
			s->li[r] = 0;
		fv_erase(s, 0, s->row, 0, s->cols, sel);
		fv_erase(s, s->row, s->row + 1, 0, s->col + 1, sel);
		break;
	case 2:
		memset(s->li, 0, (size_t)s->rows);
		fv_erase(s, 0, s->rows, 0, s->cols, sel);
		break;
	}
}

void fv_csi(struct fv *s, uint8_t command)
{
	int leader = 0, inter = 0, argcount = s->argi, orow = s->row, ocol = s->col;
	long *a = s->args;
	bool cancel_phantom = true;
	int rw = fv_rowwidth(s, s->row);

	if (s->nleader > 1 || s->ninter > 1)
		return;
	if (s->nleader) {
		if (s->leader != '?' && s->leader != '>')
			return;
		leader = s->leader;
	}
	if (s->ninter) {
		if (s->inter != ' ' && s->inter != '"' && s->inter != '$' && s->inter != '\'')
			return;
		inter = s->inter;
	}
	switch (inter << 16 | leader << 8 | command) {
	case '@':
		if (in_region(s))
			fv_scroll(s, s->row, s->row + 1, s->col, s->lrmm ? fv_right(s) : rw, 0,
				  -(int)ARG_COUNT(a[0]));
		break;
	case 'A': s->row -= (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'B': s->row += (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'C': s->col += (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'D': s->col -= (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'E': s->col = 0; s->row += (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'F': s->col = 0; s->row -= (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'G': s->col = (int)ARG_OR(a[0], 1) - 1; s->phantom = false; break;
	case 'H':
	case 'f':
		s->row = (int)ARG_OR(a[0], 1) - 1;
		s->col = argcount < 2 || IS_MISSING(a[1]) ? 0 : (int)ARG(a[1]) - 1;
		if (s->origin) {
			s->row += s->top;
			s->col += fv_left(s);
		}
		s->phantom = false;
		break;
	case 'I': tab(s, (int)ARG_COUNT(a[0]), +1); break;
	case 'J':
	case '?' << 8 | 'J':
		erase_display(s, ARG(a[0]), leader == '?');
		break;
	case 'K':
	case '?' << 8 | 'K': {
		long how = ARG(a[0]);
		int c0, c1;

		if (how == FV_ARG_MISSING || how == 0)
			c0 = s->col, c1 = rw;
		else if (how == 1)
			c0 = 0, c1 = s->col + 1;
		else if (how == 2)
			c0 = 0, c1 = rw;
		else
			return;
		if (c1 > c0)
			fv_erase(s, s->row, s->row + 1, c0, c1, leader == '?');
		break;
	}
	case 'L':
	case 'M':
		if (in_region(s))
			fv_scroll(s, s->row, fv_bottom(s), fv_left(s), fv_right(s),
				  (command == 'M' ? 1 : -1) * (int)ARG_COUNT(a[0]), 0);
		break;
	case 'P':
		if (in_region(s))
			fv_scroll(s, s->row, s->row + 1, s->col, s->lrmm ? fv_right(s) : rw, 0,
				  (int)ARG_COUNT(a[0]));
		break;
	case 'S':
	case 'T':
		fv_scroll(s, s->top, fv_bottom(s), fv_left(s), fv_right(s),
			  (command == 'S' ? 1 : -1) * (int)ARG_COUNT(a[0]), 0);
		break;
	case 'X': {
		long end = s->col + ARG_COUNT(a[0]);

		fv_erase(s, s->row, s->row + 1, s->col, (int)(end > rw ? rw : end), false);
		break;
	}
	case 'Z': tab(s, (int)ARG_COUNT(a[0]), -1); break;
	case '`': s->col = (int)ARG_OR(a[0], 1) - 1; s->phantom = false; break;
	case 'a': s->col += (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'b':
		rep(s, ARG_COUNT(a[0]));
		if (s->col + s->comb_w >= fv_rowwidth(s, s->row) && s->autowrap) {
			s->phantom = true;
			cancel_phantom = false;
		}
		break;
	case 'c':
	case '>' << 8 | 'c':
	case 'n':
	case '?' << 8 | 'n':
	case '$' << 16 | '?' << 8 | 'p':
		break; /* queries: the answers go nowhere */
	case 'd':
		s->row = (int)ARG_OR(a[0], 1) - 1;
		if (s->origin)
			s->row += s->top;
		s->phantom = false;
		break;
	case 'e': s->row += (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'g': {
		long v = ARG_OR(a[0], 0);

		if (v == 0)
			set_tab(s, s->col, false);
		else if (v == 3 || v == 5)
			memset(s->tabs, 0, (size_t)(s->cols + 7) / 8);
		else if (v != 1 && v != 2 && v != 4)
			return;
		break;
	}
	case 'h':
	case 'l':
		if (!IS_MISSING(a[0])) {
			if (ARG(a[0]) == 4)
				s->insert = command == 'h';
			else if (ARG(a[0]) == 20)
				s->newline = command == 'h';
		}
		break;
	case '?' << 8 | 'h':
	case '?' << 8 | 'l':
		if (!IS_MISSING(a[0]))
			set_dec_mode(s, ARG(a[0]), command == 'h');
		break;
	case 'j': s->col -= (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'k': s->row -= (int)ARG_COUNT(a[0]); s->phantom = false; break;
	case 'm':
		sgr(s, argcount);
		break;
	case ' ' << 16 | 'q':
		cursor_shape(s, ARG_OR(a[0], 1));
		break;
	case '"' << 16 | 'q': {
		long v = ARG_OR(a[0], 0);

		if (v == 0 || v == 2)
			s->protected_cell = false;
		else if (v == 1)
			s->protected_cell = true;
		fv_pen_changed(s);
		break;
	}
	case 'r':
		set_region_tb(s, argcount);
		home(s);
		break;
	case 's':
		set_region_lr(s, argcount);
		home(s);
		break;
	case '\'' << 16 | '}':
	case '\'' << 16 | '~':
		if (in_region(s))
			fv_scroll(s, s->top, fv_bottom(s), s->col, fv_right(s), 0,
				  (command == '~' ? 1 : -1) * (int)ARG_COUNT(a[0]));
		break;
	default:
		return;
	}
	clamp_cursor(s);
	update_cursor(s, orow, ocol, cancel_phantom);
	if (leader == '?' && command == 'h' && (ARG(a[0]) == 1048 || ARG(a[0]) == 1049))
		kt_saved(s);
}
