// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen, the terminal screen model: printing, wrapping, line editing,
 * erasing, cursor movement, colours, scroll regions, the alternate screen,
 * resize, wide characters, lines leaving the screen, and the feed layer's
 * defences against libvterm 0.1.4's crashes and hangs on hostile output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "screen.h"

static struct kt_screen *scr(int rows, int cols, const char *feed)
{
	struct kt_screen *s = NULL;

	if (kt_screen_new(rows, cols, &s))
		return NULL;
	if (feed)
		kt_screen_feed(s, feed, strlen(feed));
	return s;
}

static void F(struct kt_screen *s, const char *text)
{
	kt_screen_feed(s, text, strlen(text));
}

static const char *row(struct kt_screen *s, int r)
{
	static char buf[4096];

	kt_screen_row_text(s, r, buf, sizeof(buf));
	return buf;
}

struct lines {
	char text[64][256];
	int64_t ts[64];
	int n;
};

static int collect(const char *text, size_t len, int64_t ts, void *ctx)
{
	struct lines *l = ctx;

	if (l->n < 64) {
		snprintf(l->text[l->n], sizeof(l->text[0]), "%.*s", (int)len, text);
		l->ts[l->n] = ts;
		l->n++;
	}
	return 0;
}

static void t_print_crlf(void)
{
	struct kt_screen *s = scr(5, 20, "hello\r\nworld");
	int r, c;
	bool vis;

	CHECK_EQ_STR(row(s, 0), "hello");
	CHECK_EQ_STR(row(s, 1), "world");
	kt_screen_cursor(s, &r, &c, &vis);
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(c, 5);
	CHECK(vis);
	/* LF alone keeps the column */
	F(s, "\nX");
	CHECK_EQ_STR(row(s, 2), "     X");
	kt_screen_free(s);
}

static void t_backspace_editing(void)
{
	struct kt_screen *s = scr(3, 20, "$ sdo\b\budo ls");
	char *text = NULL;
	size_t len;

	CHECK_EQ_STR(row(s, 0), "$ sudo ls");
	CHECK_EQ_INT(kt_screen_text(s, &text, &len), 0);
	CHECK_EQ_STR(text, "$ sudo ls");
	CHECK_EQ_INT(len, 9);
	free(text);
	/* readline-style: back, erase to end of line, retype */
	F(s, "\b\b\x1b[Kcat");
	CHECK_EQ_STR(row(s, 0), "$ sudo cat");
	kt_screen_free(s);
}

static void t_autowrap(void)
{
	struct kt_screen *s = scr(3, 10, "0123456789AB");
	int r, c;

	CHECK_EQ_STR(row(s, 0), "0123456789");
	CHECK_EQ_STR(row(s, 1), "AB");
	/* pending wrap: the 10th column keeps the cursor until the next glyph */
	F(s, "\r\n0123456789");
	kt_screen_cursor(s, &r, &c, NULL);
	CHECK_EQ_INT(r, 2);
	CHECK_EQ_INT(c, 9);
	kt_screen_free(s);
	/* no autowrap: the last column is overwritten */
	s = scr(3, 10, "\x1b[?7l0123456789AB");
	CHECK_EQ_STR(row(s, 0), "012345678B");
	kt_screen_free(s);
}

static void t_erase(void)
{
	struct kt_screen *s = scr(4, 10, "aaaa\r\nbbbb\r\ncccc\x1b[2;3H");

	F(s, "\x1b[K");      /* EL 0 */
	CHECK_EQ_STR(row(s, 1), "bb");
	F(s, "\x1b[1K");     /* EL 1 (through the cursor) */
	CHECK_EQ_STR(row(s, 1), "");
	F(s, "\x1b[J");      /* ED 0 */
	CHECK_EQ_STR(row(s, 0), "aaaa");
	CHECK_EQ_STR(row(s, 2), "");
	F(s, "\x1b[H\x1b[2J");
	CHECK_EQ_STR(row(s, 0), "");
	/* ECH: erase characters, cursor stays */
	F(s, "abcdef\x1b[1;2H\x1b[2X");
	CHECK_EQ_STR(row(s, 0), "a  def");
	kt_screen_free(s);
}

