// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster store's command trigrams (store/pg/pg_bloom.c, schema step
 * 8): the filter may pass a session without a word, never fail one with
 * it.  A search word is any substring of a command, in any ASCII case, so
 * the property is checked on random commands and every substring of them;
 * the hash and the hex form are pinned (they are the stored format: a
 * change is a schema step); the node store's aggregate gives what the C
 * function gives, and the empty filter for no rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kt_test.h"
#include "log.h"
#include "pg/pg_bloom.h"

static int nbits(const uint8_t *b)
{
	int n = 0;

	for (int i = 0; i < KT_PG_BLOOM_BYTES; i++)
		n += __builtin_popcount(b[i]);
	return n;
}

static bool bit(const uint8_t *b, unsigned h)
{
	return b[h >> 3] & (0x80 >> (h & 7));
}

/* every bit of m is in b */
static bool covers(const uint8_t *b, const uint8_t *m)
{
	for (int i = 0; i < KT_PG_BLOOM_BYTES; i++)
		if ((b[i] & m[i]) != m[i])
			return false;
	return true;
}

/* FORMAT-pg.md "Command trigrams": bit ((b0 | b1 << 8 | b2 << 16) *
 * 0x9E3779B1 mod 2^32) >> 21, counted from the left of bit(2048) */
static void t_format_pinned(void)
{
	uint8_t b[KT_PG_BLOOM_BYTES] = { 0 };
	char hex[KT_PG_BLOOM_HEX];
	uint32_t h = (uint32_t)(0x636261u * 0x9E3779B1u) >> 21;

	kt_pg_bloom_add(b, "abc", 3);
	CHECK(nbits(b) == 1);
	CHECK(bit(b, h));
	kt_pg_bloom_hex(b, hex);
	CHECK(strlen(hex) == 1 + 2 * KT_PG_BLOOM_BYTES && hex[0] == 'x');
	CHECK(strspn(hex + 1, "0123456789abcdef") == 2 * KT_PG_BLOOM_BYTES);
	/* the byte of bit h, high bit first */
	{
		char want[3];

		snprintf(want, sizeof(want), "%02x", 0x80 >> (h & 7));
		CHECK(memcmp(hex + 1 + 2 * (h >> 3), want, 2) == 0);
	}
	/* fewer than 3 bytes: nothing */
	memset(b, 0, sizeof(b));
	kt_pg_bloom_add(b, "ab", 2);
	kt_pg_bloom_add(b, "", 0);
	CHECK(nbits(b) == 0);
}

