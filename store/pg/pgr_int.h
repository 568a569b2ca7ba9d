/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the PostgreSQL read backend (store/pg/pgr_*.c): the
 * connection object and the helpers every query file uses.  Results are
 * requested in binary form, so that a value is checked by its length and
 * never parsed from text: a row a hostile or broken server sends (wrong
 * width, NULL where the schema has NOT NULL, a string longer than its
 * field) gives -EBADMSG and one log line naming the table and column,
 * never a crash or a silently wrong value.
 */
#ifndef KUBETAPE_STORE_PGR_INT_H
#define KUBETAPE_STORE_PGR_INT_H

#include <libpq-fe.h>

#include "pgr.h"
#include "store_int.h"

#define KT_PGR_MAX_PREPARED 64
#define KT_PGR_SRC_MAX 256   /* kt_nodes.src: at most 253 characters + NUL */

struct kt_pgr {
	PGconn *conn;
	char *label;            /* the URI without its password (logs) */
	/* statements prepared on this connection, by name (kt_pgr_prepared) */
	const char *prepared[KT_PGR_MAX_PREPARED];
	int n_prepared;
	/* the last gid resolved by kt_pgr_session_key (show/cat/verify ask
	 * for the same session many times) */
	int64_t key_gid, key_id;
	char scope_src[KT_PGR_SRC_MAX]; /* the identity join's node (pgr_audit.c) */
	int cursors;            /* open kt_pgr_each cursors (nesting) */
	unsigned cursor_seq;
	char key_src[KT_PGR_SRC_MAX];
	/* an outage (pgr_conn.c revive): since when (CLOCK_MONOTONIC us, 0:
	 * connected), the next reconnect try, the tries so far */
	int64_t down_since_us, retry_at_us;
	unsigned tries;
};

/* Reconnect backoff (pgr_conn.c): the first try of an outage at once,
 * then 0.25 s, doubling, at most 4 s apart. */
#define KT_PGR_BACKOFF_MIN_US INT64_C(250000)
#define KT_PGR_BACKOFF_MAX_US INT64_C(4000000)

/* Log "store <label>: <what>: <server message>" once and return a
 * negative errno: -ECONNRESET when the connection is gone, -EACCES for a
 * permission error, -EIO otherwise. */
