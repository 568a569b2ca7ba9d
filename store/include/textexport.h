/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `text` export format: what the terminal displayed, as text.  OUT and
 * RESIZE frames go through the store's screen model (fastvt, screen.h's rules), each line is written as
 * it leaves the screen (scrolled off, or wiped by a clear) with the offset
 * at which it was last written, then, at the end, the lines of the final
 * screen.  A recorded loss is a "[kubetape: N bytes lost here]" line.
 * Full-screen programs on the alternate screen (vim, less, top) leave no
 * lines: only their effect on the main screen shows.  Memory: one screen
 * and one line.
 *
 * The caller supplies how a line's bytes are made safe to print and how an
 * offset is written (struct kt_text_ops), so the text matches the rest of
 * its output (the CLI passes hf_sanitize and tf_format_offset).
 * Functions return 0 or a negative errno (-EIO: the FILE failed, errno
 * says why; -ENOMEM).
 */
#ifndef KUBETAPE_STORE_TEXTEXPORT_H
#define KUBETAPE_STORE_TEXTEXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kt_frame;
struct fv;
struct kt_session_info;

struct kt_text_ops {
	/* n bytes a program drew -> a NUL-terminated printable string in buf
	 * (cap >= n * 4 + 1: every byte may grow to an escape of 4) */
	char *(*sanitize)(const char *s, size_t n, char *buf, size_t cap);
	/* microseconds since the session start -> text in buf */
	char *(*offset)(int64_t us, char *buf, size_t len);
};

struct kt_text {
	FILE *out;
	int64_t start_us;
	const struct kt_text_ops *ops;
	struct fv *scr;
	char *buf;     /* sanitized line */
	size_t cap;
	int err;       /* a line callback's error, returned through feed */
};

/* A screen of the session's size (any size: screen.h's rule). */
int kt_text_init(struct kt_text *t, FILE *out, const struct kt_session_info *s,
		 const struct kt_text_ops *ops);
/* One stored frame: OUT, RESIZE and GAP count, others are skipped. */
int kt_text_frame(struct kt_text *t, const struct kt_frame *f);
/* "--- final screen ---" and the visible lines. */
int kt_text_finish(struct kt_text *t);
/* Accepts a zeroed or freed *t. */
void kt_text_free(struct kt_text *t);

#endif
