/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fastvt: the store's terminal screen model, without libvterm.
 *
 * Why: kt_screen (screen.h) runs every byte through libvterm's parser and
 * state layer, whose no-op callbacks alone top out at 80-95 MB/s here;
 * kt_screen renders at 15-60 MB/s, so the index worker spends a core on a
 * chatty session.  fastvt is one table-driven parser with a fast path for
 * runs of printable ASCII, writing straight into a flat cell grid of row
 * pointers: a scroll rotates pointers, rows know how far they were ever
 * written (clearing one costs nothing, a leaving line is read only as far
 * as it has text), the pen is a template cell.  bench/term.sh: 5-8 times
 * kt_screen's rate on the same bytes, 200-350 MB/s (bench/RESULTS.md,
 * "Profile: screen model"; the machine is shared).  Everything in the store
 * that renders renders with it: the index writer and the screen-text search
 * verification (store/index/index_render.c), seeking without a keyframe
 * (store/reader.c, the redraw the CLI and web players draw) and the text
 * export (store/export/text.c).  kt_screen stays as the reference the tests
 * hold fastvt to; its keyframes and fastvt's come from one writer
 * (keyframe.c).
 *
 * What it models is what kt_screen gives the index, and the same way: the
 * reference is kt_screen itself (libvterm 0.1.4 plus kt_screen's feed-layer
 * guards, quirks included: only the first mode of a CSI h/l, a pending wrap
 * a line feed at the bottom keeps, controls inside a sequence held back
 * across feeds run when it ends, the zeroed DECSC state, the stale SGR
 * arguments).  tests/unit/test_fastvt.c and tests/fuzz/fuzz_term_diff.c
 * compare the two on random and recorded streams with resizes: every
 * visible cell (glyph, combining marks, width, attributes, colours), the
 * cursor, the alternate screen flag, every line leaving the main screen
 * (text and time stamp), the final visible lines, and keyframes (the same
 * bytes, restored alike).  Sizes follow kt_screen_size_norm.
 *
 * Known divergences from the reference (none was hit by those tests; all
 * but the resize one leave ASCII text alone):
 *   - a "run" of text is what lies between two controls or escape
 *     sequences in one feed; kt_screen also cuts a feed longer than 4 KiB
 *     into 4 KiB writes anywhere, so there a combining mark right after
 *     the cut, behind a glyph in the last column, stands alone, and a
 *     UTF-8 character cut in two comes out as U+FFFD (a kt_screen bug that
 *     also garbles non-ASCII text of keyframes over 4 KiB on restore);
 *   - the title of an OSC string inside a feed over 4 KiB may differ:
 *     kt_screen's 4 KiB writes end the string's piece in progress there
 *     (libvterm keeps a string only within a write and in a 64-byte buffer
 *     across controls; fv_title.c follows that, and the hold across feeds,
 *     but not where the 4 KiB cuts fall);
 *   - a resize that takes rows away while a sequence over 4 KiB is being
 *     passed through: kt_screen writes its region reset into libvterm
 *     inside that sequence, which ends it (what follows is text); fastvt
 *     runs the reset aside and the sequence goes on (found 2026-12-07 by
 *     hand, not by the tests; this one changes text);
 *   - a character other than printable ASCII after SS2/SS3 naming a
 *     designated set goes through that set as libvterm's GR decoding does
 *     for its first byte only as far as tested;
 *   - answers to queries (DA, DSR, DECRQSS, DECRQM) are not produced (the
 *     index never shows them; libvterm's go nowhere in kt_screen either).
 *
 * Not thread-safe; one fv per thread.  Functions return 0 or a negative
 * errno (libbpf style); fv_free accepts NULL.
 */
#ifndef KUBETAPE_FASTVT_H
#define KUBETAPE_FASTVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "screen.h"

struct fv;

/* rows x cols go through kt_screen_size_norm: any size is accepted. */
int fv_new(int rows, int cols, struct fv **out);
void fv_free(struct fv *s);

/* Any bytes; an unfinished sequence or character continues with the next
 * feed.  Returns the first error a line callback returned, else 0. */
int fv_feed(struct fv *s, const void *buf, size_t len);
/* As kt_screen_resize (rows leaving are emitted, the cursor stays). */
int fv_resize(struct fv *s, int rows, int cols);
void fv_size(const struct fv *s, int *rows, int *cols);
void fv_set_time(struct fv *s, int64_t ts_us);

/* As kt_screen_set_line_cb / kt_screen_visible_lines. */
void fv_set_line_cb(struct fv *s, kt_screen_line_cb cb, void *ctx);
int fv_visible_lines(struct fv *s, kt_screen_line_cb cb, void *ctx);

int fv_row_text(const struct fv *s, int row, char *buf, size_t size);
int fv_text(const struct fv *s, char **out, size_t *len);
const struct kt_cell *fv_cell(const struct fv *s, int row, int col);
void fv_cursor(const struct fv *s, int *row, int *col, bool *visible);
bool fv_altscreen(const struct fv *s);

/*
 * Keyframes in kt_screen's format (screen.h: kt_screen_serialize), so
 * kt_screen_restore and fv_restore both take them.  -EAGAIN while an
 * unfinished sequence too long to carry is being passed through.
 */
int fv_serialize(struct fv *s, uint8_t **out, size_t *len);
int fv_restore(int rows, int cols, const void *kf, size_t len, struct fv **out);

#endif
