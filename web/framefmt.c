// SPDX-License-Identifier: Apache-2.0
/* Frame records and the stream cursor (see framefmt.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "framefmt.h"
#include "screen.h"

int web_buf_put(struct web_buf *b, const void *data, size_t len)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		uint8_t *p;

		/* move the unsent bytes down before growing */
		if (b->off) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (cap < b->len + len)
			cap *= 2;
		if (cap != b->cap) {
			p = realloc(b->p, cap);
			if (!p)
				return -ENOMEM;
			b->p = p;
			b->cap = cap;
		}
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

void web_buf_consume(struct web_buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void web_buf_free(struct web_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int web_rec_put(struct web_buf *b, uint8_t type, int64_t ts_us, const void *data, size_t len)
{
	uint8_t h[WEB_REC_HDR];
	int err;

	h[0] = type;
	le32(h + 1, (uint32_t)len);
	le64(h + 5, (uint64_t)ts_us);
	err = web_buf_put(b, h, sizeof(h));
	if (!err && len)
		err = web_buf_put(b, data, len);
	return err;
}

int web_enc_binary(void *ctx, const struct kt_frame *f, const uint8_t *data, size_t len)
{
	struct web_buf *b = ctx;

	if (f->type == KT_FRAME_GAP) {
		uint64_t lb = 0, le = 0;
		uint8_t p[16];

		/* a malformed gap is still a gap of unknown size */
		if (kt_frame_gap_parse(f, &lb, &le))
			lb = le = 0;
		le64(p, lb);
		le64(p + 8, le);
		return web_rec_put(b, KT_FRAME_GAP, f->ts_us, p, sizeof(p));
	}
	if (f->type == KT_FRAME_RESIZE) {
		uint16_t cols, rows;
		uint8_t p[4];
		int r, c;

		/* the browser's terminal gets the screen model's size for any
		 * recorded one (65535 columns would hang it; screen.h) */
		if (kt_frame_resize_parse(f, &cols, &rows))
			return 0;
		kt_screen_size_norm(rows, cols, &r, &c);
		p[0] = c & 0xff;
		p[1] = c >> 8;
		p[2] = r & 0xff;
		p[3] = r >> 8;
		return web_rec_put(b, KT_FRAME_RESIZE, f->ts_us, p, sizeof(p));
	}
	return web_rec_put(b, f->type, f->ts_us, data, len);
}

int web_cursor_fill(struct web_cursor *cur, struct web_buf *b, size_t want,
		    web_enc_fn enc, void *ctx)
{
	int err;

	while (web_buf_avail(b) < want) {
		size_t n;

		if (!cur->have) {
			err = kt_stream_next(cur->s, &cur->f);
			if (err == -EBADMSG)	/* logged; the next call goes on */
				continue;
			if (err <= 0)
				return err;
			if (cur->f.type == KT_FRAME_IN && !cur->with_input)
				continue;
			if (cur->f.type < KT_FRAME_OUT || cur->f.type > KT_FRAME_GAP)
				continue;	/* a newer writer's type: skip */
			cur->have = true;
			cur->done = 0;
			cur->frames++;
		}
		n = cur->f.len - cur->done;
		if (cur->f.type == KT_FRAME_OUT || cur->f.type == KT_FRAME_IN) {
			if (n > WEB_REC_MAX_PAYLOAD)
				n = WEB_REC_MAX_PAYLOAD;
			cur->bytes += n;
		}
		err = enc(ctx, &cur->f, cur->f.data + cur->done, n);
		if (err)
			return err;
		cur->done += (uint32_t)n;
		if (cur->done >= cur->f.len)
			cur->have = false;
	}
	return 1;
}
