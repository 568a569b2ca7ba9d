// SPDX-License-Identifier: Apache-2.0
/*
 * Chunk decoding (store/chunk.c kt_chunk_decode, the step between a chunks
 * row and the frame decoder) on arbitrary bytes: a corrupt or hostile
 * chunks.data / codec / raw_len in the database.  Input: byte 0 the codec
 * (0 none, 1 zstd, 2 zstd-split, 3 unknown), bytes 1-3 raw_len (LE, the
 * low 20 bits: up to 1 MiB, so runs stay fast), then the stored bytes.  Properties, abort() otherwise:
 *   - kt_chunk_decode returns 0, -EBADMSG (with a reason) or -ENOMEM, and
 *     writes only raw_len bytes (ASan: out is exactly raw_len long);
 *   - what it decodes goes through the frame decoder without reading past
 *     the end;
 *   - the stored bytes, read as raw frames: when kt_frames_split accepts
 *     them, kt_frames_join gives them back, and compressing the split form
 *     with zstd then decoding as codec 2 gives them back too (the
 *     compaction writer's path).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store.h"
#include "store_int.h"

static volatile uint8_t sink;
static ZSTD_DCtx *dctx;

static void frames(const uint8_t *p, size_t n)
{
	struct kt_frame_decoder d;
	struct kt_frame f;

	kt_frame_decoder_init(&d, p, n, 0);
	while (kt_frame_next(&d, &f) == 1)
		for (uint32_t i = 0; i < f.len; i++)
			sink ^= f.data[i];
}

static void split_roundtrip(const uint8_t *in, size_t len)
{
	uint8_t *split = malloc(len + 1), *back = malloc(len + 1), *z = NULL, *scratch = NULL;
	size_t zcap, zlen, scap = 0;
	const char *why;

	if (!split || !back)
		abort();
	if (kt_frames_split(in, len, split))
		goto out;
	if (kt_frames_join(split, len, back) || memcmp(back, in, len))
		abort();
	zcap = ZSTD_compressBound(len);
	z = malloc(zcap);
	if (!z)
		abort();
	zlen = ZSTD_compress(z, zcap, split, len, 1);
	if (ZSTD_isError(zlen))
		abort();
	memset(back, 0, len);
	if (kt_chunk_decode(dctx, KT_CODEC_ZSTD_SPLIT, z, zlen, back, len, &scratch, &scap, &why) ||
	    memcmp(back, in, len))
		abort();
out:
	free(split);
	free(back);
	free(z);
	free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out, *scratch = NULL, *copy;
	size_t raw_len, scap = 0;
	const char *why = NULL;
	int codec, ret;

	if (!dctx && !(dctx = ZSTD_createDCtx()))
		abort();
	if (size < 4)
		return 0;
	codec = data[0] % 4;
	raw_len = ((size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16) & 0xfffff;
	data += 4;
	size -= 4;
	out = malloc(raw_len ? raw_len : 1);
	copy = malloc(size ? size : 1); /* exactly the stored length, for ASan */
	if (!out || !copy)
		abort();
	memcpy(copy, data, size);
	ret = kt_chunk_decode(dctx, codec, copy, size, out, raw_len, &scratch, &scap, &why);
	if (ret != 0 && ret != -EBADMSG && ret != -ENOMEM)
		abort();
	if (ret == -EBADMSG && !why)
		abort();
	if (ret == 0)
		frames(out, raw_len);
	split_roundtrip(copy, size);
	free(out);
	free(copy);
	free(scratch);
	return 0;
}
