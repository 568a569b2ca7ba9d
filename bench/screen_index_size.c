// SPDX-License-Identifier: Apache-2.0
/*
 * screen_index_size: what the screen index costs on disk, and what a screen
 * search costs, on one recorded session.
 *
 *   screen_index_size write DB FILE [ev]   record FILE as one session into a
 *       fresh store DB, indexing as kubetape-recorder does, then print the
 *       bytes per part (dbstat)
 *   screen_index_size search DB QUERY [LIMIT]   time one screen search
 *
 * FILE is raw terminal output (frames of 4 KiB, 100 us apart: a flood) or,
 * with "ev", a bench/corpus.py event file (its own timing, input included).
 * Recording follows bench/corpus_store.c: a chunk per 128 KiB raw or when
 * its oldest frame is 0.4 s old; indexing follows recorder/indexer.c: every
 * 0.5 s of virtual time, kt_index_session with a 1 MiB budget until it has
 * caught up; at the end the session is ended and indexed to its final
 * screen.  The output line is
 *   raw_out chunks keyframes screen_index other free total   (bytes)
 * where screen_index is screen_blocks, screen_fts*, screen_pending and
 * screen_index with their indexes, free the file's free pages.
 *
 * Build: cc -O2 -D_GNU_SOURCE -Istore/include bench/screen_index_size.c \
 *          build/libkubetape.a -lsqlite3 -lzstd -ljansson -lvterm -lsodium -lm
 * Limits: one session, no commands; times are virtual, not wall clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define FLUSH_BYTES (128 << 10)
#define FLUSH_AGE 400000
#define INDEX_TICK 500000
#define T0 1795300000000000LL

static struct kt_store *st;
static struct kt_chunk_builder cb;
static int64_t sid, next_index_us;

static void die(const char *what, int err)
{
	fprintf(stderr, "screen_index_size: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void index_caught_up(void)
{
	int r;

	while ((r = kt_index_session(st, sid, 1 << 20)) == 1)
		;
	if (r < 0)
		die("index", r);
}

static void flush_chunk(void)
{
	int err;

	if (!cb.nframes)
		return;
	err = kt_store_chunk_append(st, sid, &cb);
	if (err)
		die("chunk append", err);
	kt_chunk_builder_reset(&cb);
}

static void frame(uint8_t type, int64_t ts, const void *data, uint32_t len)
{
	int err;

	if (cb.nframes && (cb.len + len > FLUSH_BYTES || ts - cb.start_us >= FLUSH_AGE))
		flush_chunk();
	err = kt_chunk_add(&cb, type, ts, data, len);
	if (err)
		die("chunk add", err);
	if (ts >= next_index_us) {
		flush_chunk();
		index_caught_up();
		next_index_us = ts + INDEX_TICK;
	}
}

static void sizes(const char *path, uint64_t raw_out)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t chunks = 0, kf = 0, idx = 0, other = 0, free_b = 0, total = 0;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("open", EIO);
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name", -1, &q,
			       NULL) != SQLITE_OK)
		die("dbstat", EIO);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(q, 0);
		int64_t b = sqlite3_column_int64(q, 1);

		if (!strncmp(n, "chunks", 6) || !strcmp(n, "sqlite_autoindex_chunks_1"))
			chunks += b;
		else if (!strncmp(n, "keyframes", 9))
			kf += b;
		else if (!strncmp(n, "screen_", 7))
			idx += b;
		else
			other += b;
	}
	sqlite3_finalize(q);
	sqlite3_prepare_v2(db, "SELECT (SELECT freelist_count FROM pragma_freelist_count) *"
			   " (SELECT page_size FROM pragma_page_size),"
			   " (SELECT page_count FROM pragma_page_count) *"
			   " (SELECT page_size FROM pragma_page_size)", -1, &q, NULL);
	if (sqlite3_step(q) == SQLITE_ROW) {
		free_b = sqlite3_column_int64(q, 0);
		total = sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	printf("%" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
	       raw_out, chunks, kf, idx, other, free_b, total);
}

static int write_db(const char *path, const char *file, bool ev)
{
	struct kt_session_info s = { 0 };
	uint64_t raw_out = 0;
	int64_t ts = T0;
	uint8_t *buf = malloc(1 << 16);
	FILE *in = fopen(file, "rb");
	double t;
	int err;

	if (!in || !buf)
		die(file, errno);
	remove(path);
	err = kt_store_open(path, KT_STORE_CREATE, &st);
	if (err)
		die("store open", err);
	snprintf(s.uuid, sizeof(s.uuid), "bench-screen-index");
	s.start_us = T0;
	s.has_tty = true;
	s.rows = 24;
	s.cols = 80;
	err = kt_store_session_create(st, &s);
	if (err)
		die("session", err);
	sid = s.id;
	kt_chunk_builder_init(&cb);
	next_index_us = T0 + INDEX_TICK;
	t = now();
	for (;;) {
		uint8_t type = KT_FRAME_OUT;
		uint32_t len;

		if (ev) {
			uint8_t h[13];
			int64_t vt;

			if (fread(h, 1, 13, in) != 13)
				break;
			memcpy(&vt, h + 1, 8);
			memcpy(&len, h + 9, 4);
			if (len > (1 << 16) || fread(buf, 1, len, in) != len)
				die("short event file", EINVAL);
			type = h[0] == 'i' ? KT_FRAME_IN : KT_FRAME_OUT;
			ts = T0 + vt;
		} else {
			len = (uint32_t)fread(buf, 1, 4096, in);
			if (!len)
				break;
			ts += 100;
		}
		if (type == KT_FRAME_OUT)
			raw_out += len;
		frame(type, ts, buf, len);
	}
	flush_chunk();
	index_caught_up();
	s.state = KT_SESSION_ENDED;
	s.end_us = ts + 1;
	err = kt_store_session_update(st, &s);
	if (err)
		die("session end", err);
	index_caught_up();
	fprintf(stderr, "recorded and indexed in %.2f s\n", now() - t);
	kt_chunk_builder_free(&cb);
	kt_store_close(st);
	fclose(in);
	free(buf);
	sizes(path, raw_out);
	return 0;
}

static int on_hit(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	if (*(int *)ctx < 3)
		fprintf(stderr, "  hit %" PRId64 ": %.100s\n", h->id, h->text);
	(*(int *)ctx)++;
	return 0;
}

static int search(const char *path, const char *query, int limit)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct kt_screen_search_stats stats;
	int n = 0, err;
	double t;

	err = kt_store_open(path, KT_STORE_RDONLY, &st);
	if (err)
		die("store open", err);
	f.limit = limit;
	t = now();
	err = kt_store_screen_search_stats(st, query, &f, on_hit, &n, &stats);
	t = now() - t;
	if (err)
		die("search", err);
	printf("%.1f ms  hits %d  candidate blocks %" PRId64 "  rendered %.1f MiB  lines %" PRId64 "\n",
	       t * 1e3, n, stats.blocks, stats.rendered / 1048576.0, stats.lines);
	kt_store_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "write"))
		return write_db(argv[2], argv[3], argc > 4 && !strcmp(argv[4], "ev"));
	if (argc >= 4 && !strcmp(argv[1], "search"))
		return search(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 0);
	fprintf(stderr, "usage: screen_index_size write DB FILE [ev] | search DB QUERY [LIMIT]\n");
	return 2;
}
