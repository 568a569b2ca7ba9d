// SPDX-License-Identifier: Apache-2.0
/*
 * Sessions on the cluster store: get by gid, list and count with every
 * kt_session_filter term.  The SQL is session.c's with PostgreSQL's
 * spelling (strpos for instr, $n parameters numbered densely: PostgreSQL
 * refuses a parameter it cannot type) and `gid` for the user-facing id;
 * the row -> struct copy goes through session.c's column table, so a new
 * column is still one line there.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgr_int.h"

const char *kt_pgr_session_cols(const char *prefix, char *buf, size_t len)
{
	char tmp[2048];
	const char *cols = kt_session_cols_prefixed(prefix, tmp, sizeof(tmp));
	size_t pl = strlen(prefix);
	int n;

	/* kt_session_cols_sql begins with the rowid: here it is gid */
	if (!cols)
		return NULL;
	assert(strncmp(cols + pl, "id, ", 4) == 0);
	n = snprintf(buf, len, "%sgid%s", prefix, cols + pl + 2);
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

int kt_pgr_session_row(struct kt_pgr *pg, const PGresult *r, int row, int first,
		       struct kt_session_info *s)
{
	const char *p;
	size_t len;
	int64_t v;
	int err;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < kt_session_ncols(); i++) {
		if (kt_session_col_is_str(i)) {
			err = kt_pgr_bytes(pg, r, row, first + i, "session", false, &p, &len);
			if (!err)
				kt_session_col_set_str(s, i, p, len);
		} else {
			err = kt_pgr_i64(pg, r, row, first + i, "session", &v);
			if (!err)
				kt_session_col_set_int(s, i, v);
		}
		if (err)
			return err;
	}
	if (s->id <= 0)
		return kt_pgr_corrupt(pg, "session", "gid %lld", (long long)s->id);
	return 0;
}

int kt_pgr_session_get(struct kt_store *st, int64_t gid, struct kt_session_info *out)
{
	char sql[2560], cols[2048], b[24];
	const char *v[] = { kt_pgr_i64_param(gid, b) };
	PGresult *r;
	int err = -ENOMEM;

	if (!kt_pgr_session_cols("", cols, sizeof(cols)))
		return -ENAMETOOLONG;
	snprintf(sql, sizeof(sql), "SELECT %s FROM sessions WHERE gid = $1", cols);
	r = kt_pgr_prepared(st->pg, "kt_pgr_session_get", sql, 1, v, "session get", &err);
	if (!r)
		return err;
	err = PQntuples(r) ? kt_pgr_session_row(st->pg, r, 0, 0, out) : -ENOENT;
	PQclear(r);
	return err;
}

/* ---------------------------------------------------------------- filters */

/* PostgreSQL: each value a parameter of its own, numbered as added. */
static const char *pg_ph(void *ctx, int slot, const struct kt_session_filter *f, char *buf,
			 size_t len)
{
	struct kt_pgr_params *p = ctx;
	const char *const str[] = { NULL, f->k8s_namespace, f->pod, f->container, f->node };
	int n = slot <= 4 ? kt_pgr_param_str(p, str[slot])
			  : kt_pgr_param_i64(p, slot == 5 ? f->until_us : f->since_us);

	snprintf(buf, len, "$%d", n);
	return buf;
}

int kt_pgr_filter_sql(const struct kt_session_filter *f, const char *alias, char *sql,
		      size_t len, struct kt_pgr_params *p)
{
	/* --node: the recorder's node name, or the name the node ships under
	 * (src; the same in deploy/, both $NODE_NAME) */
	struct kt_filter_dialect d = { .instr = "strpos", .ilike = true, .node_alt = "src", .ph = pg_ph, .ctx = p };
	int err = kt_session_filter_sql_d(f, alias, sql, len, &d);

	return err ? err : p->n < 0 ? -E2BIG : 0;
}

struct list_ctx {
	struct kt_pgr *pg;
	struct kt_session_info *s;
	kt_session_cb cb;
	void *ctx;
};

