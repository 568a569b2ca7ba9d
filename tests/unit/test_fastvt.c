// SPDX-License-Identifier: Apache-2.0
/*
 * fastvt (store/term/fastvt.h), the fast screen model for the indexer:
 * what the index needs from a screen (colours, cursor movement, backspace
 * editing, the alternate screen, wide characters, scroll regions, lines
 * leaving the screen, resize) checked against expected values, and every
 * case also against kt_screen (libvterm) cell by cell; then seeded random
 * escape-sequence soup with resizes, fastvt against kt_screen.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "screen.h"
#include "term/fastvt.h"
#include "term/fv_int.h"

struct lines {
	char *p;
	size_t len, cap;
	int n;
};

static int collect(const char *text, size_t len, int64_t ts, void *ctx)
{
	struct lines *l = ctx;
	char hdr[32];
	int h = snprintf(hdr, sizeof(hdr), "[%lld]", (long long)ts);

	if (l->len + len + (size_t)h + 2 > l->cap) {
		l->cap = (l->len + len + (size_t)h + 2) * 2;
		l->p = realloc(l->p, l->cap);
	}
	memcpy(l->p + l->len, hdr, (size_t)h);
	l->len += (size_t)h;
	memcpy(l->p + l->len, text, len);
	l->len += len;
	l->p[l->len++] = '\n';
	l->p[l->len] = 0;
	l->n++;
	return 0;
}

/* kt_screen and fastvt side by side */
struct pair {
	struct kt_screen *ref;
	struct fv *fv;
	struct lines lref, lfv;
};

static void pair_new(struct pair *p, int rows, int cols)
{
	memset(p, 0, sizeof(*p));
	if (kt_screen_new(rows, cols, &p->ref) || fv_new(rows, cols, &p->fv)) {
		printf("FAIL fastvt: cannot create screens\n");
		exit(1);
	}
	kt_screen_set_line_cb(p->ref, collect, &p->lref);
	fv_set_line_cb(p->fv, collect, &p->lfv);
}

static void pair_free(struct pair *p)
{
	kt_screen_free(p->ref);
	fv_free(p->fv);
	free(p->lref.p);
	free(p->lfv.p);
}

static void feed_n(struct pair *p, const void *b, size_t n)
{
	kt_screen_feed(p->ref, b, n);
	fv_feed(p->fv, b, n);
}

static void feed(struct pair *p, const char *s)
{
	feed_n(p, s, strlen(s));
}

static void set_time(struct pair *p, int64_t t)
{
	kt_screen_set_time(p->ref, t);
	fv_set_time(p->fv, t);
}

static bool pen_eq(const struct kt_pen *a, const struct kt_pen *b)
{
	return a->attrs == b->attrs && a->underline == b->underline && a->font == b->font &&
	       !memcmp(&a->fg, &b->fg, sizeof(a->fg)) && !memcmp(&a->bg, &b->bg, sizeof(a->bg));
}

