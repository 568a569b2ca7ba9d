// SPDX-License-Identifier: Apache-2.0
/* Column-aligned output (see table.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "humanfmt.h"
#include "table.h"

#define TBL_GAP 2
#define TBL_FLEX_MIN 12   /* never clip the flexible column below this */

void tbl_init(struct tbl *t, struct tbl_col *cols, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

void tbl_free(struct tbl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols + t->cur_col; i++)
		free(t->cells[i].text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int tbl_cell(struct tbl *t, const char *text)
{
	struct tbl_cell *c;
	size_t n;

	if (t->cur_col == 0 && t->nrows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 64;
		void *p = realloc(t->cells, cap * t->ncols * sizeof(*t->cells));

		if (!p)
			return -ENOMEM;
		t->cells = p;
		t->cap_rows = cap;
	}
	text = text ? text : "";
	n = strlen(text);
	c = &t->cells[t->nrows * t->ncols + t->cur_col];
	c->alert = false;
	/* worst case every byte becomes "\xNN" */
	c->text = malloc(n * 4 + 1);
	if (!c->text)
		return -ENOMEM;
	hf_sanitize(text, n, c->text, n * 4 + 1);
	if (++t->cur_col == t->ncols) {
		t->cur_col = 0;
		t->nrows++;
	}
	return 0;
}

int tbl_cellf(struct tbl *t, const char *fmt, ...)
{
	char small[128], *buf = NULL;
	va_list ap;
	int n, err;

	/* most cells (ids, names) fit on the stack: no allocation */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if ((size_t)n < sizeof(small))
		return tbl_cell(t, small);
	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	err = tbl_cell(t, buf);
	free(buf);
	return err;
}

void tbl_alert_last(struct tbl *t)
{
	size_t i = t->nrows * t->ncols + t->cur_col;

	if (i)
		t->cells[i - 1].alert = true;
}

/* Bytes of s that fit in `cols` columns (code points). */
static size_t clip_bytes(const char *s, size_t cols)
{
	size_t i = 0, w = 0;

	while (s[i]) {
		size_t l = 1;

		while (((unsigned char)s[i + l] & 0xc0) == 0x80)
			l++;
		if (w + 1 > cols)
			break;
		w++;
		i += l;
	}
	return i;
}

/* n spaces (fprintf's "%*s" costs a format parse per cell) */
static void pad(FILE *out, size_t n)
{
	static const char spaces[] = "                                                                ";

	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		fwrite(spaces, 1, k, out);
		n -= k;
	}
}

static void put_cell(FILE *out, const char *s, size_t avail, enum tbl_align align,
		     bool fill_right, bool alert)
{
	size_t w = hf_width(s), n = strlen(s), fill;
	bool clipped = w > avail;

	if (clipped) {
		n = clip_bytes(s, avail > 3 ? avail - 3 : 0);
		w = avail > 3 ? avail - 3 : 0;
	}
	fill = avail > w + (clipped ? 3 : 0) ? avail - w - (clipped ? 3 : 0) : 0;
	if (align == TBL_RIGHT)
		pad(out, fill);
	if (alert)
		fputs("\033[1;31m", out);
	fwrite(s, 1, n, out);
	if (clipped)
		fputs(avail >= 3 ? "..." : "", out);
	if (alert)
		fputs("\033[0m", out);
	if (align == TBL_LEFT && fill_right)
		pad(out, fill);
}

int tbl_print(const struct tbl *t, FILE *out, size_t width, bool color)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	size_t total = 0, last = 0, flex = t->ncols;
	int err = 0;

	if (!w)
		return -ENOMEM;
	for (size_t c = 0; c < t->ncols; c++) {
		if (t->cols[c].hidden)
			continue;
		w[c] = hf_width(t->cols[c].header);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t cw = hf_width(t->cells[r * t->ncols + c].text);

			if (cw > w[c])
				w[c] = cw;
		}
		total += w[c] + (total ? TBL_GAP : 0);
		last = c;
		if (t->cols[c].flex)
			flex = c;
	}
	/* shrink the flexible column so a row fits the terminal */
	if (width && total > width && flex < t->ncols) {
		size_t over = total - width;

		w[flex] = w[flex] > over + TBL_FLEX_MIN ? w[flex] - over :
			  (w[flex] < TBL_FLEX_MIN ? w[flex] : TBL_FLEX_MIN);
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		const struct tbl_cell *row = r ? &t->cells[(r - 1) * t->ncols] : NULL;
		size_t end = last;
		bool first = true;

		/* stop after the last non-empty cell: no trailing blanks */
		while (row && end > 0 && (t->cols[end].hidden || !row[end].text[0]))
			end--;
		for (size_t c = 0; c <= end; c++) {
			if (t->cols[c].hidden)
				continue;
			if (!first)
				pad(out, TBL_GAP);
			first = false;
			put_cell(out, row ? row[c].text : t->cols[c].header, w[c],
				 t->cols[c].align, c != end, row && row[c].alert && color);
		}
		fputc('\n', out);
	}
	if (ferror(out))
		err = -EIO;
	free(w);
	return err;
}

size_t tbl_term_width(int fd)
{
	struct winsize ws;

	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) || !ws.ws_col)
		return 0;
	return ws.ws_col;
}

bool tbl_use_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fd) && !(nc && *nc);
}
