// SPDX-License-Identifier: Apache-2.0
/*
 * The chunk frame decoder on arbitrary bytes (a corrupt or hostile chunk in
 * the database).  Properties checked, abort() otherwise:
 *   - kt_frame_next returns only 1, 0 or -EBADMSG, and stops after 0/error;
 *   - every frame's payload lies inside the input; timestamps never go
 *     below the chunk start nor backwards;
 *   - RESIZE/GAP payload parsers agree with the decoder's validation;
 *   - re-encoding the decoded frames with the builder and decoding again
 *     gives the same frames (the decoder accepts non-minimal varints, the
 *     builder writes minimal ones, so bytes may differ but frames may not).
 * The first 8 input bytes are the chunk start time (LE), the rest the chunk.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define MAX_FRAMES 4096

struct seen {
	uint8_t type;
	int64_t ts;
	uint32_t len;
	const uint8_t *data;
};

static struct seen seen[MAX_FRAMES];
static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_frame_decoder d;
	struct kt_chunk_builder b;
	struct kt_frame f;
	int64_t start = 0, prev;
	size_t n = 0;
	int ret;

	if (size >= 8) {
		uint64_t v = 0;

		for (int i = 7; i >= 0; i--)
			v = v << 8 | data[i];
		start = (int64_t)v;
		data += 8;
		size -= 8;
	}

	kt_frame_decoder_init(&d, data, size, start);
	prev = start;
	while ((ret = kt_frame_next(&d, &f)) == 1) {
		uint16_t cols, rows;
		uint64_t lb, le;

		if (f.type == 0 || f.ts_us < prev)
			abort();
		if (f.len && (f.data < data || f.data + f.len > data + size))
			abort();
		if (f.type == KT_FRAME_RESIZE && kt_frame_resize_parse(&f, &cols, &rows))
			abort();
		if (f.type == KT_FRAME_GAP && kt_frame_gap_parse(&f, &lb, &le))
			abort();
		/* touch every payload byte so ASan sees any overread */
		for (uint32_t i = 0; i < f.len; i++)
			sink ^= f.data[i];
		prev = f.ts_us;
		if (n < MAX_FRAMES)
			seen[n++] = (struct seen){ f.type, f.ts_us, f.len, f.data };
	}
	if (ret != 0 && ret != -EBADMSG)
		abort();
	/* the end is sticky only after 0; after an error callers stop */
	if (ret == 0 && kt_frame_next(&d, &f) != 0)
		abort();

	/* round trip of what decoded */
	kt_chunk_builder_init(&b);
	for (size_t i = 0; i < n; i++)
		if (kt_chunk_add(&b, seen[i].type, seen[i].ts, seen[i].data, seen[i].len))
			abort();
	if (n) {
		if (b.start_us != seen[0].ts || b.last_us != seen[n - 1].ts || b.nframes != n)
			abort();
		kt_frame_decoder_init(&d, b.buf, b.len, b.start_us);
		for (size_t i = 0; i < n; i++) {
			if (kt_frame_next(&d, &f) != 1 || f.type != seen[i].type ||
			    f.ts_us != seen[i].ts || f.len != seen[i].len ||
			    (f.len && memcmp(f.data, seen[i].data, f.len)))
				abort();
		}
		if (kt_frame_next(&d, &f) != 0)
			abort();
	}
	kt_chunk_builder_free(&b);
	return 0;
}
