// SPDX-License-Identifier: Apache-2.0
/*
 * The shipper's batch (pg.h): one read snapshot of the node store and one
 * PostgreSQL transaction.  Order inside a batch: the node's row in
 * kt_nodes is locked (FOR UPDATE: two shippers started with the same
 * --node-name take turns instead of racing), the sessions the server has
 * not settled yet, new sessions above the high-water mark, checkpoints and
 * audit rows above theirs, screen trigrams, then the marks and the backlog
 * figures, then COMMIT.  Everything is an upsert on its key, so a batch
 * that is retried after a failure (connection lost before or during
 * COMMIT) writes the same rows again and never duplicates.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_bloom.h"
#include "pg_int.h"

#define NEW_SESSIONS_PER_BATCH 256
#define ROWS_PER_BATCH 5000
#define DEFAULT_BATCH_BYTES (8u << 20)

int kt_shipper_open(const struct kt_ship_opts *o, struct kt_shipper **out)
{
	struct kt_shipper *sh;
	int err;

	*out = NULL;
	if (!o || !o->db_path || !o->conninfo || !o->node_name)
		return -EINVAL;
	/* src is a key and a label, not free text */
	if (!*o->node_name || strlen(o->node_name) > 253 ||
	    strspn(o->node_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-._") != strlen(o->node_name)) {
		pr_err("ship: node name '%s' must be 1-253 characters of [A-Za-z0-9._-]",
		       o->node_name);
		return -EINVAL;
	}
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->conninfo = strdup(o->conninfo);
	sh->src = strdup(o->node_name);
	sh->migrate = o->migrate;
	sh->batch_bytes = o->batch_bytes ? o->batch_bytes : DEFAULT_BATCH_BYTES;
	if (!sh->conninfo || !sh->src) {
		err = -ENOMEM;
		goto fail;
	}
	err = kt_store_open(o->db_path, KT_STORE_RDONLY, &sh->st);
	if (err)
		goto fail;
	sh->db = sh->st->db;
	/* outside any batch: each batch's read transaction is rolled back,
	 * and this DDL (temp schema only) would go with it */
	if (sqlite3_exec(sh->db, "CREATE VIRTUAL TABLE temp.kt_ship_vocab"
			 " USING fts5vocab(main, screen_fts, instance)", NULL, NULL, NULL) != SQLITE_OK) {
		err = kt_sql_err(sh->st, sqlite3_errcode(sh->db), "ship: fts5vocab");
		goto fail;
	}
	/* each session row goes with its command trigrams (pg_bloom.c) */
	err = kt_pg_bloom_sqlite(sh->db);
	if (err)
		goto fail;
	*out = sh;
	return 0;
fail:
	kt_shipper_close(sh);
	return err;
}

void kt_shipper_disconnect(struct kt_shipper *sh)
{
	if (!sh)
		return;
	PQfinish(sh->conn);
	sh->conn = NULL;
	for (int i = 0; i < sh->n_prepared; i++)
		free(sh->prepared[i]);
	sh->n_prepared = 0;
	sh->status.connected = false;
}

void kt_shipper_close(struct kt_shipper *sh)
{
	if (!sh)
		return;
	kt_shipper_disconnect(sh);
	kt_store_close(sh->st);
	free(sh->conninfo);
	free(sh->src);
	free(sh);
}

int kt_shipper_connect(struct kt_shipper *sh)
{
	/* ours first: the user's connection string overrides them, except
	 * the encoding, which must be bytes in and out */
	const char *keys[] = { "connect_timeout", "keepalives", "keepalives_idle",
			       "keepalives_interval", "keepalives_count", "application_name",
			       "dbname", "client_encoding", NULL };
	const char *vals[] = { "5", "1", "10", "5", "3", "kubetape-ship", sh->conninfo,
			       "SQL_ASCII", NULL };
	int err;

	kt_shipper_disconnect(sh);
	err = kt_pq_load();
	if (err)
		return err;
	sh->conn = PQconnectdbParams(keys, vals, 1);
	if (!sh->conn)
		return -ENOMEM;
	if (PQstatus(sh->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(sh->conn);

		pr_debug("ship: connecting: %.*s", (int)strcspn(m, "\n"), m);
		return -ECONNREFUSED;
	}
	err = kt_pg_migrate(sh->conn, sh->migrate);
	if (err)
		/* with the connection up, retrying the same will fail the same */
		return PQstatus(sh->conn) == CONNECTION_OK ? -EPROTO : -ECONNREFUSED;
	sh->status.connected = true;
	return 0;
}

const char *kt_shipper_error(const struct kt_shipper *sh)
{
	return sh->conn ? PQerrorMessage(sh->conn) : "not connected";
}

void kt_shipper_status(const struct kt_shipper *sh, struct kt_ship_status *out)
{
	*out = sh->status;
}

static int sq_int(struct kt_shipper *sh, const char *sql, int64_t arg, int64_t *a, int64_t *b)
{
	sqlite3_stmt *q = kt_ship_prep(sh, sql);
	int rc;

	if (!q)
		return -EIO;
	if (sqlite3_bind_parameter_count(q))
		sqlite3_bind_int64(q, 1, arg);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*a = sqlite3_column_int64(q, 0);
		if (b)
			*b = sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE) {
		*a = 0;
		if (b)
			*b = 0;
		return 0;
	}
	return rc == SQLITE_ROW ? 0 : kt_sql_err(sh->st, rc, "ship: reading the node store");
}