static void t_cursor_moves(void)
{
	struct kt_screen *s = scr(5, 20, "\x1b[3;5HX\x1b[AY\x1b[2DZ\x1b[2BW\x1b[1GV");

	CHECK_EQ_STR(row(s, 1), "    ZY");  /* CUU, then CUB 2 from col 6 */
	CHECK_EQ_STR(row(s, 2), "    X");
	CHECK_EQ_STR(row(s, 3), "V    W");
	/* CUP past the edges clamps */
	F(s, "\x1b[99;99H!");
	CHECK_EQ_STR(row(s, 4), "                   !");
	kt_screen_free(s);
}

static void t_sgr_colours(void)
{
	struct kt_screen *s = scr(2, 40, "\x1b[1;4;31mR\x1b[0m\x1b[38;5;200mI\x1b[48;2;1;2;3mG\x1b[7;3mV\x1b[0mn");
	const struct kt_cell *c;

	c = kt_screen_cell(s, 0, 0);
	CHECK(c->pen.attrs & KT_ATTR_BOLD);
	CHECK_EQ_INT(c->pen.underline, 1);
	CHECK_EQ_INT(c->pen.fg.type, KT_COLOR_INDEXED);
	CHECK_EQ_INT(c->pen.fg.r, 1);
	c = kt_screen_cell(s, 0, 1);
	CHECK_EQ_INT(c->pen.attrs, 0);
	CHECK_EQ_INT(c->pen.fg.r, 200);
	c = kt_screen_cell(s, 0, 2);
	CHECK_EQ_INT(c->pen.bg.type, KT_COLOR_RGB);
	CHECK_EQ_INT(c->pen.bg.b, 3);
	c = kt_screen_cell(s, 0, 3);
	CHECK(c->pen.attrs & KT_ATTR_REVERSE);
	CHECK(c->pen.attrs & KT_ATTR_ITALIC);
	c = kt_screen_cell(s, 0, 4);
	CHECK_EQ_INT(c->pen.fg.type, KT_COLOR_DEFAULT);
	CHECK_EQ_INT(c->pen.bg.type, KT_COLOR_DEFAULT);
	CHECK_EQ_STR(row(s, 0), "RIGVn");
	/* colour codes never reach the text */
	kt_screen_free(s);
}

static void t_scroll_region(void)
{
	struct lines l = { 0 };
	struct kt_screen *s = scr(5, 10, "top\r\n1\r\n2\r\n3\r\nbottom");

	kt_screen_set_line_cb(s, collect, &l);
	/* region rows 2-4: scrolling inside it loses row "1", not "top" */
	F(s, "\x1b[2;4r\x1b[4;1H\nnew");
	CHECK_EQ_STR(row(s, 0), "top");
	CHECK_EQ_STR(row(s, 1), "2");
	CHECK_EQ_STR(row(s, 2), "3");
	CHECK_EQ_STR(row(s, 3), "new");
	CHECK_EQ_STR(row(s, 4), "bottom");
	CHECK_EQ_INT(l.n, 0); /* not the top of the screen: nothing leaves */
	/* reverse index at the region's top scrolls down */
	F(s, "\x1b[2;1H\x1bM");
	CHECK_EQ_STR(row(s, 1), "");
	CHECK_EQ_STR(row(s, 2), "2");
	kt_screen_free(s);
}

