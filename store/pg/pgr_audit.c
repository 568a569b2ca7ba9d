// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes identity join on the cluster store: the rows
 * store/audit_join.c reads, from PostgreSQL.  The join itself (tiers,
 * windows, candidates) is audit_join.c's, run unchanged; only its row
 * sources dispatch here.  It runs per node (src), as on the node: a
 * session is joined with the audit requests shipped by its own node, so
 * a request imported on two nodes is not counted twice, and the result is
 * the node's.  The scope is set by kt_pgr_audit_scope (from a session's
 * gid) before a session's join, and by kt_pgr_audit_requests_list for each
 * request it delivers (kubetape audit gaps).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "log.h"
#include "pgr_int.h"

int kt_pgr_audit_scope(struct kt_store *st, int64_t gid)
{
	int64_t id;
	int err = kt_pgr_session_key(st->pg, gid, st->pg->scope_src, &id);

	if (err == -ENOENT)
		pr_err("store %s: identity: no session %lld", st->path, (long long)gid);
	return err;
}

struct argv_ctx {
	char **argv;
	size_t *len;
};

static int argv_row(struct kt_row *q, void *ctx)
{
	struct argv_ctx *x = ctx;
	const char *p = q->bytes(q, 0, x->len);

	if (q->err)
		return q->err;
	if (*x->len && !(*x->argv = malloc(*x->len)))
		return -ENOMEM;
	if (*x->len)
		memcpy(*x->argv, p, *x->len);
	return 1; /* one row */
}

int kt_pgr_first_argv(struct kt_store *st, int64_t gid, char **argv, size_t *len)
{
	struct argv_ctx x = { argv, len };
	int err;

	*argv = NULL;
	*len = 0;
	err = kt_pgr_session_rows(st, gid, "SELECT argv FROM commands"
				  " WHERE src = $1 AND session_id = $2 AND seq = 0", 0, NULL,
				  "first command", argv_row, &x);
	return err > 0 ? 0 : err;
}

struct sess_ctx {
	struct kt_pgr *pg;
	kt_pgr_jsess_cb cb;
	void *ctx;
};

static int sess_row(const PGresult *r, int row, void *ctx)
{
	struct sess_ctx *x = ctx;
	int64_t gid, start;
	const char *container, *argv;
	size_t clen, alen;
	int err;

	err = kt_pgr_i64(x->pg, r, row, 0, "pod sessions", &gid);
	if (!err)
		err = kt_pgr_i64(x->pg, r, row, 1, "pod sessions", &start);
	if (!err)
		err = kt_pgr_bytes(x->pg, r, row, 2, "pod sessions", false, &container, &clen);
	/* LEFT JOIN: no first command yet */
	if (!err)
		err = kt_pgr_bytes(x->pg, r, row, 3, "pod sessions", true, &argv, &alen);
	return err ? err : x->cb(gid, start, container, argv, alen, x->ctx);
}

int kt_pgr_pod_sessions(struct kt_store *st, const char *ns, const char *pod, int64_t from,
			int64_t to, kt_pgr_jsess_cb cb, void *ctx)
{
	struct sess_ctx x = { st->pg, cb, ctx };
	char bf[24], bt[24];
	const char *v[] = { st->pg->scope_src, ns, pod, kt_pgr_i64_param(from, bf),
			    kt_pgr_i64_param(to, bt) };

	return kt_pgr_each(st->pg, "SELECT s.gid, s.start_us, s.container, c.argv FROM sessions s"
			   " LEFT JOIN commands c ON c.src = s.src AND c.session_id = s.id AND c.seq = 0"
			   " WHERE s.src = $1 AND s.k8s_namespace = $2 AND s.pod = $3"
			   " AND s.start_us BETWEEN $4 AND $5 ORDER BY s.id", 5, v, "pod sessions",
			   sess_row, &x);
}

struct req_ctx {
	struct kt_pgr *pg;
	struct kt_audit_request *r;
	bool set_scope;
	int (*cb)(const struct kt_audit_request *r, void *ctx);
	void *ctx;
};

