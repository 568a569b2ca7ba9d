// SPDX-License-Identifier: Apache-2.0
/*
 * Screen-text search on the cluster store: the candidate blocks.  The
 * search itself is store/index/index_search.c's: every candidate is
 * verified by rendering it again from its keyframe through the stream, as
 * on a node, so the hits are the node's.  Candidates: the closed blocks
 * whose trigram set (screen_blocks.trigrams, the node's screen_fts terms,
 * GIN-indexed) holds the query's ASCII trigrams, plus the blocks whose
 * trigrams the shipper has not sent yet and the open ones (their lines
 * are in screen_pending), as a node adds its open blocks to its FTS hits.
 *
 * Ids.  A block's id is its node's; on the cluster a hit is named by its
 * block's key, KT_PGR_BLOCK_KEY(gid, seq), shifted as on a node (hit id =
 * key << 24 | line), so a cursor pages across nodes.  Limits, checked:
 * gid < 2^23 and 65,536 blocks per session (a block is at least 64 KiB of
 * output: 4 GiB).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgr_int.h"

#define GID_MAX (INT64_C(1) << (63 - 24 - KT_PGR_BLOCK_SEQ_BITS))

struct cand_ctx {
	struct kt_pgr *pg;
	struct kt_session_info *s;
	int ncols;
	int (*cb)(const struct kt_session_info *s, const struct kt_pgr_block *b, void *ctx);
	void *ctx;
};

static int cand_row(const PGresult *r, int row, void *ctx)
{
	struct cand_ctx *x = ctx;
	struct kt_pgr_block b = { 0 };
	int64_t v[8];
	int k = x->ncols, err;

	err = kt_pgr_session_row(x->pg, r, row, 0, x->s);
	for (int i = 0; !err && i < 8; i++)
		err = kt_pgr_i64(x->pg, r, row, k + i, "screen search", &v[i]);
	if (err)
		return err;
	if (x->s->id >= GID_MAX || v[1] < 0 || v[1] >= (1 << KT_PGR_BLOCK_SEQ_BITS)) {
		pr_err("store %s: screen search: session %lld block %lld is beyond what a hit id "
		       "can name on the cluster store (%lld sessions, 65536 blocks a session)",
		       x->pg->label, (long long)x->s->id, (long long)v[1], (long long)GID_MAX);
		return -EOVERFLOW;
	}
	b.id = v[0];
	b.key = KT_PGR_BLOCK_KEY(x->s->id, v[1]);
	b.chunk_seq = v[2];
	b.frame_index = (uint32_t)v[3];
	b.end_chunk_seq = v[4];
	b.end_frame_index = (uint32_t)v[5];
	b.final = v[6] != 0;
	b.open = v[7] != 0;
	return x->cb(x->s, &b, x->ctx);
}

int kt_pgr_screen_candidates(struct kt_store *st, const char *trigrams,
			     const struct kt_session_filter *f, int64_t after_key,
			     int (*cb)(const struct kt_session_info *s,
				       const struct kt_pgr_block *b, void *ctx), void *ctx)
{
	struct cand_ctx x = { .pg = st->pg, .cb = cb, .ctx = ctx, .ncols = kt_session_ncols() };
	struct kt_pgr_params p = { 0 };
	char sql[4096], scols[2048];
	size_t o;
	int err;

	if (!kt_pgr_session_cols("s.", scols, sizeof(scols)))
		return -ENAMETOOLONG;
	o = (size_t)snprintf(sql, sizeof(sql), "SELECT %s, b.id, b.seq, b.chunk_seq, b.frame_index,"
			     " b.end_chunk_seq, b.end_frame_index, b.final, b.open FROM screen_blocks b"
			     " JOIN sessions s ON s.src = b.src AND s.id = b.session_id WHERE true",
			     scols);
	if (trigrams && strcmp(trigrams, "{}") != 0)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o,
				      " AND (b.open = 1 OR b.trigrams IS NULL OR b.trigrams @> $%d::text[])",
				      kt_pgr_param_str(&p, trigrams));
	if (after_key > 0) {
		int a = kt_pgr_param_i64(&p, after_key >> KT_PGR_BLOCK_SEQ_BITS);

		o += (size_t)snprintf(sql + o, sizeof(sql) - o, " AND (s.gid, b.seq) <= ($%d, $%d)", a,
				      kt_pgr_param_i64(&p, after_key & ((1 << KT_PGR_BLOCK_SEQ_BITS) - 1)));
	}
	err = kt_pgr_filter_sql(f, "s.", sql, sizeof(sql), &p);
	if (err)
		return err;
	o = strlen(sql);
	if ((size_t)snprintf(sql + o, sizeof(sql) - o, " ORDER BY s.gid DESC, b.seq DESC") >=
	    sizeof(sql) - o || p.n < 0)
		return -E2BIG;
	x.s = malloc(sizeof(*x.s));
	if (!x.s)
		return -ENOMEM;
	err = kt_pgr_each(st->pg, sql, p.n, p.vals, "screen search", cand_row, &x);
	free(x.s);
	return err;
}
