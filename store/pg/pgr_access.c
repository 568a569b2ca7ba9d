// SPDX-License-Identifier: Apache-2.0
/*
 * The access log on the cluster store (FORMAT-pg.md "Access log"): a
 * reader of the server logs each read there, before it shows data, as a
 * node reader does in its access/ file (store/access.c).  The reader's
 * connection is read-only by default (pgr_conn.c); this one insert runs in
 * an explicit READ WRITE transaction, and the role may insert nothing
 * else: the schema grants kubetape_reader INSERT on four columns of
 * access_log and no other write (pg_schema_access.c).  The time, the
 * database role and the client address are filled in by the server.
 */
#include <errno.h>
#include <string.h>

#include "evidence.h"
#include "log.h"
#include "pgr_int.h"
#include "pgr_access.h"

static int exec_simple(struct kt_pgr *pg, const char *sql, const char *what)
{
	int err = 0;
	PGresult *r = kt_pgr_query(pg, sql, 0, NULL, what, &err);

	PQclear(r);
	return r ? 0 : err;
}

#define INSERT_SQL "INSERT INTO access_log (who, action, session_id, detail) VALUES ($1, $2, $3, $4)"

/*
 * BEGIN READ WRITE, the insert and COMMIT in one round trip (libpq's
 * pipeline mode) instead of four (the first time on a connection, with its
 * PREPARE; three after): the CLI logs once per run and the web once per
 * request, before reading, so against a remote server that is three
 * network round-trip times less each.  1 when the pipeline could not be
 * used (the connection is not idle and healthy): nothing was sent.  An
 * error is logged once, with the transaction rolled back.
 */
static int log_pipelined(struct kt_pgr *pg, const char *const v[4], const char *what)
{
	static const char *const sqls[] = { "BEGIN READ WRITE", INSERT_SQL, "COMMIT" };
	int err = kt_pgr_pipeline3(pg, sqls, 4, v, 0, NULL, what);

	/* a failed insert leaves the transaction open and aborted */
	if (err < 0 && PQtransactionStatus(pg->conn) == PQTRANS_INERROR)
		exec_simple(pg, "ROLLBACK", "rolling back the access log");
	return err;
}

int kt_pgr_access_log(struct kt_pgr *pg, const char *who, const char *action,
		      int64_t session_id, const char *detail)
{
	static const char what[] = "writing the access log";
	char b[24];
	const char *v[] = { who ? who : "", action, session_id ? kt_pgr_i64_param(session_id, b) : NULL,
			    detail ? detail : "" };
	PGresult *r;
	int err;

	err = log_pipelined(pg, v, what);
	if (err <= 0)
		return err;
	err = exec_simple(pg, "BEGIN READ WRITE", what);
	if (err)
		return err;
	r = kt_pgr_prepared(pg, "kt_pgr_access_log", INSERT_SQL, 4, v, what, &err);
	PQclear(r);
	if (r)
		err = exec_simple(pg, "COMMIT", what);
	if (err)
		exec_simple(pg, "ROLLBACK", "rolling back the access log");
	return err;
}

int kt_pgr_access_list(struct kt_pgr *pg, int64_t session_id, int64_t since_us, int limit,
		       int (*cb)(const struct kt_access_entry *e, void *ctx), void *ctx)
{
	static const char what[] = "reading the access log";
	char b[3][24];
	const char *v[] = { kt_pgr_i64_param(session_id, b[0]), kt_pgr_i64_param(since_us, b[1]),
			    limit > 0 ? kt_pgr_i64_param(limit, b[2]) : NULL };
	struct kt_access_entry e;
	PGresult *r;
	size_t len;
	int err = -EIO;

	/* who (the reader's word) with the database role (the server's) */
	r = kt_pgr_query(pg, "SELECT id, ts_us, coalesce(session_id, 0),"
			 " who || ' [db role ' || db_user || coalesce(' from ' || client_addr, '') || ']',"
			 " action, detail FROM access_log WHERE ($1::bigint = 0 OR session_id = $1::bigint)"
			 " AND ts_us >= $2::bigint ORDER BY id DESC LIMIT $3::bigint", 3, v, what, &err);
	if (!r)
		return err;
	err = 0;
	for (int i = 0; !err && i < PQntuples(r); i++) {
		err = kt_pgr_i64(pg, r, i, 0, what, &e.id);
		if (!err)
			err = kt_pgr_i64(pg, r, i, 1, what, &e.ts_us);
		if (!err)
			err = kt_pgr_i64(pg, r, i, 2, what, &e.session_id);
		/* text values: PQgetvalue NUL-terminates them */
		if (!err)
			err = kt_pgr_bytes(pg, r, i, 3, what, false, &e.who, &len);
		if (!err)
			err = kt_pgr_bytes(pg, r, i, 4, what, false, &e.action, &len);
		if (!err)
			err = kt_pgr_bytes(pg, r, i, 5, what, false, &e.detail, &len);
		if (!err)
			err = cb(&e, ctx);
	}
	PQclear(r);
	return err;
}