static int req_row(const PGresult *r, int row, void *ctx)
{
	struct req_ctx *x = ctx;
	struct kt_row rd;
	int err = 0;

	/* column 0 is src; the request's columns follow */
	if (x->set_scope)
		err = kt_pgr_str(x->pg, r, row, 0, "audit requests", x->pg->scope_src,
				 KT_PGR_SRC_MAX);
	if (err)
		return err;
	kt_pgr_row(&rd, x->pg, r, row, "audit requests");
	kt_audit_request_read(&rd, 1, x->r);
	return rd.err ? rd.err : x->cb(x->r, x->ctx);
}

static int each_request(struct kt_store *st, const char *sql, int n, const char *const *v,
			bool set_scope, int (*cb)(const struct kt_audit_request *r, void *ctx),
			void *ctx)
{
	struct req_ctx x = { st->pg, NULL, set_scope, cb, ctx };
	int err;

	x.r = malloc(sizeof(*x.r));
	if (!x.r)
		return -ENOMEM;
	err = kt_pgr_each(st->pg, sql, n, v, "audit requests", req_row, &x);
	free(x.r);
	return err;
}

int kt_pgr_pod_requests(struct kt_store *st, const char *ns, const char *pod, int64_t from,
			int64_t to, const char *exec_id,
			int (*cb)(const struct kt_audit_request *r, void *ctx), void *ctx)
{
	char sql[1024], bf[24], bt[24];
	const char *v[] = { st->pg->scope_src, ns, pod, exec_id ? exec_id : kt_pgr_i64_param(from, bf),
			    kt_pgr_i64_param(to, bt) };

	if (exec_id)
		snprintf(sql, sizeof(sql), "SELECT src, %s FROM audit_requests WHERE src = $1"
			 " AND exec_id = $4 AND k8s_namespace = $2 AND pod = $3 ORDER BY id",
			 kt_audit_req_cols);
	else
		snprintf(sql, sizeof(sql), "SELECT src, %s FROM audit_requests WHERE src = $1"
			 " AND k8s_namespace = $2 AND pod = $3 AND received_us BETWEEN $4 AND $5"
			 " ORDER BY received_us, id", kt_audit_req_cols);
	return each_request(st, sql, exec_id ? 4 : 5, v, false, cb, ctx);
}

int kt_pgr_audit_requests_list(struct kt_store *st, int64_t since_us, int64_t until_us,
			       int (*cb)(const struct kt_audit_request *r, void *ctx), void *ctx)
{
	char sql[1024], bs[24], bu[24];
	const char *v[] = { kt_pgr_i64_param(since_us, bs), kt_pgr_i64_param(until_us, bu) };

	/* node by node in the node's order; each request's node becomes the
	 * join's scope while the callback runs */
	snprintf(sql, sizeof(sql), "SELECT src, %s FROM audit_requests"
		 " WHERE ($1::bigint = 0 OR received_us >= $1) AND ($2::bigint = 0 OR received_us <= $2)"
		 " ORDER BY received_us, src, id", kt_audit_req_cols);
	return each_request(st, sql, 2, v, true, cb, ctx);
}

int kt_pgr_audit_span(struct kt_store *st, int64_t *first_us, int64_t *last_us)
{
	PGresult *r;
	int err = -EIO;

	r = kt_pgr_query(st->pg, "SELECT min(received_us), max(greatest(received_us, started_us,"
			 " completed_us)) FROM audit_requests", 0, NULL, "audit span", &err);
	if (!r)
		return err;
	err = kt_pgr_i64_null(st->pg, r, 0, 0, "audit span", 0, first_us);
	if (!err)
		err = kt_pgr_i64_null(st->pg, r, 0, 1, "audit span", 0, last_us);
	PQclear(r);
	return err;
}

bool kt_pgr_audit_any(struct kt_store *st)
{
	PGresult *r = kt_pgr_query(st->pg, "SELECT 1 FROM audit_requests LIMIT 1", 0, NULL,
				   "audit requests", NULL);
	bool any = r && PQntuples(r) > 0;

	PQclear(r);
	return any;
}
