/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kt_screen: a terminal screen model for indexing and seeking.
 *
 * Bytes go through libvterm's parser and state layer (the escape sequence
 * semantics of a real terminal emulator); the cells live in our own model,
 * built for throughput: rows are an array of row pointers, so a full-screen
 * scroll rotates pointers instead of moving every cell (libvterm's own
 * screen layer memmoves the whole buffer per scroll and runs at 2-20 MB/s).
 *
 * What it gives:
 *   - cells (codepoints, width, attributes, colours) of the main and the
 *     alternate screen, cursor, pen, the modes that matter for a redraw;
 *   - lines as they leave the main screen (scrolled off the top, or wiped by
 *     a full-screen erase such as `clear`), autowrapped rows joined into one
 *     logical line, with the time the line was last written;
 *   - keyframes: a byte string of ordinary terminal sequences that redraws
 *     the same state on a fresh terminal of the same size (and restores the
 *     same kt_screen when fed to a fresh one).
 *
 * Limits (state libvterm keeps private, so no keyframe can carry it): tab
 * stops, G0-G3 charset designations and SO/SI shifts, a DECSC (ESC 7) saved
 * cursor (the one saved by entering the alternate screen is kept), mouse
 * reporting modes, and a combining character that arrives right after the
 * cut point with the cursor still just behind the glyph it belongs to.  The
 * pending-wrap flag (cursor on the "81st column") is tracked from libvterm's
 * callbacks; a cursor movement to the very cell the cursor is on clears it in
 * libvterm without a callback, so that one case is restored wrongly.  REP
 * and combining marks right after the cut use libvterm's last glyph, which
 * a keyframe writes again where it is; when that cell was since scrolled or
 * shifted away it cannot, and they may differ.  A UTF-8 character cut short
 * by anything but its continuation bytes shows as U+FFFD at once (libvterm
 * would keep it pending across escape sequences).  In origin mode a cursor
 * on a row outside the scroll region (only ESC 8 or a resize puts it there)
 * is restored clamped into the region.  libvterm joins a combining mark to
 * a glyph in the last column only when both arrive in one feed.  A width
 * change drops the wrap marks of the rows on the screen (libvterm does not
 * reflow): a line wrapped before it leaves the screen, or is searched, in
 * row-wide pieces; so does one wrapped on a 1-row screen.  Measured:
 * 0 mismatches in 4800 cuts of shell, ls and editor streams, 21 in 8000
 * cuts of random escape-sequence soup (tests/unit/test_keyframe.c, 40 seeds).
 *
 * Not thread-safe; one kt_screen per thread.  Functions return 0 or a
 * negative errno (libbpf style); free functions accept NULL.
 */
#ifndef KUBETAPE_SCREEN_H
#define KUBETAPE_SCREEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * Window sizes.  The kernel accepts any 16-bit rows x cols in TIOCSWINSZ
 * (0x0 on a pty nobody sized, 1 column after `stty cols 1`, 65535 rows), and
 * a recorded session can hold any of them; the screen model cannot: cells
 * are allocated (65535 x 65535 would be 100 GiB), and libvterm 0.1.4 puts
 * the cursor at column -1 on a double-width row 1 wide.  One rule, applied
 * by kt_screen_size_norm and by every function here that takes a size (so
 * the indexer, text export, replay, asciicast export and the web player all
 * see the same screen):
 *   - a dimension of 0 (or below) is "not set": 24 rows, 80 columns;
 *   - otherwise it is clamped into rows 1..1000, cols 2..1000.
 * A program that believes it has 2000 rows and addresses row 1500 is drawn
 * on row 1000 (libvterm clamps cursor addressing), so a hostile size can
 * make the model differ from what that terminal showed, never fail.
 */
#define KT_SCREEN_MAX_DIM 1000
#define KT_SCREEN_MIN_ROWS 1
#define KT_SCREEN_MIN_COLS 2
#define KT_SCREEN_DEFAULT_ROWS 24
#define KT_SCREEN_DEFAULT_COLS 80
#define KT_CELL_CHARS 4        /* base + up to 3 combining marks (more are dropped) */
/*
 * What both screen models feed themselves when a resize shrinks the rows:
 * DECSTBM with no arguments (the whole screen scrolls again), then CUP back
 * to the cursor's row and column (1-based).  libvterm keeps the region's
 * top across a shrink and clamps only its bottom, which can leave it
 * inverted (see kt_screen_resize).
 */
#define KT_SCREEN_REGION_RESET_FMT "\x1b[r\x1b[%d;%dH"

enum kt_color_type {
	KT_COLOR_DEFAULT = 0,
	KT_COLOR_INDEXED = 1, /* idx in r: 0-7 normal, 8-15 bright, 16-255 palette */
	KT_COLOR_RGB = 2,
};

struct kt_color {
	uint8_t type;   /* enum kt_color_type */
	uint8_t r, g, b;
};

enum kt_cell_attr {
	KT_ATTR_BOLD = 1 << 0,
	KT_ATTR_ITALIC = 1 << 1,
	KT_ATTR_BLINK = 1 << 2,
	KT_ATTR_REVERSE = 1 << 3,
	KT_ATTR_STRIKE = 1 << 4,
	KT_ATTR_PROTECTED = 1 << 5, /* DECSCA: survives selective erase */
};

