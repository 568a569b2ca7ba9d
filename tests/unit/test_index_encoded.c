// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index's encoded-line rule (store/index/index_blob.c
 * ix_encoded_line): its table-driven form against the rule as written
 * before (range tests per character, kept here as the oracle), on fixed
 * cases and on random lines drawn from the classes the rule tells apart;
 * the index's zstd through the store's reused context; and a trigram
 * set's sorted codes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <zstd.h>

#include "kt_test.h"
#include "index_int.h"

/* the rule before bench/results/31-worker.md, verbatim */
static bool oracle(const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		bool alphabet = true, hex = true, hexletter = false, up = false, low = false;
		bool dig = false;
		size_t start;

		while (i < len && (t[i] == ' ' || t[i] == '\t'))
			i++;
		start = i;
		for (; i < len && t[i] != ' ' && t[i] != '\t'; i++) {
			char c = t[i];

			if (c >= '0' && c <= '9') {
				dig = true;
			} else if (c >= 'a' && c <= 'z') {
				low = true;
				hex = hex && c <= 'f';
				hexletter = true;
			} else if (c >= 'A' && c <= 'Z') {
				up = true;
				hex = hex && c <= 'F';
				hexletter = true;
			} else if (c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
				hex = false;
			} else {
				alphabet = false;
			}
		}
		if (i - start >= ENCODED_RUN_MIN && alphabet && dig &&
		    ((hex && hexletter) || (up && low)))
			return true;
	}
	return false;
}

static bool enc(const char *s)
{
	return ix_encoded_line(s, strlen(s));
}

static void t_fixed(void)
{
	/* base64 of random bytes, 64 chars */
	CHECK(enc("  dGhpcyBpcyBub3QgcmFuZG9tIGJ1dCBpdCBsb29rcyBsaWtlIGl0IDEyMzQ1Njc4"));
	/* sha256 in hex, lower and upper case */
	CHECK(enc("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -"));
	CHECK(enc("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	/* 47 characters: one short */
	CHECK(!enc("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"));
	CHECK(enc("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b9341"));
	/* no digit; one case beyond hex; a dot; a path; a number */
	CHECK(!enc("abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdef"));
	CHECK(!enc("ghijklmnop1234567890ghijklmnop1234567890ghijklmnop12"));
	CHECK(!enc("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca49.5991b"));
	CHECK(!enc("/usr/lib/x86_64-linux-gnu/libsqlite3/extensions/module1234/xx"));
	CHECK(!enc("123456789012345678901234567890123456789012345678901234567890"));
	/* a tab separates runs like a space */
	CHECK(!enc("e3b0c44298fc1c149afbf4c8\t996fb92427ae41e4649b934ca495991b"));
	/* UTF-8 is outside the alphabet */
	CHECK(!enc("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4\xc3\xa9"));
	CHECK(!enc(""));
}

static void t_random_vs_oracle(void)
{
	/* every class the rule separates, spaces and tabs often enough to
	 * give runs around ENCODED_RUN_MIN */
	static const char pool[] = "0123456789afAFgzGZ+/=_-.~ \t\x80\xff";
	uint32_t x = 0x9e3779b9;
	char line[160];
	int mism = 0, hits = 0;

	for (int n = 0; n < 200000; n++) {
		size_t len;
		/* a mostly-one-class line: a few pool entries, sometimes a space */
		char pick[4];

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len = x % sizeof(line);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			pick[k] = pool[x % (sizeof(pool) - 1)];
		}
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			line[i] = (x & 0x3f) == 0 ? pool[(x >> 8) % (sizeof(pool) - 1)] : pick[(x >> 8) & 3];
		}
		if (ix_encoded_line(line, len) != oracle(line, len))
			mism++;
		hits += oracle(line, len);
	}
	CHECK_EQ_INT(mism, 0);
	CHECK(hits > 1000);	/* the draw reaches the rule's true side */
}

/* The index's compressions through a reused context (ix_cctx, shared with
 * chunk.c at its own level) give the bytes ZSTD_compress gives: the stored
 * keyframes, screen states and trigram sets stay what they were. */
