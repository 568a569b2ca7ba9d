// SPDX-License-Identifier: Apache-2.0
/* The meta table as a small key/value store for the writer's bookkeeping,
 * and batch rollback. */
#include <errno.h>
#include <string.h>

#include "store_int.h"
#include "log.h"
#include "pg/pgr.h"

int kt_store_rollback(struct kt_store *st)
{
	int rc;

	if (!st || sqlite3_get_autocommit(st->db))
		return 0;
	rc = sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, "rollback");
}

int kt_store_meta_get_int(struct kt_store *st, const char *key, int64_t *val)
{
	sqlite3_stmt *q = NULL;
	int rc, err = -ENOENT;

	/* a node's bookkeeping; the cluster store does not carry it */
	if (st->pg)
		return -ENOENT;
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "meta get");
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_INTEGER) {
		*val = sqlite3_column_int64(q, 0);
		err = 0;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "meta get");
	}
	sqlite3_finalize(q);
	return err;
}

int kt_store_meta_set_int(struct kt_store *st, const char *key, int64_t val)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	err = kt_store_check_writable(st, "meta set");
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "meta set");
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, val);
	err = kt_stmt_done(st, q, "meta set");
	sqlite3_finalize(q);
	return err;
}

void kt_store_set_quiet(struct kt_store *st, bool quiet)
{
	if (st)
		st->quiet = quiet;
}
