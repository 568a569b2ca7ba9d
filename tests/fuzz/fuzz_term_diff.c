// SPDX-License-Identifier: Apache-2.0
/*
 * Differential oracle: fastvt (store/term/fastvt.h) against kt_screen
 * (libvterm 0.1.4 behind store/term/screen*.c), fed the same bytes and
 * resizes.  After every step both must agree on the size, the cursor, the
 * alternate screen flag and every line that left the main screen so far
 * (text and time stamp, in order); every 8th step and at the end also on
 * every visible cell (glyph and combining marks, width, attributes,
 * colours; between steps only on screens up to 20k cells); at the end on
 * the visible logical lines and the keyframe bytes.  The first difference
 * is printed with both screens and the process aborts.
 *
 * Input, one of:
 *   'R' n <bytes>   a recorded stream: 24x80, fed in pieces of 1 + 61 * n
 *                   bytes (seeds from real sessions and the bench corpora);
 *   otherwise a script, as fuzz_screen_resize's:
 *     op & 0x80, op & 0x40: resize to the next two u16 (rows, cols; LE):
 *                           raw with op & 0x20, else % 1100; four at most
 *     op & 0x80 only:       resize to the next two bytes & 63 each
 *     otherwise:            feed the next (op & 0x3f) + 1 bytes
 * Every step advances the clock by 1 ms (lines carry the time stamps).
 * fastvt.h lists the divergences this target would find and accepts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"
#include "term/fastvt.h"
#include "term/fv_int.h"

struct lines {
	char *p;
	size_t len, cap;
	size_t n;
};

static void lines_add(struct lines *l, const char *text, size_t len, int64_t ts)
{
	char hdr[40];
	int h = snprintf(hdr, sizeof(hdr), "\n[%lld] ", (long long)ts);

	if (l->len + len + (size_t)h + 1 > l->cap) {
		l->cap = (l->len + len + (size_t)h + 1) * 2;
		l->p = realloc(l->p, l->cap);
		if (!l->p)
			abort();
	}
	memcpy(l->p + l->len, hdr, (size_t)h);
	l->len += (size_t)h;
	memcpy(l->p + l->len, text, len);
	l->len += len;
	l->n++;
}

static int on_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	lines_add(ctx, text, len, ts);
	return 0;
}

static struct kt_screen *cur_ref;
static struct fv *cur_fv;

/* Both screens' rows side by side, for the report. */
static void dump(void)
{
	char a[256], b[256];
	int rows, cols;

	kt_screen_size(cur_ref, &rows, &cols);
	for (int i = 0; i < rows && i < 60; i++) {
		kt_screen_row_text(cur_ref, i, a, sizeof(a));
		fv_row_text(cur_fv, i, b, sizeof(b));
		fprintf(stderr, "%3d %c |%-40.80s| |%.80s|\n", i, strcmp(a, b) ? '*' : ' ', a, b);
	}
}

static void fail(const char *what, const uint8_t *data, size_t size, size_t at)
{
	fprintf(stderr, "fuzz_term_diff: fastvt differs from kt_screen: %s (after input byte %zu of %zu)\n",
		what, at, size);
	dump();
	abort();
}

static bool pen_eq(const struct kt_pen *a, const struct kt_pen *b)
{
	return a->attrs == b->attrs && a->underline == b->underline && a->font == b->font &&
	       !memcmp(&a->fg, &b->fg, sizeof(a->fg)) && !memcmp(&a->bg, &b->bg, sizeof(a->bg));
}

struct pair {
	struct kt_screen *ref;
	struct fv *fv;
	struct lines lref, lfv;
	size_t lines_checked;
};

