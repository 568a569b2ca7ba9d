// SPDX-License-Identifier: Apache-2.0
/*
 * What the screen index stores, as bytes (no SQL, no rendering): the rule
 * for a line's stored text, the screen_pending line encoding (FORMAT.md)
 * and keyframe compression.  Design in index_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "index_int.h"
#include "log.h"
#include "satint.h"

/* A line as stored and searched: invalid UTF-8 replaced (cells hold valid
 * codepoints, but keep every stored text valid).  Result in *scratch. */
int ix_sanitize(struct buf *scratch, const char *text, size_t len, size_t *out)
{
	scratch->len = 0;
	if (ix_buf_reserve(scratch, len * 3 + 1))
		return -ENOMEM;
	*out = kt_utf8_sanitize(scratch->p, text, len);
	return 0;
}

/*
 * A line carrying an encoded blob is not indexed: one with a run of at
 * least 48 characters without a space that uses only the base64, base64url
 * and hex alphabet ([A-Za-z0-9+/=_-]) and looks random: digits together
 * with either hex letters only or both upper and lower case (so numbers,
 * paths and words are kept: a dot, no digit or one case).  Nearly every
 * trigram of random text is new, so such lines cost an index as large as
 * the text itself, for searches nobody makes.  The whole line is skipped
 * (other words on it are not found either); it stays in the recording
 * (replay, export).
 */
/* Byte classes for ix_encoded_line: one table lookup and an OR a byte
 * instead of a chain of range tests (the rule ran over every indexed line
 * and was 9 % of the worker's CPU in a flood, bench/results/31-worker.md). */
enum {
	EC_SEP = 1,		/* ' ', '\t': ends a run */
	EC_DIG = 2,
	EC_LOWHEX = 4,		/* a-f */
	EC_LOW = 8,		/* g-z */
	EC_UPHEX = 16,		/* A-F */
	EC_UP = 32,		/* G-Z */
	EC_SYM = 64,		/* + / = _ - */
	EC_IN = 128,		/* in the alphabet (every class above but EC_SEP) */
};
/* 0: outside the alphabet (any byte >= 0x80 too) */
static const uint8_t enc_class[256] = {
	[' '] = EC_SEP, ['\t'] = EC_SEP,
	['0' ... '9'] = EC_IN | EC_DIG,
	['a' ... 'f'] = EC_IN | EC_LOWHEX, ['g' ... 'z'] = EC_IN | EC_LOW,
	['A' ... 'F'] = EC_IN | EC_UPHEX, ['G' ... 'Z'] = EC_IN | EC_UP,
	['+'] = EC_IN | EC_SYM, ['/'] = EC_IN | EC_SYM, ['='] = EC_IN | EC_SYM,
	['_'] = EC_IN | EC_SYM, ['-'] = EC_IN | EC_SYM,
};

