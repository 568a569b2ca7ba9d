// SPDX-License-Identifier: Apache-2.0
/*
 * Trigram sets, no SQL except the FTS5 tokenizer lookup: a closed block's
 * lines -> the sorted set of its distinct trigram codes -> a blob
 * (screen_sets.data), and back.  Schema v8, FORMAT.md "Screen index".
 *
 * Why not FTS5 per block any more: FTS5's trigram tokenizer hashes every
 * character of the text into FTS5's term hash (a 1 MiB block = ~1M hash
 * look-ups with memcmp), which was 37-50 % of the worker's CPU, and a
 * block's document cost ~3.1 B per (block, trigram) pair on disk.  Here a
 * trigram is a 64-bit code; ASCII ones (nearly all terminal text) are
 * marked in a 2^21-bit bitmap, so a character costs a shift and a bit
 * test, and the set is sorted, delta-varint coded and zstd-compressed
 * (0.4-0.7 B a pair).
 *
 * Identical results: a code is what FTS5's trigram tokenizer (the one the
 * v2-v7 screen_fts used) would index.  ASCII characters fold A-Z as it
 * does; a line holding any non-ASCII byte is tokenized by FTS5's own
 * trigram tokenizer (fts5_api), so its Unicode case folding is FTS5's by
 * construction.  Left out on purpose: trigrams holding ASCII whitespace
 * or NUL, and trigrams across a line break (FTS5 indexed both): search words never
 * contain whitespace (index_search.c splits on it), so no query can ask
 * for them.
 *
 * Code: ASCII trigram abc = a<<14 | b<<7 | c (< 2^21); any other =
 * 2^21 + (a<<42 | b<<21 | c) with a, b, c code points (<= 0x10FFFF).
 *
 * Blob: u8 format (0: varints, 1: zstd frame of them), varint n (codes),
 * then for format 1 varint raw_len; the varints are the first code and
 * each following code's difference to the previous one (>= 1).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "index_int.h"
#include "log.h"

#define ASCII_CODES (1u << 21)
/* ix_tri_set_codes reads this many ASCII codes or more from the bitmap */
#define ASCII_WALK_MIN 2048
#define CP_MAX 0x10FFFFu
#define SET_ZLEVEL 9
/* below this many raw bytes zstd's frame header costs more than it saves */
#define SET_Z_MIN 64

/* Characters no query trigram holds: ASCII whitespace (search splits
 * words on it) and NUL (a query is a C string). */
static bool ws(uint32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || !c;
}

uint64_t ix_tri_code(uint32_t a, uint32_t b, uint32_t c)
{
	if ((a | b | c) < 0x80)
		return (uint64_t)a << 14 | (uint64_t)b << 7 | c;
	return ASCII_CODES + ((uint64_t)a << 42 | (uint64_t)b << 21 | c);
}

int ix_tri_chars(uint64_t code, uint32_t cp[3])
{
	if (code < ASCII_CODES) {
		cp[0] = (uint32_t)(code >> 14);
		cp[1] = (uint32_t)(code >> 7) & 0x7f;
		cp[2] = (uint32_t)code & 0x7f;
		return !cp[0] || !cp[1] || !cp[2] ? -EBADMSG : 0; /* never written */
	}
	code -= ASCII_CODES;
	cp[0] = (uint32_t)(code >> 42);
	cp[1] = (uint32_t)(code >> 21) & 0x1fffff;
	cp[2] = (uint32_t)code & 0x1fffff;
	if (cp[0] > CP_MAX || cp[1] > CP_MAX || cp[2] > CP_MAX || (cp[0] | cp[1] | cp[2]) < 0x80)
		return -EBADMSG;
	return !cp[0] || !cp[1] || !cp[2] ? -EBADMSG : 0;
}

static size_t utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

int ix_tri_text(uint64_t code, char out[13])
{
	uint32_t cp[3];
	size_t n = 0;
	int err = ix_tri_chars(code, cp);

	if (err)
		return err;
	for (int i = 0; i < 3; i++)
		n += utf8_put(out + n, cp[i]);
	out[n] = 0;
	return (int)n;
}

