// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index's encoded-line rule (store/index/index_blob.c
 * ix_encoded_line): its table-driven form against the rule as written
 * before (range tests per character, kept here as the oracle), on fixed
 * cases and on random lines drawn from the classes the rule tells apart.
 */
#include <stdbool.h>
#include <stdint.h>

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

int main(void)
{
	RUN(t_fixed);
	RUN(t_random_vs_oracle);
	return kt_test_done();
}
