// SPDX-License-Identifier: Apache-2.0
/*
 * Storing audit requests (FORMAT.md "Audit requests and the join"): one
 * row per auditID, stages merged as they arrive.  Each stage is stored once:
 * the API server's webhook retries whole batches and a log may be imported
 * twice, so a stage already seen is a duplicate and changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_int.h"
#include "pg/pgr.h"
#include "log.h"

const char kt_schema_audit[] =
	"CREATE TABLE audit_requests ("
	"  id INTEGER PRIMARY KEY,"
	"  audit_id TEXT NOT NULL UNIQUE,"
	"  verb TEXT NOT NULL DEFAULT '',"
	"  subresource TEXT NOT NULL,"
	"  username TEXT NOT NULL DEFAULT '',"
	"  user_uid TEXT NOT NULL DEFAULT '',"
	"  groups TEXT NOT NULL DEFAULT '[]',"
	"  impersonated_user TEXT NOT NULL DEFAULT '',"
	"  impersonated_groups TEXT NOT NULL DEFAULT '[]',"
	"  source_ips TEXT NOT NULL DEFAULT '[]',"
	"  user_agent TEXT NOT NULL DEFAULT '',"
	"  k8s_namespace TEXT NOT NULL,"
	"  pod TEXT NOT NULL,"
	"  container TEXT NOT NULL DEFAULT '',"
	"  argv BLOB NOT NULL DEFAULT x'',"
	"  argc INTEGER NOT NULL DEFAULT 0,"
	"  argv_truncated INTEGER NOT NULL DEFAULT 0,"
	"  tty INTEGER NOT NULL DEFAULT 0,"
	"  stdin INTEGER NOT NULL DEFAULT 0,"
	"  stdout INTEGER NOT NULL DEFAULT 0,"
	"  stderr INTEGER NOT NULL DEFAULT 0,"
	"  decision TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  code INTEGER NOT NULL DEFAULT 0,"
	"  stages INTEGER NOT NULL DEFAULT 0,"
	"  received_us INTEGER NOT NULL,"
	"  started_us INTEGER NOT NULL DEFAULT 0,"
	"  completed_us INTEGER NOT NULL DEFAULT 0,"
	"  exec_id TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX audit_requests_pod ON audit_requests (k8s_namespace, pod, received_us);"
	"CREATE INDEX audit_requests_received ON audit_requests (received_us);"
	"CREATE INDEX audit_requests_exec_id ON audit_requests (exec_id) WHERE exec_id != '';"
	"CREATE TABLE audit_sources ("
	"  path TEXT PRIMARY KEY NOT NULL,"
	"  dev INTEGER NOT NULL,"
	"  ino INTEGER NOT NULL,"
	"  offset INTEGER NOT NULL,"
	"  fp INTEGER NOT NULL DEFAULT 0,"
	"  fp_len INTEGER NOT NULL DEFAULT 0,"
	"  updated_us INTEGER NOT NULL"
	") WITHOUT ROWID;";

#define REQ_COLS "id, audit_id, verb, subresource, username, user_uid, groups, " \
	"impersonated_user, impersonated_groups, source_ips, user_agent, k8s_namespace, " \
	"pod, container, argv, argc, argv_truncated, tty, stdin, stdout, stderr, decision, " \
	"reason, code, stages, received_us, started_us, completed_us, exec_id"
#define REQ_NCOLS 29

const char *const kt_audit_req_cols = REQ_COLS;

static void col_str(struct kt_row *q, int i, char *dst, size_t cap)
{
	size_t len;

	kt_strlcpy(dst, q->bytes(q, i, &len), cap);
}

void kt_audit_request_read(struct kt_row *q, int f, struct kt_audit_request *r)
{
	const void *argv;
	size_t n;

	memset(r, 0, sizeof(*r));
	r->id = q->i64(q, f + 0);
	col_str(q, f + 1, r->audit_id, sizeof(r->audit_id));
	col_str(q, f + 2, r->verb, sizeof(r->verb));
	col_str(q, f + 3, r->subresource, sizeof(r->subresource));
	col_str(q, f + 4, r->username, sizeof(r->username));
	col_str(q, f + 5, r->user_uid, sizeof(r->user_uid));
	col_str(q, f + 6, r->groups, sizeof(r->groups));
	col_str(q, f + 7, r->impersonated_user, sizeof(r->impersonated_user));
	col_str(q, f + 8, r->impersonated_groups, sizeof(r->impersonated_groups));
	col_str(q, f + 9, r->source_ips, sizeof(r->source_ips));
	col_str(q, f + 10, r->user_agent, sizeof(r->user_agent));
	col_str(q, f + 11, r->k8s_namespace, sizeof(r->k8s_namespace));
	col_str(q, f + 12, r->pod, sizeof(r->pod));
	col_str(q, f + 13, r->container, sizeof(r->container));
	argv = q->bytes(q, f + 14, &n);
	if (n > 0) {
		r->argv_len = n < sizeof(r->argv) ? n : sizeof(r->argv);
		memcpy(r->argv, argv, r->argv_len);
		/* a corrupt row must not hand out an unterminated argv */
		if (r->argv[r->argv_len - 1]) {
			r->argv[r->argv_len - 1] = '\0';
			r->argv_truncated = true;
		}
	}
	r->argc = (uint32_t)q->i64(q, f + 15);
	r->argv_truncated |= q->i64(q, f + 16) != 0;
	r->tty = q->i64(q, f + 17) != 0;
	r->stdin_ = q->i64(q, f + 18) != 0;
	r->stdout_ = q->i64(q, f + 19) != 0;
	r->stderr_ = q->i64(q, f + 20) != 0;
	col_str(q, f + 21, r->decision, sizeof(r->decision));
	col_str(q, f + 22, r->reason, sizeof(r->reason));
	r->code = (int)q->i64(q, f + 23);
	r->stages = (unsigned)q->i64(q, f + 24);
	r->received_us = q->i64(q, f + 25);
	r->started_us = q->i64(q, f + 26);
	r->completed_us = q->i64(q, f + 27);
	col_str(q, f + 28, r->exec_id, sizeof(r->exec_id));
}

