// SPDX-License-Identifier: Apache-2.0
/*
 * Compaction: the recorder appends small chunks (128 KiB raw or 0.4 s of
 * output, stored raw at zstd level 0 so capture costs no compression);
 * here, in the niced index worker, runs of them are merged into chunks of
 * about KT_COMPACT_TARGET raw bytes compressed at a high zstd level.  Small
 * chunks compress badly (each zstd frame starts with an empty window) and
 * cost a row each; merged ones reach ~0.1-0.3 of the text (FORMAT.md).
 *
 * Positions survive because chunk seq is the session frame number of the
 * chunk's first frame: the merged chunk takes the seq of the first chunk it
 * replaces, and every stored position (keyframes, screen_blocks,
 * screen_index: "frame f of chunk c" = frame number c + f) still names the
 * same frame.  A kt_stream that read one of the replaced chunks continues by
 * frame number from the merged one (stream.c).  Each merged chunk replaces
 * its run in one transaction (delete the run, insert the merged chunk), so a
 * crash leaves either the old chunks or the new one, never both, never a
 * gap; compression happens before the transaction, so the recorder waits
 * only for the rows to be written.
 *
 * An ended session's short last chunks join the run (or the merged chunk)
 * before them (short_tail).
 *
 * The level: the dense one (KT_COMPACT_LEVEL) for output at a human pace,
 * the fast one (KT_COMPACT_FAST_LEVEL) for a run written faster than
 * KT_COMPACT_FAST_RATE (a flood, a cat of a large file).  The worker's CPU
 * is paid per second of output: level 9 runs at ~25-45 MB/s here, so a
 * 20 MB/s flood kept half a core compressing, while a 1 MB/s session costs
 * it a few per cent.  What the fast level loses is small on flood-like
 * output (bench/results/10-recorder.md: 0.5-2 % on the flood block, none on
 * random data) and at human rates nothing changes (the storage corpora).
 *
 * The zstd contexts and buffers live as long as the store (kt_compact_ctx):
 * a context created per call allocated and zeroed its match tables (~10 MB
 * at level 9) for every session in every round of the worker.
 *
 * Only chunks the screen indexer has passed are merged (it reads raw
 * chunks for free), and in an active session never the last chunk, which a
 * live viewer is probably reading.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_int.h"
#include "log.h"
#include "pg/pgr.h"

/* An active session's run shorter than the target waits this long after
 * its last frame for more output (an idle shell), then is merged anyway. */
#define COMPACT_IDLE_US (60 * 1000000LL)
/* per call of kt_store_compact_session when budget is 0 */
#define COMPACT_DEFAULT_BUDGET (16u << 20)

struct cchunk {
	int64_t seq, nframes, raw_len, stored, start_us, end_us, out_offset, in_offset;
	int codec;
};

/* What compaction keeps across calls (st->compact); see the top. */
struct kt_compact_ctx {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	int cctx_level;             /* the level cctx is set to; 0: none yet */
	uint8_t *raw, *zbuf;        /* one old chunk decompressed; the output */
	size_t raw_cap, zbuf_cap;
	uint8_t *scratch;           /* codec 2 layouts, in and out */
	size_t scratch_cap;
	struct kt_chunk_builder b;  /* the merged chunk */
};

struct compactor {
	struct kt_store *st;
	int64_t sid;
	struct kt_compact_ctx *x;
};

void kt_compact_ctx_free(struct kt_compact_ctx *x)
{
	if (!x)
		return;
	ZSTD_freeCCtx(x->cctx);
	ZSTD_freeDCtx(x->dctx);
	kt_chunk_builder_free(&x->b);
	free(x->raw);
	free(x->zbuf);
	free(x->scratch);
	free(x);
}