static void t_scrolled_lines(void)
{
	struct lines l = { 0 };
	struct kt_screen *s = scr(3, 10, NULL);

	kt_screen_set_line_cb(s, collect, &l);
	kt_screen_set_time(s, 100);
	F(s, "one\r\n");
	kt_screen_set_time(s, 200);
	F(s, "\x1b[32mtw\x1b[0mo\r\nthree\r\n");
	kt_screen_set_time(s, 300);
	F(s, "four\r\n");
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.text[0], "one");
	CHECK_EQ_INT(l.ts[0], 100);
	CHECK_EQ_STR(l.text[1], "two");
	CHECK_EQ_INT(l.ts[1], 200);
	/* a wrapped line leaves as one line */
	F(s, "0123456789abcdef\r\n\r\n\r\n\r\n");
	CHECK_EQ_STR(l.text[l.n - 1], "0123456789abcdef");
	/* clear: what was on the screen leaves too */
	l.n = 0;
	F(s, "secret\r\nstuff\x1b[H\x1b[2J");
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.text[0], "secret");
	CHECK_EQ_STR(l.text[1], "stuff");
	/* EL on one row (a progress bar) does not */
	l.n = 0;
	F(s, "10%\r\x1b[K20%\r\x1b[2K30%");
	CHECK_EQ_INT(l.n, 0);
	kt_screen_free(s);
}

static void t_altscreen(void)
{
	struct lines l = { 0 };
	struct kt_screen *s = scr(4, 20, "$ vim f\r\n");

	kt_screen_set_line_cb(s, collect, &l);
	F(s, "\x1b[?1049h\x1b[H\x1b[2Jline1\r\n~\r\n~\r\n\x1b[7m\"f\" 1L\x1b[0m");
	CHECK(kt_screen_altscreen(s));
	CHECK_EQ_STR(row(s, 0), "line1");
	CHECK_EQ_STR(row(s, 3), "\"f\" 1L");
	/* scrolling the alt screen emits nothing */
	F(s, "\x1b[4;1H\n\n\n\n");
	CHECK_EQ_INT(l.n, 0);
	F(s, "\x1b[?1049l");
	CHECK(!kt_screen_altscreen(s));
	CHECK_EQ_STR(row(s, 0), "$ vim f");
	{
		int r, c;

		kt_screen_cursor(s, &r, &c, NULL);
		CHECK_EQ_INT(r, 1);
		CHECK_EQ_INT(c, 0);
	}
	kt_screen_free(s);
}

static void t_resize(void)
{
	struct lines l = { 0 };
	struct kt_screen *s = scr(4, 10, "a\r\nb\r\nc\r\nd");
	int r, c;

	kt_screen_set_line_cb(s, collect, &l);
	/* shrinking with the cursor on the bottom row pushes rows off the top */
	CHECK_EQ_INT(kt_screen_resize(s, 2, 5), 0);
	CHECK_EQ_STR(row(s, 0), "c");
	CHECK_EQ_STR(row(s, 1), "d");
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.text[0], "a");
	kt_screen_cursor(s, &r, &c, NULL);
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(c, 1);
	CHECK_EQ_INT(kt_screen_resize(s, 6, 30), 0);
	CHECK_EQ_STR(row(s, 0), "c");
	F(s, "\x1b[6;25Hend");
	CHECK_EQ_STR(row(s, 5), "                        end");
	/* any size is accepted, by screen.h's one rule */
	CHECK_EQ_INT(kt_screen_resize(s, 0, 5), 0);
	kt_screen_size(s, &r, &c);
	CHECK_EQ_INT(r, KT_SCREEN_DEFAULT_ROWS);
	CHECK_EQ_INT(c, 5);
	CHECK_EQ_INT(kt_screen_resize(s, 5, 1001), 0);
	kt_screen_size(s, &r, &c);
	CHECK_EQ_INT(r, 5);
	CHECK_EQ_INT(c, KT_SCREEN_MAX_DIM);
	kt_screen_free(s);
}

