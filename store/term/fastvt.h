/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fastvt: a terminal screen model for the indexer, without libvterm.
 *
 * Why: kt_screen (screen.h) runs every byte through libvterm's parser and
 * state layer; that layer alone tops out at 80-95 MB/s here and kt_screen at
 * 25-60 MB/s (bench/term_bench.c), so the worker spends a core on a chatty
 * session.  fastvt is one table-driven parser with a fast path for runs of
 * printable ASCII, writing straight into a flat cell grid of row pointers
 * (scrolls rotate pointers; rows know how far they were ever written, so a
 * scroll clears and a leaving line is read only as far as there is text).
 *
 * What it models is what kt_screen gives the index, and the same way: the
 * reference is kt_screen itself (libvterm 0.1.4 plus kt_screen's feed layer
 * guards), and tests/fuzz/fuzz_term_diff.c compares the two on random and
 * recorded streams with resizes: every visible cell (glyph, combining marks,
 * width, attributes, colours), the cursor, the alternate screen flag, every
 * line leaving the main screen (text and time stamp) and the final visible
 * lines.  Sizes follow kt_screen_size_norm.
 *
 * Divergences from the reference (kept rare; none changes ASCII text):
 *   - a "run" of text is what lies between two controls or escape
 *     sequences in one feed; libvterm's runs also end at its 4 KiB write
 *     slices, so a combining mark that is the first character after such a
 *     slice boundary, behind a glyph in the last column, joins here and
 *     stands alone there;
 *   - the title (OSC 0/2, carried by keyframes) is taken from one OSC as
 *     written; libvterm pieces an OSC broken by a control byte or a write
 *     boundary together in a 64-byte buffer, and such a title may differ;
 *     answers to queries (DA, DSR, DECRQSS) are not modelled (the index
 *     never shows them);
 *   - SS2/SS3 before a non-ASCII character: libvterm decodes its bytes
 *     through the G2/G3 set one byte at a time; here it is plain UTF-8;
 *   - an SGR 38/48 that is the last parameter reads libvterm's stale
 *     parameter array; here the array is kept the same way, but a CSI that
 *     libvterm's feed guard cancelled may have left other stale values;
 *   - the wrap mark (two rows of one logical line) is set when text wraps;
 *     kt_screen infers it from where the next glyph lands, which differs
 *     when a scroll happens between a glyph in the last column and the
 *     wrap it causes (IND/LF at the bottom with a pending wrap).
 * fuzz_term_diff reports any other difference as a failure.
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
