// SPDX-License-Identifier: Apache-2.0
/*
 * Frame format (store/FORMAT.md): varints, round trips of every frame type,
 * byte-exact encoding, clamping, and corrupt/truncated input -> -EBADMSG.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "store.h"
#include "store_int.h"

static void t_varint_edges(void)
{
	static const uint64_t vals[] = {
		0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xffffffffull,
		0x100000000ull, (1ull << 56) - 1, 1ull << 56, (1ull << 63) - 1, 1ull << 63,
		UINT64_MAX,
	};
	static const size_t lens[] = { 1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 8, 9, 9, 10, 10 };
	uint8_t buf[16];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		const uint8_t *p = buf;
		uint64_t v = 0;
		size_t n = kt_varint_put(buf, vals[i]);

		CHECK_EQ_INT(n, lens[i]);
		CHECK_EQ_INT(kt_varint_get(&p, buf + n, &v), 0);
		CHECK(v == vals[i]);
		CHECK(p == buf + n);
		/* every truncation fails and does not move p */
		for (size_t k = 0; k < n; k++) {
			p = buf;
			CHECK_EQ_INT(kt_varint_get(&p, buf + k, &v), -EBADMSG);
			CHECK(p == buf);
		}
	}
	/* exact bytes */
	CHECK_EQ_INT(kt_varint_put(buf, 300), 2);
	CHECK(buf[0] == 0xac && buf[1] == 0x02);
	CHECK_EQ_INT(kt_varint_put(buf, UINT64_MAX), 10);
	CHECK(buf[9] == 0x01);
}

static void t_varint_invalid(void)
{
	/* 10th byte carrying more than bit 63 */
	uint8_t over[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	/* 11 bytes: continuation never ends within the u64 range */
	uint8_t longv[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	/* non-minimal but in range: accepted (FORMAT.md: writers emit minimal) */
	uint8_t padded[3] = { 0x81, 0x80, 0x00 };
	const uint8_t *p;
	uint64_t v;

	p = over;
	CHECK_EQ_INT(kt_varint_get(&p, over + sizeof(over), &v), -EBADMSG);
	p = longv;
	CHECK_EQ_INT(kt_varint_get(&p, longv + sizeof(longv), &v), -EBADMSG);
	p = padded;
	CHECK_EQ_INT(kt_varint_get(&p, padded + sizeof(padded), &v), 0);
	CHECK_EQ_INT(v, 1);
	p = over;
	CHECK_EQ_INT(kt_varint_get(&p, over, &v), -EBADMSG); /* empty */
}

static void t_roundtrip_all_types(void)
{
	struct kt_chunk_builder b;
	struct kt_frame_decoder d;
	struct kt_frame f;
	uint16_t cols, rows;
	uint64_t lb, le;
	static uint8_t big[70000];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, 1000, "hello\r\n", 7), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_IN, 1500, "l", 1), 0);
	CHECK_EQ_INT(kt_chunk_add_resize(&b, 1500, 65535, 1), 0);
	CHECK_EQ_INT(kt_chunk_add_gap(&b, 99999999, UINT64_MAX, 3), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, 100000000, NULL, 0), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, 100000001, big, sizeof(big)), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, 200, 100000002, "future", 6), 0); /* unknown type */
	CHECK_EQ_INT(b.nframes, 7);
	CHECK_EQ_INT(b.start_us, 1000);
	CHECK_EQ_INT(b.last_us, 100000002);
	CHECK_EQ_INT(b.out_bytes, 7 + sizeof(big));
	CHECK_EQ_INT(b.in_bytes, 1);
	CHECK(b.lost_bytes == UINT64_MAX && b.lost_events == 3);

	kt_frame_decoder_init(&d, b.buf, b.len, b.start_us);
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.type == KT_FRAME_OUT && f.ts_us == 1000 && f.len == 7 && !memcmp(f.data, "hello\r\n", 7));
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.type == KT_FRAME_IN && f.ts_us == 1500 && f.len == 1 && f.data[0] == 'l');
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.type == KT_FRAME_RESIZE && f.ts_us == 1500 && f.len == 4);
	CHECK_EQ_INT(kt_frame_resize_parse(&f, &cols, &rows), 0);
	CHECK(cols == 65535 && rows == 1);
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.type == KT_FRAME_GAP && f.ts_us == 99999999);
	CHECK_EQ_INT(kt_frame_gap_parse(&f, &lb, &le), 0);
	CHECK(lb == UINT64_MAX && le == 3);
	CHECK_EQ_INT(kt_frame_resize_parse(&f, &cols, &rows), -EBADMSG); /* wrong type */
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.type == KT_FRAME_OUT && f.len == 0);
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.len == sizeof(big) && !memcmp(f.data, big, sizeof(big)));
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.type == 200 && f.len == 6 && !memcmp(f.data, "future", 6)); /* skippable */
	CHECK_EQ_INT(kt_frame_next(&d, &f), 0);
	CHECK_EQ_INT(kt_frame_next(&d, &f), 0);

	/* reset keeps nothing but the allocation */
	kt_chunk_builder_reset(&b);
	CHECK(b.len == 0 && b.nframes == 0 && b.out_bytes == 0 && b.lost_bytes == 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, 5, "x", 1), 0);
	CHECK_EQ_INT(b.start_us, 5);
	kt_chunk_builder_free(&b);
	kt_chunk_builder_free(&b); /* twice is fine */
	kt_chunk_builder_free(NULL);
}

