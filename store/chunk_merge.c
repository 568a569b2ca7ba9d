// SPDX-License-Identifier: Apache-2.0
/*
 * Coalescing terminal bytes into the chunk's last frame (kt_chunk_extend).
 *
 * Why: the tty capture backend sends one ring record per pty_write (n_tty
 * writes output up to each newline: ~0.5-1.5 KiB per record in a flood),
 * and every frame costs the store a frame header, a hash-chain step
 * (store/chain.c: one BLAKE2b init/final per frame) and the worker a frame
 * to walk.  Bytes of one direction that arrive back to back belong in one
 * frame as long as nothing else of the session came between them.
 *
 * Exactness: only the chunk's LAST frame is ever extended (the builder
 * keeps where it starts), and only when it has the same type.  Everything else of a session (resize, withheld input,
 * gap, command, exit, the other direction) is a frame of its own in the
 * same builder, so it ends the merge by being last: the order of the
 * stream is the order of the events, byte for byte.  The merged frame keeps
 * its first record's timestamp; later bytes merge only within `span_us` of
 * it, which bounds the timing lost (the caller picks a span below what a
 * player can show).  A new chunk (after a flush) always starts a new frame.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "store.h"
#include "store_int.h"

/* Largest frame payload coalescing builds (a frame read back whole by the
 * worker and the player: keep it far below the chunk bound). */
#define MERGE_MAX (64u << 10)

int kt_chunk_extend(struct kt_chunk_builder *b, uint8_t type, int64_t ts_us, int64_t span_us,
		    const void *data, uint32_t len)
{
	const uint8_t *p, *end;
	uint64_t delta, flen;
	size_t hdr, lsz, nsz, off;
	uint8_t lbuf[KT_VARINT_MAX];

	if (!b || (len && !data))
		return -EINVAL;
	if (!len || (type != KT_FRAME_OUT && type != KT_FRAME_IN) || !b->nframes)
		return -ESRCH;
	off = b->last_off;
	assert(off < b->len);
	if (b->buf[off] != type)
		return -ESRCH;
	/* ts before the frame's (clamped on add anyway) merges; after it only
	 * within the span */
	if (ts_us > b->last_us && (uint64_t)ts_us - (uint64_t)b->last_us > (uint64_t)span_us)
		return -ESRCH;
	p = b->buf + off + 1;
	end = b->buf + b->len;
	if (kt_varint_get(&p, end, &delta) || kt_varint_get(&p, end, &flen))
		return -ESRCH;
	/* kt_chunk_add wrote it: it ends where the chunk does */
	assert(flen == (uint64_t)(end - p));
	if (flen != (uint64_t)(end - p))
		return -ESRCH;
	if (flen + len > MERGE_MAX)
		return -ESRCH;
	hdr = (size_t)(p - (b->buf + off));
	lsz = hdr - 1 - kt_varint_put(lbuf, delta); /* bytes of the old length */
	nsz = kt_varint_put(lbuf, flen + len);
	assert(nsz >= lsz);
	if (b->len + (nsz - lsz) + len > b->cap) {
		int err = kt_chunk_reserve(b, b->len + (nsz - lsz) + len);

		if (err)
			return err;
		p = b->buf + off + hdr;
	}
	if (nsz > lsz) /* the length varint grew: shift the payload */
		memmove((uint8_t *)p + (nsz - lsz), p, flen);
	memcpy(b->buf + off + hdr - lsz, lbuf, nsz);
	b->len += nsz - lsz;
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	if (type == KT_FRAME_OUT)
		b->out_bytes += len;
	else
		b->in_bytes += len;
	return 0;
}