/* The size rule: 0 is "not set", the rest is clamped (screen.h). */
static void t_size_norm(void)
{
	static const struct { long r, c; int er, ec; } t[] = {
		{ 0, 0, 24, 80 }, { -5, -1, 24, 80 }, { 1, 1, 1, 2 }, { 1, 2, 1, 2 },
		{ 1000, 1000, 1000, 1000 }, { 1001, 2000, 1000, 1000 },
		{ 65535, 65535, 1000, 1000 }, { 40, 0, 40, 80 }, { 0, 132, 24, 132 },
	};
	struct kt_screen *s;
	int r, c;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		kt_screen_size_norm(t[i].r, t[i].c, &r, &c);
		CHECK_EQ_INT(r, t[i].er);
		CHECK_EQ_INT(c, t[i].ec);
		/* and every entry point applies it */
		s = NULL;
		CHECK_EQ_INT(kt_screen_new((int)t[i].r, (int)t[i].c, &s), 0);
		if (!s)
			continue;
		kt_screen_size(s, &r, &c);
		CHECK_EQ_INT(r, t[i].er);
		CHECK_EQ_INT(c, t[i].ec);
		F(s, "hello\r\nworld\x1b[2;1H\x1b#6wide");
		CHECK_EQ_INT(kt_screen_resize(s, 3, 1), 0);
		kt_screen_size(s, &r, &c);
		CHECK_EQ_INT(r, 3);
		CHECK_EQ_INT(c, KT_SCREEN_MIN_COLS);
		kt_screen_free(s);
	}
}

/*
 * Shrinking with the cursor above the text's end (300x1000 -> 19x1000 with
 * the cursor homed, issue 10): rows above the cursor are not enough to
 * lose, so rows below it go at the bottom; the cursor stays on its row
 * (it went to -18 and below before) and every non-blank row lost is a line.
 */
static void t_resize_cursor_above(void)
{
	struct lines l = { 0 };
	struct kt_screen *s;
	char buf[64];
	int r, c;

	CHECK_EQ_INT(kt_screen_new(300, 1000, &s), 0);
	if (!s)
		return;
	kt_screen_set_line_cb(s, collect, &l);
	for (int i = 0; i < 40; i++) {
		int n = snprintf(buf, sizeof(buf), "line %d\r\n", i);

		kt_screen_feed(s, buf, n);
	}
	F(s, "\x1b[3;1H");
	CHECK_EQ_INT(kt_screen_resize(s, 19, 1000), 0);
	kt_screen_cursor(s, &r, &c, NULL);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(c, 0);
	CHECK_EQ_STR(row(s, 0), "line 2");
	CHECK_EQ_STR(row(s, 18), "line 20");
	/* 2 pushed off the top, 19 (line 21..39) cut at the bottom */
	CHECK_EQ_INT(l.n, 40 - 19);
	CHECK_EQ_STR(l.text[0], "line 0");
	CHECK_EQ_STR(l.text[2], "line 21");
	kt_screen_free(s);
}

static void t_wide_chars(void)
{
	/* 日本 = two wide glyphs */
	struct kt_screen *s = scr(2, 10, "a\xe6\x97\xa5\xe6\x9c\xac" "b");
	const struct kt_cell *c;
	int r, col;

	CHECK_EQ_STR(row(s, 0), "a\xe6\x97\xa5\xe6\x9c\xac" "b");
	c = kt_screen_cell(s, 0, 1);
	CHECK_EQ_INT(c->width, 2);
	CHECK_EQ_INT(kt_screen_cell(s, 0, 2)->width, 0);
	kt_screen_cursor(s, &r, &col, NULL);
	CHECK_EQ_INT(col, 6);
	/* overwriting the right half of a wide glyph erases its left half */
	F(s, "\x1b[1;3Hx");
	CHECK_EQ_STR(row(s, 0), "a x\xe6\x9c\xac" "b");
	/* combining mark joins the cell before it */
	F(s, "\r\ne\xcc\x81!");
	c = kt_screen_cell(s, 1, 0);
	CHECK_EQ_INT(c->ch[0], 'e');
	CHECK_EQ_INT(c->ch[1], 0x301);
	CHECK_EQ_STR(row(s, 1), "e\xcc\x81!");
	/* a wide glyph that does not fit in the last column wraps */
	F(s, "\x1b[1;10H\xe6\x97\xa5");
	CHECK_EQ_STR(row(s, 1), "\xe6\x97\xa5");
	kt_screen_free(s);
}

