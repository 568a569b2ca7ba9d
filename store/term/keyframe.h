/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one keyframe writer (screen.h: kt_screen_serialize's format), shared
 * by both screen models: fastvt (fv_keyframe.c), which the store renders
 * with, and kt_screen (screen_keyframe.c), libvterm's model, the reference
 * the differential tests hold fastvt to.  Each model fills a struct kf_src
 * with its state (cells through a callback, everything else by value) and
 * keyframe.c draws it; restoring is feeding the bytes to a fresh model and
 * then kf_meta_parse for the private OSC.  Private to store/term/.
 */
#ifndef KUBETAPE_TERM_KEYFRAME_H
#define KUBETAPE_TERM_KEYFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "screen.h"

#define KF_OSC_META "\x1b]7717;kt1;"
#define KF_ATTR_ODD 0x80   /* a glyph libvterm gave width < 1 (both models' mark) */
#define KF_LI_DWL 1        /* line attributes: double width */
#define KF_LI_DHL_TOP 2    /* double height, top half (implies DWL) */
#define KF_LI_DHL_BOTTOM 4 /* double height, bottom half (implies DWL) */
#define KF_SHAPE_BLOCK 1   /* = libvterm's VTERM_PROP_CURSORSHAPE_* */
#define KF_SHAPE_UNDERLINE 2
#define KF_SHAPE_BAR 3

/* Scroll region, margins and the modes a redraw sets (DECRQM-like: 1 set). */
struct kf_modes {
	int ckm, origin, autowrap, lrmm, paste, screen;
	int top, bottom, left, right;   /* 1-based, inclusive */
	int protected;
};

struct kf_src {
	int rows, cols;
	int cur;                        /* 0 main, 1 alternate screen active */
	const void *m;                  /* the model, for the callbacks */
	/* buffer b's row: cols cells, every one real (no lazy blanks) */
	const struct kt_cell *(*cells)(const void *m, int b, int row);
	uint8_t (*lineinfo)(const void *m, int row);     /* KF_LI_* */
	void (*row_meta)(const void *m, int row, int64_t *ts, bool *wrapped); /* main */
	struct kf_modes modes;
	int crow, ccol;                 /* cursor */
	bool phantom;                   /* pending wrap at the cursor */
	/* libvterm's last glyph (what REP repeats, a combining mark joins) */
	bool g_has, g_edge;
	int g_row, g_col, g_w;
	uint32_t g_ch[KT_CELL_CHARS];
	bool insert, newline;
	struct kt_pen pen;
	bool visible, blink;
	int shape;                      /* KF_SHAPE_* */
	bool saved;                     /* a cursor saved by 1048/1049 or ESC 7 */
	int saved_row, saved_col;
	struct kt_pen saved_pen;
	bool saved_visible, saved_blink;
	int saved_shape;
	const uint8_t *charset;         /* [4]: designated G0..G3 final, 0 none */
	const char *title;
	size_t title_len;
	const char *pend;               /* a wrapped line already off the screen */
	size_t pend_len;
	int64_t pend_ts;
	const uint8_t *hold;            /* an unfinished sequence, carried raw */
	size_t hold_len;
};

/* The keyframe bytes for src; *out malloc'd.  0 or -ENOMEM. */
int kf_write(const struct kf_src *src, uint8_t **out, size_t *len);

/*
 * The private OSC at the start of a keyframe: row(ctx, i, ts, wrapped) for
 * each main-screen row it names (i < rows), the wrapped line already off
 * the screen into pend (printable bytes only, at most pend_max).  Returns
 * the bytes it used, 0 when kf does not start with it.
 */
size_t kf_meta_parse(const char *kf, size_t len, int rows,
		     void (*row)(void *ctx, int i, int64_t ts, bool wrapped), void *ctx,
		     int64_t *pend_ts, char *pend, size_t *pend_len, size_t pend_max);

bool kf_pen_eq(const struct kt_pen *a, const struct kt_pen *b);
/* UTF-8 as libvterm decodes it back (5- and 6-byte forms included). */
size_t kf_utf8_raw(char *o, uint32_t cp);

#endif
