// SPDX-License-Identifier: Apache-2.0
/*
 * Compaction's level rule and its reused zstd context (store/compact.c):
 * a run written at KT_COMPACT_FAST_RATE or faster is merged at the fast
 * level, one at a human pace at the dense level; a fast level not below
 * the dense one is never used; the setter refuses bad values.  Sessions of
 * both kinds compacted one after the other on one store handle (one zstd
 * context switching levels, buffers reused at other sizes) read back
 * frame for frame as written.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "reader.h"
#include "store.h"

#define T0 1700000000000000LL

static char tmpdir[64];

/* FNV-1a over every frame's type, time, length and bytes, and the count */
struct digest {
	uint64_t h, n;
};

static void digest_add(struct digest *d, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		d->h = (d->h ^ b[i]) * 1099511628211ull;
}

static struct digest read_all(struct kt_store *st, int64_t sid)
{
	struct digest d = { .h = 1469598103934665603ull };
	struct kt_stream *s = NULL;
	struct kt_frame f;
	int ret;

	if (kt_stream_open(st, sid, 0, &s))
		return (struct digest){ 0 };
	while ((ret = kt_stream_next(s, &f)) == 1) {
		uint32_t len = f.len;

		digest_add(&d, &f.type, sizeof(f.type));
		digest_add(&d, &f.ts_us, sizeof(f.ts_us));
		digest_add(&d, &len, sizeof(len));
		digest_add(&d, f.data, f.len);
		d.n++;
	}
	kt_stream_close(s);
	if (ret < 0)
		d.n = 0;
	return d;
}

/*
 * An ended session of `bytes` of output in frames of `frame` bytes, `dt_us`
 * apart, in raw chunks of 64 KiB, indexed (compaction merges only what the
 * index has passed).  Text with repeats, so the levels differ.
 */
static int64_t session(struct kt_store *st, const char *uuid, size_t bytes, size_t frame,
		       int64_t dt_us)
{
	struct kt_session_info s = kt_fx_session(uuid, "default", "app-1", T0);
	struct kt_chunk_builder b;
	char buf[4096];
	int64_t ts = T0;
	uint32_t x = 11;

	if (kt_store_session_create(st, &s))
		return -1;
	kt_chunk_builder_init(&b);
	for (size_t done = 0; done < bytes; done += frame) {
		size_t n = 0;

		while (n + 40 < frame && n + 40 < sizeof(buf)) {
			x = x * 1103515245 + 12345;
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "line %05u of /var/log/app %u\r\n",
					      (x >> 8) % 50000, x % 7);
		}
		ts += dt_us;
		if (kt_chunk_add(&b, KT_FRAME_OUT, ts, buf, (uint32_t)n))
			return -1;
		if (b.len >= (64u << 10)) {
			if (kt_store_chunk_append(st, s.id, &b))
				return -1;
			kt_chunk_builder_reset(&b);
		}
	}
	if (b.nframes && kt_store_chunk_append(st, s.id, &b))
		return -1;
	kt_chunk_builder_free(&b);
	kt_fx_end_id(st, s.id, ts + 1000);
	return kt_store_index_all(st, s.id) ? -1 : s.id;
}

static int compact(struct kt_store *st, int64_t sid, struct kt_compact_stats *cs)
{
	int ret;

	memset(cs, 0, sizeof(*cs));
	while ((ret = kt_store_compact_session(st, sid, 0, cs)) == 1)
		;
	return ret;
}

/*
 * A new session compacted on `st`: at least two merged chunks, `fast_all`
 * (every one at the fast level) or none at it, frames read back unchanged.
 */
