// SPDX-License-Identifier: Apache-2.0
/*
 * libkubetape store against real SQLite files: chunks and streams (seek,
 * follow, clamping across chunks, a corrupt chunk).  The fixture:
 * store_fixture.h.
 */
#include "store_fixture.h"

static void build_frames(struct kt_chunk_builder *b, int from, int to, int64_t base)
{
	char buf[32];

	for (int i = from; i < to; i++) {
		int64_t ts = base + (int64_t)i * 1000;
		int n = snprintf(buf, sizeof(buf), "out-%d", i);

		if (i % 7 == 0)
			kt_chunk_add_resize(b, ts, 80 + i, 24);
		else if (i % 11 == 0)
			kt_chunk_add_gap(b, ts, 100, 1);
		else if (i % 5 == 0)
			kt_chunk_add(b, KT_FRAME_IN, ts, buf, n);
		else
			kt_chunk_add(b, KT_FRAME_OUT, ts, buf, n);
	}
}

static int append_range(struct kt_store *st, int64_t sid, int from, int to, int64_t base)
{
	struct kt_chunk_builder b;
	int err;

	kt_chunk_builder_init(&b);
	build_frames(&b, from, to, base);
	err = kt_store_chunk_append(st, sid, &b);
	kt_chunk_builder_free(&b);
	return err;
}

/* Check frame i as build_frames made it. */
static bool frame_is(const struct kt_frame *f, int i, int64_t base)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "out-%d", i);
	uint16_t cols, rows;
	uint64_t lb, le;

	if (f->ts_us != base + (int64_t)i * 1000)
		return false;
	if (i % 7 == 0)
		return f->type == KT_FRAME_RESIZE && !kt_frame_resize_parse(f, &cols, &rows) &&
		       cols == 80 + i && rows == 24;
	if (i % 11 == 0)
		return f->type == KT_FRAME_GAP && !kt_frame_gap_parse(f, &lb, &le) &&
		       lb == 100 && le == 1;
	return f->type == (i % 5 == 0 ? KT_FRAME_IN : KT_FRAME_OUT) && f->len == (uint32_t)n &&
	       memcmp(f->data, buf, n) == 0;
}