/* The pen (current graphic rendition) and a cell's look. */
struct kt_pen {
	uint8_t attrs;      /* enum kt_cell_attr (PROTECTED only in cells) */
	uint8_t underline;  /* 0 none, 1 single, 2 double, 3 curly */
	uint8_t font;       /* 0-9 (SGR 10-19) */
	struct kt_color fg, bg;
};

struct kt_cell {
	/* ch[0] == 0: erased (shown blank, with the pen it was erased with);
	 * otherwise the glyph, combining marks after it, 0-terminated when
	 * shorter than KT_CELL_CHARS. */
	uint32_t ch[KT_CELL_CHARS];
	uint8_t width;      /* 1, 2 (wide glyph), 0 = right half of a wide glyph */
	struct kt_pen pen;
};

struct kt_screen;

/* rows x cols by the rule above (either output pointer may be NULL). */
void kt_screen_size_norm(long rows, long cols, int *nrows, int *ncols);

/* rows x cols go through kt_screen_size_norm: any size is accepted. */
int kt_screen_new(int rows, int cols, struct kt_screen **out);
void kt_screen_free(struct kt_screen *s);

/*
 * Feed terminal output.  Any bytes are accepted.  An escape sequence or
 * UTF-8 character cut at the end of `buf` is held back (up to 4 KiB) until
 * the rest arrives, so the screen is always at a clean point for a keyframe;
 * longer unfinished sequences (an endless OSC) pass through.  Returns the
 * first error a line callback returned, else 0.
 */
int kt_screen_feed(struct kt_screen *s, const void *buf, size_t len);
/*
 * To kt_screen_size_norm(rows, cols).  Rows lost off the top are emitted.
 * The cursor stays on its content and on the screen: when the rows above it
 * are not enough to lose, rows below it go too (emitted as lines first when
 * not blank, each row a line of its own).
 */
int kt_screen_resize(struct kt_screen *s, int rows, int cols);
void kt_screen_size(const struct kt_screen *s, int *rows, int *cols);

/* The time stamped on rows written from now on (the indexer's frame time). */
void kt_screen_set_time(struct kt_screen *s, int64_t ts_us);

/*
 * Called for each logical line leaving the main screen: scrolled off the
 * top (also by a resize), or erased by a full-width erase of two or more
 * rows (`clear`).  Single-row erases (progress bars redrawn in place) and
 * the alternate screen never emit.  `text` is UTF-8 without trailing blanks,
 * not NUL-terminated, never empty; ts_us is when it was last written.  A
 * non-zero return is kept and returned by kt_screen_feed/resize.
 */
typedef int (*kt_screen_line_cb)(const char *text, size_t len, int64_t ts_us, void *ctx);
void kt_screen_set_line_cb(struct kt_screen *s, kt_screen_line_cb cb, void *ctx);
/*
 * The visible screen's logical lines, top to bottom (blank ones skipped),
 * to the same callback signature: the final screen of a session.  Includes
 * the part of a wrapped line already scrolled off.  Does not change s.
 */
int kt_screen_visible_lines(struct kt_screen *s, kt_screen_line_cb cb, void *ctx);

/*
 * Text of one visible row: UTF-8, erased cells as spaces, trailing blanks
 * dropped, NUL-terminated.  Returns the full length (like snprintf), or
 * -EINVAL for a bad row.
 */
int kt_screen_row_text(const struct kt_screen *s, int row, char *buf, size_t size);
/* All visible rows joined with '\n', trailing blank rows dropped; malloc'd. */
int kt_screen_text(const struct kt_screen *s, char **out, size_t *len);

/* Visible cell, NULL outside the screen. */
const struct kt_cell *kt_screen_cell(const struct kt_screen *s, int row, int col);
void kt_screen_cursor(const struct kt_screen *s, int *row, int *col, bool *visible);
bool kt_screen_altscreen(const struct kt_screen *s);

/*
 * Keyframe: terminal sequences that, written to a fresh terminal of the same
 * size, redraw this state: reset, the main screen (and under it the alt
 * screen when active), line attributes, scroll region and margins, modes
 * (origin, autowrap, insert, newline, application cursor keys, bracketed
 * paste, reverse video), cursor, pen, cursor visibility/shape, title, then
 * any held-back partial sequence.  Row timestamps and wrap marks ride in a
 * private OSC 7717 that terminals ignore.  *out is malloc'd.  -EAGAIN while
 * an unfinished sequence too long to hold back is being passed through
 * (try again after more output).
 */
int kt_screen_serialize(struct kt_screen *s, uint8_t **out, size_t *len);
/* A fresh kt_screen of rows x cols (normalised) fed with keyframe bytes `kf`. */
int kt_screen_restore(int rows, int cols, const void *kf, size_t len,
		      struct kt_screen **out);

/*
 * 0 when a and b are equal cell by cell on the main screen and an active
 * alternate screen (glyphs, widths,
 * attributes, colours, line attributes) and in cursor, pending wrap, pen,
 * alt-screen state and modes; 1 otherwise, with the first difference
 * described in why (may be NULL).
 */
int kt_screen_compare(struct kt_screen *a, struct kt_screen *b, char *why, size_t whylen);

#endif
