// SPDX-License-Identifier: Apache-2.0
/*
 * A session's command trigrams (schema step 8; FORMAT-pg.md "Command
 * trigrams").
 *
 * Why.  A command search on the cluster store walks sessions newest first
 * and tests each walked session's commands with ILIKE (pgr_command.c).  On
 * bench/pg_scale.sh's 10 M commands, `search password` at 1,000 hits walks
 * ~1,824 sessions and tests ~184,000 commands; 2 in 3 of those sessions
 * hold no hit.  The commands' tuples are the cost (~23 us a session, 42 of
 * the 46 ms of the warm statement).  One filter per session row lets the
 * walk skip a session that cannot hold a word without touching its
 * commands.
 *
 * What.  Bit h(t) is set for every 3-byte window t of every command's
 * argv_text, A-Z folded to a-z; other bytes as they are (the search's
 * ILIKE on an SQL_ASCII database with collation C folds ASCII only).  A
 * word of 3 or more bytes can only occur in a session whose filter has
 * the bits of all its windows: the test may pass a session without the
 * word (then its commands are tested, as before), never fail one with
 * it.  One hash (k = 1), 4,096 bits: a session of ~100 commands has
 * ~600-1,500 distinct trigrams, so a bit is set with p ~0.14-0.3 and a
 * 6-window word like "password" passes a session missing it with p
 * ~1e-5-1e-3 when its trigrams are independent (they are not in a shell:
 * "ass" and "word" are common; the bench measures what it skips).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_bloom.h"

static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Fibonacci hashing of the 24-bit trigram to 11 bits: cheap, and spreads
 * neighbouring trigrams (same first two bytes) over the filter. */
static inline uint32_t tri_hash(uint8_t a, uint8_t b, uint8_t c)
{
	uint32_t t = (uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16;

	return (t * 0x9E3779B1u) >> (32 - 11);
}

_Static_assert(KT_PG_BLOOM_BITS == 1 << 11, "tri_hash gives 11 bits");

void kt_pg_bloom_add(uint8_t *bloom, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	if (len < 3)
		return;
	for (size_t i = 0; i + 2 < len; i++) {
		uint32_t h = tri_hash(fold(p[i]), fold(p[i + 1]), fold(p[i + 2]));

		/* bit h counted from the left, as bit_in reads hex */
		bloom[h >> 3] |= (uint8_t)(0x80 >> (h & 7));
	}
}

bool kt_pg_bloom_add_pattern(uint8_t *bloom, const char *pattern)
{
	size_t n = strlen(pattern), o = 0;
	char *w;

	/* "%" word "%": the plan's form, nothing else reaches here */
	assert(n >= 2 && pattern[0] == '%' && pattern[n - 1] == '%');
	if (n < 2 + 3)
		return false;
	w = strndup(pattern + 1, n - 2);
	if (!w)
		return false; /* no filter: the search stays correct */
	for (size_t i = 0; w[i]; i++) {
		if (w[i] == '\\' && w[i + 1])
			i++;
		w[o++] = w[i];
	}
	kt_pg_bloom_add(bloom, w, o);
	free(w);
	return o >= 3;
}

void kt_pg_bloom_hex(const uint8_t *bloom, char *out)
{
	static const char hex[] = "0123456789abcdef";

	*out++ = 'x';
	for (size_t i = 0; i < KT_PG_BLOOM_BYTES; i++) {
		*out++ = hex[bloom[i] >> 4];
		*out++ = hex[bloom[i] & 15];
	}
	*out = 0;
}

/* ------------------------------------------- the node store's aggregate */

static void agg_step(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	uint8_t *b = sqlite3_aggregate_context(cx, KT_PG_BLOOM_BYTES);
	const unsigned char *t;

	(void)argc;
	if (!b) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	t = sqlite3_value_text(argv[0]);
	if (t)
		kt_pg_bloom_add(b, (const char *)t, (size_t)sqlite3_value_bytes(argv[0]));
}

static void agg_final(sqlite3_context *cx)
{
	/* no rows: SQLite never called step, the context is new (zeroes) */
	uint8_t *b = sqlite3_aggregate_context(cx, KT_PG_BLOOM_BYTES);
	char *hex;

	if (!b) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	hex = sqlite3_malloc(KT_PG_BLOOM_HEX);
	if (!hex) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	kt_pg_bloom_hex(b, hex);
	sqlite3_result_text(cx, hex, KT_PG_BLOOM_HEX - 1, sqlite3_free);
}

int kt_pg_bloom_sqlite(sqlite3 *db)
{
	int rc = sqlite3_create_function(db, "kt_cmd_bloom", 1,
					 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
					 NULL, NULL, agg_step, agg_final);

	if (rc != SQLITE_OK) {
		pr_err("ship: registering kt_cmd_bloom: %s", sqlite3_errstr(rc));
		return -EIO;
	}
	return 0;
}
