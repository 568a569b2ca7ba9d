// SPDX-License-Identifier: Apache-2.0
/*
 * Commands on the cluster store: a session's commands in order, and the
 * command search across nodes.
 *
 * Ids.  A command's id on a node is its rowid there, unique on that node
 * only.  On the cluster store a command is named by its session's gid and
 * its seq: kt_command.id = gid * 2^24 + seq (KT_PGR_CMD_ID), so the search
 * pages on one integer as on a node (after_id) and the web's cursor works
 * unchanged; kt_command.session_id is the gid.  Everything else in a row
 * is the node's, byte for byte.
 *
 * Search.  The same query plan as command.c (kt_search_plan_make: every
 * word a substring, ASCII case-insensitive, % _ and \ literal) with ILIKE
 * for LIKE: PostgreSQL's trigram index (commands_argv_trgm, gin_trgm_ops)
 * serves ILIKE for words of 3 or more characters, as commands_fts does on
 * a node; shorter words are checked on the rows it selects.  Order:
 * newest session first (gid), its latest command first; on one node with
 * sessions one after another that is the node's order (command rowid),
 * on overlapping sessions a node interleaves their commands by rowid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgr_int.h"

#define CMD_COLS(p) \
	p "seq, " p "ts_us, " p "end_us, " p "has_exit, " \
	p "exit_status, " p "pid, " p "ns_pid, " p "ppid, " p "uid, " p "gid, " \
	p "euid, " p "egid, " p "comm, " p "filename, " p "argv, " p "argc, " p "cwd, " \
	p "argv_truncated, " p "cwd_truncated"
#define CMD_NCOLS 19

/* Fill *c from r's columns [k, k + CMD_NCOLS); session_id is the gid. */
static int command_row(struct kt_pgr *pg, const PGresult *r, int row, int k, int64_t gid,
		       struct kt_command *c)
{
	int64_t v[12];
	const char *comm;
	size_t len;
	int err = 0;

	memset(c, 0, sizeof(*c));
	for (int i = 0; !err && i < 12; i++)
		err = kt_pgr_i64(pg, r, row, k + i, "command", &v[i]);
	if (err)
		return err;
	if (v[0] < 0 || v[0] >= KT_PGR_CMD_SEQ_MAX)
		return kt_pgr_corrupt(pg, "command", "seq %lld", (long long)v[0]);
	c->session_id = gid;
	c->seq = (int32_t)v[0];
	c->id = KT_PGR_CMD_ID(gid, c->seq);
	c->ts_us = v[1];
	c->end_us = v[2];
	c->has_exit = v[3] != 0;
	c->exit_status = (int)v[4];
	c->pid = (uint32_t)v[5];
	c->ns_pid = (uint32_t)v[6];
	c->ppid = (uint32_t)v[7];
	c->uid = (uint32_t)v[8];
	c->gid = (uint32_t)v[9];
	c->euid = (uint32_t)v[10];
	c->egid = (uint32_t)v[11];
	err = kt_pgr_bytes(pg, r, row, k + 12, "command", false, &comm, &len);
	if (!err)
		kt_strlcpy(c->comm, comm, len + 1 < sizeof(c->comm) ? len + 1 : sizeof(c->comm));
	if (!err)
		err = kt_pgr_bytes(pg, r, row, k + 13, "command", false, &c->filename, &len);
	if (!err)
		err = kt_pgr_bytes(pg, r, row, k + 14, "command", false, &c->argv, &c->argv_len);
	if (!err)
		err = kt_pgr_i64(pg, r, row, k + 15, "command", &v[0]);
	if (!err)
		c->argc = (uint32_t)v[0];
	if (!err)
		err = kt_pgr_bytes(pg, r, row, k + 16, "command", false, &c->cwd, &len);
	if (!err)
		err = kt_pgr_i64(pg, r, row, k + 17, "command", &v[0]);
	if (!err)
		c->argv_truncated = v[0] != 0;
	if (!err)
		err = kt_pgr_i64(pg, r, row, k + 18, "command", &v[0]);
	if (!err)
		c->cwd_truncated = v[0] != 0;
	return err;
}

struct list_ctx {
	struct kt_pgr *pg;
	int64_t gid;
	kt_command_cb cb;
	void *ctx;
};

