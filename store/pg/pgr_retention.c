// SPDX-License-Identifier: Apache-2.0
/*
 * Retention records on the cluster store: the nodes' legal holds (as each
 * node has them now) and their prune records (FORMAT-pg.md "holds",
 * "prunes"), by cluster session id (gid).  The server itself never prunes
 * (it is the archive), so a prune record names a session the server still
 * holds in full.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pgr_int.h"
#include "prune.h"

struct holds_ctx {
	struct kt_pgr *pg;
	int (*cb)(const struct kt_hold *h, void *ctx);
	void *ctx;
};

static int hold_row(const PGresult *r, int row, void *ctx)
{
	struct holds_ctx *x = ctx;
	struct kt_hold h = { 0 };
	size_t len;
	int err;

	err = kt_pgr_i64(x->pg, r, row, 0, "holds", &h.session_id);
	if (!err)
		err = kt_pgr_i64(x->pg, r, row, 1, "holds", &h.ts_us);
	if (!err)
		err = kt_pgr_bytes(x->pg, r, row, 2, "holds", false, &h.uuid, &len);
	if (!err)
		err = kt_pgr_bytes(x->pg, r, row, 3, "holds", false, &h.who, &len);
	if (!err)
		err = kt_pgr_bytes(x->pg, r, row, 4, "holds", false, &h.reason, &len);
	return err ? err : x->cb(&h, x->ctx);
}

int kt_pgr_holds_list(struct kt_store *st, int (*cb)(const struct kt_hold *h, void *ctx),
		      void *ctx)
{
	struct holds_ctx x = { st->pg, cb, ctx };

	/* a hold whose session the server does not have yet is listed once
	 * the session is shipped (the shipper sends sessions first) */
	return kt_pgr_each(st->pg, "SELECT s.gid, h.ts_us, h.uuid, h.who, h.reason FROM holds h"
			   " JOIN sessions s ON s.src = h.src AND s.id = h.session_id ORDER BY s.gid",
			   0, NULL, "holds", hold_row, &x);
}

static int prune_row(struct kt_row *q, void *ctx)
{
	struct kt_prune_record *out = ctx;
	size_t len;

	out->ts_us = q->i64(q, 0);
	out->min_age_us = q->i64(q, 1);
	out->start_us = q->i64(q, 2);
	out->end_us = q->i64(q, 3);
	out->bytes = q->i64(q, 4);
	/* clipped as the node's copy is (prune.c) */
	kt_strlcpy(out->uuid, q->bytes(q, 5, &len), sizeof(out->uuid));
	kt_strlcpy(out->rule, q->bytes(q, 6, &len), sizeof(out->rule));
	kt_strlcpy(out->who, q->bytes(q, 7, &len), sizeof(out->who));
	return q->err ? q->err : 1; /* one row */
}

int kt_pgr_prune_get(struct kt_store *st, int64_t gid, struct kt_prune_record *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = kt_pgr_session_rows(st, gid, "SELECT ts_us, min_age_us, start_us, end_us, bytes, uuid,"
				  " rule, who FROM prunes WHERE src = $1 AND session_id = $2"
				  " ORDER BY id DESC LIMIT 1", 0, NULL, "prune record", prune_row, out);
	out->session_id = gid;
	return err > 0 ? 0 : err ? err : -ENOENT;
}

struct ids_ctx {
	struct kt_pgr *pg;
	int (*cb)(int64_t gid, void *ctx);
	void *ctx;
};

static int id_row(const PGresult *r, int row, void *ctx)
{
	struct ids_ctx *x = ctx;
	int64_t gid;
	int err = kt_pgr_i64(x->pg, r, row, 0, "screen index pending", &gid);

	return err ? err : x->cb(gid, x->ctx);
}

int kt_pgr_index_pending(struct kt_store *st, int (*cb)(int64_t gid, void *ctx), void *ctx)
{
	struct ids_ctx x = { st->pg, cb, ctx };

	/* index_write.c's kt_index_pending, per node: what the node had not
	 * indexed when it last shipped */
	return kt_pgr_each(st->pg, "SELECT s.gid FROM sessions s LEFT JOIN screen_index x"
			   " ON x.src = s.src AND x.session_id = s.id"
			   " WHERE (x.session_id IS NULL AND (s.bytes_out > 0 OR s.state != 0))"
			   "    OR (x.done = 0 AND (x.out_offset < s.bytes_out OR s.state != 0))"
			   " ORDER BY s.gid", 0, NULL, "screen index pending", id_row, &x);
}
