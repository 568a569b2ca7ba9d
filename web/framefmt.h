/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The frame wire format of /api/sessions/ID/stream and the live WebSocket
 * (application/vnd.kubetape.frames, documented in web/API.md): records of
 *   u8 type | u32 LE payload length | i64 LE absolute time (us) | payload
 * with the store's frame types (1 OUT, 2 IN, 3 RESIZE: u16 cols, u16 rows;
 * 4 GAP re-encoded as u64 lost_bytes, u64 lost_events) plus 16 META (JSON
 * describing the stream) and 17 END (the session ended, nothing follows).
 * OUT/IN frames larger than WEB_REC_MAX_PAYLOAD are split into several
 * records with the same time, so every record fits in one write.
 *
 * A cursor pulls frames from a kt_stream into a byte buffer until the
 * buffer holds `want` bytes: producers call it once per writeable callback
 * and so never hold more than about one write of encoded data per client.
 */
#ifndef KUBETAPE_WEB_FRAMEFMT_H
#define KUBETAPE_WEB_FRAMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define WEB_REC_HDR 13
#define WEB_REC_MAX_PAYLOAD (60 * 1024)
#define WEB_REC_META 16
#define WEB_REC_END 17

struct web_buf {
	uint8_t *p;
	size_t len, off, cap;  /* unsent bytes are [off, len) */
};

int web_buf_put(struct web_buf *b, const void *data, size_t len);
static inline size_t web_buf_avail(const struct web_buf *b) { return b->len - b->off; }
void web_buf_consume(struct web_buf *b, size_t n);
void web_buf_free(struct web_buf *b);

/* One record; -ENOMEM. */
int web_rec_put(struct web_buf *b, uint8_t type, int64_t ts_us, const void *data, size_t len);

/* Encoder of one frame piece (data is at most WEB_REC_MAX_PAYLOAD bytes of
 * an OUT/IN frame, or a whole RESIZE/GAP/unknown frame). */
typedef int (*web_enc_fn)(void *ctx, const struct kt_frame *f, const uint8_t *data, size_t len);

struct web_cursor {
	struct kt_stream *s;
	struct kt_frame f;     /* current frame; f.data valid until the next pull */
	uint32_t done;         /* bytes of f already encoded */
	bool have;
	bool with_input;       /* IN frames are skipped unless asked for */
	uint64_t frames, bytes;
};

/*
 * Encode frames until enc has produced `want` bytes into b (the caller
 * measures b) or the stream has nothing more now.  1: stopped because b
 * is full; 0: end of what is stored now; <0 store error (a corrupt chunk
 * is skipped by the store and not an error here).
 */
int web_cursor_fill(struct web_cursor *cur, struct web_buf *b, size_t want,
		    web_enc_fn enc, void *ctx);
/* The binary encoder for web_cursor_fill (ctx = struct web_buf *). */
int web_enc_binary(void *ctx, const struct kt_frame *f, const uint8_t *data, size_t len);

#endif
