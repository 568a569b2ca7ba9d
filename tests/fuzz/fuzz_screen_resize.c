// SPDX-License-Identifier: Apache-2.0
/*
 * Resizes mixed with output, at any size a window can have (the kernel
 * takes any 16-bit rows x cols: 0, 1, 65535): a recorded user can
 * `stty rows 0 cols 1` or resize to 65535 in between any output.  The
 * input is a script of operations:
 *   op & 0x80, op & 0x40: resize to the next two u16 (rows, cols; LE), raw
 *   op & 0x80 only:       resize to small sizes from the next two bytes
 *                         (0..63 each: 0, 1 and the edges come often)
 *   otherwise:            feed the next (op & 0x3f) + 1 bytes of output
 * Properties, abort() otherwise:
 *   - every resize succeeds and the size is kt_screen_size_norm's;
 *   - the cursor is on the screen after every step (no negative row);
 *   - every row's text is within its bound; lines are non-empty text;
 *   - a keyframe taken at the end (screens up to 100k cells) restores at
 *     that size, with the cursor
 *     in the same place and the same screen text (ASCII output: beyond it
 *     screen.h lists the known differences).
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
		abort();
	return 0;
}

static void check(struct kt_screen *s, int rows, int cols)
{
	char buf[32];
	int r, c;

	kt_screen_size(s, &r, &c);
	if (r != rows || c != cols)
		abort();
	kt_screen_cursor(s, &r, &c, NULL);
	if (r < 0 || r >= rows || c < 0 || c >= cols)
		abort();
	for (int i = 0; i < rows; i += 1 + rows / 16) {
		int n = kt_screen_row_text(s, i, buf, sizeof(buf));

		if (n < 0 || (size_t)n > (size_t)cols * KT_CELL_CHARS * 4)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_screen *s = NULL, *back = NULL;
	const uint8_t *p = data, *end = data + size;
	bool ascii = true;
	uint8_t *kf = NULL;
	size_t kflen;
	int rows, cols, nresize = 0, err;

	for (size_t i = 0; i < size; i++)
		ascii &= data[i] < 0x80;
	if (kt_screen_new(24, 80, &s))
		abort();
	kt_screen_set_line_cb(s, sink_line, NULL);
	kt_screen_size_norm(24, 80, &rows, &cols);
	while (p < end) {
		uint8_t op = *p++;

		if (op & 0x80) {
			long r, c;

			if (op & 0x40) {
				if (end - p < 4)
					break;
				r = p[0] | p[1] << 8;
				c = p[2] | p[3] << 8;
				p += 4;
				/* one huge screen per input at most: 1000x1000
				 * cells is ~70 MB, and speed is coverage */
				if (++nresize > 1)
					continue;
			} else {
				if (end - p < 2)
					break;
				r = p[0] % 64;
				c = p[1] % 64;
				p += 2;
			}
			if (kt_screen_resize(s, (int)r, (int)c))
				abort();
			kt_screen_size_norm(r, c, &rows, &cols);
		} else {
			size_t n = (size_t)(op & 0x3f) + 1;

			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
			kt_screen_feed(s, p, n);
			p += n;
		}
		check(s, rows, cols);
	}
	/* the keyframe round trip on screens up to 100k cells (fast enough to
	 * run on most inputs; the sizes themselves are clamped the same way) */
	err = (long)rows * cols <= 100000 ? kt_screen_serialize(s, &kf, &kflen) : -EAGAIN;
	if (err && err != -EAGAIN)
		abort();
	if (!err) {
		if (kt_screen_restore(rows, cols, kf, kflen, &back))
			abort();
		check(back, rows, cols);
		if (ascii) {
			char *t1 = NULL, *t2 = NULL;
			int r1, c1, r2, c2;

			kt_screen_cursor(s, &r1, &c1, NULL);
			kt_screen_cursor(back, &r2, &c2, NULL);
			if (kt_screen_text(s, &t1, NULL) || kt_screen_text(back, &t2, NULL))
				abort();
			if (r1 != r2 || c1 != c2 || strcmp(t1, t2)) {
				fprintf(stderr, "fuzz_screen_resize: keyframe differs\n");
				abort();
			}
			free(t1);
			free(t2);
		}
	}
	free(kf);
	kt_screen_free(s);
	kt_screen_free(back);
	return 0;
}
