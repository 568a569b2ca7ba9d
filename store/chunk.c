// SPDX-License-Identifier: Apache-2.0
/*
 * The writer side of the stream: the chunk builder (frames per FORMAT.md)
 * and kt_store_chunk_append (zstd, or raw at level 0, + one row in chunks +
 * session totals).  Raw chunks are compressed later, off the capture path,
 * by kt_store_compact_session (compact.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_int.h"
#include "evidence_int.h"
#include "log.h"

void kt_chunk_builder_init(struct kt_chunk_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void kt_chunk_builder_free(struct kt_chunk_builder *b)
{
	if (!b)
		return;
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void kt_chunk_builder_reset(struct kt_chunk_builder *b)
{
	uint8_t *buf = b->buf;
	size_t cap = b->cap;

	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
}

int kt_chunk_reserve(struct kt_chunk_builder *b, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (need > KT_CHUNK_RAW_MAX)
		return -E2BIG;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > KT_CHUNK_RAW_MAX)
		cap = KT_CHUNK_RAW_MAX;
	p = realloc(b->buf, cap);
	if (!p)
		return -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

int kt_chunk_add(struct kt_chunk_builder *b, uint8_t type, int64_t ts_us,
		 const void *data, uint32_t len)
{
	uint64_t lost_bytes = 0, lost_events = 0, delta;
	int err;

	if (!b || type == 0 || (len && !data))
		return -EINVAL;
	if (type == KT_FRAME_RESIZE && len < 4)
		return -EINVAL;
	if (type == KT_FRAME_GAP) {
		struct kt_frame f = { .type = type, .len = len, .data = data };

		if (kt_frame_gap_parse(&f, &lost_bytes, &lost_events))
			return -EINVAL;
	}
	err = kt_chunk_reserve(b, b->len + 1 + 2 * KT_VARINT_MAX + (size_t)len);
	if (err)
		return err;

	if (b->nframes == 0) {
		b->start_us = ts_us;
		b->last_us = ts_us;
	} else if (ts_us < b->last_us) {
		ts_us = b->last_us;
	}
	/* ts >= last: the unsigned difference is exact even across zero */
	delta = (uint64_t)ts_us - (uint64_t)b->last_us;

	b->last_off = b->len;
	b->buf[b->len++] = type;
	b->len += kt_varint_put(b->buf + b->len, delta);
	b->len += kt_varint_put(b->buf + b->len, len);
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->last_us = ts_us;
	b->nframes++;
	if (type == KT_FRAME_OUT)
		b->out_bytes += len;
	else if (type == KT_FRAME_IN)
		b->in_bytes += len;
	b->lost_bytes += lost_bytes;
	b->lost_events += lost_events;
	return 0;
}

int kt_chunk_add_resize(struct kt_chunk_builder *b, int64_t ts_us,
			uint16_t cols, uint16_t rows)
{
	uint8_t p[4] = { cols & 0xff, cols >> 8, rows & 0xff, rows >> 8 };

	return kt_chunk_add(b, KT_FRAME_RESIZE, ts_us, p, sizeof(p));
}

int kt_chunk_add_gap(struct kt_chunk_builder *b, int64_t ts_us,
		     uint64_t lost_bytes, uint64_t lost_events)
{
	uint8_t p[2 * KT_VARINT_MAX];
	size_t n;

	n = kt_varint_put(p, lost_bytes);
	n += kt_varint_put(p + n, lost_events);
	return kt_chunk_add(b, KT_FRAME_GAP, ts_us, p, (uint32_t)n);
}

/*
 * The builder's first frame is earlier than the end of the session's last
 * stored chunk (events raced across a flush): re-encode with every frame
 * clamped to `floor` so the session's timestamps never go backwards.
 */
static int reencode_clamped(const struct kt_chunk_builder *b, int64_t floor,
			    struct kt_chunk_builder *out)
{
	struct kt_frame_decoder d;
	struct kt_frame f;
	int ret;

	kt_frame_decoder_init(&d, b->buf, b->len, b->start_us);
	while ((ret = kt_frame_next(&d, &f)) == 1) {
		ret = kt_chunk_add(out, f.type, f.ts_us < floor ? floor : f.ts_us, f.data, f.len);
		if (ret)
			return ret;
	}
	return ret;
}