static int copy_after(struct kt_shipper *sh, const char *sql, int64_t after, const char *table,
		      const char *key, unsigned flags, int64_t *n)
{
	sqlite3_stmt *q = kt_ship_prep(sh, sql);
	int err;

	if (!q)
		return -EIO;
	if (sqlite3_bind_parameter_count(q) >= 2) {
		sqlite3_bind_int64(q, 1, after);
		sqlite3_bind_int(q, 2, ROWS_PER_BATCH);
	}
	err = kt_ship_copy(sh, q, table, key, flags, n);
	sqlite3_finalize(q);
	return err;
}

/* Audit rows that changed since shipped: a later stage of a request. */
static int audit_updates(struct kt_shipper *sh, const char *const *v)
{
	PGresult *r;
	sqlite3_stmt *q;
	char *sql;
	int err = 0;

	r = kt_pg_query(sh, "SELECT string_agg(id::text, ',') FROM audit_requests WHERE src = $1"
			" AND stages & 12 = 0 AND received_us > $2", 2, v, "incomplete audit requests");
	if (!r)
		return -EIO;
	if (!PQgetisnull(r, 0, 0)) {
		if (asprintf(&sql, "SELECT * FROM audit_requests WHERE id IN (%s)",
			     PQgetvalue(r, 0, 0)) < 0) {
			err = -ENOMEM;
		} else {
			q = kt_ship_prep(sh, sql);
			free(sql);
			err = q ? kt_ship_copy(sh, q, "audit_requests", "src, id", KT_COPY_UPDATE, NULL)
				: -EIO;
			sqlite3_finalize(q);
		}
	}
	PQclear(r);
	return err;
}

/* Prune records (append-only) and the holds as the node has them now
 * (rewritten only when they changed: released holds go). */
static int ship_retention(struct kt_shipper *sh, const char *const *v)
{
	int64_t after = 0, n = 0, a = 0, b = 0, pa = 0, pb = 0;
	PGresult *r;
	int err;

	err = kt_pg_int(sh, "SELECT max(id) FROM prunes WHERE src = $1", 1, v, 0, &after,
			"prunes mark");
	if (!err)
		err = copy_after(sh, "SELECT * FROM prunes WHERE id > ?1 ORDER BY id LIMIT ?2",
				 after, "prunes", "src, id", 0, &n);
	if (!err && n == ROWS_PER_BATCH)
		sh->batch_more = true;
	if (!err)
		err = sq_int(sh, "SELECT count(*), coalesce(sum(session_id * 7 + ts_us), 0) FROM holds",
			     0, &a, &b);
	if (!err)
		err = kt_pg_int(sh, "SELECT count(*) FROM holds WHERE src = $1", 1, v, 0, &pa,
				"holds");
	if (!err)
		err = kt_pg_int(sh, "SELECT coalesce(sum(session_id * 7 + ts_us), 0) FROM holds"
				" WHERE src = $1", 1, v, 0, &pb, "holds");
	if (err || (a == pa && b == pb))
		return err;
	r = kt_pg_query(sh, "DELETE FROM holds WHERE src = $1", 1, v, "holds");
	if (!r)
		return -EIO;
	PQclear(r);
	return copy_after(sh, "SELECT * FROM holds", 0, "holds", "src, session_id", 0, NULL);
}

