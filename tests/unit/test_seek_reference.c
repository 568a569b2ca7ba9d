// SPDX-License-Identifier: Apache-2.0
/*
 * Seeking renders with fastvt (store/reader.c, keyframes from the index
 * writer); the players draw the redraw it gives.  Here the redraw is held
 * to the reference, libvterm's kt_screen: for targets spread over a real
 * SQLite session, the redraw written to a fresh kt_screen, plus the frames
 * the reader returns up to the target, must equal a kt_screen fed every
 * frame before the target, cell by cell (glyphs, widths, attributes,
 * colours), cursor, pending wrap, modes and alternate screen
 * (kt_screen_compare).  Both ways to seek: rendering from the session start
 * (no keyframes yet) and from a keyframe once the session is indexed.
 *
 * The output covers what the players must show right: colours (16, 256,
 * RGB), cursor movement, backspace editing, the alternate screen, wide
 * characters and combining marks, scroll regions, long wrapped lines.  It
 * stays inside what a keyframe can carry (screen.h, "Limits").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "reader.h"
#include "screen.h"
#include "store_int.h"

#define T0 1700000000000000LL
#define SECONDS 60

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	return kt_fx_rnd(&rng);
}

#define putf kt_fx_buf_printf

/* One burst of a session: a prompt and one of a few kinds of output. */
static void burst(struct kt_fx_buf *g)
{
	putf(g, "\x1b[01;32mroot@pod\x1b[00m:\x1b[01;34m/\x1b[00m# ");
	switch (rnd() % 6) {
	case 0: /* backspace editing, a long wrapped line */
		putf(g, "sdo\b\budo cat /etc/motd\r\n");
		for (int i = 0; i < 3; i++)
			putf(g, "%u a line long enough to wrap around the right edge of an eighty "
			     "column terminal, twice over if it has to, %u\r\n", rnd(), rnd());
		break;
	case 1: /* colours: 16, bright, 256, RGB */
		for (int i = 0; i < 30; i++)
			putf(g, "\x1b[0m\x1b[%s%um%s_%d\x1b[0m \x1b[38;5;%um*\x1b[48;2;%u;%u;%um.\x1b[m%s",
			     rnd() % 2 ? "01;" : "", (rnd() % 2 ? 31 : 91) + rnd() % 7,
			     rnd() % 4 ? "file" : "\xe6\x96\x87\xe4\xbb\xb6", i, rnd() % 256,
			     rnd() % 256, rnd() % 256, rnd() % 256, i % 4 == 3 ? "\r\n" : "  ");
		putf(g, "\r\n");
		break;
	case 2: /* a full-screen editor on the alternate screen */
		putf(g, "vim x.c\r\n\x1b[?1049h\x1b[H\x1b[2J");
		for (int f = 0; f < 3; f++) {
			for (int r = 1; r <= 23; r++)
				putf(g, "\x1b[%d;1H\x1b[K\x1b[33m%3d \x1b[m\x1b[1;34mint\x1b[m x = %u; "
				     "/* \xe2\x82\xac e\xcc\x81 \xf0\x9f\x98\x80 */", r, f + r, rnd() % 100000);
			putf(g, "\x1b[24;1H\x1b[7m x.c %d,1 \x1b[m\x1b[K\x1b[1;23r\x1b[23;1H\n\n\x1b[r", f);
			putf(g, "\x1b[5;1H\x1b[2L\x1b[10;5H\x1b[3P\x1b[2@\x1b[%u;%uH", 1 + rnd() % 23,
			     1 + rnd() % 80);
		}
		if (rnd() % 3)
			putf(g, "\x1b[?1049l");
		break;
	case 3: /* a scroll region in the main screen (a pager's status line) */
		putf(g, "\x1b[1;20r\x1b[20;1H");
		for (int i = 0; i < 25; i++)
			putf(g, "\n\x1b[%um%u\x1b[m scrolled inside the region", 31 + i % 7, rnd());
		putf(g, "\x1b[r\x1b[24;1H\x1b[7mstatus\x1b[m\x1b[K\r\n");
		break;
	case 4: /* cursor movement and erasing: a progress bar, a table */
		for (int i = 0; i <= 100; i += 25)
			putf(g, "\rprogress %3d%%\x1b[K", i);
		putf(g, "\r\n\x1b[3A\x1b[5C\x1b[1;31mX\x1b[m\x1b[3B\r\x1b[2K\x1b[10Gdone\r\n");
		putf(g, "wide \xe4\xb8\xad\xe6\x96\x87 and marks a\xcc\x88o\xcc\x88 end\r\n");
		break;
	default: /* plain log lines */
		for (int i = rnd() % 40; i > 0; i--)
			putf(g, "2026-12-06T19:%02u:%02uZ info request %u done in %u ms\r\n",
			     rnd() % 60, rnd() % 60, rnd(), rnd() % 1000);
	}
}

struct frame {
	size_t off, len;
	int64_t ts;
};

