// SPDX-License-Identifier: Apache-2.0
/*
 * Screen render rate of the store: kt_screen (libvterm 0.1.4's parser and
 * state layer behind store/term/screen*.c, the reference) against fastvt
 * (store/term/fastvt.h, what the store renders with), on the same bytes
 * fed the way the worker feeds them: one feed per recorded write (frames of at most 4 KiB), the clock set
 * per frame, a line callback taking every line that leaves the screen.
 *
 *   term_bench MIB [CORPUS_DIR [REPS]]
 *
 * Workloads: four generated ones (seq: `seq`, short lines; base64: full
 * 78-column lines; ls-color: SGR-dense short names; editor: alternate
 * screen, CUP + EL per row, colours, a scroll region), MIB MiB each, and
 * bench/corpus.py's timed streams in CORPUS_DIR (shell, logs, editor,
 * random: their output events, replayed until MIB MiB went through).
 * Rates are MB per CPU second of the thread (the worker's cost; steadier
 * than wall time on a shared machine).  Each model runs each workload REPS
 * times (default 3), alternating; the best run counts.  Prints one line
 * per workload:
 *   name bytes kt_MBps fv_MBps kt_lines fv_lines same
 * `same` is 1 when both gave the same lines and final screen text (the
 * figures are only worth reading then).
 *
 * Where the time went (perf, 4 KiB feeds, 2026-12-06): kt_screen on base64
 * spent 38% in libvterm (UTF-8 decoding into a codepoint array, then a
 * callback per glyph), 24% in cb_putglyph and 5% in fix_wide (a 28-byte
 * cell and two boundary checks per glyph), 8% in row_text (every leaving
 * row read cell by cell) and 3% in clearing scrolled-in rows; on seq 19%
 * in the scroll callback clearing 80 cells for a 7-byte line and 15% in
 * row text.  libvterm's state layer alone, with no-op callbacks, caps at
 * 80-95 MB/s.  fastvt after the rewrite: seq is per-line bound (put_ascii
 * 15%, scroll 14% rotating pointers, row text 9%, the parser 10%); ls-color
 * spends its time on SGR (the pen templates are rebuilt once per text run).
 * Second pass (issue 14, all workloads >= 200): see bench/RESULTS.md,
 * "Profile: screen model".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "screen.h"
#include "term/fastvt.h"

struct frame {
	size_t off, len;
	int64_t ts;
};

struct work {
	char *p;
	size_t len, cap;
	struct frame *f;
	size_t nf, capf;
};

static double now(void)
{
	struct timespec ts;

	/* CPU time of this thread: what the worker pays, and steadier than
	 * wall time on a machine shared with other builds */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put(struct work *w, const char *s, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2;
		w->p = realloc(w->p, w->cap);
		if (!w->p)
			exit(1);
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* Generated output goes in 4 KiB frames, 1 ms apart. */
static void frames_4k(struct work *w)
{
	for (size_t o = 0; o < w->len; o += 4096) {
		if (w->nf == w->capf) {
			w->capf = w->capf * 2 + 64;
			w->f = realloc(w->f, w->capf * sizeof(*w->f));
			if (!w->f)
				exit(1);
		}
		w->f[w->nf++] = (struct frame){ o, w->len - o < 4096 ? w->len - o : 4096,
						(int64_t)w->nf * 1000 };
	}
}

static void gen_seq(struct work *w, size_t want)
{
	char b[32];

	for (unsigned long i = 1; w->len < want; i++)
		put(w, b, (size_t)snprintf(b, sizeof(b), "%lu\r\n", i));
}

static void gen_base64(struct work *w, size_t want)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	uint32_t x = 1;

	while (w->len < want) {
		for (int i = 0; i < 76; i++) {
			x = x * 1103515245 + 12345;
			line[i] = a[(x >> 16) & 63];
		}
		line[76] = '\r';
		line[77] = '\n';
		put(w, line, 78);
	}
}

static void gen_ls(struct work *w, size_t want)
{
	char b[128];

	for (int n = 0; w->len < want;) {
		put(w, b, (size_t)snprintf(b, sizeof(b), "\x1b[0m\x1b[01;%dmfile_%05d.txt\x1b[0m  ",
					   31 + n % 6, n));
		if (++n % 5 == 0)
			put(w, "\r\n", 2);
	}
}

static void gen_editor(struct work *w, size_t want)
{
	char b[256];

	put(w, "\x1b[?1049h\x1b[H\x1b[2J", 16);
	for (int frame = 0; w->len < want; frame++) {
		for (int r = 1; r <= 23 && w->len < want; r++)
			put(w, b, (size_t)snprintf(b, sizeof(b),
				 "\x1b[%d;1H\x1b[K\x1b[33m%4d \x1b[0m\x1b[1;34mint\x1b[0m x%d = "
				 "\x1b[35m%d\x1b[0m; \x1b[32m/* line %d of frame %d */\x1b[0m",
				 r, frame * 23 + r, r, frame * r, r, frame));
		put(w, b, (size_t)snprintf(b, sizeof(b), "\x1b[1;23r\x1b[23;1H\n\n\n\x1b[r"
					  "\x1b[24;1H\x1b[7m-- INSERT -- frame %d\x1b[0m\x1b[K", frame));
	}
	put(w, "\x1b[?1049l", 8);
}