static int list_row(const PGresult *r, int row, void *ctx)
{
	struct list_ctx *x = ctx;
	struct kt_command c;
	int err = command_row(x->pg, r, row, 0, x->gid, &c);

	return err ? err : x->cb(&c, x->ctx);
}

int kt_pgr_commands_list(struct kt_store *st, int64_t gid, kt_command_cb cb, void *ctx)
{
	struct list_ctx x = { .pg = st->pg, .gid = gid, .cb = cb, .ctx = ctx };
	char src[KT_PGR_SRC_MAX], b[24];
	const char *v[2] = { src, b };
	int64_t id;
	int err = kt_pgr_session_key(st->pg, gid, src, &id);

	/* no such session: no commands, as on a node */
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	kt_pgr_i64_param(id, b);
	return kt_pgr_each(st->pg, "SELECT " CMD_COLS("") " FROM commands"
			   " WHERE src = $1 AND session_id = $2 ORDER BY seq",
			   2, v, "commands list", list_row, &x);
}

/* ---------------------------------------------------------------- search */

struct hit_ctx {
	struct kt_pgr *pg;
	struct kt_session_info *s;
	int ncols;
	kt_command_hit_cb cb;
	void *ctx;
};

static int hit_row(const PGresult *r, int row, void *ctx)
{
	struct hit_ctx *x = ctx;
	struct kt_command c;
	int64_t gid;
	int err = kt_pgr_i64(x->pg, r, row, 0, "commands search", &gid);

	/* hits come in runs from one session: copy it once per run */
	if (!err && gid != x->s->id)
		err = kt_pgr_session_row(x->pg, r, row, 0, x->s);
	if (!err)
		err = command_row(x->pg, r, row, x->ncols, x->s->id, &c);
	return err ? err : x->cb(x->s, &c, x->ctx);
}

int kt_pgr_commands_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f, kt_command_hit_cb cb, void *ctx)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct hit_ctx x = { .pg = st->pg, .cb = cb, .ctx = ctx, .ncols = kt_session_ncols() };
	struct kt_search_plan plan = { 0 };
	struct kt_pgr_params p = { 0 };
	char scols[2048], *sql = NULL;
	size_t cap, o;
	int err;

	if (!query || !cb)
		return -EINVAL;
	if (!f)
		f = &any;
	err = kt_search_plan_make(query, &plan);
	if (err)
		return err;
	if (plan.nlike > KT_PGR_MAX_PARAMS - 12) {
		pr_err("search: more than %d words", KT_PGR_MAX_PARAMS - 12);
		err = -EINVAL;
		goto cleanup;
	}
	cap = 4096 + (size_t)plan.nlike * 64;
	sql = malloc(cap);
	x.s = calloc(1, sizeof(*x.s));
	if (!sql || !x.s) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!kt_pgr_session_cols("s.", scols, sizeof(scols))) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	o = (size_t)snprintf(sql, cap, "SELECT %s, " CMD_COLS("c.") " FROM commands c"
			     " JOIN sessions s ON s.src = c.src AND s.id = c.session_id WHERE true",
			     scols);
	for (int i = 0; i < plan.nlike; i++)
		o += (size_t)snprintf(sql + o, cap - o, " AND c.argv_text ILIKE $%d",
				      kt_pgr_param_str(&p, plan.like[i]));
	if (f->after_id > 0) {
		int a = kt_pgr_param_i64(&p, f->after_id >> KT_PGR_CMD_SEQ_BITS);

		o += (size_t)snprintf(sql + o, cap - o, " AND (s.gid, c.seq) < ($%d, $%d)", a,
				      kt_pgr_param_i64(&p, f->after_id & (KT_PGR_CMD_SEQ_MAX - 1)));
	}
	err = kt_pgr_filter_sql(f, "s.", sql, cap, &p);
	if (err)
		goto cleanup;
	o = strlen(sql);
	o += (size_t)snprintf(sql + o, cap - o, " ORDER BY s.gid DESC, c.seq DESC");
	if (f->limit > 0)
		snprintf(sql + o, cap - o, " LIMIT $%d", kt_pgr_param_i64(&p, f->limit));
	if (p.n < 0) {
		err = -E2BIG;
		goto cleanup;
	}
	err = kt_pgr_each(st->pg, sql, p.n, p.vals, "commands search", hit_row, &x);
cleanup:
	kt_search_plan_free(&plan);
	free(sql);
	free(x.s);
	return err;
}
