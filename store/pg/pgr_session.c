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

int kt_pgr_filter_sql(const struct kt_session_filter *f, const char *alias, char *sql,
		      size_t len, struct kt_pgr_params *p)
{
	size_t o = strlen(sql);

#define ADD(...) do { \
		int _w = snprintf(sql + o, len - o, __VA_ARGS__); \
		if (_w < 0 || (size_t)_w >= len - o) return -ENAMETOOLONG; \
		o += _w; } while (0)

	/* as kt_session_filter_sql: lower() folds ASCII only in this database
	 * (SQL_ASCII, collation C), as SQLite's does; strpos keeps % and _
	 * literal as instr does */
	if (f->k8s_namespace && f->substr)
		ADD(" AND strpos(lower(%sk8s_namespace), lower($%d)) > 0", alias,
		    kt_pgr_param_str(p, f->k8s_namespace));
	else if (f->k8s_namespace)
		ADD(" AND %sk8s_namespace = $%d", alias, kt_pgr_param_str(p, f->k8s_namespace));
	if (f->pod && f->substr)
		ADD(" AND strpos(lower(%spod), lower($%d)) > 0", alias, kt_pgr_param_str(p, f->pod));
	else if (f->pod)
		ADD(" AND %spod = $%d", alias, kt_pgr_param_str(p, f->pod));
	if (f->container)
		ADD(" AND %scontainer = $%d", alias, kt_pgr_param_str(p, f->container));
	/* the Kubernetes node name the recorder was given, or the name the
	 * node ships under (src; the same in deploy/, both $NODE_NAME) */
	if (f->node) {
		int a = kt_pgr_param_str(p, f->node);

		ADD(" AND (%snode = $%d OR %ssrc = $%d)", alias, a, alias, a);
	}
	if (f->until_us)
		ADD(" AND %sstart_us <= $%d", alias, kt_pgr_param_i64(p, f->until_us));
	if (f->since_us)
		ADD(" AND (%send_us = 0 OR %send_us >= $%d)", alias, alias,
		    kt_pgr_param_i64(p, f->since_us));
	if (f->active == 1)
		ADD(" AND %sstate = 0", alias);
	else if (f->active == 0)
		ADD(" AND %sstate <> 0", alias);
	if (f->tty == 0 || f->tty == 1)
		ADD(" AND %shas_tty = %d", alias, f->tty);
#undef ADD
	return p->n < 0 ? -E2BIG : 0;
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

		n += snprintf(sql + n, sizeof(sql) - n,
			      " AND (start_us < $%d OR (start_us = $%d AND gid < $%d))", a, a,
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