static void t_stream_chunks(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	const int64_t base = 1700000000000000;
	const int per = 37, nchunks = 40, total = per * nchunks;
	struct kt_session_info got;
	struct kt_stream *s = NULL;
	struct kt_frame f;
	uint64_t out = 0, in = 0, lost = 0;
	int64_t sid;
	int i, ret;
	sqlite3 *db;
	sqlite3_stmt *q;

	CHECK(st != NULL);
	sid = add_session(st, "s", "ns", "p", base, 0, 0, true);
	CHECK_EQ_INT(kt_store_begin(st), 0);
	for (int c = 0; c < nchunks; c++)
		CHECK_EQ_INT(append_range(st, sid, c * per, (c + 1) * per, base), 0);
	CHECK_EQ_INT(kt_store_commit(st), 0);

	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_stream_open(ro, sid, 0, &s), 0);
	for (i = 0; (ret = kt_stream_next(s, &f)) == 1; i++) {
		if (!frame_is(&f, i, base)) {
			printf("# frame %d wrong (type %u ts %lld)\n", i, f.type, (long long)f.ts_us);
			CHECK(0);
			break;
		}
		if (f.type == KT_FRAME_OUT)
			out += f.len;
		else if (f.type == KT_FRAME_IN)
			in += f.len;
		else if (f.type == KT_FRAME_GAP)
			lost += 100;
	}
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(i, total);
	CHECK_EQ_INT(kt_stream_next(s, &f), 0); /* stays at the end */
	kt_stream_close(s);

	/* totals maintained by the store */
	CHECK_EQ_INT(kt_store_session_get(ro, sid, &got), 0);
	CHECK_EQ_INT(got.bytes_out, out);
	CHECK_EQ_INT(got.bytes_in, in);
	CHECK_EQ_INT(got.lost_bytes, lost);
	CHECK_EQ_INT(got.lost_events, lost / 100);

	/* chunk rows: seq, offsets, times */
	CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT seq, start_us, end_us, out_offset, out_bytes,"
					" in_offset, nframes, codec FROM chunks WHERE session_id = ?"
					" ORDER BY seq", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_int64(q, 1, sid);
	{
		int64_t expect_out = 0;

		for (i = 0; sqlite3_step(q) == SQLITE_ROW; i++) {
			/* seq = frame number of the chunk's first frame */
			CHECK_EQ_INT(sqlite3_column_int64(q, 0), (int64_t)i * per);
			CHECK_EQ_INT(sqlite3_column_int64(q, 1), base + (int64_t)i * per * 1000);
			CHECK_EQ_INT(sqlite3_column_int64(q, 2), base + ((int64_t)(i + 1) * per - 1) * 1000);
			CHECK_EQ_INT(sqlite3_column_int64(q, 3), expect_out);
			expect_out += sqlite3_column_int64(q, 4);
			CHECK_EQ_INT(sqlite3_column_int(q, 6), per);
			CHECK_EQ_INT(sqlite3_column_int(q, 7), 1);
		}
		CHECK_EQ_INT(i, nchunks);
		CHECK_EQ_INT(expect_out, out);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);

	/* seeking: first frame at or after from_us */
	{
		int64_t from = base + 555 * 1000 + 1; /* just after frame 555 */

		CHECK_EQ_INT(kt_stream_open(ro, sid, from, &s), 0);
		CHECK_EQ_INT(kt_stream_next(s, &f), 1);
		CHECK(frame_is(&f, 556, base));
		for (i = 557; (ret = kt_stream_next(s, &f)) == 1; i++)
			CHECK(frame_is(&f, i, base));
		CHECK_EQ_INT(i, total);
		kt_stream_close(s);

		CHECK_EQ_INT(kt_stream_open(ro, sid, base + 555 * 1000, &s), 0);
		CHECK_EQ_INT(kt_stream_next(s, &f), 1);
		CHECK(frame_is(&f, 555, base));
		kt_stream_close(s);

		/* after everything: empty now, follows later frames */
		CHECK_EQ_INT(kt_stream_open(ro, sid, base + (int64_t)total * 1000 + 5, &s), 0);
		CHECK_EQ_INT(kt_stream_next(s, &f), 0);
		CHECK_EQ_INT(append_range(st, sid, total, total + 3, base), 0);
		CHECK_EQ_INT(kt_stream_next(s, &f), 1);
		CHECK(frame_is(&f, total + 1, base)); /* total itself is before from */
		kt_stream_close(s);
	}
	CHECK_EQ_INT(kt_stream_open(ro, 9999, 0, &s), -ENOENT);
	kt_store_close(ro);
	kt_store_close(st);
}

static void t_stream_follow(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	const int64_t base = 1000000;
	struct kt_stream *s = NULL;
	struct kt_frame f;
	int64_t sid;
	int i, ret;

	CHECK(st != NULL);
	sid = add_session(st, "s", "ns", "p", base, 0, 0, true);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_stream_open(ro, sid, 0, &s), 0);
	CHECK_EQ_INT(kt_stream_next(s, &f), 0); /* nothing yet */

	CHECK_EQ_INT(append_range(st, sid, 0, 10, base), 0);
	for (i = 0; (ret = kt_stream_next(s, &f)) == 1; i++)
		CHECK(frame_is(&f, i, base));
	CHECK(ret == 0 && i == 10);

	/* uncommitted batch: invisible to the reader, which is not blocked */
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(append_range(st, sid, 10, 20, base), 0);
	CHECK_EQ_INT(kt_stream_next(s, &f), 0);
	CHECK_EQ_INT(kt_store_commit(st), 0);
	for (; (ret = kt_stream_next(s, &f)) == 1; i++)
		CHECK(frame_is(&f, i, base));
	CHECK(ret == 0 && i == 20);

	/* the writer commits while the reader is in the middle of a chunk */
	CHECK_EQ_INT(append_range(st, sid, 20, 30, base), 0);
	CHECK_EQ_INT(kt_stream_next(s, &f), 1);
	CHECK(frame_is(&f, i++, base));
	CHECK_EQ_INT(append_range(st, sid, 30, 40, base), 0);
	for (; (ret = kt_stream_next(s, &f)) == 1; i++)
		CHECK(frame_is(&f, i, base));
	CHECK(ret == 0 && i == 40);
	kt_stream_close(s);
	kt_store_close(ro);
	kt_store_close(st);
}

