// SPDX-License-Identifier: Apache-2.0
/*
 * corpus_breakdown DB [BASE] — where a store's bytes go, after
 * bench/corpus_store.c wrote a corpus into it (and storage.sh vacuumed it).
 *
 * Prints one "part bytes" line per part, then "total bytes":
 *   chunk_payload  the compressed chunk blobs' share that holds payloads
 *   chunk_headers  ... that holds frame headers (type, len)
 *   chunk_timing   ... that holds the delta_us varints
 *   chunk_rows     chunk table pages minus the blobs (row fields, b-tree
 *                  slack, the primary key and chunks_end index)
 *   keyframes      keyframe table and index pages
 *   screen_fts     the screen search index (v8: screen_sets, screen_groups,
 *                  screen_gfts; before: screen_fts; the name is kept)
 *   screen_other   screen_blocks, screen_pending, screen_index (+ indexes)
 *   sessions       sessions rows and their indexes
 *   other          everything else (schema, meta, commands, chain heads...)
 *   free           free pages
 * The three chunk_* blob parts split each blob's stored length in
 * proportion to what each stream costs compressed on its own at the
 * store's compaction level (zstd 9), frames read through the public
 * stream API (any codec): an attribution, exact in sum only.
 * With BASE (an empty-session store, as storage.sh subtracts) every table
 * line is the difference.
 *
 * Build: as corpus_store (bench/storage.sh does), plus -lsqlite3 -lzstd.
 * Limits: session id 1 only (corpus_store writes one session).
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store.h"

enum { P_PAY, P_HDR, P_TIME, P_ROWS, P_KF, P_FTS, P_SCR, P_SESS, P_OTHER, P_FREE, NPART };
static const char *names[NPART] = { "chunk_payload", "chunk_headers", "chunk_timing",
				    "chunk_rows", "keyframes", "screen_fts", "screen_other",
				    "sessions", "other", "free" };

static void die(const char *what)
{
	fprintf(stderr, "corpus_breakdown: %s\n", what);
	exit(1);
}

static size_t zsize(const void *p, size_t n)
{
	size_t cap = ZSTD_compressBound(n), r;
	void *z = malloc(cap);

	if (!z)
		die("out of memory");
	r = ZSTD_compress(z, cap, p, n, KT_COMPACT_LEVEL);
	free(z);
	if (ZSTD_isError(r))
		die("zstd");
	return r;
}

struct streams {
	uint8_t *b[3];
	size_t n[3], cap[3];
};

static void put(struct streams *s, int i, const void *p, size_t n)
{
	if (s->n[i] + n > s->cap[i]) {
		size_t c = s->cap[i] ? s->cap[i] : 1 << 16;

		while (c < s->n[i] + n)
			c *= 2;
		if (!(s->b[i] = realloc(s->b[i], c)))
			die("out of memory");
		s->cap[i] = c;
	}
	memcpy(s->b[i] + s->n[i], p, n);
	s->n[i] += n;
}

static size_t varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	return n;
}

/* The session's frames (through the public reader, whatever the codec)
 * as three streams: payloads, type+len, delta_us; compressed apart. */
static void attribute(const char *path, double stored, double *part)
{
	struct kt_store *st;
	struct kt_stream *s;
	struct kt_frame f;
	struct streams x = { 0 };
	int64_t last = INT64_MIN;
	double z[3], sum = 0;
	int r;

	if (kt_store_open(path, 0, &st) || kt_stream_open(st, 1, INT64_MIN, &s))
		die("open stream");
	while ((r = kt_stream_next(s, &f)) == 1) {
		uint8_t v[12];

		put(&x, 0, f.data, f.len);
		v[0] = f.type;
		put(&x, 1, v, 1 + varint(v + 1, f.len));
		put(&x, 2, v, varint(v, last == INT64_MIN ? 0 : (uint64_t)(f.ts_us - last)));
		last = f.ts_us;
	}
	if (r < 0)
		die("stream");
	kt_stream_close(s);
	kt_store_close(st);
	for (int i = 0; i < 3; i++) {
		z[i] = x.n[i] ? zsize(x.b[i], x.n[i]) : 0;
		sum += z[i];
		free(x.b[i]);
	}
	for (int i = 0; i < 3 && sum > 0; i++)
		part[P_PAY + i] += stored * z[i] / sum;
}

static void measure(const char *path, double *part)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	double blobs = 0;

	memset(part, 0, NPART * sizeof(*part));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("open");
	if (sqlite3_prepare_v2(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name", -1, &q,
			       NULL) != SQLITE_OK)
		die("dbstat (SQLite without SQLITE_ENABLE_DBSTAT_VTAB?)");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(q, 0);
		double b = sqlite3_column_double(q, 1);

		if (!strncmp(n, "chunks", 6) || !strcmp(n, "sqlite_autoindex_chunks_1"))
			part[P_ROWS] += b;
		else if (!strncmp(n, "keyframes", 9) || !strcmp(n, "sqlite_autoindex_keyframes_1"))
			part[P_KF] += b;
		else if (!strncmp(n, "screen_fts", 10) || !strncmp(n, "screen_gfts", 11) ||
			 !strncmp(n, "screen_sets", 11) || !strncmp(n, "screen_groups", 13))
			part[P_FTS] += b;
		else if (!strncmp(n, "screen_", 7) || strstr(n, "screen_pending"))
			part[P_SCR] += b;
		else if (!strncmp(n, "sessions", 8) || !strcmp(n, "sqlite_autoindex_sessions_1"))
			part[P_SESS] += b;
		else
			part[P_OTHER] += b;
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(db, "SELECT total(length(data)) FROM chunks", -1, &q, NULL) ==
	    SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		blobs = sqlite3_column_double(q, 0);
	sqlite3_finalize(q);
	if (blobs > 0)
		attribute(path, blobs, part);
	part[P_ROWS] -= blobs;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT freelist_count FROM pragma_freelist_count) *"
			       " (SELECT page_size FROM pragma_page_size)", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		part[P_FREE] = sqlite3_column_double(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

int main(int argc, char **argv)
{
	double part[NPART], base[NPART] = { 0 }, total = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: corpus_breakdown DB [BASE_DB]\n");
		return 2;
	}
	measure(argv[1], part);
	if (argc == 3)
		measure(argv[2], base);
	for (int i = 0; i < NPART; i++) {
		double v = part[i] - base[i];

		printf("%s %.0f\n", names[i], v);
		total += v;
	}
	printf("total %.0f\n", total);
	return 0;
}