static void t_shared_cctx_same_bytes(void)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	static uint64_t codes[3000];
	static char text[70000];
	struct buf a = { 0 }, b = { 0 };
	uint8_t *z1 = malloc(ZSTD_compressBound(sizeof(text)));
	uint8_t *z2 = malloc(ZSTD_compressBound(sizeof(text)));
	uint64_t c = 0;
	uint32_t x = 7;

	CHECK(cctx && z1 && z2);
	if (!cctx || !z1 || !z2)
		goto out;
	for (size_t i = 0; i < sizeof(text); i++) {
		x = x * 1103515245 + 12345;
		text[i] = "abc de\n"[(x >> 16) % 7];
	}
	for (size_t k = 0; k < 3000; k++) {
		x = x * 1103515245 + 12345;
		c += 1 + (x >> 20) % 900;
		codes[k] = c;
	}
	for (int round = 0; round < 3; round++) {
		size_t bound = ZSTD_compressBound(sizeof(text));
		/* the chunk path's level in between, as in a writer's handle */
		size_t n1 = ix_zstd(cctx, z1, bound, text, sizeof(text) - 1000 * round, 1 + round);
		size_t n2 = ZSTD_compress(z2, bound, text, sizeof(text) - 1000 * round, 1 + round);

		CHECK(!ZSTD_isError(n1) && n1 == n2 && !memcmp(z1, z2, n1));
		n1 = ix_zstd(cctx, z1, bound, text, sizeof(text), 3);
		n2 = ZSTD_compress(z2, bound, text, sizeof(text), 3);
		CHECK(!ZSTD_isError(n1) && n1 == n2 && !memcmp(z1, z2, n1));
		CHECK_EQ_INT(ix_set_encode(cctx, codes, 3000 - 100 * round, &a), 0);
		CHECK_EQ_INT(ix_set_encode(NULL, codes, 3000 - 100 * round, &b), 0);
		CHECK(a.p[0] == 1);	/* compressed */
		CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
	}
out:
	ZSTD_freeCCtx(cctx);
	free(z1);
	free(z2);
	free(a.p);
	free(b.p);
}

static int cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ix_tri_set_codes (ASCII codes read back from the bitmap when there are
 * many, sorted when few) against sort + unique of what went in, with
 * repeats, non-ASCII codes, both sizes, and a set reused after clear. */
static void t_set_codes_sorted_unique(void)
{
	static const size_t sizes[] = { 0, 1, 5, 2047, 2048, 2100, 40000, 3, 60000 };
	static uint64_t in[2 * 60000], ref[2 * 60000];
	struct ix_tri_set *set = NULL;
	uint32_t x = 12345;

	CHECK_EQ_INT(ix_tri_set_new(NULL, &set), 0);
	if (!set)
		return;
	for (size_t t = 0; t < sizeof(sizes) / sizeof(*sizes); t++) {
		size_t m = 0, r = 0, n = 0;
		const uint64_t *out;

		for (size_t i = 0; i < sizes[t]; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			/* ASCII codes, a few non-ASCII ones (some repeated) */
			in[m++] = (x & 7) == 0 ? ix_tri_code(0x100 + x % 50, 'a', 'b') :
						 ix_tri_code(33 + x % 94, 33 + (x >> 8) % 94, 33 + (x >> 16) % 94);
			if ((x & 31) == 1)
				in[m] = in[m - 1], m++;
		}
		for (size_t i = 0; i < m; i++)
			CHECK_EQ_INT(ix_tri_set_code(set, in[i]), 0);
		memcpy(ref, in, m * sizeof(*in));
		qsort(ref, m, sizeof(*ref), cmp64);
		for (size_t i = 0; i < m; i++)
			if (!r || ref[i] != ref[r - 1])
				ref[r++] = ref[i];
		out = ix_tri_set_codes(set, &n);
		CHECK_EQ_INT(n, r);
		CHECK(!r || (out && !memcmp(out, ref, r * sizeof(*ref))));
		/* twice gives the same */
		out = ix_tri_set_codes(set, &n);
		CHECK(n == r && (!r || !memcmp(out, ref, r * sizeof(*ref))));
		ix_tri_set_clear(set);
	}
	ix_tri_set_free(set);
}

int main(void)
{
	RUN(t_fixed);
	RUN(t_random_vs_oracle);
	RUN(t_shared_cctx_same_bytes);
	RUN(t_set_codes_sorted_unique);
	return kt_test_done();
}
