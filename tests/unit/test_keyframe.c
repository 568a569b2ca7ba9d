// SPDX-License-Identifier: Apache-2.0
/*
 * Keyframe round trip: for random cut points in generated streams, the
 * screen restored from the keyframe at the cut and fed the rest equals the
 * screen fed the whole stream, cell by cell (attributes, cursor, pending
 * wrap, modes, alt screen included).  Streams: a shell session, `ls
 * --color`, a full-screen editor, and random bytes.  The random stream's
 * alphabet leaves out what keyframes cannot carry (screen.h, "Limits"): tab
 * stop changes (ESC H, CSI g), SO/SI, mode 1047 (alt screen without saving
 * the cursor), and cursor moves onto the cursor's own cell right after a
 * glyph in the last column.
 *
 * The store reads with fastvt (store/term/fastvt.h: seeking, search
 * verification, text export), so each cut also runs fastvt beside the
 * reference: fed the same frames it must write the same keyframe bytes,
 * and restored from the keyframe and fed the tail it must end in the same
 * state as the restored reference (the same keyframe bytes again).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "screen.h"
#include "term/fastvt.h"

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	return kt_fx_rnd(&rng);
}

static void puts_(struct kt_fx_buf *g, const char *s)
{
	kt_fx_buf_add(g, s, strlen(s));
}

#define putf kt_fx_buf_printf

static void gen_shell(struct kt_fx_buf *g)
{
	static const char *cmds[] = { "ls -la", "cat /etc/passwd", "sdo\b\budo id", "echo $HOME",
				      "kubectl get pods -A -o wide --sort-by=.metadata.name" };

	for (int i = 0; i < 120; i++) {
		const char *c = cmds[rnd() % 5];

		putf(g, "\x1b]0;root@pod: /\x07\x1b[01;32mroot@pod\x1b[00m:\x1b[01;34m/\x1b[00m# ");
		for (const char *q = c; *q; q++)
			kt_fx_buf_add(g, q, 1);
		puts_(g, "\r\n");
		for (int k = rnd() % 8; k > 0; k--)
			putf(g, "line %u of output \xe2\x82\xac %s\r\n", rnd() % 1000,
			     rnd() % 3 ? "" : "a much longer line that wraps around the right edge of the terminal for sure");
		if (rnd() % 10 == 0)
			puts_(g, "\x1b[H\x1b[2J");
		if (rnd() % 7 == 0)
			puts_(g, "progress 10%\r\x1b[Kprogress 50%\r\x1b[Kprogress 100%\r\n");
	}
}

static void gen_ls(struct kt_fx_buf *g)
{
	for (int i = 0; i < 1500; i++) {
		putf(g, "\x1b[0m\x1b[%s%dm%s_%d\x1b[0m%s", rnd() % 2 ? "01;" : "", 31 + rnd() % 7,
		     rnd() % 5 ? "file" : "\xe6\x96\x87\xe4\xbb\xb6", i, i % 6 == 5 ? "\r\n" : "  ");
		if (rnd() % 50 == 0)
			putf(g, "\x1b[38;5;%um\x1b[48;2;%u;%u;%umx\x1b[m", rnd() % 256, rnd() % 256,
			     rnd() % 256, rnd() % 256);
	}
}

static void gen_editor(struct kt_fx_buf *g)
{
	puts_(g, "$ vim main.c\r\n\x1b[?1049h\x1b[22;0;0t\x1b[?1h\x1b=\x1b[H\x1b[2J");
	for (int f = 0; f < 40; f++) {
		puts_(g, "\x1b[?25l");
		for (int r = 1; r <= 23; r++)
			putf(g, "\x1b[%d;1H\x1b[K\x1b[33m%3d \x1b[m\x1b[1;34mstatic\x1b[m int x = %u;", r,
			     f + r, rnd() % 100000);
		putf(g, "\x1b[24;1H\x1b[7m main.c [+] %d,1 \x1b[m\x1b[K", f);
		if (f % 3 == 0)
			puts_(g, "\x1b[1;23r\x1b[23;1H\n\n\x1b[r");
		if (f % 4 == 0)
			puts_(g, "\x1b[5;1H\x1b[3L\x1b[10;5H\x1b[2P\x1b[4@");
		putf(g, "\x1b[%u;%uH\x1b[?25h", 1 + rnd() % 23, 1 + rnd() % 80);
		if (f == 20)
			puts_(g, "\x1b[?2004h\x1b[4 q");
	}
	puts_(g, "\x1b[?1l\x1b>\x1b[?1049l$ ");
}

/* the sequence table holds printf formats; all take unsigned ints */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void gen_random(struct kt_fx_buf *g, size_t n)
{
	static const char *seqs[] = {
		"\x1b[%uA", "\x1b[%uB", "\x1b[%uC", "\x1b[%uD", "\x1b[%u;%uH", "\x1b[%uJ", "\x1b[%uK",
		"\x1b[%uX", "\x1b[%u@", "\x1b[%uP", "\x1b[%uL", "\x1b[%uM", "\x1b[%uS", "\x1b[%uT",
		"\x1b[%ud", "\x1b[%uG", "\x1b[%u;%ur", "\x1b[%u;%um", "\x1b[38;5;%um", "\x1b[48;2;%u;%u;1m",
		"\x1b[?%uh", "\x1b[?%ul", "\x1b[%uh", "\x1b[%ul", "\x1b" "7", "\x1b" "8", "\x1b(0", "\x1b(B",
		"\x1bM", "\x1b" "D", "\x1b" "E", "\x1b#8", "\x1b#6", "\x1b[?69h\x1b[%u;%us",
		"\x1b[?69l", "\x1b]2;t%u\x07", "\x1b[%u q", "\x1b[?1049h", "\x1b[?1049l", "\x1b[!p",
		"\x1b[?%u;%uJ", "\x1b[%u\"q", "\x1b" "c",
	};
	static const unsigned modes[] = { 1, 5, 6, 7, 25, 69, 2004, 1049, 4, 20, 12 };

	while (g->len < n) {
		uint32_t k = rnd() % 100;

		if (k < 45) {
			char ch = (char)(0x20 + rnd() % 95);

			kt_fx_buf_add(g, &ch, 1);
		} else if (k < 52) {
			static const char *u[] = { "\xc3\xa9", "\xe6\x97\xa5", "e\xcc\x81", "\xf0\x9f\x98\x80",
						   "\xe2\x94\x80", "\xc3", "\x80" };

			puts_(g, u[rnd() % 7]);
		} else if (k < 62) {
			static const char c[] = { '\r', '\n', '\b', '\t', 0x07, 0x0b, 0x0c, 0x00, 0x7f, 0x18 };
			char ch = c[rnd() % sizeof(c)];

			kt_fx_buf_add(g, &ch, 1);
		} else {
			const char *fmt = seqs[rnd() % (sizeof(seqs) / sizeof(seqs[0]))];
			unsigned a = rnd() % 30, b = rnd() % 90;

			if (strstr(fmt, "[?%uh") || strstr(fmt, "[?%ul") || strstr(fmt, "[%uh") ||
			    strstr(fmt, "[%ul"))
				a = modes[rnd() % (sizeof(modes) / sizeof(modes[0]))];
			putf(g, fmt, a, b, rnd() % 30);
		}
	}
}
#pragma GCC diagnostic pop