/*
 * Codec 2's layout (FORMAT.md): every frame's header (type, delta, len) in
 * order, then every payload in order.  Same bytes, permuted: headers and
 * text compress apart far better (terminal timings are random; a header
 * between two lines breaks the match that spans them).  Walking the headers
 * needs no extra length field: they end where headers + payloads = len.
 */
static int header_len(const uint8_t *p, const uint8_t *end, uint64_t *payload)
{
	const uint8_t *q = p + 1;
	uint64_t delta;

	if (p >= end || kt_varint_get(&q, end, &delta) || kt_varint_get(&q, end, payload))
		return -EBADMSG;
	return (int)(q - p);
}

int kt_frames_split(const uint8_t *in, size_t len, uint8_t *out)
{
	const uint8_t *p = in, *end = in + len;
	size_t hlen = 0, h = 0, d;
	uint64_t n;
	int k;

	while (p < end) {
		k = header_len(p, end, &n);
		if (k < 0 || n > (uint64_t)(end - p - k))
			return -EBADMSG;
		hlen += k;
		p += k + n;
	}
	for (p = in, d = hlen; p < end; p += k + n) {
		k = header_len(p, end, &n);
		memcpy(out + h, p, k);
		h += k;
		memcpy(out + d, p + k, n);
		d += n;
	}
	return 0;
}

int kt_frames_join(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t h = 0, d = 0, o = 0, hlen;
	uint64_t n;
	int k;

	/* the headers' end: where headers and the payloads they count fill len */
	while (h + d < len) {
		k = header_len(in + h, in + len, &n);
		if (k < 0 || (size_t)k > len - h - d || n > len - h - d - k)
			return -EBADMSG;
		h += k;
		d += n;
	}
	for (hlen = h, h = 0, d = hlen; h < hlen; h += k, d += n) {
		k = header_len(in + h, in + hlen, &n);
		if (k < 0)
			return -EBADMSG;
		memcpy(out + o, in + h, k);
		o += k;
		memcpy(out + o, in + d, n);
		o += n;
	}
	return 0;
}

int kt_chunk_decode(struct ZSTD_DCtx_s *dctx, int codec, const void *data, size_t len,
		    uint8_t *out, size_t raw_len, uint8_t **scratch, size_t *scratch_cap,
		    const char **why)
{
	uint8_t *dst = out;
	size_t n;

	*why = NULL;
	switch (codec) {
	case KT_CODEC_NONE:
		if (len != raw_len) {
			*why = "data length differs from raw_len";
			return -EBADMSG;
		}
		if (len)
			memcpy(out, data, len);
		return 0;
	case KT_CODEC_ZSTD_SPLIT:
		if (raw_len > *scratch_cap) {
			void *p = realloc(*scratch, raw_len);

			if (!p)
				return -ENOMEM;
			*scratch = p;
			*scratch_cap = raw_len;
		}
		dst = *scratch;
		/* fall through */
	case KT_CODEC_ZSTD:
		n = ZSTD_decompressDCtx(dctx, dst, raw_len, data ? data : "", len);
		if (ZSTD_isError(n) || n != raw_len) {
			*why = ZSTD_isError(n) ? ZSTD_getErrorName(n)
					       : "decompressed size differs from raw_len";
			return -EBADMSG;
		}
		if (codec == KT_CODEC_ZSTD_SPLIT && kt_frames_join(dst, raw_len, out)) {
			*why = "malformed frame headers";
			return -EBADMSG;
		}
		return 0;
	default:
		*why = "unknown codec";
		return -EBADMSG;
	}
}

/* Compress raw into st->zbuf; the compressed length or -errno. */
static ssize_t compress(struct kt_store *st, const void *raw, size_t len)
{
	size_t bound = ZSTD_compressBound(len), n;

	if (!st->cctx) {
		st->cctx = ZSTD_createCCtx();
		if (!st->cctx)
			return -ENOMEM;
	}
	if (bound > st->zbuf_cap) {
		void *p = realloc(st->zbuf, bound);

		if (!p)
			return -ENOMEM;
		st->zbuf = p;
		st->zbuf_cap = bound;
	}
	n = ZSTD_compressCCtx(st->cctx, st->zbuf, st->zbuf_cap, raw, len, st->zstd_level);
	if (ZSTD_isError(n)) {
		pr_err("store %s: zstd: %s", st->path, ZSTD_getErrorName(n));
		return -EIO;
	}
	return (ssize_t)n;
}