int kt_pgr_err(struct kt_pgr *pg, const PGresult *r, const char *what);
/* Log "store <label>: <what>: corrupt row: <why>" and return -EBADMSG. */
int kt_pgr_corrupt(struct kt_pgr *pg, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Run sql with n text parameters (NULL = SQL NULL), binary results.
 * Returns the result (PGRES_TUPLES_OK / COMMAND_OK) or NULL after logging
 * (*err set when err is not NULL).  The caller PQclear()s it.
 */
PGresult *kt_pgr_query(struct kt_pgr *pg, const char *sql, int n, const char *const *vals,
		       const char *what, int *err);
/* Run sql (no parameters) for its effect; 0 or -errno (logged). */
int kt_pgr_exec(struct kt_pgr *pg, const char *sql, const char *what);
/*
 * The same through a statement prepared once per connection under `name`
 * (a string constant: it is kept by pointer).  For the hot single-row
 * lookups (session by gid, a chunk by seq).
 */
PGresult *kt_pgr_prepared(struct kt_pgr *pg, const char *name, const char *sql, int n,
			  const char *const *vals, const char *what, int *err);

/* Values of a binary result, checked (-EBADMSG, logged with `what`):
 * bigint (8 bytes), boolean (1 byte), text/bytea (any length; *len).
 * NULL is an error except through the _null variants (dflt / NULL). */
int kt_pgr_i64(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
	       int64_t *out);
int kt_pgr_i64_null(struct kt_pgr *pg, const PGresult *r, int row, int col,
		    const char *what, int64_t dflt, int64_t *out);
int kt_pgr_bool(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
		bool *out);
/* text/bytea bytes (not NUL-terminated: *len; PQgetvalue adds a NUL after
 * them); NULL -> -EBADMSG unless allow_null (then *p NULL, *len 0). */
int kt_pgr_bytes(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
		 bool allow_null, const char **p, size_t *len);
/* A text value into a fixed field, clipped as kt_strlcpy clips. */
int kt_pgr_str(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
	       char *dst, size_t size);

/* Parameters of a query built piece by piece: each add returns its $n. */
#define KT_PGR_MAX_PARAMS 32
struct kt_pgr_params {
	int n;                  /* -1 once more were added than fit */
	const char *vals[KT_PGR_MAX_PARAMS];
	char ints[KT_PGR_MAX_PARAMS][24];
};
int kt_pgr_param_str(struct kt_pgr_params *p, const char *v);
int kt_pgr_param_i64(struct kt_pgr_params *p, int64_t v);
/* kt_session_filter_sql for PostgreSQL: " AND ..." terms appended to sql,
 * parameters added to p. */
int kt_pgr_filter_sql(const struct kt_session_filter *f, const char *alias, char *sql,
		      size_t len, struct kt_pgr_params *p);

/*
 * Run a query and call row_cb for each row, fetched through a cursor
 * KT_PGR_FETCH rows at a time (memory stays bounded), in one transaction
 * (a read-only one opened here unless one is open).  The callback may run
 * other queries on the connection between rows, including nested
 * kt_pgr_each.  Stops at the first non-zero callback result (returned).
 * (pgr_cursor.c)
 */
#define KT_PGR_FETCH 256
int kt_pgr_each(struct kt_pgr *pg, const char *sql, int n, const char *const *vals,
		const char *what, int (*row_cb)(const PGresult *r, int row, void *ctx),
		void *ctx);
/* Three statements in one round trip (pipeline), the middle one with
 * parameters; with rows, the last one's result (pgr_conn.c).  1: not
 * usable, nothing sent; else 0 or the error, logged once. */
int kt_pgr_pipeline3(struct kt_pgr *pg, const char *const sqls[3], int n,
		     const char *const *vals, int binary, PGresult **rows, const char *what);
/* Before sending on the connection: reconnect after an outage (with
 * backoff, pgr_conn.c).  0, or -ECONNRESET while the server is down. */
int kt_pgr_revive(struct kt_pgr *pg);

/* A kt_row over row n of r: bad values (wrong width, NULL) read as 0 / ""
 * and set row->err (-EBADMSG, logged once with what). */
void kt_pgr_row(struct kt_row *row, struct kt_pgr *pg, const PGresult *r, int n,
		const char *what);

/* "%lld" of v into buf (a parameter for kt_pgr_query). */
const char *kt_pgr_i64_param(int64_t v, char buf[24]);

/*
 * The node and node-local id of cluster session gid: src (the shipping
 * node's name, KT_PGR_SRC_MAX) and *node_id (sessions.id on that node).
 * -ENOENT (not logged) when no session has that gid.
 */
int kt_pgr_session_key(struct kt_pgr *pg, int64_t gid, char src[/*256*/], int64_t *node_id);

/* A command's id on the cluster store: its session's gid and its seq
 * (pgr_command.c). */
#define KT_PGR_CMD_SEQ_BITS 24
#define KT_PGR_CMD_SEQ_MAX (INT64_C(1) << KT_PGR_CMD_SEQ_BITS)
#define KT_PGR_CMD_ID(gid, seq) ((int64_t)(gid) << KT_PGR_CMD_SEQ_BITS | (int64_t)(seq))

/* The sessions columns in kt_session_cols_sql order with `gid` for `id`,
 * each prefixed with `prefix` ("" or "s."), into buf. */
const char *kt_pgr_session_cols(const char *prefix, char *buf, size_t len);
/* Fill *s from r's row, columns [first, first + the session columns). */
int kt_pgr_session_row(struct kt_pgr *pg, const PGresult *r, int row, int first,
		       struct kt_session_info *s);

#endif