/* The documented example in FORMAT.md, byte for byte. */
static void t_exact_bytes(void)
{
	static const uint8_t want[] = {
		0x01, 0x00, 0x02, 'h', 'i',              /* OUT +0 "hi" */
		0x02, 0xac, 0x02, 0x01, '\r',            /* IN +300 "\r" */
		0x03, 0x00, 0x04, 0x50, 0x00, 0x18, 0x00, /* RESIZE +0 80x24 */
		0x04, 0x80, 0x89, 0x7a, 0x03, 0x80, 0x01, 0x02, /* GAP +2000000 128 bytes 2 events */
	};
	struct kt_chunk_builder b;

	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, 1700000000000000, "hi", 2);
	kt_chunk_add(&b, KT_FRAME_IN, 1700000000000300, "\r", 1);
	kt_chunk_add_resize(&b, 1700000000000300, 80, 24);
	kt_chunk_add_gap(&b, 1700000002000300, 128, 2);
	CHECK_EQ_INT(b.len, sizeof(want));
	CHECK(b.len == sizeof(want) && memcmp(b.buf, want, sizeof(want)) == 0);
	kt_chunk_builder_free(&b);
}

static void t_clamp(void)
{
	struct kt_chunk_builder b;
	struct kt_frame_decoder d;
	struct kt_frame f;
	int64_t want[] = { 1000, 2000, 2000, 2000, 2500, -5 + 2500 + 5 };

	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, 1000, "a", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, 2000, "b", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, 1500, "c", 1); /* earlier: clamped */
	kt_chunk_add(&b, KT_FRAME_OUT, INT64_MIN, "d", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, 2500, "e", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, -5, "f", 1);
	kt_frame_decoder_init(&d, b.buf, b.len, b.start_us);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
		CHECK_EQ_INT(f.ts_us, want[i]);
		CHECK_EQ_INT(f.data[0], 'a' + i);
	}
	CHECK_EQ_INT(kt_frame_next(&d, &f), 0);
	kt_chunk_builder_free(&b);

	/* extreme but valid spans encode and decode exactly */
	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, INT64_MIN, "x", 1);
	kt_chunk_add(&b, KT_FRAME_OUT, INT64_MAX, "y", 1);
	kt_frame_decoder_init(&d, b.buf, b.len, b.start_us);
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.ts_us == INT64_MIN);
	CHECK_EQ_INT(kt_frame_next(&d, &f), 1);
	CHECK(f.ts_us == INT64_MAX);
	kt_chunk_builder_free(&b);
}

static void t_builder_rejects(void)
{
	struct kt_chunk_builder b;
	uint8_t badgap[] = { 0x80 }; /* truncated varint */

	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_chunk_add(&b, 0, 1, "x", 1), -EINVAL);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, 1, NULL, 3), -EINVAL);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_RESIZE, 1, "abc", 3), -EINVAL);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_GAP, 1, badgap, 1), -EINVAL);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_GAP, 1, "\x01", 1), -EINVAL); /* one varint */
	CHECK_EQ_INT(kt_chunk_add(NULL, KT_FRAME_OUT, 1, "x", 1), -EINVAL);
	CHECK_EQ_INT(b.nframes, 0);
	kt_chunk_builder_free(&b);
}

static int decode_all(const uint8_t *buf, size_t len, int64_t start, int *nframes)
{
	struct kt_frame_decoder d;
	struct kt_frame f;
	int ret;

	*nframes = 0;
	kt_frame_decoder_init(&d, buf, len, start);
	while ((ret = kt_frame_next(&d, &f)) == 1)
		(*nframes)++;
	return ret;
}