static void t_split_feeds(void)
{
	static const char all[] = "\x1b[31mred\x1b[0m \xe2\x82\xac and \x1b]2;title\x07 done\r\n";
	struct kt_screen *a = scr(3, 30, all), *b = scr(3, 30, NULL);
	char why[256];

	/* one byte at a time: held-back sequences and characters */
	for (size_t i = 0; i < sizeof(all) - 1; i++)
		kt_screen_feed(b, all + i, 1);
	CHECK_EQ_INT(kt_screen_compare(a, b, why, sizeof(why)), 0);
	CHECK_EQ_STR(row(b, 0), "red \xe2\x82\xac and  done");
	kt_screen_free(a);
	kt_screen_free(b);
}

/* libvterm 0.1.4: a CSI with > 16 parameters overflows csi_args[] (segfault) */
static void t_hostile_csi_params(void)
{
	char buf[600] = "\x1b[";
	struct kt_screen *s;

	for (int i = 0; i < 200; i++)
		strcat(buf, "1;");
	strcat(buf, "mok");
	s = scr(3, 20, buf);
	CHECK(s != NULL);
	CHECK(strstr(row(s, 2), "mok") != NULL); /* cancelled: the rest is text */
	/* the same split across feeds */
	F(s, "\x1b[2J\x1b[H\x1b[");
	for (int i = 0; i < 100; i++)
		F(s, ";");
	F(s, "mfine");
	CHECK(strstr(row(s, 2), "fine") != NULL);
	kt_screen_free(s);
}

/* libvterm 0.1.4: REP with nothing to repeat loops forever */
static void t_hostile_rep(void)
{
	struct kt_screen *s = scr(3, 20, "\x1b[5b" "\xe1\x85\xa0\x1b[9b" "ab\x1b[3b");

	CHECK(s != NULL);
	CHECK(strstr(row(s, 0), "abbbb") != NULL); /* REP after a real glyph works */
	kt_screen_free(s);
}

/* UTF-8 encoded C1 controls have width -1 in libvterm 0.1.4 */
static void t_hostile_c1(void)
{
	struct kt_screen *s = scr(3, 20, "\xc2\x85\xc2\x9b\x1bH\xc2\x1b[m\x80x\xc2");
	int r, c;

	CHECK(s != NULL);
	F(s, "\x90y");
	kt_screen_cursor(s, &r, &c, NULL);
	CHECK(c >= 0 && r >= 0);
	kt_screen_free(s);
}

static void t_bad_args(void)
{
	struct kt_screen *s = NULL;

	CHECK_EQ_INT(kt_screen_new(24, 80, NULL), -EINVAL);
	CHECK_EQ_INT(kt_screen_resize(NULL, 24, 80), -EINVAL);
	CHECK_EQ_INT(kt_screen_feed(NULL, "x", 1), -EINVAL);
	s = scr(2, 2, NULL);
	CHECK_EQ_INT(kt_screen_row_text(s, 2, NULL, 0), -EINVAL);
	CHECK(kt_screen_cell(s, 0, 2) == NULL);
	kt_screen_free(s);
	kt_screen_free(NULL);
}

static void t_visible_lines(void)
{
	struct lines l = { 0 };
	struct kt_screen *s = scr(3, 5, "abcdefgh\r\n\r\nlast");

	kt_screen_visible_lines(s, collect, &l);
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_STR(l.text[0], "abcdefgh");
	CHECK_EQ_STR(l.text[1], "last");
	kt_screen_free(s);
}

int main(void)
{
	RUN(t_print_crlf);
	RUN(t_backspace_editing);
	RUN(t_autowrap);
	RUN(t_erase);
	RUN(t_cursor_moves);
	RUN(t_sgr_colours);
	RUN(t_scroll_region);
	RUN(t_scrolled_lines);
	RUN(t_altscreen);
	RUN(t_resize);
	RUN(t_size_norm);
	RUN(t_resize_cursor_above);
	RUN(t_wide_chars);
	RUN(t_split_feeds);
	RUN(t_hostile_csi_params);
	RUN(t_hostile_rep);
	RUN(t_hostile_c1);
	RUN(t_bad_args);
	RUN(t_visible_lines);
	return kt_test_done();
}
