// SPDX-License-Identifier: Apache-2.0
/*
 * The join between audit requests and recorded sessions (FORMAT.md "Audit
 * requests and the join").  Computed on read from both tables: whichever
 * side arrives late, the next read sees the new answer, and a read-only
 * reader needs nothing written.  The cost is a few indexed queries per
 * session (by namespace + pod + time).
 *
 * Tiers, for a session S (first command argv A, start T):
 *  - EXACT: A is `env KUBETAPE_EXEC_ID=<id> ...` and a request of the same
 *    namespace and pod carries <id> in its audit annotation.  A session or
 *    request with an exec id joins only exactly: the admission webhook
 *    was in the path, so a window match would only risk a wrong pairing.
 *  - candidates: exec requests without exec id, not refused (code 101, or
 *    no code yet), same namespace and pod, same container (or none named),
 *    argv equal to A (after the env prefix), |T - t| <= window where t is
 *    the ResponseStarted time (requestReceived if that stage is missing).
 *  - MATCHED: S has exactly one candidate R and R has exactly one candidate
 *    session, S.  AMBIGUOUS: more on either side (all listed).  NONE: no
 *    candidate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "satint.h"
#include "audit_int.h"
#include "pg/pgr.h"
#include "log.h"

/* Requests whose ResponseStarted is this much later than their
 * requestReceived are not looked for (long admission chains). */
#define KT_AUDIT_RECEIVED_SLACK_US (60 * 1000000LL)
/* Sessions carrying an exec id are looked for this far around a request. */
#define KT_AUDIT_EXACT_RANGE_US (3600 * 1000000LL)

const char *kt_audit_tier_name(int tier)
{
	switch (tier) {
	case KT_TIER_NONE: return "none";
	case KT_TIER_EXACT: return "exact";
	case KT_TIER_MATCHED: return "matched";
	case KT_TIER_AMBIGUOUS: return "ambiguous";
	default: return "unknown";
	}
}

static int64_t window(const struct kt_audit_join_opts *o)
{
	return o && o->window_us > 0 ? o->window_us : KT_AUDIT_WINDOW_DEFAULT_US;
}

static int64_t req_time(const struct kt_audit_request *r)
{
	return r->started_us ? r->started_us : r->received_us;
}

static int64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* A session as the join sees it: where, when, what it ran first. */
struct jsess {
	int64_t id, start_us;
	char container[KT_STR_LONG];
	char exec_id[KT_EXEC_ID_MAX + 1];
	const char *argv;          /* effective argv (after the env prefix) */
	size_t argv_len;
	uint8_t *buf;
};

static void jsess_free(struct jsess *j)
{
	free(j->buf);
	j->buf = NULL;
}

/* Fill j->argv/exec_id from a first-command argv blob. */
static int jsess_argv(struct jsess *j, const void *blob, int n)
{
	size_t off;

	j->buf = malloc(n > 0 ? (size_t)n : 1);
	if (!j->buf)
		return -ENOMEM;
	if (n > 0)
		memcpy(j->buf, blob, (size_t)n);
	off = kt_exec_id_from_argv((const char *)j->buf, n > 0 ? (size_t)n : 0,
				   j->exec_id, sizeof(j->exec_id));
	j->argv = (const char *)j->buf + off;
	j->argv_len = (n > 0 ? (size_t)n : 0) - off;
	return 0;
}

static int first_argv(struct kt_store *st, int64_t session_id, struct jsess *j)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	if (st->pg) {
		char *argv;
		size_t len;

		err = kt_pgr_first_argv(st, session_id, &argv, &len);
		if (!err)
			err = jsess_argv(j, argv, (int)len);
		free(argv);
		return err;
	}

	rc = sqlite3_prepare_v2(st->db, "SELECT argv FROM commands WHERE session_id = ?1 AND seq = 0",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prepare first command");
	sqlite3_bind_int64(q, 1, session_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		err = jsess_argv(j, sqlite3_column_blob(q, 0), sqlite3_column_bytes(q, 0));
	else if (rc == SQLITE_DONE)
		err = jsess_argv(j, NULL, 0); /* no command yet: matches nothing */
	else
		err = kt_sql_err(st, rc, "first command");
	sqlite3_finalize(q);
	return err;
}

static bool argv_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al && al == bl && !memcmp(a, b, al);
}

/* Could request r have opened session j (without exec ids)? */
static bool candidate(const struct kt_audit_request *r, const struct jsess *j, int64_t w)
{
	if (strcmp(r->subresource, "exec") || r->exec_id[0] || j->exec_id[0])
		return false;
	if (r->code && r->code != 101)
		return false;
	if (r->container[0] && strcmp(r->container, j->container))
		return false;
	if (absdiff(j->start_us, req_time(r)) > w)
		return false;
	return !r->argv_truncated && argv_eq(r->argv, r->argv_len, j->argv, j->argv_len);
}