static void t_corrupt(void)
{
	struct kt_chunk_builder b;
	uint8_t *copy;
	int n;

	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, 1000, "hello", 5);
	kt_chunk_add(&b, KT_FRAME_IN, 300000, "x", 1);
	kt_chunk_add_resize(&b, 300001, 80, 24);
	kt_chunk_add_gap(&b, 400000000, 1 << 20, 9);

	/* every strict prefix that cuts a frame is -EBADMSG; frame boundaries are
	 * a clean end.  Copies sized exactly, so ASan sees any overread. */
	for (size_t cut = 0; cut < b.len; cut++) {
		int ret;

		copy = malloc(cut ? cut : 1);
		memcpy(copy, b.buf, cut);
		ret = decode_all(copy, cut, 1000, &n);
		if (cut == 0 || cut == 8 || cut == 14 || cut == 21)
			CHECK_EQ_INT(ret, 0);
		else
			CHECK_EQ_INT(ret, -EBADMSG);
		free(copy);
	}
	CHECK_EQ_INT(decode_all(b.buf, b.len, 1000, &n), 0);
	CHECK_EQ_INT(n, 4);

	{
		/* type 0, huge len, len past the end, RESIZE too short, GAP with
		 * junk, delta overflowing int64, over-long varint */
		static const struct {
			const char *name;
			uint8_t bytes[16];
			size_t len;
			int64_t start;
		} bad[] = {
			{ "type0", { 0x00, 0x00, 0x00 }, 3, 0 },
			{ "len>u32", { 0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10 }, 7, 0 },
			{ "len>end", { 0x01, 0x00, 0x05, 'a', 'b' }, 5, 0 },
			{ "resize3", { 0x03, 0x00, 0x03, 1, 2, 3 }, 6, 0 },
			{ "gap1", { 0x04, 0x00, 0x01, 0x05 }, 4, 0 },
			{ "gapcut", { 0x04, 0x00, 0x02, 0x05, 0x80 }, 5, 0 },
			{ "tsovf", { 0x01, 0x02, 0x00 }, 3, INT64_MAX - 1 },
			{ "delta11", { 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00 }, 13, 0 },
			{ "good-then-bad", { 0x01, 0x00, 0x00, 0x02, 0x00, 0x09 }, 6, 0 },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			copy = malloc(bad[i].len);
			memcpy(copy, bad[i].bytes, bad[i].len);
			if (decode_all(copy, bad[i].len, bad[i].start, &n) != -EBADMSG) {
				printf("# %s decoded\n", bad[i].name);
				CHECK(0);
			}
			free(copy);
		}
	}
	/* tolerated: larger RESIZE payload (later versions may extend it), an
	 * exactly-fitting timestamp, an empty and a NULL buffer */
	{
		static const uint8_t ok1[] = { 0x03, 0x00, 0x06, 80, 0, 24, 0, 9, 9 };
		static const uint8_t ok2[] = { 0x01, 0x01, 0x00 };

		CHECK_EQ_INT(decode_all(ok1, sizeof(ok1), 0, &n), 0);
		CHECK_EQ_INT(n, 1);
		CHECK_EQ_INT(decode_all(ok2, sizeof(ok2), INT64_MAX - 1, &n), 0);
		CHECK_EQ_INT(decode_all(ok2, 0, 0, &n), 0);
		CHECK_EQ_INT(decode_all(NULL, 0, 0, &n), 0);
	}
	kt_chunk_builder_free(&b);
}

static void t_random_garbage(void)
{
	/* a cheap in-tree fuzz: random bytes must never crash or loop */
	uint32_t x = 12345;
	uint8_t buf[64];
	int n;

	for (int iter = 0; iter < 200000; iter++) {
		size_t len = 0;

		x = x * 1103515245 + 12345;
		len = (x >> 16) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245 + 12345;
			buf[i] = (uint8_t)(x >> 24);
			if ((x >> 8) % 3 == 0)
				buf[i] &= 0x07; /* bias towards small types/lengths */
		}
		int ret = decode_all(buf, len, (int64_t)x << 20, &n);

		CHECK(ret == 0 || ret == -EBADMSG);
	}
}

int main(void)
{
	RUN(t_varint_edges);
	RUN(t_varint_invalid);
	RUN(t_roundtrip_all_types);
	RUN(t_exact_bytes);
	RUN(t_clamp);
	RUN(t_builder_rejects);
	RUN(t_corrupt);
	RUN(t_random_garbage);
	return kt_test_done();
}