static int compact_ctx(struct kt_store *st, struct kt_compact_ctx **out)
{
	struct kt_compact_ctx *x = st->compact;

	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x)
			return -ENOMEM;
		x->cctx = ZSTD_createCCtx();
		x->dctx = ZSTD_createDCtx();
		if (!x->cctx || !x->dctx) {
			kt_compact_ctx_free(x);
			return -ENOMEM;
		}
		kt_chunk_builder_init(&x->b);
		st->compact = x;
	}
	*out = x;
	return 0;
}

static int prep(struct kt_store *st, const char *sql, sqlite3_stmt **q)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, q, NULL);

	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, "compaction");
}

/* The store's cached statement `id` (prepared once: parsing them for every
 * session in every round was 2-3 % of the worker with 100 sessions).
 * Reset after use, never finalized: a SELECT left stepped would hold a
 * read snapshot while we compress. */
static int cached(struct kt_store *st, enum kt_stmt_id id, const char *sql, sqlite3_stmt **q)
{
	*q = kt_stmt_sql(st, id, sql);
	return *q ? 0 : -EIO; /* logged */
}

int kt_store_set_compaction_fast(struct kt_store *st, int level, uint64_t rate)
{
	if (!st || level < 1 || level > ZSTD_maxCLevel() || !rate)
		return -EINVAL;
	st->compact_fast_level = level;
	st->compact_fast_rate = rate;
	return 0;
}

int kt_store_set_compaction(struct kt_store *st, int level, size_t target)
{
	if (!st || level < 1 || level > ZSTD_maxCLevel() || target < 4096 ||
	    target > KT_CHUNK_RAW_MAX)
		return -EINVAL;
	st->compact_level = level;
	st->compact_target = target;
	return 0;
}

/*
 * Where merging must stop: the frame number after the last one indexed
 * (nothing indexed: 0), and for an active session the start of its last
 * chunk.  *ended: the session is no longer active.
 */
static int compact_limit(struct kt_store *st, int64_t sid, int64_t *limit, bool *ended)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	*limit = 0;
	*ended = false;
	err = cached(st, ST_COMPACT_LIMIT,
		     "SELECT s.state != 0, coalesce(x.chunk_seq + x.frame_index, 0),"
		     " (SELECT max(seq) FROM chunks WHERE session_id = s.id)"
		     " FROM sessions s LEFT JOIN screen_index x ON x.session_id = s.id"
		     " WHERE s.id = ?1", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, sid);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*ended = sqlite3_column_int(q, 0);
		*limit = sqlite3_column_int64(q, 1);
		if (!*ended && sqlite3_column_type(q, 2) != SQLITE_NULL &&
		    sqlite3_column_int64(q, 2) < *limit)
			*limit = sqlite3_column_int64(q, 2);
	} else if (rc == SQLITE_DONE) {
		err = -ENOENT;
	} else {
		err = kt_sql_err(st, rc, "compaction");
	}
	sqlite3_reset(q);
	return err;
}

/*
 * The chunks that may be merged, in order: ending at or before `limit`,
 * from the chunk before the first raw one (it may be a small merged chunk
 * that an idle session left behind).  Chunks before that are merged or
 * were written compressed by the recorder; they stay as they are.
 */
static int list_chunks(struct kt_store *st, int64_t sid, int64_t limit,
		       struct cchunk **out, size_t *n)
{
	sqlite3_stmt *q = NULL;
	struct cchunk *v = NULL;
	size_t cap = 0;
	int rc, err;

