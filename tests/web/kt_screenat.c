// SPDX-License-Identifier: Apache-2.0
/*
 * kt_screenat: the screen a session shows at given offsets, as the store
 * renders it (store/screen.h fed every OUT and RESIZE frame with
 * ts <= start + offset, from the session's start; no keyframe involved), so
 * the browser test can compare the web player's terminal against an
 * independent rendering.
 *
 *   kt_screenat DB ID OFFSET_US...
 *
 * prints one JSON line per offset: {"offset_us":N,"rows":R,"cols":C,
 * "lines":["row 0 text", ...]} with trailing blanks dropped per row.  GAP
 * frames draw nothing here (the player writes a notice for them: compare
 * sessions without loss).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "screen.h"
#include "store.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static int render(struct kt_store *st, const struct kt_session_info *si, int64_t off)
{
	struct kt_stream *stream = NULL;
	struct kt_screen *scr = NULL;
	struct kt_frame f;
	/* kt_screen_new/resize apply the size rule (store/screen.h) the
	 * server applies to what it sends the player */
	int rows = si->rows, cols = si->cols, r = 0, err;
	char line[8192];

	err = kt_screen_new(rows, cols, &scr) ?: kt_stream_open(st, si->id, 0, &stream);
	while (!err && (r = kt_stream_next(stream, &f)) == 1 && f.ts_us <= si->start_us + off) {
		uint16_t c, rw;

		if (f.type == KT_FRAME_OUT)
			err = kt_screen_feed(scr, f.data, f.len);
		else if (f.type == KT_FRAME_RESIZE && !kt_frame_resize_parse(&f, &c, &rw))
			err = kt_screen_resize(scr, rw, c);
	}
	if (!err && r < 0)
		err = r;
	if (err)
		goto cleanup;
	kt_screen_size(scr, &rows, &cols);
	printf("{\"offset_us\":%lld,\"rows\":%d,\"cols\":%d,\"lines\":[", (long long)off, rows, cols);
	for (int i = 0; i < rows; i++) {
		if (kt_screen_row_text(scr, i, line, sizeof(line)) < 0)
			line[0] = 0;
		if (i)
			putchar(',');
		json_str(line);
	}
	printf("]}\n");
cleanup:
	kt_stream_close(stream);
	kt_screen_free(scr);
	return err;
}

int main(int argc, char **argv)
{
	struct kt_session_info si;
	struct kt_store *st = NULL;
	int err;

	kt_log_init("kt_screenat", KT_LOG_WARN);
	if (argc < 4) {
		fprintf(stderr, "usage: kt_screenat DB ID OFFSET_US...\n");
		return 2;
	}
	err = kt_store_open(argv[1], KT_STORE_RDONLY, &st) ?:
	      kt_store_session_get(st, strtoll(argv[2], NULL, 10), &si);
	for (int i = 3; !err && i < argc; i++)
		err = render(st, &si, strtoll(argv[i], NULL, 10));
	kt_store_close(st);
	if (err)
		fprintf(stderr, "kt_screenat: %s\n", strerror(-err));
	return err ? 1 : 0;
}