/* Sessions of r's pod starting in [from, to], each with its first argv. */
typedef int (*jsess_cb)(const struct jsess *j, void *ctx);
struct pg_jsess {
	jsess_cb cb;
	void *ctx;
};

static int pg_jsess(int64_t gid, int64_t start_us, const char *container, const char *argv,
		    size_t argv_len, void *ctx)
{
	struct pg_jsess *x = ctx;
	struct jsess j = { .id = gid, .start_us = start_us };
	int err;

	kt_strlcpy(j.container, container, sizeof(j.container));
	err = jsess_argv(&j, argv, (int)argv_len);
	if (!err)
		err = x->cb(&j, x->ctx);
	jsess_free(&j);
	return err;
}

static int pod_sessions(struct kt_store *st, const char *ns, const char *pod, int64_t from,
			int64_t to, jsess_cb cb, void *ctx)
{
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	if (st->pg) {
		struct pg_jsess x = { cb, ctx };

		return kt_pgr_pod_sessions(st, ns, pod, from, to, pg_jsess, &x);
	}

	rc = sqlite3_prepare_v2(st->db,
				"SELECT s.id, s.start_us, s.container, c.argv FROM sessions s"
				" LEFT JOIN commands c ON c.session_id = s.id AND c.seq = 0"
				" WHERE s.k8s_namespace = ?1 AND s.pod = ?2 AND s.start_us BETWEEN ?3 AND ?4"
				" ORDER BY s.id", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prepare pod sessions");
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, pod, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, from);
	sqlite3_bind_int64(q, 4, to);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct jsess j = { 0 };

		j.id = sqlite3_column_int64(q, 0);
		j.start_us = sqlite3_column_int64(q, 1);
		kt_strlcpy(j.container, (const char *)sqlite3_column_text(q, 2), sizeof(j.container));
		err = jsess_argv(&j, sqlite3_column_blob(q, 3), sqlite3_column_bytes(q, 3));
		if (!err)
			err = cb(&j, ctx);
		jsess_free(&j);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "pod sessions");
	sqlite3_finalize(q);
	return err;
}

/* Requests of a pod received in [from, to], or with exec id `exec_id`. */
typedef int (*jreq_cb)(const struct kt_audit_request *r, void *ctx);
static int pod_requests(struct kt_store *st, const char *ns, const char *pod, int64_t from,
			int64_t to, const char *exec_id, jreq_cb cb, void *ctx)
{
	struct kt_audit_request *r;
	sqlite3_stmt *q = NULL;
	char sql[1024];
	int rc, err = 0;

	if (st->pg)
		return kt_pgr_pod_requests(st, ns, pod, from, to, exec_id, cb, ctx);
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (exec_id)
		snprintf(sql, sizeof(sql), "SELECT %s FROM audit_requests WHERE exec_id = ?5"
			 " AND k8s_namespace = ?1 AND pod = ?2 ORDER BY id", kt_audit_req_cols);
	else
		snprintf(sql, sizeof(sql), "SELECT %s FROM audit_requests WHERE k8s_namespace = ?1"
			 " AND pod = ?2 AND received_us BETWEEN ?3 AND ?4 ORDER BY received_us, id",
			 kt_audit_req_cols);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "prepare pod requests");
		goto out;
	}
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, pod, -1, SQLITE_STATIC);
	if (exec_id) {
		sqlite3_bind_text(q, 5, exec_id, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(q, 3, from);
		sqlite3_bind_int64(q, 4, to);
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		kt_audit_request_from_row(q, 0, r);
		err = cb(r, ctx);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "pod requests");
out:
	sqlite3_finalize(q);
	free(r);
	return err;
}

/* ---- a session's identity --------------------------------------------------- */

struct sid_ctx {
	const struct jsess *s;
	struct kt_audit_identity *out;
	int64_t w;
	int64_t cand_id;        /* the single candidate's id */
};

static void add_cand(struct kt_audit_identity *out, const struct kt_audit_request *r)
{
	if (out->n_cand < KT_AUDIT_MAX_CAND)
		out->cand[out->n_cand++] = *r;
	out->n_cand_total++;
}

static int on_exact_req(const struct kt_audit_request *r, void *ctx)
{
	struct sid_ctx *x = ctx;

	add_cand(x->out, r);
	return 0;
}

static int on_cand_req(const struct kt_audit_request *r, void *ctx)
{
	struct sid_ctx *x = ctx;

	if (candidate(r, x->s, x->w))
		add_cand(x->out, r);
	return 0;
}

struct other_ctx {
	const struct kt_audit_request *r;
	int64_t self, w;
	struct kt_audit_identity *out;
};

