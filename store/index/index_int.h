/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The screen index: a session's OUT and RESIZE frames rendered through the
 * store's screen model (fastvt, index_render.c), giving keyframes (seeking without replaying from the start)
 * and a search index over what was displayed.  Schema v2 in schema.c; the
 * tables and their meaning in FORMAT.md, "Screen index".
 *
 * Why blocks: one row and one FTS document per screen line made the index
 * ~100x the size of the compressed recording.  Text is indexed in blocks,
 * the lines that left the screen between two keyframes: since schema v8 as
 * the block's set of trigram codes (index_set.c; v2-v7: one document of a
 * contentless trigram FTS5 table, still searched for those blocks), with
 * one FTS5 row per group of closed blocks as the coarse level
 * (index_group.c).  A search turns its words into trigrams, finds the
 * blocks holding all of them (a superset; index_cand.c), and verifies each
 * candidate by rendering it again from its keyframe: only lines that really contain every word are reported, with
 * the time and text the re-rendering gives.  A block spans at most one
 * keyframe interval (1 MiB of output), so one candidate costs at most one
 * keyframe restore and 1 MiB of rendering.
 *
 * The block still being filled (lines since the last keyframe) is "open":
 * its lines wait in screen_pending (text, line number, time) and search
 * reads them directly, so output is searchable as soon as it is indexed,
 * not only once a keyframe or the session end closes its block.  Closing a
 * block writes its trigram set from those rows and deletes them.
 *
 * kt_index_session renders outside any transaction and writes what it
 * found in short ones (one per MiB of output, and one per keyframe), so the
 * recorder, the other writer, is never held up by rendering.  Each write
 * transaction also moves the session's screen_index row: the position
 * reached, the open block and the screen there as a keyframe, so a run that
 * dies between transactions redoes exactly the frames after that.  Should
 * screen_index be lost anyway, the redo renders the same blocks again:
 * blocks are numbered per session (screen_blocks.seq), closed ones are left
 * alone and an open one's pending lines are rewritten, so nothing is
 * indexed twice.
 *
 * The files, by job (private to store/index/):
 *   index_write.c   kt_index_session / kt_index_pending: rendering a
 *                   session forward and writing keyframes, blocks and
 *                   pending lines (the only writer of the index tables);
 *   index_seek.c    kt_stream_open_at: the keyframe at or before a time;
 *   index_search.c  kt_store_screen_search: the query, candidate blocks
 *                   (SQL) and verifying them;
 *   index_render.c  the rendering the writer and search share, no SQL:
 *                   the session's first screen, one frame, a span of
 *                   frames re-rendered from a keyframe;
 *   index_blob.c    the bytes the index stores, no SQL: line text rules,
 *                   the screen_pending encoding, keyframe compression;
 *   index_set.c     trigram codes and sets, their blobs, no SQL;
 *   index_group.c   sets into groups, the groups' screen_gfts rows, prune;
 *   index_cand.c    search's closed candidate blocks on a node store;
 *   index_fts.c     merging screen_gfts's segments.
 */
#ifndef KUBETAPE_INDEX_INT_H
#define KUBETAPE_INDEX_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "satint.h"
#include "screen.h"

#define KF_EVERY_BYTES (1u << 20)        /* a keyframe per MiB of output */
#define KF_EVERY_US (30 * 1000000LL)     /* or per 30 s of session time */
/*
 * ... but never two within 256 KiB: a keyframe ends a search block, and
 * each block stores its own copy of every trigram it shares with the
 * others, so a slow session (a shell: ~100 KB in an hour) cut every 30 s
 * paid for its index several times over (bench/results/20-storage.md).
 * Seeking renders at most KF_EVERY_BYTES from a keyframe either way.
 */
#define KF_MIN_BYTES (256u << 10)
#define TXN_BYTES (1u << 20)             /* output rendered per write transaction */
#define DEFAULT_BUDGET (4u << 20)
#define KF_RAW_MAX (16u << 20)           /* largest keyframe a reader accepts */
/* search hit id = block id << LINE_BITS | line number within the block */
#define LINE_BITS 24
#define BLOCK_LINES_MAX ((1 << LINE_BITS) - 1)
/* sequence numbers and byte offsets read back from the store: far above
 * anything real, low enough that the indexer's sums cannot overflow */
