// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt's OSC/DCS strings and the window title (OSC 0 and 2), as kt_screen
 * ends up with them: what libvterm 0.1.4's parser (parser.c) hands on_osc
 * depends on where its writes begin and end, and those are kt_screen's
 * feed layer's (store/term/screen_feed.c).
 *
 * libvterm 0.1.4 keeps a string's bytes only within one vterm_input_write:
 *   - a C0 control (other than BEL, ESC, CAN, SUB), NUL or DEL inside it
 *     appends the bytes since the string's start or the last such control
 *     (a "piece") to a 64-byte strbuffer, cut where it is full;
 *   - the end of a write drops the piece in progress (nothing is saved);
 *   - the terminator (BEL, ESC \) hands on_osc the strbuffer with the last
 *     piece appended (64 bytes at most) when the strbuffer holds anything,
 *     else the last piece alone, whole;
 *   - on_osc takes "0;" and "2;" strings as the title (state.c
 *     settermprop_string); kt_screen keeps 255 bytes of it, cut on a UTF-8
 *     character boundary (screen_vterm.c).  The 64-byte cut is a byte cut.
 *
 * kt_screen's writes around a string that spans feeds: it holds the
 * unfinished sequence back (up to HOLD_MAX, 4096 bytes, from its ESC) and,
 * in the feed where it ends, writes the hold as one write and that feed's
 * part as another.  So the feeds before the last one form one write, and
 * the only boundary inside the string is at the last feed's start, which
 * is not known until the string ends.  Both outcomes are kept while a feed
 * runs: str/sb as if the feed continued the write before (it is held
 * again), sby and str from `cut` as if the feed were a write of its own
 * (the string ends in it, or it makes the hold too long).  A sequence that
 * outgrew the hold (passthru) is written feed by feed: each feed is a write.
 * An ESC ending a write waits for the next byte (vt_write), which changes
 * nothing here: the piece before it is lost either way.
 *
 * Not followed: kt_screen also cuts a write longer than 4 KiB into 4 KiB
 * writes (VT_SLICE) at offsets from wherever its last write ended, which
 * only a string in a feed over 4 KiB can meet (fastvt.h's divergences).
 */
#include <string.h>

#include "fv_int.h"

/* libvterm's append_strbuffer: what fits in the 64 bytes */
static void sb_add(char *sb, size_t *nsb, const char *p, size_t n)
{
	if (n > FV_STRBUF - *nsb)
		n = FV_STRBUF - *nsb;
	memcpy(sb + *nsb, p, n);
	*nsb += n;
}

void fv_str_start(struct fv *s, bool dcs)
{
	s->dcs = dcs;
	s->nstr = 0;
	s->cut = 0;
	s->nsb = 0;
	s->nsby = 0;
}

/* One byte of the string.  Only a piece's first FV_PIECE bytes can reach
 * the title; this feed's bytes are kept apart from the held ones. */
void fv_str_byte(struct fv *s, uint8_t c)
{
	if (s->nstr - s->cut < FV_PIECE)
		s->str[s->nstr++] = (char)c;
}

/* A control, NUL or DEL inside the string: the piece goes to strbuffer. */
void fv_str_piece(struct fv *s)
{
	sb_add(s->sb, &s->nsb, s->str, s->nstr);
	sb_add(s->sby, &s->nsby, s->str + s->cut, s->nstr - s->cut);
	s->nstr = 0;
	s->cut = 0;
}

/* A feed begins inside a string. */
void fv_str_feed(struct fv *s)
{
	if (s->passthru)
		s->nstr = 0; /* the last feed was a write: its piece is gone */
	else if (s->nstr > FV_PIECE)
		s->nstr = FV_PIECE;
	s->cut = s->nstr;
	memcpy(s->sby, s->sb, s->nsb);
	s->nsby = s->nsb;
}

/*
 * A feed ends inside a string, passthru already decided.  Held again: it
 * continues the held write (str, sb stand).  Passthru: kt_screen wrote the
 * hold and this feed apart, and the piece in progress is lost.
 */
void fv_str_feed_end(struct fv *s)
{
	if (!s->passthru)
		return;
	memcpy(s->sb, s->sby, s->nsby);
	s->nsb = s->nsby;
	s->nstr = 0;
	s->cut = 0;
}

/* The terminator: always in the feed's own write (see the top). */
void fv_str_done(struct fv *s)
{
	const char *p = s->str + s->cut;
	size_t len = s->nstr - s->cut, n;

	if (s->nsby) {
		sb_add(s->sby, &s->nsby, p, len);
		p = s->sby;
		len = s->nsby;
	}
	/* OSC 0 and 2 set the title: kt_screen keeps 255 bytes, cut on a
	 * UTF-8 character boundary */
	if (s->dcs || len < 2 || (p[0] != '0' && p[0] != '2') || p[1] != ';')
		return;
	n = len - 2;
	if (n >= sizeof(s->title))
		n = sizeof(s->title) - 1;
	while (n && n < len - 2 && ((uint8_t)p[2 + n] & 0xc0) == 0x80)
		n--;
	memcpy(s->title, p + 2, n);
	s->title_len = n;
}