/* "" when both agree, else the first difference. */
static const char *diff(struct pair *p)
{
	static char why[256];
	int r1, c1, r2, c2;
	bool v1, v2;

	kt_screen_size(p->ref, &r1, &c1);
	fv_size(p->fv, &r2, &c2);
	if (r1 != r2 || c1 != c2)
		return snprintf(why, sizeof(why), "size %dx%d vs %dx%d", r1, c1, r2, c2), why;
	if (p->lref.len != p->lfv.len || (p->lref.len && memcmp(p->lref.p, p->lfv.p, p->lref.len))) {
		size_t i = 0;

		while (i < p->lref.len && i < p->lfv.len && p->lref.p[i] == p->lfv.p[i])
			i++;
		for (int back = 0; i && p->lref.p[i - 1] != '\n' && back < 40; back++)
			i--;
		return snprintf(why, sizeof(why), "lines: kt_screen \"%.100s\" fastvt \"%.100s\"",
				i < p->lref.len ? p->lref.p + i : "", i < p->lfv.len ? p->lfv.p + i : ""), why;
	}
	if (kt_screen_altscreen(p->ref) != fv_altscreen(p->fv))
		return "alternate screen flag";
	kt_screen_cursor(p->ref, &r1, &c1, &v1);
	fv_cursor(p->fv, &r2, &c2, &v2);
	if (r1 != r2 || c1 != c2 || v1 != v2)
		return snprintf(why, sizeof(why), "cursor %d,%d,%d vs %d,%d,%d", r1, c1, v1, r2, c2, v2), why;
	kt_screen_size(p->ref, &r1, &c1);
	for (int i = 0; i < r1; i++)
		for (int k = 0; k < c1; k++) {
			const struct kt_cell *x = kt_screen_cell(p->ref, i, k);
			const struct kt_cell *y = fv_cell(p->fv, i, k);

			if (memcmp(x->ch, y->ch, sizeof(x->ch)) || x->width != y->width ||
			    !pen_eq(&x->pen, &y->pen))
				return snprintf(why, sizeof(why), "cell %d,%d: U+%04X w%d a%02x vs U+%04X w%d a%02x",
						i, k, x->ch[0], x->width, x->pen.attrs, y->ch[0], y->width,
						y->pen.attrs), why;
		}
	return "";
}

static const char *row(struct pair *p, int r)
{
	static char buf[4096];

	fv_row_text(p->fv, r, buf, sizeof(buf));
	return buf;
}

