/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A session's command trigrams on the cluster store (schema step 8,
 * pg_bloom.c): one Bloom filter per session row, sessions.cmd_bloom
 * bit(KT_PG_BLOOM_BITS), that the command search tests before it walks
 * the session's commands.  Private to store/pg/: the shipper writes it
 * (pg_ship_session.c), the migration fills it (pg_schema_bloom.c), the
 * read backend tests it (pgr_command.c).  FORMAT-pg.md "Command trigrams"
 * is the definition; a change to the hash or the size is a schema step.
 */
#ifndef KUBETAPE_STORE_PG_BLOOM_H
#define KUBETAPE_STORE_PG_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define KT_PG_BLOOM_BITS 2048
#define KT_PG_BLOOM_BYTES (KT_PG_BLOOM_BITS / 8)
/* 'x', two hex digits a byte, NUL: bit_in's hex form of the column */
#define KT_PG_BLOOM_HEX (1 + 2 * KT_PG_BLOOM_BYTES + 1)
#define KT_PG_BLOOM_STR_(n) #n
#define KT_PG_BLOOM_STR(n) KT_PG_BLOOM_STR_(n)
/* the column's SQL type, for casts in statements, and its empty value */
#define KT_PG_BLOOM_TYPE "bit(" KT_PG_BLOOM_STR(KT_PG_BLOOM_BITS) ")"
#define KT_PG_BLOOM_EMPTY "repeat('0', " KT_PG_BLOOM_STR(KT_PG_BLOOM_BITS) ")::" KT_PG_BLOOM_TYPE

/* Set the bits of every 3-byte window of s[0, len), ASCII letters folded
 * to lower case (the search's ILIKE on SQL_ASCII with collation C). */
void kt_pg_bloom_add(uint8_t *bloom, const char *s, size_t len);

/* Add the trigrams of a search word given as its ILIKE pattern
 * (kt_search_plan_make: "%word%", with \ before % _ \).  False when the
 * word has fewer than 3 bytes: it tells the filter nothing. */
bool kt_pg_bloom_add_pattern(uint8_t *bloom, const char *pattern);

/* bloom as bit_in reads it: out holds KT_PG_BLOOM_HEX bytes. */
void kt_pg_bloom_hex(const uint8_t *bloom, char *out);

/* Register the aggregate kt_cmd_bloom(argv_text) on a node store's
 * connection: the hex form of its rows' filter ("x00…" for none).
 * 0 or -EIO. */
int kt_pg_bloom_sqlite(sqlite3 *db);

#endif