/* The session: output in recorded-size frames, SECONDS long. */
static size_t record(struct kt_store *st, int64_t sid, struct kt_fx_buf *g, struct frame **fr)
{
	size_t nf = 0, cap = 0;

	while (g->len < (3u << 20))
		burst(g);
	for (size_t o = 0; o < g->len;) {
		size_t n = 1 + rnd() % 4096;

		if (n > g->len - o)
			n = g->len - o;
		if (nf == cap) {
			cap = cap * 2 + 1024;
			*fr = realloc(*fr, cap * sizeof(**fr));
			if (!*fr)
				abort();
		}
		(*fr)[nf++] = (struct frame){ o, n, T0 + (int64_t)(o * (SECONDS * 1000000.0) / g->len) };
		o += n;
	}
	for (size_t i = 0; i < nf;) {
		struct kt_chunk_builder b;

		kt_chunk_builder_init(&b);
		for (size_t k = 0; k < 64 && i < nf; k++, i++)
			CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, (*fr)[i].ts, g->p + (*fr)[i].off,
						  (*fr)[i].len), 0);
		CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
		kt_chunk_builder_free(&b);
	}
	return nf;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Seek to each target (ascending) and compare with the reference fed every
 * frame before it.  Returns the number of mismatches. */
static int seek_all(struct kt_reader *r, const struct kt_fx_buf *g, const struct frame *fr,
		    size_t nf, const int64_t *targets, int n, bool want_kf)
{
	struct kt_screen *ref = NULL;
	size_t next = 0;
	int bad = 0;

	if (kt_screen_new(24, 80, &ref))
		return n;
	for (int i = 0; i < n; i++) {
		struct kt_screen *seen = NULL;
		struct kt_frame f;
		uint8_t *rd = NULL;
		size_t len = 0;
		unsigned kf_before = r->kf_seeks;
		char why[512];

		while (next < nf && fr[next].ts < targets[i]) {
			kt_screen_feed(ref, g->p + fr[next].off, fr[next].len);
			next++;
		}
		if (kt_reader_seek(r, targets[i], &rd, &len) || kt_screen_new(24, 80, &seen)) {
			bad++;
			free(rd);
			continue;
		}
		if (want_kf && r->kf_seeks == kf_before && i > n / 4) {
			printf("  target %d: no keyframe used\n", i);
			bad++;
		}
		kt_screen_feed(seen, rd, len);
		while (kt_reader_next(r, targets[i] - 1, &f) == 1)
			if (f.type == KT_FRAME_OUT)
				kt_screen_feed(seen, f.data, f.len);
		if (kt_screen_compare(ref, seen, why, sizeof(why))) {
			printf("  %s seek %d to +%.3f s: %s\n", want_kf ? "keyframe" : "rendered", i,
			       (targets[i] - T0) / 1e6, why);
			bad++;
		}
		free(rd);
		kt_screen_free(seen);
	}
	kt_screen_free(ref);
	return bad;
}

static void t_seek_redraw_equals_reference(void)
{
	struct kt_fx_buf g = { 0 };
	struct kt_store *st = NULL;
	struct kt_session_info s = kt_fx_session("seek-ref", "ns", "pod", T0);
	struct kt_reader r;
	struct frame *fr = NULL;
	int64_t targets[24];
	char dir[128], path[256];
	size_t nf;
	int n = (int)(sizeof(targets) / sizeof(targets[0]));

	CHECK_EQ_INT(kt_fx_mkdtemp(dir, sizeof(dir), "seekref"), 0);
	snprintf(path, sizeof(path), "%s/s.db", dir);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	nf = record(st, s.id, &g, &fr);
	kt_fx_end_id(st, s.id, T0 + (SECONDS + 1) * 1000000LL);
	CHECK_EQ_INT(kt_store_session_get(st, s.id, &s), 0);
	for (int i = 0; i < n; i++)
		targets[i] = T0 + 1 + (int64_t)(rnd() % (SECONDS * 1000u)) * 1000;
	qsort(targets, (size_t)n, sizeof(targets[0]), cmp_i64);

	/* not indexed: rendered from the start by fastvt */
	kt_reader_init(&r, st, &s, false);
	CHECK_EQ_INT(seek_all(&r, &g, fr, nf, targets, n, false), 0);
	CHECK_EQ_INT(r.kf_seeks, 0);
	kt_reader_close(&r);
	/* indexed: from fastvt's keyframes, then the frames up to the target */
	CHECK_EQ_INT(kt_store_maintain(st, s.id, NULL), 0);
	kt_reader_init(&r, st, &s, false);
	CHECK_EQ_INT(seek_all(&r, &g, fr, nf, targets, n, true), 0);
	CHECK(r.kf_seeks > 0);
	kt_reader_close(&r);

	kt_store_close(st);
	kt_fx_rm_dir(dir);
	free(fr);
	free(g.p);
}

int main(void)
{
	RUN(t_seek_redraw_equals_reference);
	return kt_test_done();
}
