// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen throughput on generated terminal output, next to libvterm's own
 * ceilings: the parser alone (no-op callbacks) and the state layer with
 * no-op callbacks.  Prints MB/s per workload.
 *
 *   cc -O2 -Istore/include bench/screen_bench.c build/libkubetape.a -lvterm -o /tmp/screen_bench
 *   /tmp/screen_bench [MiB per workload, default 64]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vterm.h>

#include "screen.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct gen {
	char *p;
	size_t len, cap;
};

static void put(struct gen *g, const char *s, size_t n)
{
	if (g->len + n > g->cap) {
		g->cap = (g->len + n) * 2;
		g->p = realloc(g->p, g->cap);
	}
	memcpy(g->p + g->len, s, n);
	g->len += n;
}

static void gen_seq(struct gen *g, size_t want)
{
	char b[32];

	for (unsigned long i = 1; g->len < want; i++)
		put(g, b, snprintf(b, sizeof(b), "%lu\r\n", i));
}

static void gen_base64(struct gen *g, size_t want)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	uint32_t x = 1;

	while (g->len < want) {
		for (int i = 0; i < 76; i++) {
			x = x * 1103515245 + 12345;
			line[i] = a[(x >> 16) & 63];
		}
		line[76] = '\r';
		line[77] = '\n';
		put(g, line, 78);
	}
}

/* `ls --color`-like: short coloured names, many SGR changes per line */
static void gen_ls(struct gen *g, size_t want)
{
	char b[128];
	int n = 0;

	while (g->len < want) {
		int k = snprintf(b, sizeof(b), "\x1b[0m\x1b[01;%dmfile_%05d.txt\x1b[0m  ", 31 + n % 6, n);

		put(g, b, k);
		if (++n % 5 == 0)
			put(g, "\r\n", 2);
	}
}

/* a full-screen editor: alt screen, per-row CUP + EL, syntax colours,
 * scrolling inside a region, status line */
static void gen_editor(struct gen *g, size_t want)
{
	char b[256];
	int frame = 0;

	put(g, "\x1b[?1049h\x1b[H\x1b[2J", 16);
	while (g->len < want) {
		for (int r = 1; r <= 23 && g->len < want; r++) {
			int k = snprintf(b, sizeof(b),
					 "\x1b[%d;1H\x1b[K\x1b[33m%4d \x1b[0m\x1b[1;34mint\x1b[0m x%d = "
					 "\x1b[35m%d\x1b[0m; \x1b[32m/* line %d of frame %d */\x1b[0m",
					 r, frame * 23 + r, r, frame * r, r, frame);

			put(g, b, k);
		}
		put(g, b, snprintf(b, sizeof(b), "\x1b[1;23r\x1b[23;1H\n\n\n\x1b[r"
				   "\x1b[24;1H\x1b[7m-- INSERT -- frame %d\x1b[0m\x1b[K", frame));
		frame++;
	}
	put(g, "\x1b[?1049l", 8);
}

static int noop_text(const char *bytes, size_t len, void *user)
{
	size_t i = 0;

	while (i < len && (unsigned char)bytes[i] >= 0x20 && bytes[i] != 0x7f)
		i++;
	return i ? (int)i : 1;
}
static int noop_control(unsigned char c, void *u) { return 1; }
static int noop_escape(const char *b, size_t l, void *u) { return 1; }
static int noop_csi(const char *l, const long a[], int n, const char *i, char c, void *u) { return 1; }
static int noop_str(const char *c, size_t l, void *u) { return 1; }

static const VTermParserCallbacks parser_noop = {
	.text = noop_text, .control = noop_control, .escape = noop_escape,
	.csi = noop_csi, .osc = noop_str, .dcs = noop_str,
};

static int st_glyph(VTermGlyphInfo *i, VTermPos p, void *u) { return 1; }
static int st_move(VTermPos p, VTermPos o, int v, void *u) { return 1; }
static int st_scroll(VTermRect r, int d, int rr, void *u) { return 1; }
static int st_erase(VTermRect r, int s, void *u) { return 1; }
static int st_pen(VTermAttr a, VTermValue *v, void *u) { return 1; }
static int st_prop(VTermProp p, VTermValue *v, void *u) { return 1; }

static const VTermStateCallbacks state_noop = {
	.putglyph = st_glyph, .movecursor = st_move, .scrollrect = st_scroll,
	.erase = st_erase, .setpenattr = st_pen, .settermprop = st_prop,
};

#define SLICE 4096

static double run_parser(const struct gen *g)
{
	VTerm *vt = vterm_new(24, 80);
	double t;

	vterm_set_utf8(vt, 1);
	vterm_parser_set_callbacks(vt, &parser_noop, NULL);
	t = now();
	for (size_t o = 0; o < g->len; o += SLICE)
		vterm_input_write(vt, g->p + o, g->len - o < SLICE ? g->len - o : SLICE);
	t = now() - t;
	vterm_free(vt);
	return g->len / t / 1e6;
}

static double run_state(const struct gen *g)
{
	VTerm *vt = vterm_new(24, 80);
	VTermState *vs;
	double t;

	vterm_set_utf8(vt, 1);
	vs = vterm_obtain_state(vt);
	vterm_state_set_callbacks(vs, &state_noop, NULL);
	vterm_state_reset(vs, 1);
	t = now();
	for (size_t o = 0; o < g->len; o += SLICE)
		vterm_input_write(vt, g->p + o, g->len - o < SLICE ? g->len - o : SLICE);
	t = now() - t;
	vterm_free(vt);
	return g->len / t / 1e6;
}

static int count_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

static double run_screen(const struct gen *g, size_t feed, size_t *lines)
{
	struct kt_screen *s;
	double t;

	*lines = 0;
	if (kt_screen_new(24, 80, &s))
		return 0;
	kt_screen_set_line_cb(s, count_line, lines);
	t = now();
	/* frames of `feed` bytes, as the recorder stores them */
	for (size_t o = 0; o < g->len; o += feed)
		kt_screen_feed(s, g->p + o, g->len - o < feed ? g->len - o : feed);
	t = now() - t;
	kt_screen_free(s);
	return g->len / t / 1e6;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, want = mib << 20, lines;
	static const struct {
		const char *name;
		void (*fn)(struct gen *, size_t);
	} w[] = {
		{ "seq", gen_seq }, { "base64", gen_base64 },
		{ "ls-color", gen_ls }, { "editor", gen_editor },
	};

	printf("%-10s %12s %12s %12s %12s %10s\n", "workload", "parser MB/s", "state MB/s",
	       "screen MB/s", "(4K frames)", "lines");
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct gen g = { 0 };
		double p, st, sc, sc4;

		w[i].fn(&g, want);
		p = run_parser(&g);
		st = run_state(&g);
		sc4 = run_screen(&g, 4096, &lines);
		sc = run_screen(&g, 65536, &lines);
		printf("%-10s %12.1f %12.1f %12.1f %12.1f %10zu\n", w[i].name, p, st, sc, sc4, lines);
		free(g.p);
	}
	return 0;
}