/* Feed [from, to) in random-sized frames (to fastvt too, the same frames,
 * when f is not NULL). */
static void feed_frames2(struct kt_screen *s, struct fv *f, const char *p, size_t from, size_t to)
{
	while (from < to) {
		size_t n = 1 + rnd() % 300;

		if (n > to - from)
			n = to - from;
		kt_screen_feed(s, p + from, n);
		if (f)
			fv_feed(f, p + from, n);
		from += n;
	}
}

static void feed_frames(struct kt_screen *s, const char *p, size_t from, size_t to)
{
	feed_frames2(s, NULL, p, from, to);
}

/* "" when fastvt's keyframe is the reference's, byte for byte. */
static const char *same_keyframe(struct kt_screen *ref, struct fv *f)
{
	uint8_t *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	int ex = kt_screen_serialize(ref, &x, &nx), ey = fv_serialize(f, &y, &ny);
	const char *why = "";

	if (ex != ey)
		why = "serialize results differ";
	else if (!ex && (nx != ny || memcmp(x, y, nx)))
		why = "keyframe bytes differ";
	free(x);
	free(y);
	return why;
}

static int roundtrip(const struct kt_fx_buf *g, int rows, int cols, int cuts, const char *name)
{
	int failures = 0, skipped = 0;

	for (int i = 0; i < cuts; i++) {
		struct kt_screen *a = NULL, *b = NULL;
		struct fv *fa = NULL, *fb = NULL;
		size_t cut = rnd() % (g->len + 1);
		const char *fwhy;
		uint8_t *kf = NULL;
		size_t kflen;
		char why[512];
		int err;

		if (kt_screen_new(rows, cols, &a) || fv_new(rows, cols, &fa)) {
			kt_screen_free(a);
			return -1;
		}
		feed_frames2(a, fa, g->p, 0, cut);
		fwhy = same_keyframe(a, fa);
		if (*fwhy) {
			printf("  %s %dx%d cut %zu/%zu fastvt: %s\n", name, rows, cols, cut, g->len, fwhy);
			failures++;
		}
		err = kt_screen_serialize(a, &kf, &kflen);
		if (err) {
			printf("  %s cut %zu: serialize: %d\n", name, cut, err);
			/* only while an over-long sequence passes through */
			skipped++;
			kt_screen_free(a);
			fv_free(fa);
			continue;
		}
		if (kt_screen_restore(rows, cols, kf, kflen, &b) ||
		    fv_restore(rows, cols, kf, kflen, &fb)) {
			failures++;
			goto next;
		}
		if (kt_screen_compare(a, b, why, sizeof(why))) {
			printf("  %s %dx%d cut %zu/%zu right after restore: %s\n", name, rows, cols, cut,
			       g->len, why);
			failures++;
			if (getenv("KT_DUMP")) {
				FILE *fp = fopen(getenv("KT_DUMP"), "w");

				if (fp) {
					fwrite(g->p, 1, g->len, fp);
					fclose(fp);
				}
			}
			goto next;
		}
		feed_frames(a, g->p, cut, g->len);
		feed_frames2(b, fb, g->p, cut, g->len);
		fwhy = same_keyframe(b, fb);
		if (*fwhy) {
			printf("  %s %dx%d cut %zu/%zu fastvt restored, after the tail: %s\n", name,
			       rows, cols, cut, g->len, fwhy);
			failures++;
		}
		if (kt_screen_compare(a, b, why, sizeof(why))) {
			printf("  %s %dx%d cut %zu/%zu after the tail: %s\n", name, rows, cols, cut, g->len, why);
			failures++;
			if (getenv("KT_DUMP")) {
				FILE *fp = fopen(getenv("KT_DUMP"), "w");

				if (fp) {
					fwrite(g->p, 1, g->len, fp);
					fclose(fp);
				}
			}
		}
next:
		free(kf);
		kt_screen_free(a);
		kt_screen_free(b);
		fv_free(fa);
		fv_free(fb);
	}
	if (skipped > cuts / 4)
		failures++;
	return failures;
}

