/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Column-aligned text tables.  Rows are buffered (widths depend on every
 * row), then printed with two spaces between columns.  One column may be
 * marked flexible: when a width limit is given (stdout is a terminal) it is
 * clipped with "..." so rows never wrap.
 *
 * Cells are copied and sanitized (see hf_sanitize), so recorded text can be
 * passed in directly.
 */
#ifndef KUBETAPE_REPLAY_TABLE_H
#define KUBETAPE_REPLAY_TABLE_H

#include <stdbool.h>
#include <stdio.h>

enum tbl_align { TBL_LEFT = 0, TBL_RIGHT = 1 };

struct tbl_col {
	const char *header;
	enum tbl_align align;
	bool flex;     /* the one column that is clipped to fit the width */
	bool hidden;   /* skipped on output (e.g. LOST when nothing was lost) */
};

struct tbl_cell {
	char *text;
	bool alert;    /* printed bold red when colors are on */
};

struct tbl {
	struct tbl_col *cols;
	size_t ncols;
	struct tbl_cell *cells; /* nrows * ncols */
	size_t nrows, cap_rows;
	size_t cur_col;         /* next cell of the row being added */
};

/* `cols` must outlive the table (typically a static array). */
void tbl_init(struct tbl *t, struct tbl_col *cols, size_t ncols);
void tbl_free(struct tbl *t);

/* Appends the next cell of the current row; a row is complete after ncols
 * cells.  Returns 0 or -ENOMEM. */
int tbl_cell(struct tbl *t, const char *text);
int tbl_cellf(struct tbl *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks the cell just added. */
void tbl_alert_last(struct tbl *t);

/*
 * Prints header and rows.  width 0 = unlimited.  color: wrap alert cells in
 * ANSI bold red.  The last visible column is never padded (no trailing
 * spaces).  Returns 0 or -errno of the write.
 */
int tbl_print(const struct tbl *t, FILE *out, size_t width, bool color);

/* Terminal width of fd if it is a terminal, else 0 (= do not clip). */
size_t tbl_term_width(int fd);
/* Colors on fd: a terminal and $NO_COLOR unset. */
bool tbl_use_color(int fd);

#endif
