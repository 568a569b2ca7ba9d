// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt's parser and life cycle.  The parser is libvterm 0.1.4's
 * (parser.c: the same states, C0 controls run inside sequences and strings,
 * ESC 0x40-0x5f is the C1 control, CAN/SUB cancel) with kt_screen's feed
 * guards (store/screen.c: a CSI is cancelled at its 16th parameter or a
 * parameter above 99999 and the byte is text again; a control between a
 * string's ESC and its backslash cancels the string; UTF-8 C1 controls are
 * dropped; a UTF-8 character cut short shows as U+FFFD at once; an unsafe
 * REP is cancelled).  Ground state is where the time goes: printable ASCII
 * is found a run at a time and written by fv_put_ascii.
 *
 * A text run is what libvterm's on_text sees in one call: it ends at any
 * control or sequence, at the end of a feed, where kt_screen splits its
 * writes (a dropped C1, a U+FFFD, ASCII after UTF-8 with a DEC graphics or
 * UK set designated), at a byte >= 0x80 after ASCII when G0..G3 has a
 * designated set, and after one character shifted by SS2/SS3.  Its end is
 * where libvterm reports the cursor (kt_screen's wrap marks depend on it).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "fv_int.h"

#define CSI_SEPS_MAX 15        /* kt_screen's guard: libvterm has csi_args[16] */

static const uint32_t dec_graphics[0x7f - 0x60] = {
	0x25c6, 0x2592, 0x2409, 0x240c, 0x240d, 0x240a, 0x00b0, 0x00b1,
	0x2424, 0x240b, 0x2518, 0x2510, 0x250c, 0x2514, 0x253c, 0x23ba,
	0x23bb, 0x2500, 0x23bc, 0x23bd, 0x251c, 0x2524, 0x2534, 0x252c,
	0x2502, 0x2a7d, 0x2a7e, 0x03c0, 0x2260, 0x00a3, 0x00b7,
};

/* ------------------------------------------------------------- text runs */

enum { DEC_NONE, DEC_SET, DEC_UTF8 };

/* A run starts; libvterm picks its decoder by the first byte: UTF-8 for a
 * byte >= 0x80, else the G set in use (UTF-8 until one is designated). */
static void run_begin(struct fv *s, bool high)
{
	if (s->run_row >= 0)
		return;
	s->run_row = s->row;
	s->run_col = s->col;
	s->run_dec = high || !s->cs[s->gsingle ? s->gsingle : s->gl] ? DEC_UTF8 : DEC_SET;
}

/* libvterm's on_text returns: the cursor is reported if it moved. */
static void run_end(struct fv *s)
{
	if (s->run_row >= 0 && (s->row != s->run_row || s->col != s->run_col))
		fv_moved(s);
	s->run_row = -1;
	s->run = false;
}

static bool table_cs(const struct fv *s)
{
	for (int i = 0; i < 4; i++)
		if (s->cs[i] == '0' || s->cs[i] == 'A')
			return true;
	return false;
}

/* One printable ASCII byte through the G set in use. */
static void ascii_cp(struct fv *s, uint8_t c)
{
	int set = s->gsingle ? s->gsingle : s->gl;
	uint32_t cp = c;

	if (s->cs[set] == '0' && c >= 0x60)
		cp = dec_graphics[c - 0x60];
	else if (s->cs[set] == 'A' && c == 0x23)
		cp = 0xa3;
	fv_text_cp(s, cp);
	if (s->gsingle) {
		s->gsingle = 0;
		run_end(s);
	}
}

/*
 * A character of bytes >= 0x80 as libvterm gets it (cp: its UTF-8 value).
 * After SS2/SS3 naming a designated set, libvterm decodes the first byte
 * through that set as a GR byte (one character, or none, which keeps the
 * shift) and the rest as stray UTF-8 continuation bytes.
 */
static void high_char(struct fv *s, const uint8_t *b, int n, uint32_t cp)
{
	uint8_t set = s->gsingle ? s->cs[s->gsingle] : 0;

	if (!set) {
		s->gsingle = 0;
		fv_text_cp(s, cp);
		return;
	}
	if ((b[0] ^ 0x80) >= 0x20 && (b[0] ^ 0x80) < 0x7f) {
		uint8_t c = b[0] ^ 0x80;

		fv_text_cp(s, set == '0' && c >= 0x60 ? dec_graphics[c - 0x60] :
			      set == 'A' && c == 0x23 ? 0xa3 : c);
		s->gsingle = 0;
	}
	run_end(s);
	for (int i = 1; i < n; i++) {
		run_begin(s, true);
		fv_text_cp(s, 0xfffd);
	}
}

static int utf8_need(uint8_t lead)
{
	return lead >= 0xfc ? 6 : lead >= 0xf8 ? 5 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}

/* A complete UTF-8 character in s->utf_buf: libvterm's decoder. */
static void utf8_done(struct fv *s)
{
	static const uint32_t minimum[7] = { 0, 0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000 };
	static const uint8_t lead_mask[7] = { 0, 0, 0x1f, 0x0f, 0x07, 0x03, 0x01 };
	int n = s->utf_need;
	uint32_t cp = s->utf_buf[0] & lead_mask[n];

	s->utf_need = s->utf_have = 0;
	if (n == 2 && s->utf_buf[0] == 0xc2 && s->utf_buf[1] < 0xa0) {
		run_end(s); /* a C1 control: kt_screen drops it */
		return;
	}
	for (int i = 1; i < n; i++)
		cp = cp << 6 | (s->utf_buf[i] & 0x3f);
	if (cp < minimum[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		cp = 0xfffd;
	high_char(s, s->utf_buf, n, cp);
}

static void utf8_cut(struct fv *s)
{
	s->utf_need = s->utf_have = 0;
	static const uint8_t fffd[3] = { 0xef, 0xbf, 0xbd };

	run_end(s);
	run_begin(s, true);
	high_char(s, fffd, 3, 0xfffd);
	run_end(s);
}

/* ------------------------------------------------------------- sequences */

static void csi_final(struct fv *s, uint8_t c)
{
	s->argi++;
	/* kt_screen: REP with no glyph yet, or a zero-width one, hangs
	 * libvterm 0.1.4; it is cancelled before libvterm sees it */
	if (c == 'b' && !s->ninter && !s->nleader && (!s->g_has || s->g_w < 1))
		return;
	fv_csi(s, c);
}

/*
 * kt_screen holds an escape sequence (a chain of them: ESC inside a CSI
 * starts another) that is unfinished at the end of a feed back until it
 * ends, up to 4 KiB, so the C0 controls inside it run only then.  They
 * are queued here while the chain is short enough to be held, and run
 * (in order, before the sequence's own effect) when it ends; beyond 4 KiB
 * kt_screen passes the bytes through and so does this.
 */
static void ctl(struct fv *s, uint8_t c)
{
	if (s->passthru || s->nctl >= sizeof(s->ctlq))
		fv_control(s, c);
	else
		s->ctlq[s->nctl++] = c;
}

static void ctl_flush(struct fv *s)
{
	for (size_t i = 0; i < s->nctl; i++)
		fv_control(s, s->ctlq[i]);
	s->nctl = 0;
}

/* The chain ends: queued controls run, then what ended it. */
static void chain_end(struct fv *s)
{
	s->ps = FV_GROUND;
	s->passthru = false;
	ctl_flush(s);
}

static void string_done(struct fv *s)
{
	chain_end(s);
	fv_str_done(s);
}

/*
 * One byte inside an escape sequence or string.  Returns false when the
 * byte was not used (a cancelled sequence: the byte is ground state's).
 */
static bool seq_byte(struct fv *s, uint8_t c)
{
	if (s->ps == FV_ESC_IN_STRING && (c < 0x20 || c == 0x7f) && c != 0x18 && c != 0x1a &&
	    c != 0x1b) {
		chain_end(s);
		return false;
	}
	s->chain_len++;
	if (c == 0x00 || c == 0x7f) {
		if (s->ps == FV_STRING)
			fv_str_piece(s);
		return true;
	}
	if (c == 0x18 || c == 0x1a) {
		chain_end(s);
		return true;
	}
	if (c == 0x1b) {
		s->ninter = 0;
		s->ps = s->ps == FV_STRING ? FV_ESC_IN_STRING : FV_ESC;
		return true;
	}
	if (c == 0x07 && s->ps == FV_STRING) {
		string_done(s);
		return true;
	}
	if (c < 0x20) {
		if (s->ps == FV_STRING)
			fv_str_piece(s);
		ctl(s, c);
		return true;
	}
	switch (s->ps) {
	case FV_ESC_IN_STRING:
		if (c == 0x5c) {
			string_done(s);
			return true;
		}
		s->ps = FV_ESC;
		/* fallthrough */
	case FV_ESC:
		if (c == 'P' || c == ']') {
			s->ps = FV_STRING;
			fv_str_start(s, c == 'P');
		} else if (c == '[') {
			s->ps = FV_CSI_LEADER;
			s->nleader = 0;
			s->leader = 0;
		} else if (c >= 0x20 && c <= 0x2f) {
			if (!s->ninter)
				s->inter = c;
			if (s->ninter < 255)
				s->ninter++;
		} else if (!s->ninter && c >= 0x40 && c < 0x60) {
			chain_end(s);
			fv_control(s, c + 0x40);
		} else if (c >= 0x30 && c < 0x7f) {
			chain_end(s);
			fv_escape(s, c);
		}
		return true;
	case FV_CSI_LEADER:
		if (c >= 0x3c && c <= 0x3f) {
			if (!s->nleader)
				s->leader = c;
			if (s->nleader < 255)
				s->nleader++;
			return true;
		}
		s->argi = 0;
		s->args[0] = FV_ARG_MISSING;
		s->ps = FV_CSI_ARGS;
		/* fallthrough */
	case FV_CSI_ARGS:
		if (c >= '0' && c <= '9') {
			long *v = &s->args[s->argi], n = *v == FV_ARG_MISSING ? 0 : *v;

			if (n * 10 + (c - '0') > 99999) {
				chain_end(s); /* kt_screen cancels the sequence */
				return false;
			}
			*v = n * 10 + (c - '0');
			return true;
		}
		if (c == ':' || c == ';') {
			if (s->argi >= CSI_SEPS_MAX) {
				chain_end(s);
				return false;
			}
			if (c == ':')
				s->args[s->argi] |= FV_ARG_MORE;
			s->args[++s->argi] = FV_ARG_MISSING;
			return true;
		}
		s->ninter = 0;
		s->ps = FV_CSI_INTER;
		/* fallthrough */
	case FV_CSI_INTER:
		if (c >= 0x20 && c <= 0x2f) {
			if (!s->ninter)
				s->inter = c;
			if (s->ninter < 255)
				s->ninter++;
			return true;
		}
		chain_end(s);
		if (c >= 0x40 && c <= 0x7e)
			csi_final(s, c);
		return true; /* else an invalid CSI, dropped with its byte */
	case FV_STRING:
		fv_str_byte(s, c);
		return true;
	default:
		return true;
	}
}

/* ------------------------------------------------------------- feed */

/*
 * A whole, plain CSI right here (p is after its ESC): "[", at most one
 * leader, parameters and separators within kt_screen's guards, a final
 * byte, all in this feed.  It does what seq_byte would do byte by byte
 * (which SGR-dense output such as ls --color spent its time in) and
 * returns where it ended; NULL leaves anything else (intermediates,
 * controls inside, a cut, a guard that cancels) to seq_byte, with nothing
 * changed.
 */
static const uint8_t *csi_whole(struct fv *s, const uint8_t *p, const uint8_t *end)
{
	long args[CSI_SEPS_MAX + 1];
	uint8_t leader = 0;
	int argi = 0;

	if (p >= end || *p != '[')
		return NULL;
	p++;
	if (p < end && *p >= 0x3c && *p <= 0x3f)
		leader = *p++;
	args[0] = FV_ARG_MISSING;
	for (; p < end; p++) {
		uint8_t c = *p;

		if (c >= '0' && c <= '9') {
			long n = args[argi] == FV_ARG_MISSING ? 0 : args[argi];

			if (n * 10 + (c - '0') > 99999)
				return NULL;
			args[argi] = n * 10 + (c - '0');
		} else if (c == ';' || c == ':') {
			if (argi >= CSI_SEPS_MAX)
				return NULL;
			if (c == ':')
				args[argi] |= FV_ARG_MORE;
			args[++argi] = FV_ARG_MISSING;
		} else if (c >= 0x40 && c <= 0x7e) {
			break;
		} else {
			return NULL;
		}
	}
	if (p >= end)
		return NULL;
	assert(!s->nctl && !s->passthru);
	s->nleader = leader ? 1 : 0;
	s->leader = leader;
	s->ninter = 0;
	s->argi = argi;
	memcpy(s->args, args, (size_t)(argi + 1) * sizeof(args[0]));
	s->ps = FV_GROUND;
	csi_final(s, *p);
	return p + 1;
}

/*
 * The end of a run of printable ASCII (0x20-0x7e) starting at p: where the
 * time goes on plain output, so 16 bytes at a time where SSE2 is there
 * (every x86-64).  Bytes XOR 0x80 are signed: printable ones fall in
 * -96..-2, everything else (controls, DEL, >= 0x80) outside.
 */
static inline const uint8_t *ascii_span(const uint8_t *p, const uint8_t *end)
{
#ifdef __SSE2__
	const __m128i flip = _mm_set1_epi8((char)0x80), lo = _mm_set1_epi8(-96),
		      hi = _mm_set1_epi8(-2);

	while (end - p >= 16) {
		__m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), flip);
		unsigned bad = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpgt_epi8(v, hi), _mm_cmplt_epi8(v, lo)));

		if (bad)
			return p + __builtin_ctz(bad);
		p += 16;
	}
