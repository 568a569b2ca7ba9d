// SPDX-License-Identifier: Apache-2.0
/*
 * Reading a query's rows through a cursor (pgr_int.h kt_pgr_each): memory
 * stays bounded whatever the query returns, and a cursor is planned for
 * its first rows (cursor_tuple_fraction), which is what the reader's
 * LIMIT queries newest first want: the same SELECT sent as a plain
 * statement can get another plan (bench/pg_scale.sh).
 *
 * Round trips: a cursor in a transaction of its own starts with BEGIN,
 * DECLARE and the first FETCH in one round trip (libpq's pipeline mode)
 * instead of three: `kubetape sessions` (a page of 50) takes two (the
 * start, COMMIT) where it took four.  Each is a wake-up of the server
 * backend and of the CLI: on a loaded machine the wait for a CPU, against
 * a remote server a network round-trip time.  Not a larger first FETCH
 * for a caller's LIMIT: 1,000 search hits in one result cost the CLI ~400
 * more page faults (the memory of one big result instead of one 256-row
 * result's, reused) and were slower on the bench host than the three
 * FETCH round trips they save on loopback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "pgr_int.h"

/*
 * BEGIN READ ONLY, DECLARE and FETCH in one pipeline.  Returns the FETCH's
 * result, or NULL with *err set (logged once; an aborted transaction rolled
 * back, a broken connection left to kt_pgr_revive), or NULL with *err 1
 * when the pipeline could not be used (nothing was sent).
 */
static PGresult *start_pipelined(struct kt_pgr *pg, const char *decl, int n,
				 const char *const *vals, const char *fetch, const char *what,
				 int *err)
{
	const char *const sqls[] = { "BEGIN READ ONLY", decl, fetch };
	PGresult *rows = NULL;

	*err = kt_pgr_revive(pg);
	if (*err) {
		pr_debug("store %s: %s: not sent: the server is down", pg->label, what);
		return NULL;
	}
	*err = kt_pgr_pipeline3(pg, sqls, n, vals, 1, &rows, what);
	if (*err < 0) {
		/* a failed DECLARE leaves the transaction open and aborted */
		if (PQtransactionStatus(pg->conn) != PQTRANS_IDLE &&
		    PQstatus(pg->conn) == CONNECTION_OK)
			kt_pgr_exec(pg, "ROLLBACK", what);
	}
	return rows;
}

static int each_row(const PGresult *r, int (*row_cb)(const PGresult *r, int row, void *ctx),
		    void *ctx)
{
	int err = 0;

	for (int i = 0; !err && i < PQntuples(r); i++)
		err = row_cb(r, i, ctx);
	return err;
}

int kt_pgr_each(struct kt_pgr *pg, const char *sql, int n, const char *const *vals,
		const char *what, int (*row_cb)(const PGresult *r, int row, void *ctx),
		void *ctx)
{
	char name[32], cmd[96], *decl = NULL;
	PGresult *r = NULL;
	int err, rows;
	bool own;

	/* reconnected first: a broken connection's transaction status is
	 * unknown, and the cursor needs to know whether to open one */
	err = kt_pgr_revive(pg);
	if (err) {
		pr_debug("store %s: %s: not sent: the server is down", pg->label, what);
		return err;
	}
	own = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
	snprintf(name, sizeof(name), "kt_c%u", ++pg->cursor_seq);
	if (asprintf(&decl, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql) < 0)
		return -ENOMEM;
	snprintf(cmd, sizeof(cmd), "FETCH %d FROM %s", KT_PGR_FETCH, name);
	if (own) {
		r = start_pipelined(pg, decl, n, vals, cmd, what, &err);
		if (err < 0) {
			free(decl);
			return err;
		}
		/* not pipelined (err 1): one statement at a time */
		if (!r && (err = kt_pgr_exec(pg, "BEGIN READ ONLY", what))) {
			free(decl);
			return err;
		}
		err = 0;
	}
	if (!r) {
		r = kt_pgr_query(pg, decl, n, vals, what, &err);
		if (!r)
			goto out;
		PQclear(r);
		r = kt_pgr_query(pg, cmd, 0, NULL, what, &err);
		if (!r)
			goto out;
	}
	pg->cursors++;
	for (;;) {
		rows = PQntuples(r);
		err = each_row(r, row_cb, ctx);
		PQclear(r);
		/* fewer rows than asked: the cursor is at its end */
		if (err || rows < KT_PGR_FETCH)
			break;
		r = kt_pgr_query(pg, cmd, 0, NULL, what, &err);
		if (!r)
			break;
	}
	pg->cursors--;
	if (!own && PQtransactionStatus(pg->conn) == PQTRANS_INTRANS) {
		snprintf(cmd, sizeof(cmd), "CLOSE %s", name);
		kt_pgr_exec(pg, cmd, what);
	}
out:
	free(decl);
	/* a failed statement aborted the transaction: ours ends either way */
	if (own)
		kt_pgr_exec(pg, PQtransactionStatus(pg->conn) == PQTRANS_INERROR ? "ROLLBACK" : "COMMIT",
			    what);
	return err;
}
