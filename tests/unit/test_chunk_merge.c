// SPDX-License-Identifier: Apache-2.0
/*
 * kt_chunk_extend (store/chunk_merge.c): back-to-back terminal bytes of one
 * direction coalesce into the chunk's last frame, and nothing else does:
 *   - OUT after OUT within the span: one frame, first timestamp, bytes in
 *     order, payload totals right;
 *   - the other direction, a resize, a gap, a frame of another type in
 *     between, a timestamp past the span, a new chunk: a new frame;
 *   - the length varint growing (127 -> 128, 16383 -> 16384 bytes) shifts
 *     the payload without losing a byte, and the frame cap holds;
 *   - a random mix of adds and extends decodes to the same byte streams per
 *     direction, in order, as plain adds would give.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "store.h"
#include "store_int.h"

#define SPAN 2000

/* decode the builder's frames: types as letters, payloads concatenated */
struct dec {
	char types[256];
	int n;
	int64_t ts[256];
	uint8_t out[1 << 20], in[1 << 20];
	size_t nout, nin;
	uint32_t len[256];
};

static int decode(const struct kt_chunk_builder *b, struct dec *d)
{
	struct kt_frame_decoder fd;
	struct kt_frame f;
	int ret;

	memset(d, 0, sizeof(*d));
	kt_frame_decoder_init(&fd, b->buf, b->len, b->start_us);
	while ((ret = kt_frame_next(&fd, &f)) == 1) {
		if (d->n < 255) {
			d->types[d->n] = f.type == KT_FRAME_OUT ? 'o' : f.type == KT_FRAME_IN ? 'i' :
					 f.type == KT_FRAME_RESIZE ? 'r' : f.type == KT_FRAME_GAP ? 'g' : '?';
			d->ts[d->n] = f.ts_us;
			d->len[d->n] = f.len;
			d->n++;
		}
		if (f.type == KT_FRAME_OUT && d->nout + f.len <= sizeof(d->out)) {
			memcpy(d->out + d->nout, f.data, f.len);
			d->nout += f.len;
		} else if (f.type == KT_FRAME_IN && d->nin + f.len <= sizeof(d->in)) {
			memcpy(d->in + d->nin, f.data, f.len);
			d->nin += f.len;
		}
	}
	return ret;
}

/* what add_frame in recorder/sessions.c does */
static int put(struct kt_chunk_builder *b, uint8_t type, int64_t ts, const void *p, uint32_t n)
{
	int err = kt_chunk_extend(b, type, ts, SPAN, p, n);

	return err == -ESRCH ? kt_chunk_add(b, type, ts, p, n) : err;
}

static void t_merge_and_breaks(void)
{
	struct kt_chunk_builder b;
	static struct dec d;

	kt_chunk_builder_init(&b);
	/* empty builder: nothing to extend */
	CHECK_EQ_INT(kt_chunk_extend(&b, KT_FRAME_OUT, 1000, SPAN, "x", 1), -ESRCH);
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 1000, "ab", 2), 0);
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 1500, "cd", 2), 0);     /* merges */
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 3000, "ef", 2), 0);     /* 2000 after: merges */
	CHECK_EQ_INT(put(&b, KT_FRAME_IN, 3000, "k", 1), 0);       /* other direction */
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 3001, "gh", 2), 0);     /* after IN: new */
	CHECK_EQ_INT(kt_chunk_add_resize(&b, 3002, 100, 30), 0);
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 3003, "ij", 2), 0);     /* after resize: new */
	CHECK_EQ_INT(kt_chunk_add_gap(&b, 3004, 7, 1), 0);
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 3005, "kl", 2), 0);     /* after gap: new */
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 5006, "mn", 2), 0);     /* 2001 after: new */
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 4000, "op", 2), 0);     /* earlier ts: merges */
	CHECK_EQ_INT(put(&b, KT_FRAME_IN, 4000, "q", 1), 0);
	CHECK_EQ_INT(put(&b, KT_FRAME_IN, 4001, "r", 1), 0);       /* IN after IN: merges */
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_EXIT, 4002, "e", 1), 0);
	CHECK_EQ_INT(put(&b, KT_FRAME_IN, 4003, "s", 1), 0);       /* after another type: new */
	CHECK_EQ_INT(b.nframes, 11);
	CHECK_EQ_INT(decode(&b, &d), 0);
	CHECK_EQ_INT(d.n, 11);
	CHECK_EQ_STR(d.types, "oiorogooi?i");
	CHECK_EQ_INT(d.ts[0], 1000);
	CHECK_EQ_INT(d.len[0], 6);
	CHECK_EQ_INT(d.ts[7], 5006);
	CHECK_EQ_INT(d.len[7], 4);
	CHECK_EQ_INT(d.len[8], 2);
	CHECK_EQ_INT(d.len[9], 1);
	CHECK(d.nout == 16 && !memcmp(d.out, "abcdefghijklmnop", 16));
	CHECK(d.nin == 4 && !memcmp(d.in, "kqrs", 4));
	CHECK_EQ_INT(b.out_bytes, 16);
	CHECK_EQ_INT(b.in_bytes, 4);
	/* a new chunk never extends the last one's frame */
	kt_chunk_builder_reset(&b);
	CHECK_EQ_INT(kt_chunk_extend(&b, KT_FRAME_IN, 4004, SPAN, "t", 1), -ESRCH);
	/* non-data types and empty payloads are never merged */
	CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 1, "a", 1), 0);
	CHECK_EQ_INT(kt_chunk_extend(&b, KT_FRAME_OUT, 1, SPAN, NULL, 0), -ESRCH);
	CHECK_EQ_INT(kt_chunk_extend(&b, KT_FRAME_EXIT, 1, SPAN, "a", 1), -ESRCH);
	CHECK_EQ_INT(kt_chunk_extend(&b, KT_FRAME_OUT, 1, SPAN, NULL, 1), -EINVAL);
	kt_chunk_builder_free(&b);
}