void kt_audit_request_from_row(sqlite3_stmt *q, int f, struct kt_audit_request *r)
{
	struct kt_row row;

	kt_row_sqlite(&row, q);
	kt_audit_request_read(&row, f, r);
}

static int get_where(struct kt_store *st, const char *where, int64_t id, const char *text,
		     struct kt_audit_request *out)
{
	char sql[1024];
	sqlite3_stmt *q = NULL;
	int rc, err;

	snprintf(sql, sizeof(sql), "SELECT " REQ_COLS " FROM audit_requests WHERE %s", where);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prepare audit request get");
	if (text)
		sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		kt_audit_request_from_row(q, 0, out);
		err = 0;
	} else if (rc == SQLITE_DONE) {
		err = -ENOENT;
	} else {
		err = kt_sql_err(st, rc, "audit request get");
	}
	sqlite3_finalize(q);
	return err;
}

int kt_audit_request_get(struct kt_store *st, int64_t id, struct kt_audit_request *out)
{
	if (!st || !out)
		return -EINVAL;
	/* a request's id is its node's: it names no one request in the cluster */
	if (st->pg)
		return -EOPNOTSUPP;
	return get_where(st, "id = ?1", id, NULL, out);
}

static void bind_req(sqlite3_stmt *q, const struct kt_audit_request *r)
{
	int i = 1;

#define T(v) sqlite3_bind_text(q, i++, (v), -1, SQLITE_STATIC)
#define I(v) sqlite3_bind_int64(q, i++, (int64_t)(v))
	T(r->audit_id); T(r->verb); T(r->subresource); T(r->username); T(r->user_uid);
	T(r->groups); T(r->impersonated_user); T(r->impersonated_groups); T(r->source_ips);
	T(r->user_agent); T(r->k8s_namespace); T(r->pod); T(r->container);
	sqlite3_bind_blob(q, i++, r->argv, (int)r->argv_len, SQLITE_STATIC);
	I(r->argc); I(r->argv_truncated); I(r->tty); I(r->stdin_); I(r->stdout_); I(r->stderr_);
	T(r->decision); T(r->reason); I(r->code); I(r->stages); I(r->received_us);
	I(r->started_us); I(r->completed_us); T(r->exec_id);
#undef T
#undef I
}