static void compare(struct pair *p, bool cells, const uint8_t *data, size_t size, size_t at)
{
	char why[256];
	int r1, c1, r2, c2;
	bool v1, v2;

	kt_screen_size(p->ref, &r1, &c1);
	fv_size(p->fv, &r2, &c2);
	if (r1 != r2 || c1 != c2) {
		snprintf(why, sizeof(why), "size %dx%d vs %dx%d", r1, c1, r2, c2);
		fail(why, data, size, at);
	}
	if (p->lref.len != p->lfv.len || (p->lref.len && memcmp(p->lref.p, p->lfv.p, p->lref.len))) {
		size_t i = 0;

		while (i < p->lref.len && i < p->lfv.len && p->lref.p[i] == p->lfv.p[i])
			i++;
		while (i && p->lref.p[i - 1] != '\n')
			i--;
		snprintf(why, sizeof(why), "lines: kt_screen \"%.60s\" fastvt \"%.60s\"",
			 i < p->lref.len ? p->lref.p + i : "(none)",
			 i < p->lfv.len ? p->lfv.p + i : "(none)");
		fail(why, data, size, at);
	}
	if (kt_screen_altscreen(p->ref) != fv_altscreen(p->fv))
		fail("alternate screen flag", data, size, at);
	kt_screen_cursor(p->ref, &r1, &c1, &v1);
	fv_cursor(p->fv, &r2, &c2, &v2);
	if (r1 != r2 || c1 != c2 || v1 != v2) {
		snprintf(why, sizeof(why), "cursor %d,%d%s vs %d,%d%s", r1, c1, v1 ? "" : " hidden",
			 r2, c2, v2 ? "" : " hidden");
		fail(why, data, size, at);
	}
	if (!cells)
		return;
	kt_screen_size(p->ref, &r1, &c1);
	for (int i = 0; i < r1; i++)
		for (int k = 0; k < c1; k++) {
			const struct kt_cell *x = kt_screen_cell(p->ref, i, k);
			const struct kt_cell *y = fv_cell(p->fv, i, k);

			if (memcmp(x->ch, y->ch, sizeof(x->ch)) || x->width != y->width ||
			    !pen_eq(&x->pen, &y->pen)) {
				snprintf(why, sizeof(why),
					 "cell %d,%d: U+%04X+%04X w%d a%02x u%d f%d fg%d/%d bg%d/%d vs "
					 "U+%04X+%04X w%d a%02x u%d f%d fg%d/%d bg%d/%d",
					 i, k, x->ch[0], x->ch[1], x->width, x->pen.attrs,
					 x->pen.underline, x->pen.font, x->pen.fg.type, x->pen.fg.r,
					 x->pen.bg.type, x->pen.bg.r, y->ch[0], y->ch[1], y->width,
					 y->pen.attrs, y->pen.underline, y->pen.font, y->pen.fg.type,
					 y->pen.fg.r, y->pen.bg.type, y->pen.bg.r);
				fail(why, data, size, at);
			}
		}
}

static void feed(struct pair *p, const uint8_t *b, size_t n)
{
	if (kt_screen_feed(p->ref, b, n) || fv_feed(p->fv, b, n))
		abort();
}

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

static void resize(struct pair *p, long rows, long cols)
{
	if (kt_screen_resize(p->ref, (int)rows, (int)cols) || fv_resize(p->fv, (int)rows, (int)cols))
		abort();
	if (!region_ok(p->fv))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pair p = { 0 };
	const uint8_t *in = data, *end = data + size;
	int64_t now = 1000;
	int nbig = 0, step = 0, rows, cols;

	if (kt_screen_new(24, 80, &p.ref) || fv_new(24, 80, &p.fv))
		abort();
	cur_ref = p.ref;
	cur_fv = p.fv;
	kt_screen_set_line_cb(p.ref, on_line, &p.lref);
	fv_set_line_cb(p.fv, on_line, &p.lfv);
	if (size >= 2 && data[0] == 'R') {
		size_t piece = 1 + 61 * (size_t)data[1];

		for (in = data + 2; in < end; in += piece) {
			size_t n = (size_t)(end - in) < piece ? (size_t)(end - in) : piece;

			kt_screen_set_time(p.ref, now);
			fv_set_time(p.fv, now);
			now += 1000;
			feed(&p, in, n);
			compare(&p, true, data, size, (size_t)(in + n - data));
		}
	} else {
		while (in < end) {
			uint8_t op = *in++;

			kt_screen_set_time(p.ref, now);
			fv_set_time(p.fv, now);
			now += 1000;
			if (op & 0x80) {
				long r, c;

				if (op & 0x40) {
					if (end - in < 4 || nbig >= 4)
						break;
					r = in[0] | in[1] << 8;
					c = in[2] | in[3] << 8;
					in += 4;
					if (!(op & 0x20)) {
						r %= 1100;
						c %= 1100;
					}
					nbig++;
				} else {
					if (end - in < 2)
						break;
					r = in[0] & 63;
					c = in[1] & 63;
					in += 2;
				}
				resize(&p, r, c);
			} else {
				size_t n = (size_t)(op & 0x3f) + 1;

				if (n > (size_t)(end - in))
					n = (size_t)(end - in);
				feed(&p, in, n);
				in += n;
			}
			kt_screen_size(p.ref, &rows, &cols);
			compare(&p, ++step % 8 == 0 && (long)rows * cols <= 20000, data, size,
				(size_t)(in - data));
		}
	}
	compare(&p, true, data, size, size);
	/* the final screen, as the indexer takes it */
	{
		size_t before_ref = p.lref.len, before_fv = p.lfv.len;

		if (kt_screen_visible_lines(p.ref, on_line, &p.lref) ||
		    fv_visible_lines(p.fv, on_line, &p.lfv))
			abort();
		if (p.lref.len - before_ref != p.lfv.len - before_fv ||
		    (p.lref.len > before_ref && memcmp(p.lref.p + before_ref, p.lfv.p + before_fv, p.lref.len - before_ref)))
			fail("visible lines", data, size, size);
	}
	/* keyframes: the same bytes (kt_screen_serialize's format) */
	{
		uint8_t *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		int ea = kt_screen_serialize(p.ref, &a, &na), eb = fv_serialize(p.fv, &b, &nb);

		if (ea != eb || (!ea && (na != nb || memcmp(a, b, na))))
			fail("keyframes", data, size, size);
		free(a);
		free(b);
	}
	kt_screen_free(p.ref);
	fv_free(p.fv);
	free(p.lref.p);
	free(p.lfv.p);
	return 0;
}