static int list_row(const PGresult *r, int row, void *ctx)
{
	struct list_ctx *x = ctx;
	int err = kt_pgr_session_row(x->pg, r, row, 0, x->s);

	return err ? err : x->cb(x->s, x->ctx);
}

int kt_pgr_sessions_list(struct kt_store *st, const struct kt_session_filter *f,
			 kt_session_cb cb, void *ctx)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct list_ctx x = { .pg = st->pg, .cb = cb, .ctx = ctx };
	struct kt_pgr_params p = { 0 };
	char sql[4096], cols[2048];
	int err, n;

	if (!cb)
		return -EINVAL;
	if (!f)
		f = &any;
	if (!kt_pgr_session_cols("", cols, sizeof(cols)))
		return -ENAMETOOLONG;
	snprintf(sql, sizeof(sql), "SELECT %s FROM sessions WHERE true", cols);
	err = kt_pgr_filter_sql(f, "", sql, sizeof(sql), &p);
	if (err)
		return err;
	n = (int)strlen(sql);
	if (f->after_id > 0 && f->by_start) {
		int a = kt_pgr_param_i64(&p, f->after_start_us);

		/* the same rows as "start_us < a OR (start_us = a AND gid < id)",
		 * spelt so that `start_us <= a` is an index condition: the page
		 * starts where it starts in sessions_start (or the node's,
		 * namespace's index) instead of walking every newer session
		 * (the OR alone is only a filter); ties on start_us are few */
		n += snprintf(sql + n, sizeof(sql) - n,
			      " AND start_us <= $%d AND (start_us < $%d OR gid < $%d)", a, a,
			      kt_pgr_param_i64(&p, f->after_id));
	} else if (f->after_id > 0) {
		n += snprintf(sql + n, sizeof(sql) - n, " AND gid < $%d",
			      kt_pgr_param_i64(&p, f->after_id));
	}
	n += snprintf(sql + n, sizeof(sql) - n, "%s",
		      f->by_start ? " ORDER BY start_us DESC, gid DESC" : " ORDER BY gid DESC");
	if (f->limit > 0)
		n += snprintf(sql + n, sizeof(sql) - n, " LIMIT $%d", kt_pgr_param_i64(&p, f->limit));
	if (p.n < 0 || (size_t)n >= sizeof(sql))
		return -E2BIG;

	x.s = malloc(sizeof(*x.s));
	if (!x.s)
		return -ENOMEM;
	err = kt_pgr_each(st->pg, sql, p.n, p.vals, "sessions list", list_row, &x);
	free(x.s);
	return err;
}

int kt_pgr_sessions_count(struct kt_store *st, const struct kt_session_filter *f,
			  int64_t *count)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct kt_pgr_params p = { 0 };
	char sql[1024] = "SELECT count(*) FROM sessions WHERE true";
	PGresult *r;
	int err;

	if (!f)
		f = &any;
	err = kt_pgr_filter_sql(f, "", sql, sizeof(sql), &p);
	if (err)
		return err;
	r = kt_pgr_query(st->pg, sql, p.n, p.vals, "sessions count", &err);
	if (r) {
		err = kt_pgr_i64(st->pg, r, 0, 0, "sessions count", count);
		PQclear(r);
	}
	return err;
}

int kt_pgr_session_origin(struct kt_store *st, int64_t gid, char *node, size_t len,
			  int64_t *node_id)
{
	char src[KT_PGR_SRC_MAX];
	int err = kt_pgr_session_key(st->pg, gid, src, node_id);

	if (err)
		return err;
	kt_strlcpy(node, src, len);
	return 1;
}

int kt_pgr_session_find(struct kt_store *st, const char *node, int64_t node_id, int64_t *gid)
{
	char b[24];
	const char *v[] = { node, kt_pgr_i64_param(node_id, b) };
	PGresult *r;
	int err = -EIO;

	r = kt_pgr_query(st->pg, "SELECT gid FROM sessions WHERE src = $1 AND id = $2", 2, v,
			 "session find", &err);
	if (!r)
		return err;
	err = PQntuples(r) ? kt_pgr_i64(st->pg, r, 0, 0, "session find", gid) : -ENOENT;
	PQclear(r);
	return err;
}
