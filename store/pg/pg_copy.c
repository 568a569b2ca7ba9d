// SPDX-License-Identifier: Apache-2.0
/*
 * Copying SQLite rows to PostgreSQL: one prepared upsert per (table, mode)
 * and connection, built from the SQLite query's column names, so each
 * server table mirrors its node table column for column (FORMAT-pg.md).
 * Integers go as decimal text, text as text (SQL_ASCII: bytes), BLOBs in
 * binary format (bytea, no escaping).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_int.h"

#define COPY_MAX_COLS 48

PGresult *kt_pg_query(struct kt_shipper *sh, const char *sql, int n,
		      const char *const *vals, const char *what)
{
	PGresult *r = PQexecParams(sh->conn, sql, n, NULL, vals, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		kt_pg_err(sh->conn, r, what);
		PQclear(r);
		return NULL;
	}
	return r;
}

int kt_pg_int(struct kt_shipper *sh, const char *sql, int n, const char *const *vals,
	      int64_t dflt, int64_t *out, const char *what)
{
	PGresult *r = kt_pg_query(sh, sql, n, vals, what);

	if (!r)
		return PQstatus(sh->conn) != CONNECTION_OK ? -ECONNRESET : -EIO;
	*out = PQntuples(r) < 1 || PQgetisnull(r, 0, 0) ? dflt : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

sqlite3_stmt *kt_ship_prep(struct kt_shipper *sh, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(sh->db, sql, -1, &q, NULL);

	if (rc != SQLITE_OK) {
		kt_sql_err(sh->st, rc, "ship: prepare");
		return NULL;
	}
	return q;
}

/* Prepare the upsert for this column set once per connection. */
static int ensure_prepared(struct kt_shipper *sh, sqlite3_stmt *q, const char *table,
			   const char *key, bool update, char *name, size_t name_len)
{
	int ncols = sqlite3_column_count(q);
	size_t cap = 8192, len = 0;
	char *sql;
	PGresult *r;
	int err = 0;

	snprintf(name, name_len, "kt_%s_%s_%d", table, update ? "u" : "n", ncols);
	for (int i = 0; i < sh->n_prepared; i++)
		if (strcmp(sh->prepared[i], name) == 0)
			return 0;
	if (sh->n_prepared == KT_SHIP_MAX_PREPARED)
		return -E2BIG;
	sql = malloc(cap);
	if (!sql)
		return -ENOMEM;
#define APPEND(...) len += (size_t)snprintf(sql + len, len < cap ? cap - len : 0, __VA_ARGS__)
	APPEND("INSERT INTO %s (src", table);
	for (int i = 0; i < ncols; i++)
		APPEND(", \"%s\"", sqlite3_column_name(q, i));
	APPEND(") VALUES ($1");
	for (int i = 0; i < ncols; i++)
		APPEND(", $%d", i + 2);
	APPEND(") ON CONFLICT (%s) DO ", key);
	if (update) {
		APPEND("UPDATE SET ");
		for (int i = 0; i < ncols; i++)
			APPEND("%s\"%s\" = EXCLUDED.\"%s\"", i ? ", " : "",
			       sqlite3_column_name(q, i), sqlite3_column_name(q, i));
	} else {
		APPEND("NOTHING");
	}
#undef APPEND
	if (len >= cap) {
		free(sql);
		return -E2BIG;
	}
	r = PQprepare(sh->conn, name, sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		err = kt_pg_err(sh->conn, r, "preparing an upsert");
	PQclear(r);
	free(sql);
	if (err)
		return err;
	sh->prepared[sh->n_prepared] = strdup(name);
	if (!sh->prepared[sh->n_prepared])
		return -ENOMEM;
	sh->n_prepared++;
	return 0;
}

int kt_ship_copy(struct kt_shipper *sh, sqlite3_stmt *q, const char *table,
		 const char *key, unsigned flags, int64_t *nrows)
{
	bool update = flags & KT_COPY_UPDATE;
	const char *vals[COPY_MAX_COLS + 1];
	int lens[COPY_MAX_COLS + 1], fmts[COPY_MAX_COLS + 1];
	char nums[COPY_MAX_COLS + 1][24];
	char name[96];
	int ncols = sqlite3_column_count(q), rc, err;
	int64_t n = 0;

	if (ncols > COPY_MAX_COLS)
		return -E2BIG;
	for (;;) {
		PGresult *r;

		if ((flags & KT_COPY_BUDGET) && !sh->budget_left) {
			sh->batch_more = true;
			rc = SQLITE_DONE;
			break;
		}
		rc = sqlite3_step(q);
		if (rc != SQLITE_ROW)
			break;

		/* prepared after the first step: column names are known */
		err = ensure_prepared(sh, q, table, key, update, name, sizeof(name));
		if (err)
			return err;
		vals[0] = sh->src;
		lens[0] = 0;
		fmts[0] = 0;
		for (int i = 0; i < ncols; i++) {
			int p = i + 1;

			fmts[p] = 0;
			lens[p] = 0;
			switch (sqlite3_column_type(q, i)) {
			case SQLITE_INTEGER:
				snprintf(nums[p], sizeof(nums[p]), "%lld",
					 (long long)sqlite3_column_int64(q, i));
				vals[p] = nums[p];
				break;
			case SQLITE_FLOAT:
				snprintf(nums[p], sizeof(nums[p]), "%.17g", sqlite3_column_double(q, i));
				vals[p] = nums[p];
				break;
			case SQLITE_TEXT:
				vals[p] = (const char *)sqlite3_column_text(q, i);
				break;
			case SQLITE_BLOB:
				vals[p] = sqlite3_column_blob(q, i);
				lens[p] = sqlite3_column_bytes(q, i);
				/* an empty BLOB reads as NULL: send x'' */
				if (!vals[p])
					vals[p] = "";
				fmts[p] = 1;
				sh->batch_bytes_done += (uint64_t)lens[p];
				sh->budget_left -= sh->budget_left < (size_t)lens[p] ?
					sh->budget_left : (size_t)lens[p];
				break;
			default:
				vals[p] = NULL;
			}
		}
		r = PQexecPrepared(sh->conn, name, ncols + 1, vals, lens, fmts, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			char what[96];

			snprintf(what, sizeof(what), "writing %s", table);
			err = kt_pg_err(sh->conn, r, what);
			PQclear(r);
			return err;
		}
		PQclear(r);
		n++;
	}
	if (rc != SQLITE_DONE)
		return kt_sql_err(sh->st, rc, "ship: reading the node store");
	sh->batch_rows += (uint64_t)n;
	if (nrows)
		*nrows = n;
	return 0;
}

int kt_ship_copy_bound(struct kt_shipper *sh, const char *sql, int64_t id, int64_t a, int64_t b,
		       const char *table, const char *key, unsigned flags)
{
	sqlite3_stmt *q = kt_ship_prep(sh, sql);
	int err;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_int64(q, 2, a);
	if (sqlite3_bind_parameter_count(q) >= 3)
		sqlite3_bind_int64(q, 3, b);
	err = kt_ship_copy(sh, q, table, key, flags, NULL);
	sqlite3_finalize(q);
	return err;
}
