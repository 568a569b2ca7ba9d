// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screen_restore on arbitrary keyframe bytes (a corrupt or hostile
 * keyframes row or screen_index state in the database), including the
 * private OSC 7717 that carries row stamps and the pending line.  Input:
 * byte 0 rows, byte 1 cols (2..120), then the keyframe.  Properties, abort()
 * otherwise: restore succeeds on any bytes, the cursor is on the screen,
 * the visible lines are non-empty text, and the restored screen can be
 * serialized again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"

static int check_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	if (!len || memchr(text, 0, len))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_screen *s = NULL;
	uint8_t *kf = NULL;
	size_t kflen;
	int rows, cols, r, c, err;

	if (size < 2)
		return 0;
	rows = 1 + data[0] % 40;
	cols = 2 + data[1] % 119;
	if (kt_screen_restore(rows, cols, data + 2, size - 2, &s))
		abort();
	kt_screen_cursor(s, &r, &c, NULL);
	if (r < 0 || r >= rows || c < 0 || c >= cols)
		abort();
	if (kt_screen_visible_lines(s, check_line, NULL))
		abort();
	err = kt_screen_serialize(s, &kf, &kflen);
	if (err && err != -EAGAIN)
		abort();
	free(kf);
	kt_screen_free(s);
	return 0;
}
