/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fastvt internals, shared by its files only:
 *   fv_feed.c   the parser (bytes to text runs, controls, sequences)
 *   fv_exec.c   what controls, ESC, CSI and SGR sequences do
 *   fv_grid.c   the cells: glyphs, resize, leaving lines
 *   fv_scroll.c erase and scroll
 *   fv_read.c   life cycle, text and accessors
 *   fv_keyframe.c  keyframes in kt_screen's format, restore
 *   fv_width.c  libvterm's character widths
 *   fv_title.c  OSC/DCS strings as libvterm's writes cut them, the title
 * Every rule that mirrors libvterm 0.1.4 (state.c, pen.c, parser.c) or
 * kt_screen's feed layer (store/screen.c) says so where it is.
 */
#ifndef KUBETAPE_FV_INT_H
#define KUBETAPE_FV_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "fastvt.h"

#define FV_LINE_MAX 16384      /* as kt_screen: longer wrapped lines go in pieces */
#define FV_NARGS 20            /* libvterm keeps 16; SGR may look two past the last */
#define FV_ARG_MISSING 0x7fffffffL
#define FV_ARG_MORE (1L << 31)
#define FV_ATTR_ODD 0x80       /* kt_screen's mark: a glyph libvterm gave width < 1 */
#define FV_LI_DWL 1
#define FV_LI_DHL_TOP 2
#define FV_LI_DHL_BOTTOM 4
#define FV_STRBUF 64           /* libvterm 0.1.4's strbuffer_len */
#define FV_PIECE 260           /* a string piece's bytes that can matter: "0;",
				* 255 of title and the one after (UTF-8 cut) */

struct fv_row {
	int64_t ts;        /* when a glyph was last written */
	int hw;            /* cells at hw and beyond are `fill` (fv_grid.c) */
	bool wrapped;      /* autowrapped: the logical line continues below */
	bool mixed;        /* may hold a cell other than 1-wide ASCII or a blank
			    * (else its text is one byte per cell: fv_row_text_k) */
	bool fill_default; /* fill is the default blank */
	struct kt_cell fill;  /* the blank the row was last cleared to its end with */
	struct kt_cell cells[];
};

enum fv_pstate { FV_GROUND, FV_ESC, FV_CSI_LEADER, FV_CSI_ARGS, FV_CSI_INTER, FV_STRING,
		 FV_ESC_IN_STRING };

struct fv_cursor_save {        /* libvterm's DECSC state (zeroed at start, as there) */
	int row, col;
	struct kt_pen pen;
	bool visible, blink;
	int shape;
};

struct fv {
	int rows, cols;
	struct fv_row **buf[2];    /* main, alternate: rows 0..rows-1, a window that
				    * slides forward in mem[b] (fv_scroll.c) */
	struct fv_row **mem[2];    /* their allocations, cap pointers each */
	int cap;
	struct fv_row **rowtmp;
	int cur;
	int row, col;
	bool phantom;              /* libvterm's at_phantom: pending wrap */
	struct kt_pen pen;
	struct kt_cell glyph;      /* template: the pen as a written cell */
	struct kt_cell blank;      /* template: the pen as an erased cell */
	bool pen_default;          /* blank is a default blank */
	bool pen_dirty;            /* the templates are behind the pen */
	bool protected_cell;
	bool visible, blink, reverse;
	int shape;
	bool insert, newline, autowrap, origin, lrmm, ckm, paste, keypad;
	int top, bottom, left, right;  /* libvterm's: bottom/right -1 = the edge */
	uint8_t *tabs;
	uint8_t cs[4];             /* designated final byte; 0 = UTF-8 (after RIS) */
	int gl, gsingle;
	struct fv_cursor_save sv;
	bool kt_saved;             /* kt_screen's saved cursor (resize keeps its row) */
	int kt_saved_row, kt_saved_col;

	/* libvterm's last glyph of a text run: what a combining mark joins */
	uint32_t comb[KT_CELL_CHARS];
	int comb_w, comb_row, comb_col;
	bool run;                  /* a glyph was written in this text run */
	int run_row, run_col;      /* the cursor where the run started; -1: none */
	uint8_t run_dec;           /* the run's decoder (fv_feed.c) */
	bool last_high;            /* the run's last character was UTF-8 */
	/* kt_screen's last glyph (struct last_glyph there): wrap marks, REP */
	bool g_has, g_valid;
	int g_row, g_col, g_crow, g_end, g_rw, g_w;
	uint32_t g_ch[KT_CELL_CHARS];
	uint8_t *li;               /* libvterm's line info per row: 1 DWL, 2/4 DHL top/bottom */
	bool li_any;               /* some row ever had line info (else li is all 0) */