static int ship_node_rows(struct kt_shipper *sh, int64_t *hwm_cp, int64_t *hwm_audit)
{
	char since[24];
	const char *v[2] = { sh->src, since };
	int64_t n = 0;
	int err;

	err = copy_after(sh, "SELECT * FROM checkpoints WHERE node_seq > ?1 ORDER BY node_seq"
			 " LIMIT ?2", *hwm_cp, "checkpoints", "src, node_seq", 0, &n);
	if (!err && n == ROWS_PER_BATCH)
		sh->batch_more = true;
	if (!err)
		err = kt_pg_int(sh, "SELECT max(node_seq) FROM checkpoints WHERE src = $1", 1, v,
				0, hwm_cp, "checkpoint mark");
	if (!err)
		err = copy_after(sh, "SELECT * FROM audit_requests WHERE id > ?1 ORDER BY id"
				 " LIMIT ?2", *hwm_audit, "audit_requests", "src, id",
				 KT_COPY_UPDATE, &n);
	if (!err && n == ROWS_PER_BATCH)
		sh->batch_more = true;
	snprintf(since, sizeof(since), "%" PRId64, (int64_t)(kt_now_us() - 3600 * 1000000LL));
	if (!err)
		err = audit_updates(sh, v);
	if (!err)
		err = kt_pg_int(sh, "SELECT max(id) FROM audit_requests WHERE src = $1", 1, v,
				0, hwm_audit, "audit mark");
	if (!err)
		err = copy_after(sh, "SELECT * FROM audit_sources",
				 0, "audit_sources", "src, path", KT_COPY_UPDATE, NULL);
	if (!err)
		err = ship_retention(sh, v);
	return err;
}

/* Sessions the server has not settled, then new ones above the mark. */
static int ship_sessions(struct kt_shipper *sh, int64_t *hwm)
{
	const char *v[1] = { sh->src };
	int64_t ids[NEW_SESSIONS_PER_BATCH];
	sqlite3_stmt *q;
	PGresult *r;
	bool done;
	int n = 0, rc, err = 0;

	r = kt_pg_query(sh, "SELECT session_id FROM kt_ship_sessions WHERE src = $1 AND NOT done"
			" ORDER BY session_id", 1, v, "open sessions");
	if (!r)
		return -EIO;
	for (int i = 0; i < PQntuples(r) && !err && !sh->batch_more; i++)
		err = kt_ship_session(sh, strtoll(PQgetvalue(r, i, 0), NULL, 10), &done);
	PQclear(r);
	if (err || sh->batch_more)
		return err;

	q = kt_ship_prep(sh, "SELECT id FROM sessions WHERE id > ?1 ORDER BY id LIMIT ?2");
	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, *hwm);
	sqlite3_bind_int(q, 2, NEW_SESSIONS_PER_BATCH);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return kt_sql_err(sh->st, rc, "ship: listing new sessions");
	if (n == NEW_SESSIONS_PER_BATCH)
		sh->batch_more = true;
	for (int i = 0; i < n && !err; i++) {
		err = kt_ship_session(sh, ids[i], &done);
		if (!err)
			*hwm = ids[i];
		/* out of budget: the rest waits, the cut one is in kt_ship_sessions */
		if (sh->batch_more && i + 1 < n)
			break;
	}
	return err;
}