static void t_colours(void)
{
	struct pair p;
	const struct kt_cell *c;

	pair_new(&p, 5, 40);
	feed(&p, "\x1b[1;31mred\x1b[0m \x1b[38;5;200mx\x1b[48;2;1;2;3my\x1b[7;4:3;9mz\x1b[m "
		 "\x1b[95;104mb\x1b[22;39mn");
	CHECK_EQ_STR(row(&p, 0), "red xyz bn");
	c = fv_cell(p.fv, 0, 0);
	CHECK(c->pen.attrs == KT_ATTR_BOLD && c->pen.fg.type == KT_COLOR_INDEXED && c->pen.fg.r == 1);
	c = fv_cell(p.fv, 0, 3);
	CHECK(c->pen.attrs == 0 && c->pen.fg.type == KT_COLOR_DEFAULT);
	c = fv_cell(p.fv, 0, 4);
	CHECK(c->pen.fg.type == KT_COLOR_INDEXED && c->pen.fg.r == 200);
	c = fv_cell(p.fv, 0, 5);
	CHECK(c->pen.bg.type == KT_COLOR_RGB && c->pen.bg.r == 1 && c->pen.bg.g == 2 && c->pen.bg.b == 3);
	c = fv_cell(p.fv, 0, 6);
	CHECK(c->pen.attrs == (KT_ATTR_REVERSE | KT_ATTR_STRIKE) && c->pen.underline == 3);
	c = fv_cell(p.fv, 0, 8);
	CHECK(c->pen.fg.r == 13 && c->pen.bg.r == 12);
	c = fv_cell(p.fv, 0, 9);
	CHECK(c->pen.fg.type == KT_COLOR_DEFAULT && c->pen.bg.r == 12);
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_cursor_movement(void)
{
	struct pair p;
	int r, c;

	pair_new(&p, 6, 20);
	feed(&p, "abc\x1b[2;5Hxy\x1b[1;2Hz\x1b[3B\x1b[2Cq\x1b[A\x1b[Dw\x1b[6;20H\x1b[5C!\x1b[1G\x1b[dT");
	CHECK_EQ_STR(row(&p, 0), "Tzc");
	CHECK_EQ_STR(row(&p, 1), "    xy");
	CHECK_EQ_STR(row(&p, 2), "    w");
	CHECK_EQ_STR(row(&p, 3), "    q");
	CHECK_EQ_STR(row(&p, 5), "                   !");
	fv_cursor(p.fv, &r, &c, NULL);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(c, 1);
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_backspace_editing(void)
{
	struct pair p;

	pair_new(&p, 4, 30);
	/* readline: rubout, kill to end of line, delete and insert chars */
	feed(&p, "$ hello wrold\b\b\b\b\x1b[Korld\r\n$ abcdef\b\b\b\x1b[2P\r\n$ ac\b\x1b[@b");
	CHECK_EQ_STR(row(&p, 0), "$ hello world");
	CHECK_EQ_STR(row(&p, 1), "$ abcf");
	CHECK_EQ_STR(row(&p, 2), "$ abc");
	feed(&p, "\r\n$ xz\b\x1b[4hy\x1b[4l");
	CHECK_EQ_STR(row(&p, 3), "$ xyz");
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_alternate_screen(void)
{
	struct pair p;
	int r, c;

	pair_new(&p, 5, 20);
	set_time(&p, 7);
	feed(&p, "main 1\r\nmain 2\x1b[?1049h\x1b[H\x1b[2Jeditor\r\n\x1b[7mstatus\x1b[m");
	CHECK(fv_altscreen(p.fv));
	CHECK_EQ_STR(row(&p, 0), "editor");
	CHECK_EQ_STR(diff(&p), "");
	feed(&p, "\x1b[?1049l");
	CHECK(!fv_altscreen(p.fv));
	CHECK_EQ_STR(row(&p, 0), "main 1");
	CHECK_EQ_STR(row(&p, 1), "main 2");
	fv_cursor(p.fv, &r, &c, NULL);
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(c, 6);
	CHECK_EQ_INT(p.lfv.n, 0); /* the alternate screen never emits */
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_wide_characters(void)
{
	struct pair p;

	pair_new(&p, 3, 10);
	feed(&p, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" "ab"); /* 日本語ab */
	CHECK_EQ_STR(row(&p, 0), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" "ab");
	CHECK_EQ_INT(fv_cell(p.fv, 0, 0)->width, 2);
	CHECK_EQ_INT(fv_cell(p.fv, 0, 1)->width, 0);
	/* a wide glyph that does not fit in the last column wraps */
	feed(&p, "cd\xe6\x97\xa5");
	CHECK_EQ_STR(row(&p, 1), "\xe6\x97\xa5");
	/* overwriting half of one erases the other half; e + combining acute */
	feed(&p, "\x1b[1;2HX\x1b[3;1He\xcc\x81!");
	CHECK_EQ_STR(row(&p, 0), " X\xe6\x9c\xac\xe8\xaa\x9e" "abcd");
	CHECK_EQ_STR(row(&p, 2), "e\xcc\x81!");
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_scroll_region(void)
{
	struct pair p;

	pair_new(&p, 6, 20);
	set_time(&p, 5);
	feed(&p, "top\r\n1\r\n2\r\n3\r\n4\r\nbottom\x1b[2;5r\x1b[5;1H\nnew\x1b[2;1H\x1bMup\x1b[r");
	CHECK_EQ_STR(row(&p, 0), "top");
	CHECK_EQ_STR(row(&p, 1), "up");
	CHECK_EQ_STR(row(&p, 2), "2");
	CHECK_EQ_STR(row(&p, 4), "4");
	CHECK_EQ_STR(row(&p, 5), "bottom");
	CHECK_EQ_INT(p.lfv.n, 0); /* a region below the top emits nothing */
	feed(&p, "\x1b[1;3r\x1b[3;1H\n\n");
	CHECK_EQ_INT(p.lfv.n, 2);
	CHECK_EQ_STR(p.lfv.p, "[5]top\n[5]up\n");
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_lines_leave(void)
{
	struct pair p;

	pair_new(&p, 3, 10);
	set_time(&p, 100);
	feed(&p, "one\r\n");
	set_time(&p, 200);
	feed(&p, "0123456789abcdef\r\nthree\r\nfour\r\n");
	CHECK_EQ_STR(p.lfv.p, "[100]one\n[200]0123456789abcdef\n");
	set_time(&p, 300);
	feed(&p, "\x1b[H\x1b[2J");     /* clear: what was shown leaves */
	CHECK_EQ_STR(p.lfv.p, "[100]one\n[200]0123456789abcdef\n[200]three\n[200]four\n");
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

static void t_resize(void)
{
	struct pair p;
	int rows, cols;

	pair_new(&p, 10, 30);
	feed(&p, "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nprompt$ ");
	kt_screen_resize(p.ref, 4, 12);
	fv_resize(p.fv, 4, 12);
	CHECK_EQ_STR(row(&p, 3), "prompt$");
	CHECK_EQ_STR(diff(&p), "");
	kt_screen_resize(p.ref, 0, 5000);
	fv_resize(p.fv, 0, 5000);
	fv_size(p.fv, &rows, &cols);
	CHECK_EQ_INT(rows, KT_SCREEN_DEFAULT_ROWS);
	CHECK_EQ_INT(cols, KT_SCREEN_MAX_DIM);
	feed(&p, "x\x1b[999;999Hy");
	CHECK_EQ_STR(diff(&p), "");
	kt_screen_resize(p.ref, 1, 1);
	fv_resize(p.fv, 1, 1);
	feed(&p, "abc\xe6\x97\xa5");
	CHECK_EQ_STR(diff(&p), "");
	pair_free(&p);
}

/* ------------------------------------------------------------- random soup */

/*
 * libvterm 0.1.4 memmoves its line info with a negative size (ASan:
 * negative-size-param in scroll()) when a resize leaves the scroll region's
 * top at or below its bottom and a line feed then scrolls it.  Both models
 * reset the region when the rows shrink (KT_SCREEN_REGION_RESET_FMT), so
 * after any resize the region must be valid; the soup then scrolls it.
 */
static bool region_ok(const struct fv *fv)
{
	return fv->top < fv_bottom(fv);
}


static uint32_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static size_t put(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return n;
}

/* One token of terminal output, weighted towards what programs write. */
static size_t token(char *o)
{
	static const char *const utf8[] = {
		"\xc3\xa9", "\xe6\x97\xa5", "\xef\xbc\xa1", "\xcc\x81", "\xe2\x80\x8b", "\xf0\x9f\x98\x80",
		"\xe2\x94\x80", "\xc2\x85", "\xe6", "\x80", "\xff", "\xed\xa0\x80", "\xc0\xaf",
	};
	static const char *const esc[] = {
		"\x1b" "7", "\x1b" "8", "\x1b" "D", "\x1b" "E", "\x1b" "M", "\x1b" "H", "\x1b" "c",
		"\x1b(0", "\x1b(B", "\x1b)0", "\x1b(A", "\x0e", "\x0f", "\x1b#8", "\x1b#6", "\x1b#3",
		"\x1b#5", "\x1b" "N", "\x1b" "=", "\x1b]0;title\x07", "\x1b]2;t\x1b\\", "\x1bP$qm\x1b\\",
		"\x1b[?1049h", "\x1b[?1049l", "\x1b[?47h", "\x1b[?1047l", "\x1b[?6h", "\x1b[?6l",
		"\x1b[?7l", "\x1b[?7h", "\x1b[?69h", "\x1b[?69l", "\x1b[4h", "\x1b[4l", "\x1b[20h",
		"\x1b[20l", "\x1b[?25l", "\x1b[?1048h", "\x1b[?1048l", "\x1b[1\"q", "\x1b[0\"q",
	};
	static const char finals[] = "@ABCDEFGHIJKLMPSTXZ`abdefghlmnrsX";
	size_t n = 0;
	uint32_t k = rnd(100);

	if (k < 40) {
		int len = 1 + rnd(20);

		for (int i = 0; i < len; i++)
			o[n++] = (char)(0x20 + rnd(95));
	} else if (k < 50) {
		n = put(o, utf8[rnd(sizeof(utf8) / sizeof(utf8[0]))]);
	} else if (k < 62) {
		static const char ctl[] = "\r\n\b\t\x07\x0b\x0c\x00\x7f\x18";

		o[n++] = ctl[rnd(sizeof(ctl) - 1)];
		if (o[n - 1] == '\r')
			o[n++] = '\n';
	} else if (k < 75) {
		n = put(o, esc[rnd(sizeof(esc) / sizeof(esc[0]))]);
	} else if (k < 88) {
		/* SGR */
		n = put(o, "\x1b[");
		for (int i = 0, m = rnd(5); i < m; i++) {
			static const char *const sgr[] = { "0", "1", "3", "4", "4:3", "5", "7", "9",
				"22", "24", "27", "31", "42", "38;5;123", "48;2;1;2;3", "39", "49",
				"95", "104", "12", "21", "38:5:7", "38;5", "48;2;9" };

			if (i)
				o[n++] = ';';
			n += put(o + n, sgr[rnd(sizeof(sgr) / sizeof(sgr[0]))]);
		}
		o[n++] = 'm';
	} else {
		/* any CSI with small parameters */
		n = put(o, "\x1b[");
		if (rnd(6) == 0)
			o[n++] = "?>=!"[rnd(4)];
		for (int i = 0, m = rnd(4); i < m; i++) {
			if (i)
				o[n++] = ';';
			if (rnd(5))
				n += (size_t)sprintf(o + n, "%u", rnd(rnd(4) ? 12 : 1200));
		}
		if (rnd(12) == 0)
			o[n++] = "$ \"'"[rnd(4)];
		o[n++] = finals[rnd(sizeof(finals) - 1)];
	}
	return n;
}

/* Both models' keyframes must be the same bytes, and restore alike. */
static const char *keyframes_differ(struct pair *p)
{
	static char why[160];
	uint8_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	int ea = kt_screen_serialize(p->ref, &a, &na), eb = fv_serialize(p->fv, &b, &nb);
	const char *res = "";

	if (ea != eb) {
		snprintf(why, sizeof(why), "keyframe errors %d vs %d", ea, eb);
		res = why;
	} else if (!ea && (na != nb || memcmp(a, b, na))) {
		size_t i = 0;

		while (i < na && i < nb && a[i] == b[i])
			i++;
		snprintf(why, sizeof(why), "keyframes differ at byte %zu of %zu/%zu: \"%.30s\" vs \"%.30s\"",
			 i, na, nb, i < na ? (char *)a + i : "", i < nb ? (char *)b + i : "");
		res = why;
	} else if (!ea && na <= 4096) {
		/*
		 * Restored alike.  Only keyframes up to 4 KiB: kt_screen writes a
		 * longer feed to libvterm in 4 KiB slices cut anywhere, and a
		 * UTF-8 character cut by a slice comes back as U+FFFD there
		 * (a kt_screen bug, not a keyframe one).
		 */
		struct pair q;
		int rows, cols;

		memset(&q, 0, sizeof(q));
		kt_screen_size(p->ref, &rows, &cols);
		if (kt_screen_restore(rows, cols, a, na, &q.ref) || fv_restore(rows, cols, b, nb, &q.fv)) {
			res = "restore failed";
		} else if (*diff(&q)) {
			snprintf(why, sizeof(why), "restored: %s", diff(&q));
			res = why;
		}
		kt_screen_free(q.ref);
		fv_free(q.fv);
	}
	free(a);
	free(b);
	return res;
}

static void t_random_soup_vs_libvterm(void)
{
	static char buf[1 << 16];
	int bad = 0;

	for (uint32_t seed = 1; seed <= 300 && !bad; seed++) {
		struct pair p;
		size_t len = 0;

		rnd_state = seed;
		{
			int r0 = 2 + rnd(30);

			pair_new(&p, r0, 2 + rnd(100)); /* in this order on any compiler */
		}
		while (len < 4000)
			len += token(buf + len);
		for (size_t o = 0; o < len && !bad;) {
			size_t n = 1 + rnd(300);
			const char *d;

			if (n > len - o)
				n = len - o;
			set_time(&p, (int64_t)o);
			feed_n(&p, buf + o, n);
			o += n;
			if (rnd(10) == 0) {
				int r = rnd(3) ? 1 + rnd(40) : rnd(1100);
				int c = rnd(3) ? 1 + rnd(120) : rnd(1100);

				kt_screen_resize(p.ref, r, c);
				fv_resize(p.fv, r, c);
				CHECK(region_ok(p.fv));
			}
			d = diff(&p);
			if (!*d && rnd(8) == 0)
				d = keyframes_differ(&p);
			if (*d) {
				printf("FAIL t_random_soup_vs_libvterm: seed %u after %zu bytes: %s\n",
				       seed, o, d);
				bad = 1;
			}
		}
		if (!bad) {
			size_t a = p.lref.len, b = p.lfv.len;

			kt_screen_visible_lines(p.ref, collect, &p.lref);
			fv_visible_lines(p.fv, collect, &p.lfv);
			if (p.lref.len - a != p.lfv.len - b ||
			    memcmp(p.lref.p + a, p.lfv.p + b, p.lref.len - a)) {
				printf("FAIL t_random_soup_vs_libvterm: seed %u: visible lines differ\n", seed);
				bad = 1;
			}
		}
		pair_free(&p);
	}
	kt_t_cur_failed |= bad;
}

/*
 * The row window (fv_scroll.c): a line feed at the bottom of the full
 * screen slides it along its allocation and back to the start; lines,
 * cells, keyframes, resizes, the alternate screen and line attributes
 * across many such turns.  Then a logical line longer than FV_LINE_MAX
 * (it leaves in pieces) with wide glyphs in it.
 */
static void t_row_window_and_long_lines(void)
{
	struct pair p;
	char b[160];

	pair_new(&p, 24, 80);
	for (int i = 0; i < 1000; i++) {
		set_time(&p, i);
		snprintf(b, sizeof(b), "%s%d line\x1b[0m\r\n", i % 7 ? "" : "\x1b[41m", i);
		feed(&p, b);
		if (i % 97 == 0) {
			CHECK_EQ_STR(diff(&p), "");
			CHECK_EQ_STR(keyframes_differ(&p), "");
		}
		CHECK(p.fv->buf[0] >= p.fv->mem[0] &&
		      p.fv->buf[0] + p.fv->rows <= p.fv->mem[0] + p.fv->cap);
	}
	feed(&p, "\x1b#6double\r\n\x1b#3top\r\n");   /* line info rides along */
	for (int i = 0; i < 300; i++)
		feed(&p, "x\r\n");
	CHECK_EQ_STR(diff(&p), "");
	CHECK_EQ_STR(keyframes_differ(&p), "");
	kt_screen_resize(p.ref, 10, 50);
	fv_resize(p.fv, 10, 50);
	for (int i = 0; i < 500; i++) {
		snprintf(b, sizeof(b), "after %d\r\n", i);
		feed(&p, b);
	}
	CHECK_EQ_STR(diff(&p), "");
	feed(&p, "\x1b[?1049h");
	for (int i = 0; i < 400; i++) {
		snprintf(b, sizeof(b), "alt %d\r\n", i);
		feed(&p, b);
	}
	CHECK_EQ_STR(diff(&p), "");
	feed(&p, "\x1b[?1049l");
	kt_screen_resize(p.ref, 30, 100);
	fv_resize(p.fv, 30, 100);
	feed(&p, "\r\n");
	for (int i = 0; i < 50000; i++)
		feed(&p, i % 101 ? "y" : "\xe6\x97\xa5");
	feed(&p, "\r\nend\r\n");
	for (int i = 0; i < 40; i++)
		feed(&p, "\r\n");
	CHECK_EQ_STR(diff(&p), "");
	CHECK_EQ_STR(keyframes_differ(&p), "");
	pair_free(&p);
}

/*
 * OSC titles as libvterm 0.1.4 pieces them (store/term/fv_title.c): a C0
 * control inside the string moves what came before into a 64-byte buffer,
 * the end of a write drops the piece in progress, and kt_screen writes a
 * string held across feeds as one write up to the feed where it ends.
 * Each case: the feeds, then the title both must keep (and the same
 * keyframes, which carry it).
 */
static void osc_case(const char *const *feeds, const char *want)
{
	struct pair p;
	char got[260];

	pair_new(&p, 24, 80);
	feed(&p, "\x1b]2;old\x07");
	for (int i = 0; feeds[i]; i++)
		feed(&p, feeds[i]);
	snprintf(got, sizeof(got), "%.*s", (int)p.fv->title_len, p.fv->title);
	CHECK_EQ_STR(got, want);
	CHECK_EQ_STR(keyframes_differ(&p), "");
	pair_free(&p);
}

static void t_osc_title_pieces(void)
{
	static char a40[41], b40[41], big[5001];
	char want[64];

	memset(a40, 'a', 40);
	memset(b40, 'b', 40);
	memset(big, 'x', 5000);
	/* fuzz_term_diff's find: "0" ends a feed, RS controls, the title's
	 * first part is lost at the end of the held write */
	osc_case((const char *const[]){ "$ \x1b]0", ";\x1e\x1e\x1eroot@pod:/uu", "uuu\x07$ ", NULL },
		 "uuu");
	/* held over three feeds, a control in the middle one */
	osc_case((const char *const[]){ "\x1b]0;ab", "c\x1e" "de", "f\x07", NULL }, "abcf");
	osc_case((const char *const[]){ "\x1b]2;", "ti\x1e", "tle\x07", NULL }, "title");
	/* no control: the last feed's part alone (no "2;": not a title) */
	osc_case((const char *const[]){ "\x1b]2;", "ti", "tle\x07", NULL }, "old");
	/* one write: pieces, the strbuffer's 64 bytes, a UTF-8 character cut */
	/* held, the last piece lost at the end of the held write */
	osc_case((const char *const[]){ "\x1b]0;", a40, "\x1e", b40, "\x07", NULL }, a40);
	snprintf(want, sizeof(want), "%s%.22s", a40, b40);
	{
		char one[128];

		snprintf(one, sizeof(one), "\x1b]0;%s\x1e%s\x07", a40, b40);
		osc_case((const char *const[]){ one, NULL }, want);
		snprintf(one, sizeof(one), "\x1b]0;\x1e%.61s\xc3\xa9\x07", big);
		snprintf(want, sizeof(want), "%.61s\xc3", big);
		osc_case((const char *const[]){ one, NULL }, want);
	}
	osc_case((const char *const[]){ "\x1b]0;a\x7f" "b\x7f" "c\x07", NULL }, "abc");
	/* ST split from its ESC: the piece before the ESC is lost */
	osc_case((const char *const[]){ "\x1b]0;ab\x1e" "cd\x1b", "\\", NULL }, "ab");
	osc_case((const char *const[]){ "\x1b]0;ab\x1e" "cd\x1b\\", NULL }, "abcd");
	/* longer than kt_screen holds back: every feed is a write */
	osc_case((const char *const[]){ "\x1b]0;\x1e", big, "b\x1e" "c\x07", NULL }, "bc");
	osc_case((const char *const[]){ "\x1b]0;\x1e", big, "y", "b\x1e" "c\x07", NULL }, "bc");
}

int main(void)
{
	RUN(t_colours);
	RUN(t_cursor_movement);
	RUN(t_backspace_editing);
	RUN(t_alternate_screen);
	RUN(t_wide_characters);
	RUN(t_scroll_region);
	RUN(t_lines_leave);
	RUN(t_resize);
	RUN(t_row_window_and_long_lines);
	RUN(t_osc_title_pieces);
	RUN(t_random_soup_vs_libvterm);
	return kt_test_done();
}