/* Merge the new stage into the stored row: a value the stored row lacks is
 * taken; the response code of a later stage wins (ResponseComplete knows
 * the final one); who and what are the request's, the same at every stage. */
static void merge(struct kt_audit_request *old, const struct kt_audit_event *ev)
{
	const struct kt_audit_request *n = &ev->r;

#define FILL(f) do { if (!old->f[0]) memcpy(old->f, n->f, sizeof(old->f)); } while (0)
	FILL(decision);
	FILL(reason);
	FILL(exec_id);
	FILL(user_agent);
#undef FILL
	if (!strcmp(old->source_ips, "[]"))
		memcpy(old->source_ips, n->source_ips, sizeof(old->source_ips));
	if (n->code && (!old->code || ev->stage != KT_STAGE_REQUEST_RECEIVED))
		old->code = n->code;
	if (n->started_us)
		old->started_us = n->started_us;
	if (n->completed_us)
		old->completed_us = n->completed_us;
	if (!old->received_us)
		old->received_us = n->received_us;
	old->stages |= ev->stage;
}

int kt_audit_store_event(struct kt_store *st, const struct kt_audit_event *ev, bool *dup)
{
	struct kt_audit_request *old = NULL;
	sqlite3_stmt *q = NULL;
	const char *sql;
	bool own = false;
	int rc, err;

	if (dup)
		*dup = false;
	err = kt_store_check_writable(st, "audit event");
	if (err)
		return err;
	if (!ev || !ev->r.audit_id[0] || !ev->stage)
		return -EINVAL;
	old = malloc(sizeof(*old));
	if (!old)
		return -ENOMEM;
	err = kt_op_begin(st, &own);
	if (err)
		goto out_free;
	err = get_where(st, "audit_id = ?1", 0, ev->r.audit_id, old);
	if (err == -ENOENT) {
		sql = "INSERT INTO audit_requests (audit_id, verb, subresource, username, user_uid,"
		      " groups, impersonated_user, impersonated_groups, source_ips, user_agent,"
		      " k8s_namespace, pod, container, argv, argc, argv_truncated, tty, stdin, stdout,"
		      " stderr, decision, reason, code, stages, received_us, started_us, completed_us,"
		      " exec_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		      " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)";
		*old = ev->r;
		old->stages = ev->stage;
	} else if (err) {
		goto out;
	} else if (old->stages & ev->stage) {
		if (dup)
			*dup = true;
		err = 0;
		goto out;
	} else {
		sql = "UPDATE audit_requests SET audit_id = ?1, verb = ?2, subresource = ?3,"
		      " username = ?4, user_uid = ?5, groups = ?6, impersonated_user = ?7,"
		      " impersonated_groups = ?8, source_ips = ?9, user_agent = ?10,"
		      " k8s_namespace = ?11, pod = ?12, container = ?13, argv = ?14, argc = ?15,"
		      " argv_truncated = ?16, tty = ?17, stdin = ?18, stdout = ?19, stderr = ?20,"
		      " decision = ?21, reason = ?22, code = ?23, stages = ?24, received_us = ?25,"
		      " started_us = ?26, completed_us = ?27, exec_id = ?28 WHERE id = ?29";
		merge(old, ev);
	}
	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "prepare audit request write");
		goto out;
	}
	bind_req(q, old);
	if (old->id)
		sqlite3_bind_int64(q, 29, old->id);
	err = kt_stmt_done(st, q, "audit request write");
out:
	sqlite3_finalize(q);
	err = kt_op_end(st, own, err);
out_free:
	free(old);
	return err;
}

struct ingest_ctx {
	struct kt_store *st;
	struct kt_audit_ingest_stats *stats;
};