int kt_store_chunk_append(struct kt_store *st, int64_t session_id,
			  const struct kt_chunk_builder *b)
{
	struct kt_chunk_builder fixed;
	int64_t seq = 0, prev_end = INT64_MIN, out_off = 0, in_off = 0;
	sqlite3_stmt *stmt;
	ssize_t zlen;
	bool own = false;
	int rc, err;

	err = kt_store_check_writable(st, "chunk append");
	if (err)
		return err;
	if (!b)
		return -EINVAL;
	if (b->nframes == 0)
		return 0;
	if (b->len > KT_CHUNK_RAW_MAX)
		return -E2BIG;
	kt_chunk_builder_init(&fixed);

	/* Compress before taking the write lock; redone only in the rare
	 * out-of-order case below.  Level 0: stored raw (codec 0). */
	zlen = st->zstd_level ? compress(st, b->buf, b->len) : (ssize_t)b->len;
	if (zlen < 0)
		return (int)zlen;

	err = kt_op_begin(st, &own);
	if (err)
		goto cleanup;

	/* validate first: see kt_op_begin about batches */
	stmt = kt_stmt(st, ST_SESSION_EXISTS);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, session_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		pr_err("store %s: chunk append: no session %lld", st->path, (long long)session_id);
		err = -ENOENT;
	} else if (rc != SQLITE_ROW) {
		err = kt_sql_err(st, rc, "chunk append (session)");
	}
	sqlite3_reset(stmt);
	if (err)
		goto end;

	stmt = kt_stmt(st, ST_CHUNK_LAST);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, session_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(stmt, 0); /* previous seq + nframes */
		prev_end = sqlite3_column_int64(stmt, 1);
		out_off = sqlite3_column_int64(stmt, 2);
		in_off = sqlite3_column_int64(stmt, 3);
	} else if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "chunk append (last chunk)");
	}
	sqlite3_reset(stmt);
	if (err)
		goto end;

	if (b->start_us < prev_end) {
		pr_debug("store %s: session %lld: chunk starts %lld us before the previous one ends; clamping",
			 st->path, (long long)session_id, (long long)(prev_end - b->start_us));
		err = reencode_clamped(b, prev_end, &fixed);
		if (err)
			goto end;
		b = &fixed;
		zlen = st->zstd_level ? compress(st, b->buf, b->len) : (ssize_t)b->len;
		if (zlen < 0) {
			err = (int)zlen;
			goto end;
		}
	}

	stmt = kt_stmt(st, ST_CHUNK_INSERT);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, session_id);
	sqlite3_bind_int64(stmt, 2, seq);
	sqlite3_bind_int64(stmt, 3, b->start_us);
	sqlite3_bind_int64(stmt, 4, b->last_us);
	sqlite3_bind_int64(stmt, 5, out_off);
	sqlite3_bind_int64(stmt, 6, in_off);
	sqlite3_bind_int64(stmt, 7, (int64_t)b->out_bytes);
	sqlite3_bind_int64(stmt, 8, (int64_t)b->in_bytes);
	sqlite3_bind_int64(stmt, 9, b->nframes);
	sqlite3_bind_int64(stmt, 10, (int64_t)b->len);
	sqlite3_bind_int(stmt, 11, st->zstd_level ? KT_CODEC_ZSTD : KT_CODEC_NONE);
	sqlite3_bind_blob(stmt, 12, st->zstd_level ? st->zbuf : b->buf, (int)zlen, SQLITE_STATIC);
	err = kt_stmt_done(st, stmt, "chunk append");
	if (err)
		goto end;
	/* the hash chain over the frames as stored (after any clamping) */
	err = kt_chain_extend(st, session_id, b->buf, b->len, b->start_us);
	if (err)
		goto end;

	stmt = kt_stmt(st, ST_SESSION_ADD_TOTALS);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, session_id);
	sqlite3_bind_int64(stmt, 2, (int64_t)b->out_bytes);
	sqlite3_bind_int64(stmt, 3, (int64_t)b->in_bytes);
	sqlite3_bind_int64(stmt, 4, (int64_t)b->lost_bytes);
	sqlite3_bind_int64(stmt, 5, (int64_t)b->lost_events);
	err = kt_stmt_done(st, stmt, "chunk append (session totals)");
end:
	err = kt_op_end(st, own, err);
cleanup:
	kt_chunk_builder_free(&fixed);
	return err;
}