/* roundtrip() of one generator's stream on an 80x24 screen, at 40 random cuts */
static void roundtrip_gen(void (*gen)(struct kt_fx_buf *g), const char *name)
{
	struct kt_fx_buf g = { 0 };

	gen(&g);
	CHECK_EQ_INT(roundtrip(&g, 24, 80, 40, name), 0);
	free(g.p);
}

static void t_shell(void) { roundtrip_gen(gen_shell, "shell"); }
static void t_ls_color(void) { roundtrip_gen(gen_ls, "ls"); }
static void t_editor(void) { roundtrip_gen(gen_editor, "editor"); }

static void t_random(void)
{
	for (int i = 0; i < 8; i++) {
		struct kt_fx_buf g = { 0 };

		gen_random(&g, 6000 + rnd() % 20000);
		CHECK_EQ_INT(roundtrip(&g, 10 + rnd() % 20, 20 + rnd() % 100, 25, "random"), 0);
		free(g.p);
	}
}

/* a resize in the tail (RESIZE frames) behaves the same after a restore */
static void t_resize_tail(void)
{
	struct kt_fx_buf g = { 0 };
	struct kt_screen *a = NULL, *b = NULL;
	uint8_t *kf = NULL;
	size_t kflen;
	char why[256];

	gen_shell(&g);
	kt_screen_new(24, 80, &a);
	feed_frames(a, g.p, 0, g.len / 2);
	CHECK_EQ_INT(kt_screen_serialize(a, &kf, &kflen), 0);
	CHECK_EQ_INT(kt_screen_restore(24, 80, kf, kflen, &b), 0);
	kt_screen_resize(a, 20, 60);
	kt_screen_resize(b, 20, 60);
	feed_frames(a, g.p, g.len / 2, g.len);
	feed_frames(b, g.p, g.len / 2, g.len);
	CHECK_EQ_INT(kt_screen_compare(a, b, why, sizeof(why)), 0);
	if (why[0])
		printf("  %s\n", why);
	free(kf);
	kt_screen_free(a);
	kt_screen_free(b);
	free(g.p);
}

