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
 *
 * Two stages, one statement.  The inner query finds the hits' keys
 * (src, session_id, seq, with their session's row) in order, with the
 * limit; of commands it reads only argv_text and keys, so the planner may
 * answer it from the
 * commands' key index with argv_text included (schema step 4 added it as
 * commands_session_text; step 5 made it the unique key's own index,
 * pg_schema_onekey.c) by an index-only walk of the newest sessions,
 * stopping at the limit, or from the trigram index for a rare word (then
 * a sort of its few hits).  The outer query fetches the whole rows of
 * those hits only, through the same index: their leaf pages are the ones
 * the walk read, which a new server backend does not pay for twice.  The
 * same SQL without the split made the walk fetch and deform every command
 * of every session walked (~180,000 for `password` at limit 1,000 on
 * bench/pg_scale.sh's 10 M commands) to test argv_text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_bloom.h"
#include "pgr_int.h"

#define CMD_COLS(p) KT_CMD_COLS(p)

/* Columns [k, k + KT_CMD_NCOLS) of a row into *c: the node's row, with
 * the cluster's ids (session gid, command gid<<24|seq). */
static int command_read(struct kt_row *q, int k, int64_t gid, struct kt_command *c)
{
	kt_command_read(q, k, c);
	if (q->err)
		return q->err;
	if (c->seq < 0 || c->seq >= KT_PGR_CMD_SEQ_MAX)
		return kt_pgr_corrupt(q->pg, "command", "seq %d", c->seq);
	c->session_id = gid;
	c->id = KT_PGR_CMD_ID(gid, c->seq);
	return 0;
}

struct list_ctx {
	int64_t gid;
	kt_command_cb cb;
	void *ctx;
};

static int list_row(struct kt_row *q, void *ctx)
{
	struct list_ctx *x = ctx;
	struct kt_command c;
	int err = command_read(q, 0, x->gid, &c);

	return err ? err : x->cb(&c, x->ctx);
}

/* No such session: no commands, as on a node. */
int kt_pgr_commands_list(struct kt_store *st, int64_t gid, kt_command_cb cb, void *ctx)
{
	struct list_ctx x = { .gid = gid, .cb = cb, .ctx = ctx };

	return kt_pgr_session_rows(st, gid, "SELECT " CMD_COLS("") " FROM commands"
				   " WHERE src = $1 AND session_id = $2 ORDER BY seq", 0, NULL,
				   "commands list", list_row, &x);
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
	if (!err) {
		struct kt_row q;

		kt_pgr_row(&q, x->pg, r, row, "commands search");
		err = command_read(&q, x->ncols, x->s->id, &c);
	}
	return err ? err : x->cb(x->s, &c, x->ctx);
}

/*
 * One branch's hits, in order, with the limit: the words on m (their $n in
 * word_ph), the filters on s, and node_sql (" AND ..." or "").  The inner
 * query carries the session's columns: it reads each walked session's heap
 * tuple anyway, and an outer join on gid would look every hit's session up
 * again (4,000 buffer reads for 1,000 hits).
 */
static int hits_sql(char *sql, size_t cap, const char *scols, int nlike, const int *word_ph,
		    int bloom_ph, const int *after_ph, const struct kt_session_filter *f,
		    const char *node_sql, int limit_ph, struct kt_pgr_params *p)
{
	size_t o = strlen(sql);
	int err;

	o += (size_t)snprintf(sql + o, cap - o, "SELECT %s,"
			      " m.src AS h_src, m.session_id AS h_sid, m.seq AS h_seq FROM commands m"
			      " JOIN sessions s ON s.src = m.src AND s.id = m.session_id WHERE true",
			      scols);
	for (int i = 0; i < nlike && o < cap; i++)
		o += (size_t)snprintf(sql + o, cap - o, " AND m.argv_text ILIKE $%d", word_ph[i]);
	if (after_ph && o < cap)
		o += (size_t)snprintf(sql + o, cap - o, " AND (s.gid, m.seq) < ($%d, $%d)",
				      after_ph[0], after_ph[1]);
	if (o < cap)
		o += (size_t)snprintf(sql + o, cap - o, "%s", node_sql);
	if (o >= cap)
		return -E2BIG;
	/* the session filters on this query's sessions (alias s) */
	err = kt_pgr_filter_sql(f, "s.", sql, cap, p);
	if (err)
		return err;
	o = strlen(sql);
	/*
	 * The session's command trigrams (schema step 8, pg_bloom.c; NULL:
	 * not known, walk it).  After the session filters: the planner costs
	 * both alike and then keeps their order, so a filter that rejects
	 * most sessions (`--since`) is tested before the bit string.  As
	 * coalesce(), which the planner estimates at one half (boolvarsel's
	 * default; the share walked is 0.4-0.5): written `IS NULL OR ... =
	 * ...` it took ~0.6 % and, expecting 270 hits where 54,000 exist,
	 * chose a parallel scan of every session and a sort (750 ms instead
	 * of 40 for `password` without a cursor).
	 */
	if (bloom_ph && o < cap)
		o += (size_t)snprintf(sql + o, cap - o, " AND coalesce((s.cmd_bloom & $%d::"
				      KT_PG_BLOOM_TYPE ") = $%d::" KT_PG_BLOOM_TYPE ", true)",
				      bloom_ph, bloom_ph);
	if (o < cap)
		o += (size_t)snprintf(sql + o, cap - o, " ORDER BY s.gid DESC, m.seq DESC");
	if (limit_ph && o < cap)
		o += (size_t)snprintf(sql + o, cap - o, " LIMIT $%d", limit_ph);
	return o >= cap ? -E2BIG : 0;
}

int kt_pgr_commands_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f, kt_command_hit_cb cb, void *ctx)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct hit_ctx x = { .pg = st->pg, .cb = cb, .ctx = ctx, .ncols = kt_session_ncols() };
	struct kt_search_plan plan = { 0 };
	struct kt_pgr_params p = { 0 };
	struct kt_session_filter rest;
	char scols[2048], hcols[2048], node_a[64], node_b[96], *sql = NULL;
	int word_ph[KT_PGR_MAX_PARAMS], after_ph[2] = { 0, 0 }, limit_ph = 0, node_ph, bloom_ph = 0;
	uint8_t bloom[KT_PG_BLOOM_BYTES] = { 0 };
	char bloom_hex[KT_PG_BLOOM_HEX];
	bool has_tri = false;
	const int *after = NULL; /* after_ph when paging */
	size_t cap, o;
	int err;

	if (!query || !cb)
		return -EINVAL;
	if (!f)
		f = &any;
	err = kt_search_plan_make(query, &plan);
	if (err)
		return err;
	if (plan.nlike > KT_PGR_MAX_PARAMS - 20) {
		pr_err("search: more than %d words", KT_PGR_MAX_PARAMS - 20);
		err = -EINVAL;
		goto cleanup;
	}
	cap = 16384 + (size_t)plan.nlike * 128;
	sql = malloc(cap);
	x.s = calloc(1, sizeof(*x.s));
	if (!sql || !x.s) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!kt_pgr_session_cols("s.", scols, sizeof(scols)) ||
	    !kt_pgr_session_cols("h.", hcols, sizeof(hcols))) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	for (int i = 0; i < plan.nlike; i++) {
		word_ph[i] = kt_pgr_param_str(&p, plan.like[i]);
		has_tri |= kt_pg_bloom_add_pattern(bloom, plan.like[i]);
	}
	if (has_tri) {
		kt_pg_bloom_hex(bloom, bloom_hex);
		bloom_ph = kt_pgr_param_str(&p, bloom_hex);
	}
	if (f->after_id > 0) {
		after = after_ph;
		after_ph[0] = kt_pgr_param_i64(&p, f->after_id >> KT_PGR_CMD_SEQ_BITS);
		after_ph[1] = kt_pgr_param_i64(&p, f->after_id & (KT_PGR_CMD_SEQ_MAX - 1));
	}
	if (f->limit > 0)
		limit_ph = kt_pgr_param_i64(&p, f->limit);
	o = (size_t)snprintf(sql, cap, "SELECT %s, " CMD_COLS("c.") " FROM (", hcols);
	if (!f->node) {
		err = hits_sql(sql, cap, scols, plan.nlike, word_ph, bloom_ph, after,
			       f, "", limit_ph, &p);
	} else {
		/*
		 * --node names the recorder's node or the shipping node (src):
		 * `node = $n OR src = $n`, which no index gives in gid order,
		 * so the walk went through every newer session of the cluster
		 * (bench/pg_scale.sh, node-07 of 50: ~97,000 sessions, 54 ms of
		 * a 104 ms search).  Two branches instead, each newest first
		 * by its own index (schema step 7: (node, gid), (src, gid)),
		 * the second without the first's sessions, merged.  The rule
		 * is kt_session_filter_sql's node/node_alt (store/session.c,
		 * node_alt "src" in pgr_session.c): change both together.
		 */
		rest = *f;
		rest.node = NULL;
		node_ph = kt_pgr_param_str(&p, f->node);
		snprintf(node_a, sizeof(node_a), " AND s.node = $%d", node_ph);
		snprintf(node_b, sizeof(node_b), " AND s.src = $%d AND s.node IS DISTINCT FROM $%d",
			 node_ph, node_ph);
		o += (size_t)snprintf(sql + o, cap - o, "SELECT * FROM ((");
		err = hits_sql(sql, cap, scols, plan.nlike, word_ph, bloom_ph, after,
			       &rest, node_a, limit_ph, &p);
		if (!err) {
			o = strlen(sql);
			o += (size_t)snprintf(sql + o, cap - o, ") UNION ALL (");
			err = hits_sql(sql, cap, scols, plan.nlike, word_ph, bloom_ph,
				       after, &rest, node_b, limit_ph, &p);
		}
		if (!err) {
			o = strlen(sql);
			o += (size_t)snprintf(sql + o, cap - o, ")) u ORDER BY gid DESC, h_seq DESC");
			if (limit_ph)
				o += (size_t)snprintf(sql + o, cap - o, " LIMIT $%d", limit_ph);
		}
	}
	if (err)
		goto cleanup;
	o = strlen(sql);
	o += (size_t)snprintf(sql + o, cap - o, ") h JOIN commands c ON c.src = h.h_src"
			      " AND c.session_id = h.h_sid AND c.seq = h.h_seq"
			      " ORDER BY h.gid DESC, h.h_seq DESC");
	if (p.n < 0 || o >= cap) {
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
