// SPDX-License-Identifier: Apache-2.0
/* The store's session reader as a player source (playsrc.h). */
#include <stdint.h>

#include "playsrc.h"

static int op_seek(void *ctx, int64_t target_us, uint8_t **redraw, size_t *len)
{
	return kt_reader_seek(ctx, target_us, redraw, len);
}

static int op_next(void *ctx, struct kt_frame *f)
{
	return kt_reader_next(ctx, INT64_MAX, f);
}

/* kt_play_src.more: 1 while more may come (drain or wait: the player
 * waits itself), 0 when done */
static int op_more(void *ctx)
{
	int ret = kt_reader_more(ctx);

	return ret < 0 ? ret : ret != KT_FOLLOW_DONE;
}

struct kt_play_src kt_playsrc_ops(struct kt_reader *r)
{
	r->gap_notice = kt_play_gap_notice;
	return (struct kt_play_src){
		.ctx = r, .seek = op_seek, .next = op_next, .more = op_more,
	};
}
