// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen_feed on arbitrary terminal output (a container writes whatever
 * it likes, and libvterm 0.1.4 has crashes and a hang on some of it; the
 * feed layer must keep them away).  Input: byte 0 rows, byte 1 cols (2..120), byte 2
 * how to cut the rest into feeds, then the output.  Properties checked,
 * abort() otherwise:
 *   - no crash, no hang (the REP loop), nothing out of bounds (ASan);
 *   - cursor inside the screen, every row's text within its bound;
 *   - fed whole or cut into pieces, the same text and cursor, for ASCII
 *     input (the feed layer holds back cut escape sequences; beyond ASCII,
 *     libvterm joins combining marks to a glyph in the last column only
 *     when both come in one write, a quirk no feed layer can undo);
 *   - a keyframe can be taken (or -EAGAIN inside an over-long sequence),
 *     restored, and taken again from the restored screen.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"

static int sink_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	if (!len || memchr(text, 0, len))
		abort(); /* lines are non-empty text */
	(*(size_t *)ctx) += len;
	return 0;
}

static bool ascii(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

static void check_bounds(struct kt_screen *s, int rows, int cols)
{
	char buf[64];
	int r, c;

	kt_screen_cursor(s, &r, &c, NULL);
	if (r < 0 || r >= rows || c < 0 || c >= cols)
		abort();
	for (int i = 0; i < rows; i++) {
		int n = kt_screen_row_text(s, i, buf, sizeof(buf));

		if (n < 0 || (size_t)n > (size_t)cols * KT_CELL_CHARS * 4)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_screen *whole = NULL, *cut = NULL, *back = NULL;
	uint8_t *kf = NULL, *kf2 = NULL;
	size_t kflen, kf2len, lines = 0;
	int rows, cols, step, err;

	if (size < 3)
		return 0;
	rows = 1 + data[0] % 40;
	cols = 2 + data[1] % 119;
	step = 1 + data[2] % 64;
	data += 3;
	size -= 3;
	if (kt_screen_new(rows, cols, &whole) || kt_screen_new(rows, cols, &cut))
		abort();
	kt_screen_set_line_cb(whole, sink_line, &lines);
	kt_screen_feed(whole, data, size);
	for (size_t o = 0; o < size; o += step)
		kt_screen_feed(cut, data + o, size - o < (size_t)step ? size - o : (size_t)step);
	check_bounds(whole, rows, cols);
	check_bounds(cut, rows, cols);
	if (!kt_screen_serialize(whole, &kf, &kflen) && ascii(data, size)) {
		char *t1 = NULL, *t2 = NULL;
		int r1, c1, r2, c2;

		kt_screen_text(whole, &t1, NULL);
		kt_screen_text(cut, &t2, NULL);
		kt_screen_cursor(whole, &r1, &c1, NULL);
		kt_screen_cursor(cut, &r2, &c2, NULL);
		if (!t1 || !t2 || strcmp(t1, t2) || r1 != r2 || c1 != c2) {
			fprintf(stderr, "fuzz_screen: split feeds differ\n");
			abort();
		}
		free(t1);
		free(t2);
	}
	free(kf);
	kf = NULL;

	err = kt_screen_serialize(whole, &kf, &kflen);
	if (err && err != -EAGAIN)
		abort();
	if (!err) {
		if (kt_screen_restore(rows, cols, kf, kflen, &back))
			abort();
		check_bounds(back, rows, cols);
		if (kt_screen_serialize(back, &kf2, &kf2len))
			abort();
	}
	free(kf);
	free(kf2);
	kt_screen_free(whole);
	kt_screen_free(cut);
	kt_screen_free(back);
	return 0;
}
