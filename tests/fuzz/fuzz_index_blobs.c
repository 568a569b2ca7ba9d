// SPDX-License-Identifier: Apache-2.0
/*
 * The screen index's stored state read back from a hostile database: a
 * screen_pending row (first_line, lines blob), a keyframes row (rows, cols,
 * codec, raw_len, data) or the screen_index resume row (positions, size,
 * state blob).  A real store is built once (an active session with 140 KiB
 * of output over 40 s, indexed: keyframes, closed blocks and an open block
 * with pending lines); each input is written over one row of a fresh copy
 * of it, then the readers run: screen search (open blocks read
 * screen_pending, closed ones restore keyframes), a seek through
 * kt_stream_open_at plus kt_screen_restore of what it returns, and
 * kt_index_session resuming from screen_index.
 *
 * Input: byte 0 the row (bits 0-6 % 3: pending, keyframe, screen_index; bit 7: zstd
 * the blob part first, so it reaches past the decompressor), then the
 * row's integers little-endian (8 bytes each; rows/cols 2 bytes), then the
 * blob.  Properties, abort() otherwise: every call returns (no crash, no
 * UB under the sanitizers), with 0/1 or a negative errno; a restored
 * screen has its cursor on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <sqlite3.h>

#include "log.h"
#include "screen.h"
#include "store.h"

#define S 1000000LL

static char g_dir[64], g_db[128];
static uint8_t *g_pristine;
static size_t g_pristine_len;
static int64_t g_sid, g_t0 = 1700000000 * S;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_index_blobs: setup: %s\n", what);
	abort();
}

static void build(void)
{
	struct kt_store *st = NULL;
	struct kt_chunk_builder b;
	struct kt_session_info s = { 0 };
	char line[96];
	int64_t ts = g_t0;

	snprintf(s.uuid, sizeof(s.uuid), "fuzz-index");
	snprintf(s.pod, sizeof(s.pod), "pod");
	snprintf(s.capture, sizeof(s.capture), "syscall");
	s.start_us = g_t0;
	s.has_tty = true;
	s.rows = 24;
	s.cols = 80;
	if (kt_store_open(g_db, KT_STORE_CREATE, &st) || kt_store_session_create(st, &s))
		die("store");
	g_sid = s.id;
	kt_chunk_builder_init(&b);
	for (int i = 0; i < 2000; i++) {
		int n = snprintf(line, sizeof(line), "line %d needle %x lorem ipsum dolor sit amet\r\n",
				 i, i * 7919);

		ts += 20000; /* 40 s in all: keyframes by time too */
		if (i == 1000 && kt_chunk_add_resize(&b, ts, 100, 30))
			die("resize");
		if (kt_chunk_add(&b, KT_FRAME_OUT, ts, line, (uint32_t)n))
			die("frame");
		if (i % 100 == 99) {
			if (kt_store_chunk_append(st, s.id, &b))
				die("append");
			kt_chunk_builder_reset(&b);
		}
	}
	kt_chunk_builder_free(&b);
	while (kt_index_session(st, s.id, 0) == 1)
		;
	kt_store_close(st);
}

static void cleanup(void);

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
	    !(p = malloc((size_t)n)) || fread(p, 1, (size_t)n, f) != (size_t)n)
		die("read the store");
	fclose(f);
	*len = (size_t)n;
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	kt_log_init("fuzz_index_blobs", KT_LOG_ERROR);
	snprintf(g_dir, sizeof(g_dir), "%s/kt_fuzz_index.XXXXXX", base);
	if (!mkdtemp(g_dir))
		die("mkdtemp");
	snprintf(g_db, sizeof(g_db), "%s/s.db", g_dir);
	atexit(cleanup);
	build();
	g_pristine = slurp(g_db, &g_pristine_len);
	return 0;
}

static void cleanup(void)
{
	char p[160];

	if (!*g_db || getenv("KT_KEEP_TMP"))
		return;
	static const char *const sfx[] = { "", "-wal", "-shm" };

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", g_db, sfx[i]);
		unlink(p);
	}
	rmdir(g_dir);
}

static void reset(void)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s-wal", g_db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", g_db);
	unlink(p);
	f = fopen(g_db, "wb");
	if (!f || fwrite(g_pristine, 1, g_pristine_len, f) != g_pristine_len || fclose(f))
		die("write the store");
}