/* the keyframe is plain terminal output: text survives, and is small */
static void t_keyframe_bytes(void)
{
	struct kt_screen *a = NULL, *b = NULL;
	uint8_t *kf = NULL;
	size_t kflen;
	char *t1, *t2;

	kt_screen_new(5, 20, &a);
	{
		static const char in[] = "\x1b[31mred\x1b[0m text\r\n\x1b]2;my title\x07" "done \x1b[";

		kt_screen_feed(a, in, sizeof(in) - 1);
	}
	CHECK_EQ_INT(kt_screen_serialize(a, &kf, &kflen), 0);
	CHECK(kflen < 400);
	CHECK(memmem(kf, kflen, "my title", 8) != NULL);
	/* the held-back "\x1b[" is at the end */
	CHECK(kflen >= 2 && !memcmp(kf + kflen - 2, "\x1b[", 2));
	CHECK_EQ_INT(kt_screen_restore(5, 20, kf, kflen, &b), 0);
	kt_screen_text(a, &t1, NULL);
	kt_screen_text(b, &t2, NULL);
	CHECK_EQ_STR(t2, t1);
	kt_screen_feed(a, "1mX", 3);
	kt_screen_feed(b, "1mX", 3);
	CHECK(kt_screen_cell(b, 1, 5)->pen.attrs & KT_ATTR_BOLD);
	CHECK_EQ_INT(kt_screen_compare(a, b, NULL, 0), 0);
	free(t1);
	free(t2);
	free(kf);
	kt_screen_free(a);
	kt_screen_free(b);
}

int main(void)
{
	/* KT_SEED=n runs other streams (the default seed is what CI runs) */
	if (getenv("KT_SEED"))
		rng ^= strtoull(getenv("KT_SEED"), NULL, 0) * 0x9e3779b97f4a7c15ull;
	RUN(t_shell);
	RUN(t_ls_color);
	RUN(t_editor);
	RUN(t_random);
	RUN(t_resize_tail);
	RUN(t_keyframe_bytes);
	return kt_test_done();
}