	/* parser */
	uint8_t ps;
	uint8_t nleader, leader, ninter, inter;
	int argi;
	long args[FV_NARGS];
	uint8_t utf_need, utf_have;  /* UTF-8 character being collected */
	uint8_t utf_buf[6];
	/* an OSC/DCS string as libvterm's writes cut it (fv_title.c) */
	char str[2 * FV_PIECE];    /* the piece since the last control */
	size_t cut;                /* where this feed's bytes begin in str */
	char sb[FV_STRBUF];        /* libvterm's strbuffer: this feed held too */
	size_t nsb;
	char sby[FV_STRBUF];       /* ... this feed a write of its own */
	size_t nsby;
	char title[256];           /* OSC 0/2, as kt_screen keeps it */
	size_t title_len;
	uint8_t hold[4096];        /* the unfinished sequence chain, raw (keyframes) */
	size_t hold_len;
	size_t chain_len;          /* bytes of the unfinished sequence chain */
	bool passthru;             /* longer than kt_screen holds back */
	size_t nctl;
	uint8_t ctlq[4096];        /* controls inside it, run when it ends */
	size_t nstr;
	bool dcs;

	int64_t now;
	kt_screen_line_cb line_cb;
	void *line_ctx;
	int cb_err;
	int broken;
	char *pend;                /* wrapped rows already off the screen */
	size_t pend_len;
	int64_t pend_ts;
	char *tmp;                 /* one row of text */
};

/* libvterm reports a cursor move (movecursor): kt_screen's last glyph is no
 * longer just behind the cursor unless the cursor is back on it. */
static inline void fv_moved(struct fv *s)
{
	if (s->row != s->g_row || s->col != s->g_col)
		s->g_valid = false;
}

/* Row pointers allocated per buffer: the window of rows slides forward one
 * pointer per line feed at the bottom of the screen and moves back to the
 * start of the allocation when it reaches the end, once per cap - rows
 * such line feeds (fv_scroll.c). */
static inline int fv_buf_cap(int rows)
{
	return 4 * rows + 64;
}

static inline int fv_clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline int fv_bottom(const struct fv *s)
{
	return s->bottom > -1 ? s->bottom : s->rows;
}

static inline int fv_left(const struct fv *s)
{
	return s->lrmm ? s->left : 0;
}

static inline int fv_right(const struct fv *s)
{
	return s->lrmm && s->right > -1 ? s->right : s->cols;
}

static inline int fv_rowwidth(const struct fv *s, int row)
{
	return (s->li[row] & FV_LI_DWL) ? s->cols / 2 : s->cols;
}

/* fv_width.c */
bool fv_is_combining(uint32_t cp);
int fv_width(uint32_t cp);

/* fv_grid.c */
void fv_pen_sync(struct fv *s);

static inline void fv_pen_changed(struct fv *s)
{
	s->pen_dirty = true;
}
void fv_fix_wide_slow(struct fv_row *r, int col, int cols);

/* Called twice per text run and per erase: the common case (no wide glyph
 * or right half at the boundary) is decided inline. */
static inline void fv_fix_wide(struct fv_row *r, int col, int cols)
{
	if ((col > 0 && col <= cols && col - 1 < r->hw && r->cells[col - 1].width == 2) ||
	    (col >= 0 && col < cols && col < r->hw && r->cells[col].width == 0))
		fv_fix_wide_slow(r, col, cols);
}

void fv_leave_row(struct fv *s, struct fv_row *r);
void fv_put_ascii(struct fv *s, const uint8_t *p, size_t n);
void fv_put_glyph(struct fv *s, const uint32_t *chars, int width, int row, int col);
void fv_text_cp(struct fv *s, uint32_t cp);

/* fv_scroll.c */
void fv_erase(struct fv *s, int r0, int r1, int c0, int c1, bool selective);
void fv_scroll(struct fv *s, int r0, int r1, int c0, int c1, int down, int right);
void fv_linefeed(struct fv *s);

int fv_resize_grid(struct fv *s, int rows, int cols);
struct fv_row *fv_row_new(int cols);
void fv_row_fill(struct fv_row *r, int upto);
void fv_free_rows(struct fv_row **rows, int n);
void fv_free_buf(struct fv *s, int b);
void fv_emit(struct fv *s, const char *text, size_t len, int64_t ts);
size_t fv_row_text_k(const struct fv_row *r, int cols, char *dst, bool keep);
size_t fv_line_part(const struct fv_row *r, int cols, char *dst);

/* fv_exec.c */
void fv_control(struct fv *s, uint8_t c);
void fv_escape(struct fv *s, uint8_t final);
void fv_csi(struct fv *s, uint8_t final);
void fv_reset(struct fv *s);
void fv_tabs_default(struct fv *s, int from);

/* fv_title.c */
void fv_str_start(struct fv *s, bool dcs);
void fv_str_byte(struct fv *s, uint8_t c);
void fv_str_piece(struct fv *s);
void fv_str_feed(struct fv *s);
void fv_str_feed_end(struct fv *s);
void fv_str_done(struct fv *s);

#endif