static int64_t le(const uint8_t **p, const uint8_t *end, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n && *p < end; i++, (*p)++)
		v |= (uint64_t)**p << (8 * i);
	if (n == 2)
		return (int64_t)(int16_t)v;
	return (int64_t)v;
}

static int corrupt(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	int mode = (data[0] & 0x7f) % 3;
	int64_t v[12];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	uint8_t *z = NULL;
	const void *blob;
	size_t blen;
	int rc, nint = mode == 0 ? 1 : mode == 1 ? 5 : 12;
	static const char *const sql[] = {
		"UPDATE screen_pending SET first_line = ?1, lines = ?13"
		" WHERE (block_id, first_line) IN"
		" (SELECT block_id, first_line FROM screen_pending LIMIT 1)",
		"UPDATE keyframes SET rows = ?1, cols = ?2, codec = ?3, raw_len = ?4, ts_us = ?5,"
		" data = ?13 WHERE (session_id, chunk_seq, frame_index) IN"
		" (SELECT session_id, chunk_seq, frame_index FROM keyframes LIMIT 1)",
		"UPDATE screen_index SET chunk_seq = ?1, frame_index = ?2, ts_us = ?3,"
		" out_offset = ?4, kf_offset = ?5, kf_us = ?6, block_seq = ?7,"
		" block_chunk_seq = ?8, block_frame_index = ?9, block_lines = ?10,"
		" rows = ?11, cols = ?12, state = ?13, done = 0",
	};

	for (int i = 0; i < nint; i++)
		v[i] = le(&p, end, (mode == 1 && i < 2) || (mode == 2 && i >= 10) ? 2 :
				   mode == 1 && i == 2 ? 1 : 8);
	if (mode == 1)
		v[2] &= 0xff; /* codec: small values matter */
	blob = p;
	blen = (size_t)(end - p);
	if (data[0] & 0x80) {
		size_t cap = ZSTD_compressBound(blen);

		z = malloc(cap ? cap : 1);
		if (!z)
			abort();
		blen = ZSTD_compress(z, cap, p, blen, 1);
		if (ZSTD_isError(blen))
			abort();
		blob = z;
	}
	/* sqlite3 straight: the store has no API to write a corrupt row */
	rc = sqlite3_open(g_db, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, sql[mode], -1, &q, NULL);
	if (rc == SQLITE_OK) {
		for (int i = 0; i < nint; i++)
			sqlite3_bind_int64(q, i + 1, v[i]);
		sqlite3_bind_blob(q, 13, blob, (int)blen, SQLITE_STATIC);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc != SQLITE_OK)
		fprintf(stderr, "fuzz_index_blobs: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(z);
	if (rc != SQLITE_OK)
		die("corrupt a row");
	return 0;
}

static int on_hit(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	if (!h->text || h->session_id != g_sid)
		abort();
	return ++*(int *)ctx >= 50;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct kt_store *st = NULL;
	struct kt_stream *stream = NULL;
	struct kt_screen *scr = NULL;
	uint8_t *kf = NULL;
	size_t kf_len = 0;
	int64_t kf_ts = 0;
	uint16_t rows = 0, cols = 0;
	int hits = 0, r, c, ret;

	if (size < 1)
		return 0;
	reset();
	corrupt(data, size);
	if (kt_store_open(g_db, 0, &st))
		die("open");
	ret = kt_store_screen_search(st, "needle", &f, on_hit, &hits);
	if (ret > 1)
		abort();
	ret = kt_stream_open_at(st, g_sid, g_t0 + 35 * S, &stream, &kf, &kf_len, &kf_ts,
				&rows, &cols);
	if (ret > 0)
		abort();
	if (!ret && kf) {
		if (!kt_screen_restore(rows, cols, kf, kf_len, &scr)) {
			int sr, sc;

			kt_screen_size(scr, &sr, &sc);
			kt_screen_cursor(scr, &r, &c, NULL);
			if (r < 0 || r >= sr || c < 0 || c >= sc)
				abort();
		}
		kt_screen_free(scr);
	}
	free(kf);
	kt_stream_close(stream);
	ret = kt_index_session(st, g_sid, 0);
	if (ret > 1)
		abort();
	kt_store_close(st);
	return 0;
}
