// SPDX-License-Identifier: Apache-2.0
/* Store figures for the metrics (metrics.h). */
#include <errno.h>
#include <string.h>

#include "metrics.h"
#include "store_int.h"

static int one_row(struct kt_store *st, const char *sql, int64_t *a, int64_t *b)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		*a = sqlite3_column_int64(q, 0);
		if (b)
			*b = sqlite3_column_int64(q, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, "metrics");
}

int kt_store_gauges(struct kt_store *st, struct kt_store_gauges *g)
{
	int err;

	memset(g, 0, sizeof(*g));
	/* sessions_active is a partial index; max(id) is the rowid's end */
	err = one_row(st, "SELECT count(*), (SELECT count(*) FROM sessions WHERE state = 0)"
		      " FROM sessions", &g->sessions, &g->sessions_active);
	/* codec sits before data in the record: no overflow page is read */
	if (!err)
		err = one_row(st, "SELECT count(*), coalesce(min(end_us), 0) FROM chunks WHERE codec = 0",
			      &g->raw_chunks, &g->oldest_raw_us);
	return err;
}