	*out = NULL;
	*n = 0;
	err = cached(st, ST_COMPACT_LIST,
		     "SELECT seq, nframes, raw_len, length(data), codec, end_us, out_offset,"
		     " in_offset, start_us FROM chunks WHERE session_id = ?1 AND seq + nframes <= ?2"
		     " AND seq >= coalesce((SELECT max(seq) FROM chunks WHERE session_id = ?1"
		     "   AND seq < (SELECT min(seq) FROM chunks WHERE session_id = ?1 AND codec = 0)),"
		     "  (SELECT min(seq) FROM chunks WHERE session_id = ?1 AND codec = 0))"
		     " ORDER BY seq", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, sid);
	sqlite3_bind_int64(q, 2, limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct cchunk *c;

		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			void *p = realloc(v, ncap * sizeof(*v));

			if (!p) {
				err = -ENOMEM;
				goto cleanup;
			}
			v = p;
			cap = ncap;
		}
		c = &v[(*n)++];
		c->seq = sqlite3_column_int64(q, 0);
		c->nframes = sqlite3_column_int64(q, 1);
		c->raw_len = sqlite3_column_int64(q, 2);
		c->stored = sqlite3_column_int64(q, 3);
		c->codec = sqlite3_column_int(q, 4);
		c->end_us = sqlite3_column_int64(q, 5);
		c->out_offset = sqlite3_column_int64(q, 6);
		c->in_offset = sqlite3_column_int64(q, 7);
		c->start_us = sqlite3_column_int64(q, 8);
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "compaction");
cleanup:
	sqlite3_reset(q);
	if (err) {
		free(v);
		*n = 0;
		return err;
	}
	*out = v;
	return 0;
}

/* Append chunk c's frames (its stored bytes in data/len) to the builder. */
static int add_chunk(struct compactor *cp, const struct cchunk *c, int64_t start_us,
		     const void *data, size_t len)
{
	struct kt_frame_decoder d;
	struct kt_frame f;
	const char *why;
	int64_t nframes = 0;
	int ret;
	struct kt_compact_ctx *x = cp->x;

	if (c->raw_len < 0 || c->raw_len > KT_CHUNK_RAW_MAX)
		return -EBADMSG;
	if ((size_t)c->raw_len > x->raw_cap) {
		void *p = realloc(x->raw, c->raw_len);

		if (!p)
			return -ENOMEM;
		x->raw = p;
		x->raw_cap = c->raw_len;
	}
	ret = kt_chunk_decode(x->dctx, c->codec, data, len, x->raw, c->raw_len, &x->scratch,
			      &x->scratch_cap, &why);
	if (ret)
		return ret;
	/* Re-encoded, not concatenated: a chunk's first delta is relative to
	 * its own start_us, and kt_chunk_add clamps times as readers do. */
	kt_frame_decoder_init(&d, x->raw, c->raw_len, start_us);
	while ((ret = kt_frame_next(&d, &f)) == 1) {
		ret = kt_chunk_add(&x->b, f.type, f.ts_us, f.data, f.len);
		if (ret)
			return ret == -EINVAL ? -EBADMSG : ret;
		nframes++;
	}
	if (ret < 0)
		return ret;
	/* positions count frames: a chunk whose nframes lies cannot move */
	return nframes == c->nframes ? 0 : -EBADMSG;
}

/*
 * An ended session's last chunks, v[0..n), that would make a merged chunk
 * of their own below a quarter of the target: merged into the run before
 * them instead (raw so far), up to 1.25x the target.  A small last chunk
 * costs a row, its page tails and a zstd frame whose window starts empty
 * (on a 4.3 MB session the tail was a 240 KB chunk of its own).
 */
static bool short_tail(const struct cchunk *v, size_t n, size_t raw, size_t target, bool ended)
{
	size_t rest = 0;

	if (!ended)
		return false;
	for (size_t k = 0; k < n; k++) {
		if (v[k].codec != KT_CODEC_NONE && (size_t)v[k].raw_len >= target / 2)
			return false;
		rest += (size_t)v[k].raw_len;
	}
	return rest <= target / 4 && raw + rest <= KT_CHUNK_RAW_MAX;
}