static void t_stream_clamp_across_chunks(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_chunk_builder b;
	struct kt_stream *s = NULL;
	struct kt_frame f;
	int64_t sid, last = 0, ts[8];
	int n = 0, ret;

	CHECK(st != NULL);
	sid = add_session(st, "s", "ns", "p", 0, 0, 0, true);
	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, 1000, "a", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, 2000, "b", 1);
	CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
	kt_chunk_builder_reset(&b);
	CHECK_EQ_INT(b.nframes, 0);
	/* next chunk starts earlier than the previous one ended */
	kt_chunk_add(&b, KT_FRAME_OUT, 1500, "c", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, 2500, "d", 1);
	CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
	kt_chunk_builder_reset(&b);
	CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0); /* empty: no-op */
	kt_chunk_builder_free(&b);

	CHECK_EQ_INT(kt_stream_open(st, sid, 0, &s), 0);
	while ((ret = kt_stream_next(s, &f)) == 1 && n < 8) {
		CHECK(f.ts_us >= last);
		last = ts[n++] = f.ts_us;
	}
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(n, 4);
	CHECK(ts[0] == 1000 && ts[1] == 2000 && ts[2] == 2000 && ts[3] == 2500);
	kt_stream_close(s);
	CHECK_EQ_INT(kt_store_chunk_append(st, 12345, &b), 0); /* empty: no-op, even so */
	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, 1, "x", 1);
	CHECK_EQ_INT(kt_store_chunk_append(st, 12345, &b), -ENOENT);
	kt_chunk_builder_free(&b);
	kt_store_close(st);
}

static void t_stream_corrupt_chunk(void)
{
	char path[128], sql[512];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_stream *s = NULL;
	struct kt_frame f;
	int64_t sid;

	CHECK(st != NULL);
	sid = add_session(st, "s", "ns", "p", 0, 0, 0, true);
	CHECK_EQ_INT(append_range(st, sid, 1, 3, 0), 0);
	CHECK_EQ_INT(append_range(st, sid, 3, 5, 0), 0);
	CHECK_EQ_INT(append_range(st, sid, 5, 6, 0), 0);
	kt_store_close(st);
	/* chunk 0: garbage zstd; chunk 1: raw frames with a truncated length */
	snprintf(sql, sizeof(sql),
		 "UPDATE chunks SET data = x'28b52ffd00deadbeef' WHERE session_id = %lld AND seq = 0;"
		 "UPDATE chunks SET codec = 0, raw_len = 4, data = x'01000a41'"
		 " WHERE session_id = %lld AND seq = 2;", (long long)sid, (long long)sid);
	CHECK_EQ_INT(kt_fx_sql_exec(path, sql), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), 0);
	CHECK_EQ_INT(kt_stream_open(st, sid, 0, &s), 0);
	CHECK_EQ_INT(kt_stream_next(s, &f), -EBADMSG);
	CHECK_EQ_INT(kt_stream_next(s, &f), -EBADMSG);
	CHECK_EQ_INT(kt_stream_next(s, &f), 1); /* chunk 2 is fine */
	CHECK(frame_is(&f, 5, 0));
	CHECK_EQ_INT(kt_stream_next(s, &f), 0);
	kt_stream_close(s);
	kt_store_close(st);
}

static void t_now(void)
{
	int64_t a = kt_now_us(), b = kt_now_us();

	CHECK(a > 1600000000000000 && b >= a);
}

int main(void)
{
	if (store_fx_begin("test_store_stream"))
		return 1;

	RUN(t_stream_chunks);
	RUN(t_stream_follow);
	RUN(t_stream_clamp_across_chunks);
	RUN(t_stream_corrupt_chunk);
	RUN(t_now);

	return store_fx_end();
}