#define KT_DB_SEQ_MAX ((int64_t)1 << 56)
#ifndef ENCODED_RUN_MIN /* overridable to measure its effect (bench/screen_index_size.c) */
#define ENCODED_RUN_MIN 48               /* see encoded_line() */
#endif
#define QUERY_TRIGRAMS_MAX 32            /* FTS terms per query, see squery_make() */


/* ---- growable byte buffer and stored text (index_blob.c) ---- */
struct buf {
	char *p;
	size_t len, cap;
};

static inline int ix_buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline int ix_buf_put(struct buf *b, const void *data, size_t len)
{
	int err = ix_buf_reserve(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static inline int ix_buf_varint(struct buf *b, uint64_t v)
{
	uint8_t t[KT_VARINT_MAX];

	return ix_buf_put(b, t, kt_varint_put(t, v));
}

/* A line as stored and searched: invalid UTF-8 replaced; in *scratch. */
int ix_sanitize(struct buf *scratch, const char *text, size_t len, size_t *out);
/* A line carrying an encoded blob, never indexed (see index_blob.c). */
bool ix_encoded_line(const char *t, size_t len);

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* One line of a screen_pending blob (index_blob.c explains the walk). */
int ix_pending_next(const uint8_t **p, const uint8_t *end, int64_t *line, int64_t *ts,
		    const char **text, size_t *len);
/* Each line of one screen_pending blob of block `id` (lines numbered from
 * first_line) to cb, which returns non-zero to stop (returned); -EBADMSG,
 * logged, for a corrupt blob.  p may be NULL for an empty blob. */
typedef int (*ix_line_cb)(int64_t line, int64_t ts, const char *text, size_t len, void *ctx);
int ix_pending_walk(struct kt_store *st, int64_t id, const uint8_t *p, size_t n,
		    int64_t first_line, ix_line_cb cb, void *ctx);

/* Keyframe blobs: zstd level 3 out; as stored (codec, raw_len) -> malloc'd. */
struct ZSTD_CCtx_s;
/* the store's zstd context (NULL: none, use ZSTD_compress), and one
 * compression with it at `level` (ZSTD_compress's result) */
struct ZSTD_CCtx_s *ix_cctx(struct kt_store *st);
size_t ix_zstd(struct ZSTD_CCtx_s *cctx, void *dst, size_t cap, const void *src, size_t len,
	       int level);
int ix_zcompress(struct kt_store *st, const void *raw, size_t len, void **out, size_t *zlen);
int ix_zdecompress(struct kt_store *st, int codec, int64_t raw_len, const void *z,
		   size_t zlen, uint8_t **out);

/* ---- positions ---- */
/*
 * (chunk, frame) positions in stream order.  A position is the session
 * frame number chunk_seq + frame_index (FORMAT.md): the same point may be
 * written relative to a chunk that compaction has since merged into an
 * earlier one, so compare the sums, never the pairs.
 */
static inline int ix_pos_cmp(int64_t ca, uint32_t fa, int64_t cb, uint32_t fb)
{
	int64_t a = kt_add_sat(ca, fa), b = kt_add_sat(cb, fb);

	return a < b ? -1 : a > b;
}

/* ---- rendering with fastvt, no SQL (index_render.c) ---- */
struct fv;
int ix_screen_fresh(const struct kt_session_info *s, struct fv **out);
int ix_render_frame(struct fv *scr, const struct kt_frame *f);
/*
 * Render the session's frames from position (cs, fi) through (end_cs,
 * end_fi) into scr, skipping corrupt chunks as the indexer does; lines
 * leave through scr's line callback.  Stops early once *stop is set (by
 * that callback).  *rendered (may be NULL) grows by the OUT bytes fed.
 */
int ix_render_span(struct kt_store *st, int64_t sid, struct fv *scr, int64_t cs,
		   uint32_t fi, int64_t end_cs, uint32_t end_fi, const bool *stop,
		   int64_t *rendered);

/* ---- one-off statements (index_write.c) ---- */
int ix_prep(struct kt_store *st, const char *sql, sqlite3_stmt **q);
int ix_step_done(struct kt_store *st, sqlite3_stmt *q);
/* index_fts.c: merge screen_gfts's segments after a document, inside the
 * write transaction */
int ix_fts_merge(struct kt_store *st);
/* ix_pending_walk over every screen_pending row of block `id`, in line
 * order; `what` names the caller in an SQL error. */
int ix_pending_rows(struct kt_store *st, int64_t id, const char *what, ix_line_cb cb, void *ctx);

/* ---- trigram sets (index_set.c, no SQL but the tokenizer lookup) ---- */
/* codes in one stored set, a reader's bound: a block is ~1 MiB of output
 * (KF_EVERY_BYTES), so ~1M distinct trigrams at most */
#define IX_SET_MAX (1u << 24)
#define IX_CODE_MAX ((1ull << 21) + (0x10FFFFull << 42 | 0x10FFFFull << 21 | 0x10FFFFull))
uint64_t ix_tri_code(uint32_t a, uint32_t b, uint32_t c);
/* code -> its 3 code points, or -EBADMSG; -> UTF-8 (NUL-terminated), its length */
int ix_tri_chars(uint64_t code, uint32_t cp[3]);
int ix_tri_text(uint64_t code, char out[13]);
struct ix_tri_set;
/* db: whose FTS5 trigram tokenizer folds non-ASCII lines (may be NULL
 * when only ASCII text or codes are added) */
int ix_tri_set_new(sqlite3 *db, struct ix_tri_set **out);
void ix_tri_set_free(struct ix_tri_set *s);
void ix_tri_set_clear(struct ix_tri_set *s);
int ix_tri_set_line(struct ix_tri_set *s, const char *text, size_t len);
int ix_tri_set_code(struct ix_tri_set *s, uint64_t code);
/* the set so far, sorted, each code once (valid until the next add/clear) */
const uint64_t *ix_tri_set_codes(struct ix_tri_set *s, size_t *n);
/* sorted distinct codes <-> a screen_sets blob; decode: -EBADMSG for a
 * corrupt blob (the caller logs it with its context), *codes malloc'd */
int ix_set_encode(struct ZSTD_CCtx_s *cctx, const uint64_t *codes, size_t n, struct buf *out);
int ix_set_decode(const void *blob, size_t len, uint64_t **codes, size_t *n);
bool ix_set_has_all(const uint64_t *codes, size_t n, const uint64_t *want, size_t nwant);

/* ---- groups of closed blocks (index_group.c), inside the write transaction ---- */
/* block `id` of session sid closed with this set: its screen_sets row, in
 * the session's open group (made if none), closed once full */
int ix_group_add(struct kt_store *st, int64_t sid, int64_t id, struct ix_tri_set *set);
/* the session's open group, if any, closed: its union into screen_gfts */
int ix_group_close(struct kt_store *st, int64_t sid);
/* ---- candidate blocks on a node store (index_cand.c) ---- */
struct ix_ids {
	int64_t *v;
	size_t n, cap;
};
/* a query's trigrams (strings, folded as FTS5 folds them) -> sorted codes */
int ix_query_codes(struct kt_store *st, const char *const *terms, const size_t *tlen,
		   size_t nterms, uint64_t **codes, size_t *n);
/* closed blocks (of f's sessions, id <= after when after > 0) that may hold
 * every code: ids appended, in no order; fts is the same query for the
 * pre-v8 screen_fts */
int ix_candidates(struct kt_store *st, const char *fts, const uint64_t *codes, size_t ncodes,
		  const struct kt_session_filter *f, int64_t after, struct ix_ids *ids);
/* a code as a screen_gfts word (base 32, lower case), NUL-terminated */
size_t ix_code_word(uint64_t code, char out[14]);

#endif
