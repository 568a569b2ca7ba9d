/* SPDX-License-Identifier: Apache-2.0 */
/* Private to store/pg/: the shipper object and its helpers. */
#ifndef KUBETAPE_STORE_PG_INT_H
#define KUBETAPE_STORE_PG_INT_H

#include <libpq-fe.h>

#include "pg.h"
#include "store_int.h"

extern const char *const kt_pg_node_tables[];

/* Load libpq (pq_load.c) before the first libpq call of a connection:
 * 0, or -errno with the reason logged (libpq5 not installed). */
int kt_pq_load(void);

/* Log "postgres: <what>: <message>" once; -ECONNRESET if the connection is
 * gone, else -EIO. */
int kt_pg_err(PGconn *c, const PGresult *r, const char *what);
/* Run SQL expecting no rows of interest. */
int kt_pg_exec(PGconn *c, const char *sql, const char *what);
int kt_pg_check_server(PGconn *c);
int kt_pg_migrate(PGconn *c, bool allow);
/* Up to step target only: tests/helpers/kt_pg_migrate.c (an older
 * release's schema); production code calls kt_pg_migrate. */
int kt_pg_migrate_to(PGconn *c, bool allow, int target);
/* Schema steps kept in files of their own (pg_schema_*.c). */
extern const char kt_pg_step_access_log[];
extern const char kt_pg_step_search_walk[];
extern const char kt_pg_step_one_key[];
extern const char kt_pg_step_cmd_bloom[];
/* Step 8's filters of the ended sessions (pg_schema_bloom.c). */
int kt_pg_fill_cmd_bloom(PGconn *c);

#define KT_SHIP_MAX_PREPARED 32

struct kt_shipper {
	struct kt_store *st;
	sqlite3 *db;            /* st->db */
	char *conninfo, *src;
	PGconn *conn;
	bool migrate;
	size_t batch_bytes;
	/* statements prepared on this connection (names) */
	char *prepared[KT_SHIP_MAX_PREPARED];
	int n_prepared;
	/* this batch */
	size_t budget_left;
	uint64_t batch_rows, batch_bytes_done;
	bool batch_more;
	struct kt_ship_status status;
};

/* Text parameters, NULL-terminated list built by the caller. */
PGresult *kt_pg_query(struct kt_shipper *sh, const char *sql, int n,
		      const char *const *vals, const char *what);
/* First column of the first row as int64 (NULL: dflt); 0 or -errno. */
int kt_pg_int(struct kt_shipper *sh, const char *sql, int n, const char *const *vals,
	      int64_t dflt, int64_t *out, const char *what);

/*
 * Step the SQLite query q (not finalized) and upsert each row into the
 * server table `table` (the row's columns by name, plus src first), with
 * ON CONFLICT (`key`) DO UPDATE of every column (KT_COPY_UPDATE) or DO
 * NOTHING.  Counts rows and BLOB bytes into the batch; KT_COPY_BUDGET:
 * stops before a row once the batch's byte budget is spent (sets
 * batch_more), so q must be ordered such that any prefix is consistent.
 * 0 or -errno.
 */
enum { KT_COPY_UPDATE = 1, KT_COPY_BUDGET = 2 };
int kt_ship_copy(struct kt_shipper *sh, sqlite3_stmt *q, const char *table,
		 const char *key, unsigned flags, int64_t *nrows);
/* Prepare an SQLite statement on the node store, logged on failure. */
sqlite3_stmt *kt_ship_prep(struct kt_shipper *sh, const char *sql);
/* kt_ship_copy of the query `sql` prepared and bound with ?1 = id and,
 * where it has them, ?2 = a and ?3 = b (no row count). */
int kt_ship_copy_bound(struct kt_shipper *sh, const char *sql, int64_t id, int64_t a, int64_t b,
		       const char *table, const char *key, unsigned flags);

/* A session's rows (pg_ship_session.c).  *done: complete and settled. */
int kt_ship_session(struct kt_shipper *sh, int64_t id, bool *done);
/* Trigrams of blocks that closed (pg_ship_screen.c). */
int kt_ship_trigrams(struct kt_shipper *sh);
int kt_ship_screen(struct kt_shipper *sh, int64_t id, const char *ids);

#endif