static int on_other_sess(const struct jsess *j, void *ctx)
{
	struct other_ctx *x = ctx;

	if (j->id == x->self || !candidate(x->r, j, x->w))
		return 0;
	if (x->out->n_other_sessions < KT_AUDIT_MAX_CAND)
		x->out->other_sessions[x->out->n_other_sessions] = j->id;
	x->out->n_other_sessions++;
	return 0;
}

int kt_audit_session_identity(struct kt_store *st, const struct kt_session_info *s,
			      const struct kt_audit_join_opts *o, struct kt_audit_identity *out)
{
	struct jsess j = { 0 };
	struct sid_ctx x;
	int64_t w = window(o);
	int err;

	if (!st || !s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->tier = KT_TIER_NONE;
	/* the cluster store joins on the session's own node's requests */
	if (st->pg && (err = kt_pgr_audit_scope(st, s->id)))
		return err;
	j.id = s->id;
	j.start_us = s->start_us;
	kt_strlcpy(j.container, s->container, sizeof(j.container));
	err = first_argv(st, s->id, &j);
	if (err)
		return err;
	memcpy(out->exec_id, j.exec_id, sizeof(out->exec_id));
	x = (struct sid_ctx){ .s = &j, .out = out, .w = w };
	if (!s->k8s_namespace[0] || !s->pod[0])
		goto out; /* not a pod the API server knows */
	if (j.exec_id[0]) {
		err = pod_requests(st, s->k8s_namespace, s->pod, 0, 0, j.exec_id, on_exact_req, &x);
		if (!err && out->n_cand)
			out->tier = KT_TIER_EXACT;
		goto out;
	}
	err = pod_requests(st, s->k8s_namespace, s->pod,
			   kt_sub_sat(kt_sub_sat(s->start_us, w), KT_AUDIT_RECEIVED_SLACK_US), kt_add_sat(s->start_us, w), NULL,
			   on_cand_req, &x);
	if (err || !out->n_cand_total)
		goto out;
	if (out->n_cand_total > 1) {
		out->tier = KT_TIER_AMBIGUOUS;
		goto out;
	}
	/* one request: is this session its only candidate? */
	{
		struct other_ctx oc = { .r = &out->cand[0], .self = s->id, .w = w, .out = out };
		int64_t t = req_time(&out->cand[0]);

		err = pod_sessions(st, s->k8s_namespace, s->pod, kt_sub_sat(t, w), kt_add_sat(t, w), on_other_sess, &oc);
	}
	if (!err)
		out->tier = out->n_other_sessions ? KT_TIER_AMBIGUOUS : KT_TIER_MATCHED;
out:
	jsess_free(&j);
	if (err)
		out->tier = KT_TIER_NONE;
	return err;
}

/* Does the JSON array text `list` hold the string `name`? */
static bool list_has(const char *list, const char *name)
{
	json_t *a = json_loads(list, 0, NULL);
	bool found = false;
	json_t *v;
	size_t i;

	if (!a)
		return false;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			found = true;
	json_decref(a);
	return found;
}

static bool req_has(const struct kt_audit_request *r, const char *user, const char *group)
{
	if (user && strcmp(r->username, user) && strcmp(r->impersonated_user, user))
		return false;
	if (group && !list_has(r->groups, group) && !list_has(r->impersonated_groups, group))
		return false;
	return true;
}

bool kt_audit_identity_has(const struct kt_audit_identity *id, const char *user, const char *group)
{
	if (!id)
		return false;
	if (!user && !group)
		return true;
	if (id->tier == KT_TIER_NONE)
		return false;
	for (int i = 0; i < id->n_cand; i++)
		if (req_has(&id->cand[i], user, group))
			return true;
	return false;
}

/* ---- a request's sessions ---------------------------------------------------- */

struct rs_ctx {
	struct kt_store *st;
	const struct kt_audit_request *r;
	const struct kt_audit_join_opts *o;
	int64_t w;
	int64_t *ids;
	int max, n;
	int64_t first;
	bool exact;
};

static int on_req_sess(const struct jsess *j, void *ctx)
{
	struct rs_ctx *x = ctx;

	if (x->exact ? strcmp(j->exec_id, x->r->exec_id) != 0 : !candidate(x->r, j, x->w))
		return 0;
	if (!x->n)
		x->first = j->id;
	if (x->n < x->max)
		x->ids[x->n] = j->id;
	x->n++;
	return 0;
}

int kt_audit_request_sessions(struct kt_store *st, const struct kt_audit_request *r,
			      const struct kt_audit_join_opts *o, int64_t *ids, int max,
			      int *n, int *tier)
{
	struct rs_ctx x = { .st = st, .r = r, .o = o, .w = window(o), .ids = ids, .max = max };
	int64_t t;
	int err;

	if (!st || !r || !n || !tier || (max && !ids))
		return -EINVAL;
	*n = 0;
	*tier = KT_TIER_NONE;
	t = req_time(r);
	x.exact = r->exec_id[0] != '\0';
	if (x.exact)
		err = pod_sessions(st, r->k8s_namespace, r->pod, kt_sub_sat(t, KT_AUDIT_EXACT_RANGE_US),
				   kt_add_sat(t, KT_AUDIT_EXACT_RANGE_US), on_req_sess, &x);
	else
		err = pod_sessions(st, r->k8s_namespace, r->pod, t - x.w, t + x.w, on_req_sess, &x);
	if (err)
		return err;
	*n = x.n;
	if (!x.n)
		return 0;
	if (x.exact) {
		*tier = KT_TIER_EXACT;
	} else if (x.n > 1) {
		*tier = KT_TIER_AMBIGUOUS;
	} else {
		/* one session: matched only if the session has no other candidate */
		struct kt_audit_identity *id = malloc(sizeof(*id));
		struct kt_session_info *s = malloc(sizeof(*s));

		if (!id || !s) {
			free(id);
			free(s);
			return -ENOMEM;
		}
		err = kt_store_session_get(st, x.first, s);
		if (!err)
			err = kt_audit_session_identity(st, s, o, id);
		if (!err)
			*tier = id->tier == KT_TIER_MATCHED ? KT_TIER_MATCHED : KT_TIER_AMBIGUOUS;
		free(id);
		free(s);
		if (err)
			return err;
	}
	return 0;
}

/* ---- findings ----------------------------------------------------------------- */

struct gaps_ctx {
	struct kt_store *st;
	const struct kt_audit_join_opts *o;
	kt_gap_request_cb on_request;
	kt_gap_session_cb on_session;
	void *ctx;
	struct kt_audit_identity *id;
};

static bool expects_session(const struct kt_audit_request *r)
{
	return !strcmp(r->subresource, "exec") &&
	       (r->code == 101 || (!r->code && (r->stages & KT_STAGE_RESPONSE_STARTED)));
}

static int gap_req(const struct kt_audit_request *r, void *ctx)
{
	struct gaps_ctx *x = ctx;
	int64_t id;
	int n, tier, err;

	if (!expects_session(r))
		return 0;
	err = kt_audit_request_sessions(x->st, r, x->o, &id, 1, &n, &tier);
	if (err)
		return err;
	return n ? 0 : x->on_request(r, x->ctx);
}

static int gap_sess(const struct kt_session_info *s, void *ctx)
{
	struct gaps_ctx *x = ctx;
	int err = kt_audit_session_identity(x->st, s, x->o, x->id);

	if (err)
		return err;
	return x->id->tier == KT_TIER_NONE ? x->on_session(s, x->ctx) : 0;
}

int kt_audit_gaps(struct kt_store *st, const struct kt_audit_join_opts *o,
		  int64_t since_us, int64_t until_us,
		  kt_gap_request_cb on_request, kt_gap_session_cb on_session, void *ctx)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct gaps_ctx x = { st, o, on_request, on_session, ctx, NULL };
	int err = 0;

	if (!st)
		return -EINVAL;
	if (on_request) {
		err = kt_audit_requests_list(st, since_us, until_us, gap_req, &x);
		if (err)
			return err;
	}
	if (on_session) {
		x.id = malloc(sizeof(*x.id));
		if (!x.id)
			return -ENOMEM;
		f.since_us = since_us;
		f.until_us = until_us;
		err = kt_store_sessions_list(st, &f, gap_sess, &x);
		free(x.id);
	}
	return err;
}

int kt_audit_span(struct kt_store *st, int64_t *first_us, int64_t *last_us)
{
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	if (!st || !first_us || !last_us)
		return -EINVAL;
	*first_us = *last_us = 0;
	if (st->pg)
		return kt_pgr_audit_span(st, first_us, last_us);
	rc = sqlite3_prepare_v2(st->db, "SELECT min(received_us), max(max(received_us, started_us,"
				" completed_us)) FROM audit_requests", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prepare audit span");
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*first_us = sqlite3_column_int64(q, 0);
		*last_us = sqlite3_column_int64(q, 1);
	} else {
		err = kt_sql_err(st, rc, "audit span");
	}
	sqlite3_finalize(q);
	return err;
}

bool kt_audit_any(struct kt_store *st)
{
	sqlite3_stmt *q = NULL;
	bool any = false;

	if (st && st->pg)
		return kt_pgr_audit_any(st);
	if (!st || sqlite3_prepare_v2(st->db, "SELECT 1 FROM audit_requests LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return false;
	any = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return any;
}
