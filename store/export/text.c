// SPDX-License-Identifier: Apache-2.0
/* The `text` export format: screen lines as they scroll (textexport.h). */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "satint.h"
#include "screen.h"
#include "term/fastvt.h"
#include "store.h"
#include "textexport.h"

static int text_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct kt_text *t = ctx;
	char off[32];

	if (len * 4 + 1 > t->cap) {
		char *b = realloc(t->buf, len * 4 + 1);

		if (!b)
			return t->err = -ENOMEM;
		t->buf = b;
		t->cap = len * 4 + 1;
	}
	/* the model's text is what a program drew: keep escapes out */
	t->ops->sanitize(text, len, t->buf, t->cap);
	if (fprintf(t->out, "%s %s\n",
		    t->ops->offset(kt_sub_sat(ts_us, t->start_us), off, sizeof(off)), t->buf) < 0)
		return t->err = -EIO;
	return 0;
}

/* A line callback's error comes back from the screen as whatever it
 * returns: the callback's own is the one that says why. */
static int text_err(const struct kt_text *t, int err)
{
	return t->err && (!err || err == -EIO) ? t->err : err;
}

int kt_text_init(struct kt_text *t, FILE *out, const struct kt_session_info *s,
		 const struct kt_text_ops *ops)
{
	int err;

	assert(ops && ops->sanitize && ops->offset);
	*t = (struct kt_text){ .out = out, .start_us = s->start_us, .ops = ops };
	err = fv_new(s->rows, s->cols, &t->scr); /* any size: screen.h's rule */
	if (err)
		return err;
	fv_set_line_cb(t->scr, text_line, t);
	fv_set_time(t->scr, s->start_us);
	return 0;
}

int kt_text_frame(struct kt_text *t, const struct kt_frame *f)
{
	uint64_t bytes = 0, events = 0;
	uint16_t cols, rows;
	char off[32];

	switch (f->type) {
	case KT_FRAME_OUT:
		fv_set_time(t->scr, f->ts_us);
		return text_err(t, fv_feed(t->scr, f->data, f->len));
	case KT_FRAME_RESIZE:
		if (kt_frame_resize_parse(f, &cols, &rows))
			return 0;
		fv_set_time(t->scr, f->ts_us);
		return text_err(t, fv_resize(t->scr, rows, cols));
	case KT_FRAME_GAP:
		/* the reader warns on stderr; marked in the text too */
		t->ops->offset(kt_sub_sat(f->ts_us, t->start_us), off, sizeof(off));
		if (kt_frame_gap_parse(f, &bytes, &events))
			return fprintf(t->out, "%s [kubetape: data lost here]\n", off) < 0 ? -EIO : 0;
		return fprintf(t->out, "%s [kubetape: %llu bytes lost here]\n", off,
			       (unsigned long long)bytes) < 0 ? -EIO : 0;
	default:
		return 0;
	}
}

int kt_text_finish(struct kt_text *t)
{
	if (fputs("--- final screen ---\n", t->out) == EOF)
		return text_err(t, -EIO);
	return text_err(t, fv_visible_lines(t->scr, text_line, t));
}

void kt_text_free(struct kt_text *t)
{
	fv_free(t->scr);
	free(t->buf);
	t->scr = NULL;
	t->buf = NULL;
	t->cap = 0;
}