/* corpus.py's event file: u8 type, i64 ts_us, u32 len, data (LE). */
static int load_ev(struct work *w, const char *path, size_t want)
{
	FILE *f = fopen(path, "rb");
	char *raw = NULL;
	size_t n = 0, cap = 0, k;
	int64_t base = 0, last = 0;

	if (!f)
		return -1;
	for (;;) {
		if (n + 65536 > cap) {
			cap = (n + 65536) * 2;
			raw = realloc(raw, cap);
			if (!raw)
				exit(1);
		}
		k = fread(raw + n, 1, 65536, f);
		if (!k)
			break;
		n += k;
	}
	fclose(f);
	while (w->len < want) {
		size_t before = w->len;

		for (size_t o = 0; o + 13 <= n;) {
			uint8_t type = (uint8_t)raw[o];
			int64_t ts;
			uint32_t len;

			memcpy(&ts, raw + o + 1, 8);
			memcpy(&len, raw + o + 9, 4);
			o += 13;
			if (len > n - o)
				break;
			if (type == 'o' && len) {
				if (w->nf == w->capf) {
					w->capf = w->capf * 2 + 64;
					w->f = realloc(w->f, w->capf * sizeof(*w->f));
					if (!w->f)
						exit(1);
				}
				w->f[w->nf++] = (struct frame){ w->len, len, base + ts };
				put(w, raw + o, len);
				last = base + ts;
			}
			o += len;
		}
		if (w->len == before)
			break; /* no output at all */
		base = last + 1000000;
	}
	free(raw);
	return 0;
}

struct sink {
	size_t lines;
	uint64_t hash;
};

static int on_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	struct sink *k = ctx;

	k->lines++;
	for (size_t i = 0; i < len; i++)
		k->hash = (k->hash ^ (uint8_t)text[i]) * 1099511628211ull;
	k->hash = (k->hash ^ (uint64_t)ts) * 1099511628211ull;
	return 0;
}

static double run_kt(const struct work *w, struct sink *k, char **text)
{
	struct kt_screen *s;
	double t;

	memset(k, 0, sizeof(*k));
	if (kt_screen_new(24, 80, &s))
		exit(1);
	kt_screen_set_line_cb(s, on_line, k);
	t = now();
	for (size_t i = 0; i < w->nf; i++) {
		kt_screen_set_time(s, w->f[i].ts);
		kt_screen_feed(s, w->p + w->f[i].off, w->f[i].len);
	}
	t = now() - t;
	kt_screen_text(s, text, NULL);
	kt_screen_free(s);
	return w->len / t / 1e6;
}

static double run_fv(const struct work *w, struct sink *k, char **text)
{
	struct fv *s;
	double t;

	memset(k, 0, sizeof(*k));
	if (fv_new(24, 80, &s))
		exit(1);
	fv_set_line_cb(s, on_line, k);
	t = now();
	for (size_t i = 0; i < w->nf; i++) {
		fv_set_time(s, w->f[i].ts);
		fv_feed(s, w->p + w->f[i].off, w->f[i].len);
	}
	t = now() - t;
	fv_text(s, text, NULL);
	fv_free(s);
	return w->len / t / 1e6;
}

static int reps = 3;

static void bench(const char *name, const struct work *w)
{
	double kt = 0, fv = 0;
	struct sink a, b;
	char *ta = NULL, *tb = NULL;

	for (int r = 0; r < reps; r++) {
		double x;

		free(ta);
		free(tb);
		x = run_kt(w, &a, &ta);
		kt = x > kt ? x : kt;
		x = run_fv(w, &b, &tb);
		fv = x > fv ? x : fv;
	}
	printf("%s %zu %.1f %.1f %zu %zu %d\n", name, w->len, kt, fv, a.lines, b.lines,
	       a.lines == b.lines && a.hash == b.hash && !strcmp(ta, tb));
	fflush(stdout);
	free(ta);
	free(tb);
}

int main(int argc, char **argv)
{
	size_t want = (argc > 1 ? strtoul(argv[1], NULL, 10) : 32) << 20;
	static const struct {
		const char *name;
		void (*fn)(struct work *, size_t);
	} gen[] = {
		{ "seq", gen_seq }, { "base64", gen_base64 },
		{ "ls-color", gen_ls }, { "editor", gen_editor },
	};
	static const char *const corpora[] = { "shell", "logs", "editor", "random" };

	if (argc > 3 && atoi(argv[3]) > 0)
		reps = atoi(argv[3]);

	for (size_t i = 0; i < sizeof(gen) / sizeof(gen[0]); i++) {
		struct work w = { 0 };

		gen[i].fn(&w, want);
		frames_4k(&w);
		bench(gen[i].name, &w);
		free(w.p);
		free(w.f);
	}
	for (size_t i = 0; argc > 2 && i < sizeof(corpora) / sizeof(corpora[0]); i++) {
		struct work w = { 0 };
		char path[4096], name[64];

		snprintf(path, sizeof(path), "%s/%s.ev", argv[2], corpora[i]);
		snprintf(name, sizeof(name), "corpus-%s", corpora[i]);
		if (load_ev(&w, path, want)) {
			fprintf(stderr, "term_bench: cannot read %s\n", path);
			return 1;
		}
		bench(name, &w);
		free(w.p);
		free(w.f);
	}
	return 0;
}