static int ingest_one(const struct kt_audit_event *ev, void *ctx)
{
	struct ingest_ctx *x = ctx;
	bool dup;
	int err = kt_audit_store_event(x->st, ev, &dup);

	if (err)
		return err;
	if (dup)
		x->stats->duplicates++;
	else
		x->stats->stored++;
	return 0;
}

int kt_audit_ingest(struct kt_store *st, const char *buf, size_t len, bool partial,
		    struct kt_audit_ingest_stats *stats, char *why, size_t why_len)
{
	struct kt_audit_ingest_stats local = { 0 }, *s = stats ? stats : &local;
	struct kt_audit_ingest_stats before = *s;
	struct ingest_ctx x = { st, s };
	bool own = false;
	int err, perr;

	err = kt_store_check_writable(st, "audit ingest");
	if (err)
		return err;
	err = kt_op_begin(st, &own);
	if (err)
		return err;
	perr = kt_audit_parse(buf, len, partial, ingest_one, &x, &s->events, &s->skipped,
			      why, why_len);
	/* a malformed line in partial mode keeps the good ones (perr
	 * -EINVAL is returned after committing them); anything else rolls back */
	err = perr == -EINVAL && partial ? 0 : perr;
	err = kt_op_end(st, own, err);
	if (err && own)
		*s = before;
	return err ? err : perr;
}

int kt_audit_requests_list(struct kt_store *st, int64_t since_us, int64_t until_us,
			   kt_audit_request_cb cb, void *ctx)
{
	struct kt_audit_request *r;
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_audit_requests_list(st, since_us, until_us, cb, ctx);
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(st->db, "SELECT " REQ_COLS " FROM audit_requests"
				" WHERE (?1 = 0 OR received_us >= ?1) AND (?2 = 0 OR received_us <= ?2)"
				" ORDER BY received_us, id", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "prepare audit request list");
		goto out;
	}
	sqlite3_bind_int64(q, 1, since_us);
	sqlite3_bind_int64(q, 2, until_us);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		kt_audit_request_from_row(q, 0, r);
		err = cb(r, ctx);
		if (err)
			goto out;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "audit request list");
out:
	sqlite3_finalize(q);
	free(r);
	return err;
}

int kt_audit_source_get(struct kt_store *st, const char *path, struct kt_audit_source *out)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	if (!st || !path || !out)
		return -EINVAL;
	rc = sqlite3_prepare_v2(st->db, "SELECT dev, ino, offset, fp, fp_len FROM audit_sources WHERE path = ?1",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prepare audit source get");
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		out->dev = (uint64_t)sqlite3_column_int64(q, 0);
		out->ino = (uint64_t)sqlite3_column_int64(q, 1);
		out->offset = (uint64_t)sqlite3_column_int64(q, 2);
		out->fp = (uint64_t)sqlite3_column_int64(q, 3);
		out->fp_len = (uint32_t)sqlite3_column_int64(q, 4);
		err = 0;
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : kt_sql_err(st, rc, "audit source get");
	}
	sqlite3_finalize(q);
	return err;
}

int kt_audit_source_put(struct kt_store *st, const char *path, const struct kt_audit_source *src)
{
	sqlite3_stmt *q = NULL;
	struct timespec ts;
	int rc, err;

	err = kt_store_check_writable(st, "audit source");
	if (err)
		return err;
	if (!path || !src)
		return -EINVAL;
	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO audit_sources (path, dev, ino, offset,"
				" updated_us, fp, fp_len) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prepare audit source put");
	clock_gettime(CLOCK_REALTIME, &ts);
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)src->dev);
	sqlite3_bind_int64(q, 3, (int64_t)src->ino);
	sqlite3_bind_int64(q, 4, (int64_t)src->offset);
	sqlite3_bind_int64(q, 5, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	sqlite3_bind_int64(q, 6, (int64_t)src->fp);
	sqlite3_bind_int64(q, 7, src->fp_len);
	err = kt_stmt_done(st, q, "audit source put");
	sqlite3_finalize(q);
	return err;
}