bool ix_encoded_line(const char *t, size_t len)
{
	const uint8_t *u = (const uint8_t *)t;
	size_t i = 0;

	if (len < ENCODED_RUN_MIN)	/* no run can be long enough */
		return false;
	while (i < len) {
		unsigned any = 0, all = EC_IN, k;
		size_t start;

		while (i < len && enc_class[u[i]] == EC_SEP)
			i++;
		start = i;
		for (; i < len && !((k = enc_class[u[i]]) & EC_SEP); i++) {
			any |= k;
			all &= k;
		}
		/* alphabet only, a digit, and hex letters only or both cases */
		if (i - start >= ENCODED_RUN_MIN && all && (any & EC_DIG) &&
		    ((!(any & (EC_LOW | EC_UP | EC_SYM)) && (any & (EC_LOWHEX | EC_UPHEX))) ||
		     ((any & (EC_UPHEX | EC_UP)) && (any & (EC_LOWHEX | EC_LOW)))))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- zstd */

/*
 * The store's zstd context (created on first use, shared with chunk.c's
 * compress, which also passes its level per call), or NULL when none can
 * be allocated.  ZSTD_compress created and zeroed a context per keyframe,
 * screen state and trigram set: ~3 % of the worker with 100 sessions
 * (bench/results/31-worker.md).  The output is the same bytes.
 */
struct ZSTD_CCtx_s *ix_cctx(struct kt_store *st)
{
	if (st && !st->cctx)
		st->cctx = ZSTD_createCCtx();
	return st ? st->cctx : NULL;
}

size_t ix_zstd(struct ZSTD_CCtx_s *cctx, void *dst, size_t cap, const void *src, size_t len,
	       int level)
{
	return cctx ? ZSTD_compressCCtx(cctx, dst, cap, src, len, level) :
		      ZSTD_compress(dst, cap, src, len, level);
}

int ix_zcompress(struct kt_store *st, const void *raw, size_t len, void **out, size_t *zlen)
{
	size_t bound = ZSTD_compressBound(len), n;
	void *z = malloc(bound ? bound : 1);

	if (!z)
		return -ENOMEM;
	n = ix_zstd(ix_cctx(st), z, bound, raw, len, 3);
	if (ZSTD_isError(n)) {
		pr_err("screen index: zstd: %s", ZSTD_getErrorName(n));
		free(z);
		return -EIO;
	}
	*out = z;
	*zlen = n;
	return 0;
}

/* A keyframe blob as stored (codec, raw_len) -> malloc'd raw bytes. */
int ix_zdecompress(struct kt_store *st, int codec, int64_t raw_len, const void *z,
		   size_t zlen, uint8_t **out)
{
	uint8_t *raw;
	size_t n;

	if (raw_len < 0 || raw_len > KF_RAW_MAX) {
		pr_err("store %s: keyframe raw_len %lld out of range", st->path, (long long)raw_len);
		return -EBADMSG;
	}
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw)
		return -ENOMEM;
	if (codec == KT_CODEC_NONE && zlen == (size_t)raw_len) {
		if (zlen)
			memcpy(raw, z, zlen);
	} else if (codec == KT_CODEC_ZSTD) {
		n = ZSTD_decompress(raw, raw_len, z ? z : "", zlen);
		if (ZSTD_isError(n) || n != (size_t)raw_len) {
			pr_err("store %s: corrupt keyframe: %s", st->path,
			       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size differs from raw_len");
			free(raw);
			return -EBADMSG;
		}
	} else {
		pr_err("store %s: keyframe with unknown codec %d", st->path, codec);
		free(raw);
		return -EBADMSG;
	}
	*out = raw;
	return 0;
}


/*
 * Walking one screen_pending blob (FORMAT.md): per line the line number
 * minus the previous one minus 1 (the first: minus first_line), the time
 * minus the previous line's (the first: minus 0) zigzag-coded, the length
 * and the text.  *line and *ts carry the previous values: start them at
 * kt_sub_sat(first_line, 1) and 0.  1 with a line, 0 at the end, -EBADMSG
 * (also for a hostile first_line outside 0..BLOCK_LINES_MAX).
 */
int ix_pending_next(const uint8_t **p, const uint8_t *end, int64_t *line, int64_t *ts,
		    const char **text, size_t *len)
{
	uint64_t l, t, n;

	if (*line < -1 || *line > BLOCK_LINES_MAX)
		return -EBADMSG;
	if (*p == end)
		return 0;
	if (kt_varint_get(p, end, &l) || kt_varint_get(p, end, &t) ||
	    kt_varint_get(p, end, &n) || n > (uint64_t)(end - *p) || l > BLOCK_LINES_MAX ||
	    *line + 1 + (int64_t)l > BLOCK_LINES_MAX)
		return -EBADMSG;
	*line += 1 + (int64_t)l;
	*ts = (int64_t)((uint64_t)*ts + (uint64_t)unzigzag(t));
	*text = (const char *)*p;
	*len = (size_t)n;
	*p += n;
	return 1;
}

int ix_pending_walk(struct kt_store *st, int64_t id, const uint8_t *p, size_t n,
		    int64_t first_line, ix_line_cb cb, void *ctx)
{
	/* an empty blob is NULL: NULL + 0 is undefined (fuzz_index_blobs) */
	const uint8_t *q = p ? p : (const uint8_t *)"", *end = q + (p ? n : 0);
	int64_t line = kt_sub_sat(first_line, 1), ts = 0;
	const char *text;
	size_t len;
	int rc, err;

	while ((rc = ix_pending_next(&q, end, &line, &ts, &text, &len)) == 1) {
		err = cb(line, ts, text, len, ctx);
		if (err)
			return err;
	}
	if (rc < 0) {
		pr_err("store %s: screen block %lld: corrupt pending lines", st->path, (long long)id);
		return -EBADMSG;
	}
	return 0;
}