static int batch_body(struct kt_shipper *sh, int64_t t0)
{
	const char *v[1] = { sh->src };
	int64_t hwm_s = 0, hwm_cp = 0, hwm_a = 0, bl_s = 0, bl_b = 0, open_s = 0, ver = 0;
	char b[9][24];
	sqlite3_stmt *q;
	const char *pub = "";
	PGresult *r;
	int err;

	r = kt_pg_query(sh, "INSERT INTO kt_nodes (src) VALUES ($1) ON CONFLICT DO NOTHING", 1, v,
			"registering the node");
	if (!r)
		return -EIO;
	PQclear(r);
	r = kt_pg_query(sh, "SELECT hwm_session, hwm_checkpoint, hwm_audit FROM kt_nodes"
			" WHERE src = $1 FOR UPDATE", 1, v, "reading the marks");
	if (!r)
		return -EIO;
	if (PQntuples(r) == 1) {
		hwm_s = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		hwm_cp = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		hwm_a = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	}
	PQclear(r);

	err = ship_sessions(sh, &hwm_s);
	if (!err)
		err = ship_node_rows(sh, &hwm_cp, &hwm_a);
	if (!err && sh->budget_left)
		err = kt_ship_trigrams(sh);
	if (!err)
		err = sq_int(sh, "SELECT count(DISTINCT session_id), coalesce(sum(length(data)), 0)"
			     " FROM chunks WHERE session_id > ?1", hwm_s, &bl_s, &bl_b);
	if (!err)
		err = kt_pg_int(sh, "SELECT count(*) FROM kt_ship_sessions WHERE src = $1 AND NOT done",
				1, v, 0, &open_s, "open sessions");
	if (!err)
		err = sq_int(sh, "SELECT value FROM meta WHERE key = 'schema_version'", 0, &ver, NULL);
	if (err)
		return err;
	q = kt_ship_prep(sh, "SELECT value FROM meta WHERE key = 'node_pubkey'");
	if (q && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		pub = (const char *)sqlite3_column_text(q, 0);
	sh->status.backlog_sessions = bl_s + open_s;
	sh->status.backlog_bytes = bl_b;
#define S(i, x) (snprintf(b[i], sizeof(b[i]), "%" PRId64, (int64_t)(x)), b[i])
	{
		const char *uv[12] = { sh->src, S(0, hwm_s), S(1, hwm_cp), S(2, hwm_a),
				       S(3, sh->batch_bytes_done), S(4, kt_now_us()),
				       sh->batch_more ? NULL : S(5, t0), S(6, bl_s + open_s),
				       S(7, bl_b), pub, S(8, ver) };

		r = kt_pg_query(sh, "UPDATE kt_nodes SET hwm_session = $2, hwm_checkpoint = $3,"
				" hwm_audit = $4, batches = batches + 1, bytes = bytes + $5,"
				" shipped_us = $6, caught_up_us = coalesce($7, caught_up_us),"
				" backlog_sessions = $8, backlog_bytes = $9, pubkey = $10,"
				" store_schema = $11 WHERE src = $1", 11, uv, "writing the marks");
	}
#undef S
	sqlite3_finalize(q);
	if (!r)
		return -EIO;
	PQclear(r);
	return 0;
}

int kt_shipper_batch(struct kt_shipper *sh, bool *more)
{
	int64_t t0 = kt_now_us();
	int err, rc;

	*more = false;
	if (!sh->conn || PQstatus(sh->conn) != CONNECTION_OK)
		return -ECONNRESET;
	sh->budget_left = sh->batch_bytes;
	sh->batch_rows = 0;
	sh->batch_bytes_done = 0;
	sh->batch_more = false;

	/* one snapshot of the node store for the whole batch */
	rc = sqlite3_exec(sh->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(sh->st, rc, "ship: begin");
	err = kt_pg_exec(sh->conn, "BEGIN", "begin");
	if (!err)
		err = batch_body(sh, t0);
	if (!err)
		err = kt_pg_exec(sh->conn, "COMMIT", "commit");
	else if (PQstatus(sh->conn) == CONNECTION_OK)
		kt_pg_exec(sh->conn, "ROLLBACK", "rollback");
	sqlite3_exec(sh->db, "ROLLBACK", NULL, NULL, NULL);
	if (err) {
		sh->status.errors++;
		if (PQstatus(sh->conn) != CONNECTION_OK) {
			sh->status.connected = false;
			return -ECONNRESET;
		}
		return err;
	}
	sh->status.batches++;
	sh->status.rows += sh->batch_rows;
	sh->status.bytes += sh->batch_bytes_done;
	if (!sh->batch_more)
		sh->status.caught_up_us = t0;
	*more = sh->batch_more;
	return 0;
}

int kt_pg_shipped_sessions(const char *conninfo, const char *node_name, int64_t **ids,
			   size_t *n)
{
	const char *keys[] = { "connect_timeout", "application_name", "dbname", "client_encoding", NULL };
	const char *vals[] = { "5", "kubetape-prune", conninfo, "SQL_ASCII", NULL };
	const char *v[1] = { node_name };
	PGconn *c;
	PGresult *r = NULL;
	int err = kt_pq_load();

	*ids = NULL;
	*n = 0;
	if (err)
		return err;
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return -ENOMEM;
	if (PQstatus(c) != CONNECTION_OK) {
		pr_err("postgres: %.*s", (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		err = -ECONNREFUSED;
		goto out;
	}
	err = kt_pg_migrate(c, false);
	if (err) {
		err = -EPROTO;
		goto out;
	}
	r = PQexecParams(c, "SELECT session_id FROM kt_ship_sessions WHERE src = $1 AND done"
			 " ORDER BY session_id", 1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err = kt_pg_err(c, r, "listing shipped sessions");
		goto out;
	}
	*ids = malloc(((size_t)PQntuples(r) + 1) * sizeof(**ids));
	if (!*ids) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++)
		(*ids)[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	*n = (size_t)PQntuples(r);
out:
	PQclear(r);
	PQfinish(c);
	return err;
}