/* One UTF-8 character at *p (the text is sanitized: valid UTF-8; a stray
 * byte is taken as itself, as a bound). */
static uint32_t utf8_get(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	uint32_t c = *s++;
	int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

	if (more)
		c &= 0x3f >> more;
	while (more-- && s < end && (*s & 0xc0) == 0x80)
		c = c << 6 | (*s++ & 0x3f);
	*p = s;
	return c;
}

/* ---------------------------------------------------------------- building */

struct ix_tri_set {
	uint64_t *bits;          /* ASCII codes seen, ASCII_CODES bits */
	uint64_t *codes;         /* each code once: ASCII ones as first seen, then the rest */
	size_t n, cap;
	sqlite3 *db;             /* for FTS5's tokenizer (non-ASCII lines) */
	fts5_tokenizer tok;
	Fts5Tokenizer *inst;
	int err;
};

int ix_tri_set_new(sqlite3 *db, struct ix_tri_set **out)
{
	struct ix_tri_set *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->bits = calloc(ASCII_CODES / 64, sizeof(uint64_t));
	if (!s->bits) {
		free(s);
		return -ENOMEM;
	}
	s->db = db;
	*out = s;
	return 0;
}

void ix_tri_set_free(struct ix_tri_set *s)
{
	if (!s)
		return;
	if (s->inst)
		s->tok.xDelete(s->inst);
	free(s->bits);
	free(s->codes);
	free(s);
}

void ix_tri_set_clear(struct ix_tri_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->codes[i] < ASCII_CODES)
			s->bits[s->codes[i] >> 6] &= ~(1ull << (s->codes[i] & 63));
	s->n = 0;
	s->err = 0;
}

static int push(struct ix_tri_set *s, uint64_t code)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *p = realloc(s->codes, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->codes = p;
		s->cap = cap;
	}
	s->codes[s->n++] = code;
	return 0;
}

/* A bit is set only once its code is in codes (ix_tri_set_codes reads the
 * ASCII codes back from the bitmap; clear() walks codes). */
static int add_ascii(struct ix_tri_set *s, uint64_t code)
{
	uint64_t bit = 1ull << (code & 63);
	int err;

	if (s->bits[code >> 6] & bit)
		return 0;
	err = push(s, code);
	if (!err)
		s->bits[code >> 6] |= bit;
	return err;
}

/* FTS5's trigram tokenizer, found once per set (fts5_api, the documented
 * way: SELECT fts5(?1) hands the API pointer out). */
static int tokenizer(struct ix_tri_set *s)
{
	sqlite3_stmt *q = NULL;
	fts5_api *api = NULL;
	void *ud = NULL;
	int rc;

	if (s->inst)
		return 0;
	if (!s->db)
		return -EINVAL;
	rc = sqlite3_prepare_v2(s->db, "SELECT fts5(?1)", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_pointer(q, 1, &api, "fts5_api_ptr", NULL);
		sqlite3_step(q);
	}
	sqlite3_finalize(q);
	if (!api || api->xFindTokenizer(api, "trigram", &ud, &s->tok) != SQLITE_OK ||
	    s->tok.xCreate(ud, NULL, 0, &s->inst) != SQLITE_OK) {
		s->inst = NULL;
		pr_err("screen index: SQLite's FTS5 trigram tokenizer is not available");
		return -ENOSYS;
	}
	return 0;
}