static void check_session_level(struct kt_store *st, const char *uuid, size_t frame,
				int64_t dt_us, bool fast_all)
{
	struct kt_compact_stats cs;
	struct digest before, after;
	int64_t sid = session(st, uuid, 1u << 20, frame, dt_us);

	CHECK(sid > 0);
	if (sid <= 0)
		return;
	before = read_all(st, sid);
	CHECK_EQ_INT(compact(st, sid, &cs), 0);
	CHECK(cs.chunks_out >= 2);
	CHECK_EQ_INT(cs.chunks_fast, fast_all ? cs.chunks_out : 0);
	after = read_all(st, sid);
	CHECK(before.n > 100 && after.n == before.n && after.h == before.h);
}

static void t_level_by_rate(void)
{
	char path[128];
	struct kt_store *st = NULL;
	struct kt_compact_stats cs;
	struct digest before[3], after;
	int64_t sid[3];

	snprintf(path, sizeof(path), "%s/level.db", tmpdir);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	kt_store_set_zstd_level(st, 0);
	CHECK_EQ_INT(kt_store_set_compaction(st, 9, 256 << 10), 0);
	/* a flood: 4 KiB every 100 us = 40 MB/s; a human pace: 2 KiB every
	 * 50 ms = 40 KB/s; another flood after it, on the same context */
	sid[0] = session(st, "flood", 2u << 20, 4096, 100);
	sid[1] = session(st, "slow", 1u << 20, 2048, 50000);
	sid[2] = session(st, "flood2", 1u << 20, 4000, 100);
	CHECK(sid[0] > 0 && sid[1] > 0 && sid[2] > 0);
	for (int i = 0; i < 3; i++)
		before[i] = read_all(st, sid[i]);

	CHECK_EQ_INT(compact(st, sid[0], &cs), 0);
	CHECK(cs.chunks_out >= 4 && cs.chunks_in > cs.chunks_out);
	CHECK_EQ_INT(cs.chunks_fast, cs.chunks_out);
	CHECK_EQ_INT(compact(st, sid[1], &cs), 0);
	CHECK(cs.chunks_out >= 2);
	CHECK_EQ_INT(cs.chunks_fast, 0);
	CHECK_EQ_INT(compact(st, sid[2], &cs), 0);
	CHECK(cs.chunks_out >= 2);
	CHECK_EQ_INT(cs.chunks_fast, cs.chunks_out);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	for (int i = 0; i < 3; i++) {
		after = read_all(st, sid[i]);
		CHECK(before[i].n > 100);
		CHECK(after.n == before[i].n && after.h == before[i].h);
	}
	kt_store_close(st);
}

static void t_fast_setter(void)
{
	char path[128];
	struct kt_store *st = NULL;

	snprintf(path, sizeof(path), "%s/setter.db", tmpdir);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	kt_store_set_zstd_level(st, 0);
	CHECK_EQ_INT(kt_store_set_compaction_fast(NULL, 3, 1), -EINVAL);
	CHECK_EQ_INT(kt_store_set_compaction_fast(st, 0, 1), -EINVAL);
	CHECK_EQ_INT(kt_store_set_compaction_fast(st, 3, 0), -EINVAL);
	CHECK_EQ_INT(kt_store_set_compaction_fast(st, 1000, 1), -EINVAL);
	/* dense level 3, fast level 5: the fast one is never used */
	CHECK_EQ_INT(kt_store_set_compaction(st, 3, 256 << 10), 0);
	CHECK_EQ_INT(kt_store_set_compaction_fast(st, 5, 1), 0);
	check_session_level(st, "flood", 4096, 100, false);
	/* a threshold of 1 byte/s: even the slow session is fast */
	CHECK_EQ_INT(kt_store_set_compaction(st, 9, 256 << 10), 0);
	CHECK_EQ_INT(kt_store_set_compaction_fast(st, 1, 1), 0);
	check_session_level(st, "slow", 2048, 50000, true);
	kt_store_close(st);
}

int main(void)
{
	if (kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "kt_test_compact_level"))
		return 1;
	kt_log_init("test_compact_level", KT_LOG_ERROR);
	RUN(t_level_by_rate);
	RUN(t_fast_setter);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