#endif
	while (p < end && *p >= 0x20 && *p < 0x7f)
		p++;
	return p;
}

int fv_feed(struct fv *s, const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len;
	bool held;

	if (!s || (!buf && len))
		return -EINVAL;
	if (s->broken)
		return s->broken;
	s->cb_err = 0;
	held = s->utf_need != 0;
	if (s->ps == FV_STRING || s->ps == FV_ESC_IN_STRING)
		fv_str_feed(s); /* kt_screen may write what came before apart */
	while (p < end) {
		uint8_t c = *p;

		if (s->ps != FV_GROUND) {
			if (s->hold_len < sizeof(s->hold))
				s->hold[s->hold_len++] = c;
			if (seq_byte(s, c))
				p++;
			continue;
		}
		if (s->utf_need) {
			if ((c & 0xc0) == 0x80) {
				s->utf_buf[s->utf_have++] = c;
				p++;
				if (s->utf_have == s->utf_need) {
					run_begin(s, true);
					utf8_done(s);
					if (held) /* kt_screen writes a held one alone */
						run_end(s);
					held = false;
				}
			} else {
				utf8_cut(s);
				held = false;
			}
			continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			const uint8_t *q = ascii_span(p + 1, end);

			/* kt_screen ends its write after UTF-8 when a DEC graphics
			 * or UK set is designated, so the ASCII is translated */
			if (s->run_row >= 0 && s->run_dec == DEC_UTF8 && s->last_high && table_cs(s))
				run_end(s);
			run_begin(s, false);
			s->last_high = false;
			if (!s->insert && !s->gsingle && s->cs[s->gl] != '0' && s->cs[s->gl] != 'A') {
				fv_put_ascii(s, p, (size_t)(q - p));
				p = q;
			} else {
				while (p < q) {
					run_begin(s, false);
					ascii_cp(s, *p++);
				}
			}
			continue;
		}
		if (c >= 0x80) {
			/* a designated set's decoder stops at a byte >= 0x80 */
			if (s->run_row >= 0 && s->run_dec == DEC_SET)
				run_end(s);
			run_begin(s, true);
			s->last_high = true;
			p++;
			if (c >= 0xc0 && c < 0xfe) {
				s->utf_need = (uint8_t)utf8_need(c);
				s->utf_have = 1;
				s->utf_buf[0] = c;
			} else {
				high_char(s, &c, 1, 0xfffd); /* lone continuation, 0xfe, 0xff */
			}
			continue;
		}
		run_end(s);
		p++;
		if (c == 0x0d) {
			/* CR and LF inline (every line of output): fv_control's
			 * rules, without the dispatch; a CR where the cursor
			 * already is keeps the pending wrap, as there */
			if (s->col) {
				s->col = 0;
				s->phantom = false;
				fv_moved(s);
			}
		} else if (c == 0x0a) {
			int orow = s->row, ocol = s->col;

			fv_linefeed(s);
			if (s->newline)
				s->col = 0;
			if (s->row != orow || s->col != ocol) {
				s->phantom = false;
				fv_moved(s);
			}
		} else if (c == 0x1b) {
			const uint8_t *q = csi_whole(s, p, end);

			if (q) {
				p = q;
				continue;
			}
			s->ninter = 0;
			s->ps = FV_ESC;
			s->chain_len = 1;
			s->hold[0] = c;
			s->hold_len = 1;
		} else if (c != 0x00 && c != 0x7f && c != 0x18 && c != 0x1a) {
			fv_control(s, c);
		}
	}
	/* the write ends (an unfinished UTF-8 character waits for the next) */
	run_end(s);
	/* every CSI, wrap and resize clamps; ESC 8 has kt_screen's guard */
	assert(s->row >= 0 && s->row < s->rows && s->col >= 0 && s->col < s->cols);
	if (s->ps != FV_GROUND && s->chain_len > 4096 && !s->passthru) {
		s->passthru = true; /* too long for kt_screen to hold back */
		ctl_flush(s);
	}
	if (s->ps == FV_STRING || s->ps == FV_ESC_IN_STRING)
		fv_str_feed_end(s);
	return s->cb_err;
}
