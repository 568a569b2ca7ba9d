/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to store/term/: the kt_screen object and the helpers its parts
 * share (see screen.h for what the model gives and its limits).
 *
 * The terminal model in four files, along screen.h's three parts:
 *   - screen_feed.c, the feed layer: a small mirror of libvterm's parser
 *     that steps over escape sequences only (text is skipped with memchr).
 *     It holds back a sequence or UTF-8 character cut at the end of a feed,
 *     tracks the few things libvterm keeps private that a keyframe must
 *     carry (insert and newline mode, charset designations, the DECSC saved
 *     cursor), and keeps hostile input away from libvterm 0.1.4's memory
 *     bugs (the list is in screen_feed.c);
 *   - screen_vterm.c, libvterm's state callbacks, which keep the cells:
 *     rows are pointers, so a full-width scroll rotates pointers; and
 *     kt_screen_new/free, which wire them;
 *   - screen.c, the cells: row helpers, text of rows and logical lines, the
 *     line callback, and the read accessors;
 *   - screen_keyframe.c, keyframe serialization, restore and comparison.
 * screen_size.c holds the one window-size rule.
 */
#ifndef KUBETAPE_SCREEN_INT_H
#define KUBETAPE_SCREEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vterm.h>

#include "screen.h"

#define HOLD_MAX 4096        /* longest sequence held back across feeds */
#define VT_SLICE 4096        /* libvterm's on_text puts uint32_t[len] on the stack */
#define LINE_MAX_BYTES 16384 /* a longer wrapped logical line is emitted in pieces */
#define CSI_SEPS_MAX 15      /* libvterm 0.1.4 has csi_args[16] and no bound check */
#define TITLE_MAX 256
#define KT_ATTR_ODD 0x80     /* glyph libvterm gave width < 1: cursor resync on redraw */
#define KT_OSC_META "\x1b]7717;kt1;"

enum scan_state {
	SC_NORMAL, SC_ESC, SC_CSI_LEADER, SC_CSI_ARGS, SC_CSI_INTER, SC_STRING, SC_ESC_IN_STRING,
};

/* What the feed layer tracks about the sequence being stepped over. */
struct scan {
	uint8_t st;
	uint8_t leader, nleader, inter, ninter, nsep;
	bool dcs;               /* the string is a DCS (else an OSC) */
	uint8_t nsb, sb[6];     /* its first bytes, as libvterm buffers them */
	int32_t param[CSI_SEPS_MAX + 1];
};

struct row {
	int64_t ts;        /* when a glyph was last written */
	bool wrapped;      /* autowrapped: the logical line continues below */
	struct kt_cell cells[];
};

/*
 * The last glyph libvterm put: its pending wrap (phantom column), autowrap
 * marks, and what REP repeats and a combining mark joins (libvterm's private
 * combine_chars, brought back in a keyframe by writing the glyph again).
 */
struct last_glyph {
	bool has;               /* any glyph yet */
	bool valid;             /* no cursor move since */
	bool edge;              /* it reached the row's end */
	int row, col;           /* as libvterm's cursor saw it */
	int crow;               /* its row in the cells, followed through scrolls */
	int end, rw;            /* column after it, row width */
	int w;                  /* libvterm's width (REP advances by it) */
	uint32_t ch[KT_CELL_CHARS];
};

struct saved_cursor {
	bool valid;
	int row, col;
	struct kt_pen pen;
	bool visible, blink;
	int shape;
};

struct kt_screen {
	VTerm *vt;
	VTermState *vs;
	int rows, cols;
	struct row **buf[2];    /* main, alternate */
	struct row **rowtmp;
	int cur;                /* 0 main, 1 alternate */
	struct kt_pen pen;
	bool visible, blink, reverse;
	int shape;
	char title[TITLE_MAX];
	size_t title_len;
	struct saved_cursor saved;
	/* tracked by the feed layer (libvterm has no query for them) */
	bool insert, newline, lrmm, ckm, origin, autowrap, paste;
	uint8_t charset[4];     /* designated G0..G3 final byte, 0 = default */
	bool table_cs;          /* one of them is DEC graphics or UK */

	struct last_glyph g;

	int64_t now;
	kt_screen_line_cb line_cb;
	void *line_ctx;
	int cb_err;
	char *pend;             /* wrapped rows already off the screen */
	size_t pend_len;
	int64_t pend_ts;
	char *tmp;              /* one row of text */

	uint8_t hold[HOLD_MAX];
	size_t hold_len, hold_need; /* need: UTF-8 bytes expected (SC_NORMAL hold) */
	bool passthru;          /* libvterm is inside an unfinished long sequence */
	int broken;             /* -ENOMEM in a resize: the model is unusable */
	bool esc_pending;       /* an ESC not yet given to libvterm (vt_write) */
	struct scan sc;

	char *reply;            /* answers to our mode queries */
	size_t reply_len, reply_cap;
	bool capture;
};

static const struct kt_pen default_pen;

static inline int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- cells (inline: every glyph the feed puts goes through them) ---- */
static inline void scr_cell_erase(struct kt_cell *c, const struct kt_pen *pen)
{
	memset(c->ch, 0, sizeof(c->ch));
	c->width = 1;
	c->pen = *pen;
	c->pen.attrs &= ~(KT_ATTR_PROTECTED | KT_ATTR_ODD);
}

static inline bool scr_cell_default_blank(const struct kt_cell *c)
{
	return !c->ch[0] && c->width == 1 && !memcmp(&c->pen, &default_pen, sizeof(default_pen));
}

static inline void scr_row_clear(struct row *r, int cols, const struct kt_pen *pen)
{
	for (int i = 0; i < cols; i++)
		scr_cell_erase(&r->cells[i], pen);
	r->wrapped = false;
	r->ts = 0;
}

/*
 * No half wide glyphs: at the boundary between col-1 and col, a wide glyph
 * whose right half was replaced, or a right half whose glyph is gone, is
 * erased (what a terminal shows).  Keeps redraws exact: a keyframe never
 * has to reproduce an orphan half.
 */
static inline void scr_fix_wide(struct row *r, int col, int cols)
{
	if (col > 0 && col <= cols) {
		struct kt_cell *l = &r->cells[col - 1];

		if (l->width == 2 && (col == cols || r->cells[col].width != 0))
			scr_cell_erase(l, &l->pen);
	}
	if (col >= 0 && col < cols) {
		struct kt_cell *c = &r->cells[col];

		if (c->width == 0 && (col == 0 || r->cells[col - 1].width != 2))
			scr_cell_erase(c, &c->pen);
	}
}

/* ---- cells and text (screen.c) ---- */
struct row *scr_row_new(int cols);
/* One codepoint as UTF-8 at o (text: invalid ones as U+FFFD); its length. */
size_t scr_utf8_put(char *o, uint32_t cp, bool text);
/* A row's text, trailing blanks dropped (not NUL-terminated); its length. */
size_t scr_row_text(const struct row *r, int cols, char *dst);
/* To the line callback (the first error it returns is kept). */
void scr_emit(struct kt_screen *s, const char *text, size_t len, int64_t ts);
/* A main-screen row leaving the screen: joined to a wrapped line or emitted. */
void scr_leave_row(struct kt_screen *s, struct row *r);

/* ---- libvterm callbacks (screen_vterm.c) ---- */
/* Remember the cursor, pen and cursor look, as DECSC does. */
void scr_save_cursor(struct kt_screen *s);

#endif
