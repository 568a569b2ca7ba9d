// SPDX-License-Identifier: Apache-2.0
/*
 * Frame encoding inside a chunk (FORMAT.md, "Frames"):
 *
 *   type u8 | delta_us LEB128 | len LEB128 | payload[len]
 *
 * The decoder is the fuzzed surface: it trusts nothing, checks every length
 * against the end of the buffer before reading and every time sum for
 * overflow, and answers -EBADMSG instead.
 */
#include <errno.h>
#include <string.h>

#include "store_int.h"

size_t kt_varint_put(uint8_t *dst, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		dst[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	dst[n++] = (uint8_t)v;
	return n;
}

int kt_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t val = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		uint8_t b;

		if (p >= end)
			return -EBADMSG;
		b = *p++;
		/* the 10th byte may only carry bit 63 */
		if (shift == 63 && b > 1)
			return -EBADMSG;
		val |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = val;
			*pp = p;
			return 0;
		}
	}
	return -EBADMSG;
}

void kt_frame_decoder_init(struct kt_frame_decoder *d, const void *buf,
			   size_t len, int64_t chunk_start_us)
{
	d->p = buf;
	d->end = d->p ? d->p + len : NULL;
	d->ts_us = chunk_start_us;
}

int kt_frame_next(struct kt_frame_decoder *d, struct kt_frame *f)
{
	const uint8_t *p = d->p;
	uint64_t delta, len;
	uint8_t type;

	if (!p || p >= d->end)
		return 0;
	type = *p++;
	if (type == 0) /* reserved: zero-filled garbage is not a frame */
		return -EBADMSG;
	if (kt_varint_get(&p, d->end, &delta) || kt_varint_get(&p, d->end, &len))
		return -EBADMSG;
	/* ts + delta must stay <= INT64_MAX; exact for negative ts too */
	if (delta > (uint64_t)INT64_MAX - (uint64_t)d->ts_us)
		return -EBADMSG;
	if (len > UINT32_MAX || len > (uint64_t)(d->end - p))
		return -EBADMSG;

	switch (type) {
	case KT_FRAME_RESIZE:
		if (len < 4)
			return -EBADMSG;
		break;
	case KT_FRAME_GAP: {
		const uint8_t *q = p;
		uint64_t a, b;

		if (kt_varint_get(&q, p + len, &a) || kt_varint_get(&q, p + len, &b))
			return -EBADMSG;
		break;
	}
	default: /* OUT, IN and types from later versions: opaque */
		break;
	}

	d->ts_us = (int64_t)((uint64_t)d->ts_us + delta);
	f->type = type;
	f->ts_us = d->ts_us;
	f->len = (uint32_t)len;
	f->data = p;
	d->p = p + len;
	return 1;
}

int kt_frame_resize_parse(const struct kt_frame *f, uint16_t *cols, uint16_t *rows)
{
	if (!f || f->type != KT_FRAME_RESIZE || f->len < 4 || !f->data)
		return -EBADMSG;
	*cols = (uint16_t)(f->data[0] | f->data[1] << 8);
	*rows = (uint16_t)(f->data[2] | f->data[3] << 8);
	return 0;
}

int kt_frame_gap_parse(const struct kt_frame *f, uint64_t *lost_bytes, uint64_t *lost_events)
{
	const uint8_t *p;

	if (!f || f->type != KT_FRAME_GAP || !f->data)
		return -EBADMSG;
	p = f->data;
	if (kt_varint_get(&p, f->data + f->len, lost_bytes) ||
	    kt_varint_get(&p, f->data + f->len, lost_events))
		return -EBADMSG;
	return 0;
}