static void t_ascii_fold_only(void)
{
	uint8_t a[KT_PG_BLOOM_BYTES] = { 0 }, b[KT_PG_BLOOM_BYTES] = { 0 };

	kt_pg_bloom_add(a, "cat /etc/PASSWD", 15);
	kt_pg_bloom_add(b, "CAT /ETC/passwd", 15);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	/* the search folds A-Z only: 0xc3 0x89 (E acute) is not 0xc3 0xa9 */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	kt_pg_bloom_add(a, "x\xc3\x89", 3);
	kt_pg_bloom_add(b, "x\xc3\xa9", 3);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

static void t_patterns(void)
{
	uint8_t m[KT_PG_BLOOM_BYTES] = { 0 }, w[KT_PG_BLOOM_BYTES] = { 0 };

	/* the plan's escapes are taken off: the word is "50%_x\" */
	CHECK(kt_pg_bloom_add_pattern(m, "%50\\%\\_x\\\\%"));
	kt_pg_bloom_add(w, "50%_x\\", 6);
	CHECK(memcmp(m, w, sizeof(m)) == 0);
	/* short words add nothing and say so */
	memset(m, 0, sizeof(m));
	CHECK(!kt_pg_bloom_add_pattern(m, "%ls%"));
	CHECK(!kt_pg_bloom_add_pattern(m, "%a\\%%"));
	CHECK(!kt_pg_bloom_add_pattern(m, "%%"));
	CHECK(nbits(m) == 0);
	CHECK(kt_pg_bloom_add_pattern(m, "%-rf%"));
	CHECK(nbits(m) == 1);
}

/* No false negative: every substring of every command, in random case,
 * as a pattern, is covered by the session's filter. */
static void t_no_false_negative(void)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789 /-._%\\\"'\t\x80\xc3\xa9\xff";
	uint64_t seed = 0x9e3779b97f4a7c15u, checked = 0;

	for (int s = 0; s < 40; s++) {
		uint8_t b[KT_PG_BLOOM_BYTES] = { 0 };
		char cmd[8][48];
		int ncmd = 1 + s % 8;

		for (int c = 0; c < ncmd; c++) {
			int len;

			seed = seed * 6364136223846793005u + 1442695040888963407u;
			len = 3 + (int)(seed >> 59) + (int)((seed >> 40) & 15);
			for (int i = 0; i < len; i++) {
				seed = seed * 6364136223846793005u + 1442695040888963407u;
				cmd[c][i] = alpha[(seed >> 33) % (sizeof(alpha) - 1)];
			}
			cmd[c][len] = 0;
			kt_pg_bloom_add(b, cmd[c], (size_t)len);
		}
		for (int c = 0; c < ncmd; c++) {
			int len = (int)strlen(cmd[c]);

			for (int i = 0; i < len; i++) {
				for (int n = 3; i + n <= len; n++) {
					uint8_t m[KT_PG_BLOOM_BYTES] = { 0 };
					char pat[2 * 48 + 3], *p = pat;

					*p++ = '%';
					for (int k = i; k < i + n; k++) {
						char ch = cmd[c][k];

						seed = seed * 6364136223846793005u + 1442695040888963407u;
						if ((seed >> 62) == 0 && ch >= 'a' && ch <= 'z')
							ch = (char)(ch - 32);
						if (ch == '%' || ch == '_' || ch == '\\')
							*p++ = '\\';
						*p++ = ch;
					}
					*p++ = '%';
					*p = 0;
					CHECK(kt_pg_bloom_add_pattern(m, pat));
					CHECK(covers(b, m));
					checked++;
				}
			}
		}
	}
	CHECK(checked > 10000);
}

static void t_sqlite_aggregate(void)
{
	uint8_t b[KT_PG_BLOOM_BYTES] = { 0 };
	char want[KT_PG_BLOOM_HEX], zero[KT_PG_BLOOM_HEX];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(kt_pg_bloom_sqlite(db) == 0);
	CHECK(sqlite3_exec(db, "CREATE TABLE commands (session_id, argv_text);"
			   "INSERT INTO commands VALUES (1, 'ls -la /tmp'), (1, NULL),"
			   " (1, 'CAT /etc/passwd'), (2, 'id')", NULL, NULL, NULL) == SQLITE_OK);
	kt_pg_bloom_add(b, "ls -la /tmp", 11);
	kt_pg_bloom_add(b, "CAT /etc/passwd", 15);
	kt_pg_bloom_hex(b, want);
	memset(b, 0, sizeof(b));
	kt_pg_bloom_hex(b, zero);
	CHECK(sqlite3_prepare_v2(db, "SELECT (SELECT kt_cmd_bloom(argv_text) FROM commands"
				 " WHERE session_id = ?1)", -1, &q, NULL) == SQLITE_OK);
	sqlite3_bind_int(q, 1, 1);
	CHECK(sqlite3_step(q) == SQLITE_ROW);
	CHECK(sqlite3_column_text(q, 0) && strcmp((const char *)sqlite3_column_text(q, 0), want) == 0);
	/* "id": 2 bytes, no trigram; no rows at all: the empty filter too */
	for (int sid = 2; sid <= 3; sid++) {
		sqlite3_reset(q);
		sqlite3_bind_int(q, 1, sid);
		CHECK(sqlite3_step(q) == SQLITE_ROW);
		CHECK(sqlite3_column_text(q, 0) &&
		      strcmp((const char *)sqlite3_column_text(q, 0), zero) == 0);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
}

int main(void)
{
	kt_log_init(NULL, KT_LOG_ERROR);
	RUN(t_format_pinned);
	RUN(t_ascii_fold_only);
	RUN(t_patterns);
	RUN(t_no_false_negative);
	RUN(t_sqlite_aggregate);
	return kt_test_done();
}