/* the length varint grows from 1 to 2 and 2 to 3 bytes mid-merge */
static void t_varint_growth(void)
{
	struct kt_chunk_builder b;
	static struct dec d;
	static uint8_t src[70000];
	size_t fed = 0;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 131 + (i >> 8));
	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_RESIZE, 10, "\x50\x00\x18\x00", 4), 0);
	/* 100 + 27 = 127 (1-byte length), + 1 = 128 (2 bytes), then to
	 * 16383 and past it, then past the 64 KiB frame cap */
	static const uint32_t steps[] = { 100, 27, 1, 16255, 1, 30000, 20000, 3000 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK_EQ_INT(put(&b, KT_FRAME_OUT, 20 + (int64_t)i, src + fed, steps[i]), 0);
		fed += steps[i];
	}
	CHECK_EQ_INT(decode(&b, &d), 0);
	CHECK_EQ_STR(d.types, "roo");
	CHECK_EQ_INT(d.len[1], 100 + 27 + 1 + 16255 + 1 + 30000);  /* 46384 */
	CHECK_EQ_INT(d.len[2], 20000 + 3000);                       /* cap: new frame */
	CHECK(d.nout == fed && !memcmp(d.out, src, fed));
	CHECK_EQ_INT(b.out_bytes, fed);
	kt_chunk_builder_free(&b);
}

/* runs of one data direction as one letter */
static void collapse(struct dec *d)
{
	int j = 0;

	for (int i = 0; i < d->n && i < 255; i++)
		if (!j || d->types[i] != d->types[j - 1] || d->types[i] == 'r')
			d->types[j++] = d->types[i];
	d->types[j] = 0;
}

/* random interleaving: per-direction streams identical to plain adds */
static void t_random_mix(void)
{
	static struct dec d1, d2;
	static uint8_t src[4096];
	uint32_t seed = 12345;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	for (int round = 0; round < 50; round++) {
		struct kt_chunk_builder a, b;
		int64_t ts = 1000;

		kt_chunk_builder_init(&a);
		kt_chunk_builder_init(&b);
		for (int i = 0; i < 200; i++) {
			uint32_t r;
			uint8_t type;
			uint32_t n, at;

			seed = seed * 1103515245u + 12345u;
			r = seed >> 8;
			type = r % 7 == 0 ? KT_FRAME_IN : r % 11 == 0 ? KT_FRAME_RESIZE : KT_FRAME_OUT;
			ts += (int64_t)(r % 1500);
			n = 1 + (r >> 4) % 700;
			at = (r >> 12) % (sizeof(src) - n);
			if (type == KT_FRAME_RESIZE) {
				CHECK_EQ_INT(kt_chunk_add_resize(&a, ts, 80, 24), 0);
				CHECK_EQ_INT(kt_chunk_add_resize(&b, ts, 80, 24), 0);
				continue;
			}
			CHECK_EQ_INT(kt_chunk_add(&a, type, ts, src + at, n), 0);
			CHECK_EQ_INT(put(&b, type, ts, src + at, n), 0);
		}
		CHECK(b.nframes <= a.nframes);
		CHECK_EQ_INT(a.out_bytes, b.out_bytes);
		CHECK_EQ_INT(a.in_bytes, b.in_bytes);
		CHECK_EQ_INT(decode(&a, &d1), 0);
		CHECK_EQ_INT(decode(&b, &d2), 0);
		CHECK(d1.nout == d2.nout && !memcmp(d1.out, d2.out, d1.nout));
		CHECK(d1.nin == d2.nin && !memcmp(d1.in, d2.in, d1.nin));
		/* the same order of directions and resizes once runs of one
		 * direction are collapsed: merging never reorders */
		collapse(&d1);
		collapse(&d2);
		CHECK_EQ_STR(d1.types, d2.types);
		kt_chunk_builder_free(&a);
		kt_chunk_builder_free(&b);
	}
}

int main(void)
{
	RUN(t_merge_and_breaks);
	RUN(t_varint_growth);
	RUN(t_random_mix);
	return kt_test_done();
}