static int on_token(void *ctx, int tflags, const char *tok, int n, int start, int end)
{
	struct ix_tri_set *s = ctx;
	const unsigned char *p = (const unsigned char *)tok, *e = p + n;
	uint32_t cp[3];
	int k = 0;
	uint64_t code;

	(void)tflags; (void)start; (void)end;
	while (p < e && k < 3)
		cp[k++] = utf8_get(&p, e);
	if (k != 3 || p != e || cp[0] > CP_MAX || cp[1] > CP_MAX || cp[2] > CP_MAX)
		return SQLITE_OK; /* not a 3-character token: cannot be queried */
	if (ws(cp[0]) || ws(cp[1]) || ws(cp[2]))
		return SQLITE_OK;
	code = ix_tri_code(cp[0], cp[1], cp[2]);
	s->err = code < ASCII_CODES ? add_ascii(s, code) : push(s, code);
	return s->err ? SQLITE_NOMEM : SQLITE_OK;
}

int ix_tri_set_line(struct ix_tri_set *s, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	uint32_t a, b;
	int err;

	if (len < 3)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (t[i] >= 0x80) {
			err = tokenizer(s);
			if (err)
				return err;
			if (len > INT32_MAX)
				return -E2BIG;
			s->err = 0;
			if (s->tok.xTokenize(s->inst, s, FTS5_TOKENIZE_DOCUMENT, text, (int)len,
					     on_token) != SQLITE_OK)
				return s->err ? s->err : -EIO;
			return 0;
		}
	}
	/* ASCII only: fold as FTS5 does (A-Z) */
#define FOLD(c) ((c) >= 'A' && (c) <= 'Z' ? (uint32_t)(c) + 32 : (uint32_t)(c))
	a = FOLD(t[0]);
	b = FOLD(t[1]);
	for (size_t i = 2; i < len; i++) {
		uint32_t c = FOLD(t[i]);

		if (!ws(a) && !ws(b) && !ws(c)) {
			err = add_ascii(s, (uint64_t)a << 14 | (uint64_t)b << 7 | c);
			if (err)
				return err;
		}
		a = b;
		b = c;
	}
#undef FOLD
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sorted and without duplicates (non-ASCII codes may repeat).  The ASCII
 * codes (all below any other, each once) come sorted out of the bitmap,
 * a walk of its 32768 words; only the others, usually few, are sorted.
 * A qsort of every code was ~4 % of the worker's CPU in a flood
 * (bench/results/31-worker.md).
 */
const uint64_t *ix_tri_set_codes(struct ix_tri_set *s, size_t *n)
{
	size_t other = 0, ascii = 0, k = 0, o;

	for (size_t i = 0; i < s->n; i++)
		ascii += s->codes[i] < ASCII_CODES;
	if (ascii < ASCII_WALK_MIN) {
		/* a walk of the whole bitmap costs more than sorting a few */
		if (s->n > 1) /* codes is NULL while empty: qsort wants an array */
			qsort(s->codes, s->n, sizeof(*s->codes), cmp_u64);
		ascii = 0;
		goto dedup;
	}
	/* the non-ASCII codes to the front, then behind the ASCII ones */
	for (size_t i = 0; i < s->n; i++)
		if (s->codes[i] >= ASCII_CODES)
			s->codes[other++] = s->codes[i];
	if (other)
		memmove(s->codes + ascii, s->codes, other * sizeof(*s->codes));
	if (other > 1)
		qsort(s->codes + ascii, other, sizeof(*s->codes), cmp_u64);
	for (size_t w = 0; w < ASCII_CODES / 64 && k < ascii; w++)
		for (uint64_t b = s->bits[w]; b && k < ascii; b &= b - 1)
			s->codes[k++] = (uint64_t)w << 6 | (uint64_t)__builtin_ctzll(b);
	/* add_ascii sets a bit only with its code pushed: one bit a code */
	assert(k == ascii);
dedup:
	o = ascii;
	for (size_t i = ascii; i < s->n; i++)
		if (o == ascii || s->codes[i] != s->codes[o - 1])
			s->codes[o++] = s->codes[i];
	/* the bitmap bits of the ASCII codes stay set: clear() walks codes */
	s->n = o;
	*n = o;
	return s->codes;
}

int ix_tri_set_code(struct ix_tri_set *s, uint64_t code)
{
	return code < ASCII_CODES ? add_ascii(s, code) : push(s, code);
}

/* ---------------------------------------------------------------- blobs */