static ssize_t zcompress(struct compactor *cp, int level)
{
	struct kt_compact_ctx *x = cp->x;
	size_t bound = ZSTD_compressBound(x->b.len), n;

	if (bound > x->zbuf_cap) {
		void *p = realloc(x->zbuf, bound);

		if (!p)
			return -ENOMEM;
		x->zbuf = p;
		x->zbuf_cap = bound;
	}
	if (x->b.len > x->scratch_cap) {
		void *p = realloc(x->scratch, x->b.len);

		if (!p)
			return -ENOMEM;
		x->scratch = p;
		x->scratch_cap = x->b.len;
	}
	/* the builder wrote these frames: they parse */
	if (kt_frames_split(x->b.buf, x->b.len, x->scratch))
		return -EBADMSG;
	/*
	 * A session reset keeps the context's tables: zstd 1.5 continues its
	 * match indexes past the previous frame's instead of zeroing them
	 * (only a larger table or an index near 2^31 forces a clean reset).
	 * ZSTD_compress2 pledges the content size, which also shrinks the
	 * window and tables for a short run.
	 */
	ZSTD_CCtx_reset(x->cctx, ZSTD_reset_session_only);
	if (x->cctx_level != level) {
		ZSTD_CCtx_reset(x->cctx, ZSTD_reset_parameters);
		ZSTD_CCtx_setParameter(x->cctx, ZSTD_c_compressionLevel, level);
		/* readers check the content size against raw_len (FORMAT.md) */
		ZSTD_CCtx_setParameter(x->cctx, ZSTD_c_contentSizeFlag, 1);
		x->cctx_level = level;
	}
	n = ZSTD_compress2(x->cctx, x->zbuf, x->zbuf_cap, x->scratch, x->b.len);
	if (ZSTD_isError(n)) {
		pr_err("store %s: compaction: zstd: %s", cp->st->path, ZSTD_getErrorName(n));
		x->cctx_level = 0; /* whatever state it is in: set again */
		return -EIO;
	}
	return (ssize_t)n;
}

/*
 * Replace chunks run[0..n) by the builder's frames, compressed, in one
 * transaction.  -EAGAIN if the run changed meanwhile (another compactor):
 * nothing written.
 */
static int replace_run(struct compactor *cp, const struct cchunk *run, size_t n,
		       const void *z, size_t zlen)
{
	struct kt_store *st = cp->st;
	int64_t first = run[0].seq, end = run[n - 1].seq + run[n - 1].nframes;
	sqlite3_stmt *q = NULL;
	bool own = false;
	int rc, err;

	err = kt_op_begin(st, &own);
	if (err)
		return err;
	err = cached(st, ST_COMPACT_CHECK, "SELECT count(*), total(nframes) FROM chunks"
		     " WHERE session_id = ?1 AND seq >= ?2 AND seq < ?3", &q);
	if (err)
		goto end;
	sqlite3_bind_int64(q, 1, cp->sid);
	sqlite3_bind_int64(q, 2, first);
	sqlite3_bind_int64(q, 3, end);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		err = kt_sql_err(st, rc, "compaction (check)");
	else if (sqlite3_column_int64(q, 0) != (int64_t)n ||
		 sqlite3_column_int64(q, 1) != end - first)
		err = -EAGAIN;
	sqlite3_reset(q);
	q = NULL;
	if (err)
		goto end;

	err = cached(st, ST_COMPACT_DELETE,
		     "DELETE FROM chunks WHERE session_id = ?1 AND seq >= ?2 AND seq < ?3", &q);
	if (err)
		goto end;
	sqlite3_bind_int64(q, 1, cp->sid);
	sqlite3_bind_int64(q, 2, first);
	sqlite3_bind_int64(q, 3, end);
	err = kt_stmt_done(st, q, "compaction (delete)");
	q = NULL;
	if (err)
		goto end;

	/* same seq, offsets and frames as the run: totals do not change */
	q = kt_stmt(st, ST_CHUNK_INSERT);
	if (!q) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(q, 1, cp->sid);
	sqlite3_bind_int64(q, 2, first);
	sqlite3_bind_int64(q, 3, cp->x->b.start_us);
	sqlite3_bind_int64(q, 4, cp->x->b.last_us);
	sqlite3_bind_int64(q, 5, run[0].out_offset);
	sqlite3_bind_int64(q, 6, run[0].in_offset);
	sqlite3_bind_int64(q, 7, (int64_t)cp->x->b.out_bytes);
	sqlite3_bind_int64(q, 8, (int64_t)cp->x->b.in_bytes);
	sqlite3_bind_int64(q, 9, cp->x->b.nframes);
	sqlite3_bind_int64(q, 10, (int64_t)cp->x->b.len);
	sqlite3_bind_int(q, 11, KT_CODEC_ZSTD_SPLIT);
	sqlite3_bind_blob(q, 12, z, (int)zlen, SQLITE_STATIC);
	err = kt_stmt_done(st, q, "compaction (insert)");
	sqlite3_reset(q);
end:
	return kt_op_end(st, own, err);
}

