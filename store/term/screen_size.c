// SPDX-License-Identifier: Apache-2.0
/*
 * The one rule for a recorded window size (store/screen.h explains it):
 * every reader of a session (indexer, text and asciicast export, replay, the
 * web player) sizes its screen through here, so a size the kernel accepted
 * (0, 1, 65535) is drawn the same way everywhere and never fails a review.
 */
#include "screen.h"

static int norm1(long v, int lo, int def)
{
	if (v <= 0)
		return def;
	if (v < lo)
		return lo;
	return v > KT_SCREEN_MAX_DIM ? KT_SCREEN_MAX_DIM : (int)v;
}

void kt_screen_size_norm(long rows, long cols, int *nrows, int *ncols)
{
	if (nrows)
		*nrows = norm1(rows, KT_SCREEN_MIN_ROWS, KT_SCREEN_DEFAULT_ROWS);
	if (ncols)
		*ncols = norm1(cols, KT_SCREEN_MIN_COLS, KT_SCREEN_DEFAULT_COLS);
}
