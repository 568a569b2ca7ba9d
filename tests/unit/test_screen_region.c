// SPDX-License-Identifier: Apache-2.0
/*
 * A scroll region that a resize leaves inverted (top at or below bottom).
 * libvterm clamps only the region's bottom to the new height, so a session
 * that set "CSI 20;24 r" and then shrank its window to 10 rows left
 * top=19, bottom=10; the next line feed at the bottom made libvterm's
 * scroll() memmove a negative size (ASan: negative-size-param).  The
 * terminal output and the window size are the recorded user's to choose,
 * so kt_screen_resize must leave a valid region.  fastvt (store/term/fv_*)
 * must agree with kt_screen cell for cell afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "screen.h"
#include "fastvt.h"

static void feed_both(struct kt_screen *s, struct fv *f, const char *b)
{
	CHECK_EQ_INT(kt_screen_feed(s, b, strlen(b)), 0);
	CHECK_EQ_INT(fv_feed(f, b, strlen(b)), 0);
}

static void t_resize_inverts_region(void)
{
	struct kt_screen *s = NULL;
	struct fv *f = NULL;
	char a[256], b[256];

	CHECK_EQ_INT(kt_screen_new(24, 80, &s), 0);
	CHECK_EQ_INT(fv_new(24, 80, &f), 0);
	if (!s || !f)
		goto out;
	feed_both(s, f, "\x1b[20;24r\x1b[24;1Hbottom");
	CHECK_EQ_INT(kt_screen_resize(s, 10, 80), 0);
	CHECK_EQ_INT(fv_resize(f, 10, 80), 0);
	/* line feeds at the bottom: scroll what the region now is */
	feed_both(s, f, "\x1b[10;1H\n\n\nafter\r\nmore");
	for (int r = 0; r < 10; r++) {
		CHECK(kt_screen_row_text(s, r, a, sizeof(a)) >= 0);
		CHECK(fv_row_text(f, r, b, sizeof(b)) >= 0);
		CHECK_EQ_STR(a, b);
	}
	CHECK(kt_screen_row_text(s, 9, a, sizeof(a)) >= 0);
	CHECK_EQ_STR(a, "more");
out:
	kt_screen_free(s);
	fv_free(f);
}

int main(void)
{
	RUN(t_resize_inverts_region);
	return kt_test_done();
}