/* The level for run[0..n) of `raw` bytes: see the top. */
static int run_level(const struct kt_store *st, const struct cchunk *run, size_t n, size_t raw)
{
	int dense = st->compact_level ? st->compact_level : KT_COMPACT_LEVEL;
	int fast = st->compact_fast_level ? st->compact_fast_level : KT_COMPACT_FAST_LEVEL;
	uint64_t rate = st->compact_fast_rate ? st->compact_fast_rate : KT_COMPACT_FAST_RATE;
	int64_t span = run[n - 1].end_us - run[0].start_us;

	if (fast >= dense)
		return dense;
	/* raw * 1e6 / span >= rate, without the division (raw < 2^27) */
	return (uint64_t)raw * 1000000 >= rate * (uint64_t)(span > 0 ? span : 1) ? fast : dense;
}

/* Merge run[0..n): read, re-encode, compress, replace.  -EBADMSG: a chunk
 * of the run is corrupt (left as it is, logged). */
static int merge_run(struct compactor *cp, const struct cchunk *run, size_t n,
		     struct kt_compact_stats *stats)
{
	struct kt_store *st = cp->st;
	sqlite3_stmt *q = NULL;
	size_t i = 0;
	ssize_t zlen;
	int rc = SQLITE_DONE, level, err;

	kt_chunk_builder_reset(&cp->x->b);
	err = cached(st, ST_COMPACT_READ, "SELECT seq, start_us, data FROM chunks"
		     " WHERE session_id = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq", &q);
	if (err)
		return err;
	sqlite3_bind_int64(q, 1, cp->sid);
	sqlite3_bind_int64(q, 2, run[0].seq);
	sqlite3_bind_int64(q, 3, run[n - 1].seq);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (i >= n || sqlite3_column_int64(q, 0) != run[i].seq) {
			err = -EAGAIN; /* changed since listed */
			break;
		}
		err = add_chunk(cp, &run[i], sqlite3_column_int64(q, 1), sqlite3_column_blob(q, 2),
				(size_t)sqlite3_column_bytes(q, 2));
		/* debug only: retried every round, and readers report it */
		if (err == -EBADMSG)
			pr_debug("store %s: session %lld chunk %lld: corrupt, not compacted", st->path,
				 (long long)cp->sid, (long long)run[i].seq);
		i++;
	}
	if (!err && rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "compaction (read)");
	/* no read snapshot while compressing: the recorder checkpoints */
	sqlite3_reset(q);
	if (!err && i != n)
		err = -EAGAIN;
	if (err)
		return err;

	level = run_level(st, run, n, cp->x->b.len);
	zlen = zcompress(cp, level);
	if (zlen < 0)
		return (int)zlen;
	err = replace_run(cp, run, n, cp->x->zbuf, (size_t)zlen);
	if (err)
		return err;
	if (stats) {
		stats->chunks_in += n;
		stats->chunks_out++;
		if (level != (st->compact_level ? st->compact_level : KT_COMPACT_LEVEL))
			stats->chunks_fast++;
		stats->raw_bytes += cp->x->b.len;
		for (i = 0; i < n; i++)
			stats->stored_in += run[i].stored;
		stats->stored_out += zlen;
	}
	return 0;
}

