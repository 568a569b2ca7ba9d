// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen's feed layer: a small mirror of libvterm's parser that steps
 * over escape sequences only (text is skipped with memchr).  It holds back
 * a sequence or UTF-8 character cut at the end of a feed, tracks the few
 * things libvterm keeps private that a keyframe must carry (insert and
 * newline mode, charset designations, the DECSC saved cursor), and keeps
 * hostile input away from libvterm 0.1.4 memory bugs: a CSI with more than
 * 16 parameters overflows csi_args[] (a segfault, reproduced), and a UTF-8
 * encoded C1 control (U+0080..U+009F) has width -1 and walks the cursor to
 * column -1 (out-of-bounds tab stop writes), and REP (CSI b) loops forever
 * when the last glyph had width 0 or there was none yet (reproduced: three
 * bytes hang the process); and an OSC/DCS string whose ESC \\ terminator
 * has a control byte in between, or is split across two writes, is copied
 * with length -1 (heap over-read).  Such a CSI is cancelled (CAN, as a
 * terminal does for an over-long sequence) at its 16th parameter or a
 * parameter above 99999, C1 characters are dropped, a lone 0xC2 lead byte
 * becomes U+FFFD, and an unsafe REP is cancelled.  kt_screen_resize too.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen_int.h"

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
		scr_save_cursor(s);
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
	bool shrink = rows < s->rows;
	vterm_set_size(s->vt, rows, cols);
	if (shrink && !s->broken) {
		/*
		 * libvterm clamps only the scroll region's bottom to the new
		 * height: a region whose top is now at or below it makes the
		 * next scroll memmove a negative size (heap overflow, ASan
		 * negative-size-param in libvterm's scroll()).  The recorded
		 * program chooses both the region and the window size, so a
		 * shrink resets the region (DECSTBM with no arguments, as
		 * xterm does on a resize) and puts the cursor back where it
		 * was.  fastvt does the same (fv_resize); libvterm has no call
		 * that sets the region, hence the bytes.  tests/unit/
		 * test_screen_region.c.
		 */
		VTermPos pos;
		char b[32];
		int n;

		vterm_state_get_cursorpos(s->vs, &pos);
		n = snprintf(b, sizeof(b), KT_SCREEN_REGION_RESET_FMT, pos.row + 1, pos.col + 1);
		assert(n > 0 && (size_t)n < sizeof(b));
		vt_write(s, (const uint8_t *)b, (size_t)n);
	}
	if (!s->broken) {
		VTermPos pos;

		vterm_state_get_cursorpos(s->vs, &pos);
		assert(pos.row >= 0 && pos.row < s->rows && pos.col >= 0 && pos.col < s->cols);
	}
	return s->cb_err;
}