int ix_set_encode(struct ZSTD_CCtx_s *cctx, const uint64_t *codes, size_t n, struct buf *out)
{
	struct buf raw = { 0 };
	uint8_t hdr[1 + 2 * KT_VARINT_MAX];
	size_t h, bound, zn;
	int err = 0;

	out->len = 0;
	for (size_t i = 0; i < n && !err; i++) {
		assert(!i || codes[i] > codes[i - 1]);
		err = ix_buf_varint(&raw, i ? codes[i] - codes[i - 1] : codes[i]);
	}
	if (err)
		goto cleanup;
	hdr[0] = 0;
	h = 1 + kt_varint_put(hdr + 1, n);
	if (raw.len >= SET_Z_MIN) {
		bound = ZSTD_compressBound(raw.len);
		err = ix_buf_reserve(out, 1 + 2 * KT_VARINT_MAX + bound);
		if (err)
			goto cleanup;
		zn = ix_zstd(cctx, out->p + 1 + 2 * KT_VARINT_MAX, bound, raw.p, raw.len, SET_ZLEVEL);
		if (ZSTD_isError(zn)) {
			pr_err("screen index: zstd: %s", ZSTD_getErrorName(zn));
			err = -EIO;
			goto cleanup;
		}
		if (zn + KT_VARINT_MAX < raw.len) {
			hdr[0] = 1;
			h += kt_varint_put(hdr + h, raw.len);
			memmove(out->p + h, out->p + 1 + 2 * KT_VARINT_MAX, zn);
			memcpy(out->p, hdr, h);
			out->len = h + zn;
			goto cleanup;
		}
	}
	err = ix_buf_put(out, hdr, h) ?: ix_buf_put(out, raw.p, raw.len);
cleanup:
	free(raw.p);
	return err;
}

int ix_set_decode(const void *blob, size_t len, uint64_t **codes, size_t *n)
{
	const uint8_t *p = blob, *end = p + len, *v;
	uint8_t *raw = NULL;
	uint64_t cnt, rawlen, d, prev = 0, *c = NULL;
	int fmt, err = -EBADMSG;

	*codes = NULL;
	*n = 0;
	if (!len)
		return -EBADMSG;
	fmt = *p++;
	if ((fmt != 0 && fmt != 1) || kt_varint_get(&p, end, &cnt) ||
	    cnt > IX_SET_MAX || (fmt == 1 && kt_varint_get(&p, end, &rawlen)))
		return -EBADMSG;
	if (fmt == 0) {
		v = p;
		rawlen = (uint64_t)(end - p);
	} else {
		size_t got;

		if (rawlen > cnt * KT_VARINT_MAX)
			return -EBADMSG;
		raw = malloc(rawlen ? rawlen : 1);
		if (!raw)
			return -ENOMEM;
		got = ZSTD_decompress(raw, rawlen, p, (size_t)(end - p));
		if (ZSTD_isError(got) || got != rawlen)
			goto cleanup;
		v = raw;
	}
	end = v + rawlen;
	if (cnt > rawlen)
		goto cleanup; /* each code takes a byte at least: before allocating */
	c = malloc((cnt ? cnt : 1) * sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (uint64_t i = 0; i < cnt; i++) {
		if (kt_varint_get(&v, end, &d) || (i && !d) || d > IX_CODE_MAX - prev)
			goto cleanup;
		prev += d;
		c[i] = prev;
	}
	if (v != end)
		goto cleanup;
	*codes = c;
	*n = (size_t)cnt;
	c = NULL;
	err = 0;
cleanup:
	free(c);
	free(raw);
	return err;
}

bool ix_set_has_all(const uint64_t *codes, size_t n, const uint64_t *want, size_t nwant)
{
	/* want is sorted: one merge walk */
	size_t i = 0;

	for (size_t k = 0; k < nwant; k++) {
		while (i < n && codes[i] < want[k])
			i++;
		if (i == n || codes[i] != want[k])
			return false;
	}
	return true;
}