int kt_store_compact_session(struct kt_store *st, int64_t session_id, size_t budget,
			     struct kt_compact_stats *stats)
{
	struct compactor cp = { .st = st, .sid = session_id };
	struct cchunk *v = NULL;
	size_t n = 0, i, j, target, done = 0;
	int64_t limit, now = kt_now_us();
	int err;
	bool ended, more = false;

	err = kt_store_check_writable(st, "compaction");
	if (err)
		return err;
	if (!budget)
		budget = COMPACT_DEFAULT_BUDGET;
	target = st->compact_target ? st->compact_target : KT_COMPACT_TARGET;

	err = compact_limit(st, session_id, &limit, &ended);
	if (err || limit <= 0)
		goto cleanup;
	err = list_chunks(st, session_id, limit, &v, &n);
	if (err || !n)
		goto cleanup;
	err = compact_ctx(st, &cp.x);
	if (err)
		goto cleanup;

	for (i = 0; i < n; i = j) {
		size_t raw = 0;
		bool any_raw = false, closed;

		/* A merged chunk (compressed, at least half the target) ends
		 * runs; so does the target size.  Except before an ended
		 * session's short tail: rewritten once with it (the worker
		 * merged it while the session ran, so the tail came later). */
		if (v[i].codec != KT_CODEC_NONE && (size_t)v[i].raw_len >= target / 2) {
			if ((size_t)v[i].raw_len > target || i + 1 >= n ||
			    !short_tail(v + i + 1, n - i - 1, (size_t)v[i].raw_len, target, ended)) {
				j = i + 1;
				continue;
			}
			for (j = i; j < n; j++) {
				raw += (size_t)v[j].raw_len;
				any_raw |= v[j].codec == KT_CODEC_NONE;
			}
			if (!any_raw)
				continue; /* nothing new: never rewrite merged chunks alone */
			goto merge;
		}
		for (j = i; j < n; j++) {
			if (v[j].codec != KT_CODEC_NONE && (size_t)v[j].raw_len >= target / 2)
				break;
			if (j > i && raw + (size_t)v[j].raw_len > target &&
			    !short_tail(v + j, n - j, raw, target, ended))
				break;
			raw += (size_t)v[j].raw_len;
			any_raw |= v[j].codec == KT_CODEC_NONE;
		}
		/* one compressed chunk alone: nothing to gain */
		if (j - i == 1 && !any_raw)
			continue;
		/* a short run at the end waits for more output unless the
		 * session is over or idle */
		closed = j < n || raw >= target / 2 || ended || v[j - 1].end_us < now - COMPACT_IDLE_US;
		if (!closed)
			break;
merge:
		if (done >= budget) {
			more = true;
			break;
		}
		err = merge_run(&cp, v + i, j - i, stats);
		if (err == -EBADMSG || err == -EAGAIN) {
			err = 0; /* logged (corrupt) or someone else's: skip it */
			continue;
		}
		if (err)
			goto cleanup;
		done += raw;
	}
cleanup:
	free(v);
	return err ? err : more;
}

int kt_compact_pending(struct kt_store *st, int (*cb)(int64_t session_id, void *ctx),
		       void *ctx)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return 0; /* the nodes compact; the server copies what they did */
	/* chunks_raw holds only raw chunks: small however large the store */
	err = prep(st, "SELECT r.session_id FROM (SELECT session_id, min(seq) AS first FROM chunks"
		   "  WHERE codec = 0 GROUP BY session_id) r"
		   " JOIN screen_index x ON x.session_id = r.session_id"
		   " WHERE r.first < x.chunk_seq + x.frame_index ORDER BY r.session_id", &q);
	if (err)
		return err;
	return kt_sql_ids_each(st, q, "compaction pending", cb, ctx);
}
