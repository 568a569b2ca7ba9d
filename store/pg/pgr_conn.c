// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster store's read connection (pgr.h): open and close, the checks a
 * reader needs before it trusts what it reads (server encoding and schema
 * version as the shipper checks them, a role that sees every node's rows),
 * error mapping, query helpers and checked access to binary results.
 *
 * TLS and credentials are libpq's, as for the shipper (FORMAT-pg.md
 * "Connection, TLS, credentials"): sslmode/sslrootcert in the URI or
 * PGSSLMODE/PGSSLROOTCERT, the password from PGPASSWORD or a passfile,
 * never in the URI (argv is visible to every process).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pg_int.h"
#include "pgr_int.h"
#include "evidence.h"

bool kt_pgr_is_uri(const char *path)
{
	return path && (strncmp(path, "postgres://", 11) == 0 ||
			strncmp(path, "postgresql://", 13) == 0);
}

/* The URI with the password (user:PASSWORD@ and password=...) masked. */
static char *uri_label(const char *uri)
{
	const char *auth = strstr(uri, "://") + 3, *end, *at, *colon;
	char *out = malloc(strlen(uri) + 8), *o = out, *pw;

	if (!out)
		return NULL;
	end = auth + strcspn(auth, "/?");
	at = memrchr(auth, '@', (size_t)(end - auth));
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		memcpy(o, uri, (size_t)(colon + 1 - uri));
		o += colon + 1 - uri;
		o = stpcpy(o, "***");
		strcpy(o, at);
	} else {
		strcpy(o, uri);
	}
	pw = strstr(out, "password=");
	if (pw) {
		char *v = pw + 9, *e = v + strcspn(v, "&");

		memmove(v + 3, e, strlen(e) + 1);
		memcpy(v, "***", 3);
	}
	return out;
}

int kt_pgr_err(struct kt_pgr *pg, const PGresult *r, const char *what)
{
	const char *msg = r ? PQresultErrorMessage(r) : NULL;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (!msg || !*msg)
		msg = pg->conn ? PQerrorMessage(pg->conn) : "no connection";
	/* libpq messages end with a newline (sometimes several lines) */
	pr_err("store %s: %s: %.*s", pg->label, what, (int)strcspn(msg, "\n"), msg);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK)
		return -ECONNRESET;
	/* 42501 insufficient_privilege */
	if (state && strcmp(state, "42501") == 0)
		return -EACCES;
	return -EIO;
}

int kt_pgr_corrupt(struct kt_pgr *pg, const char *what, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("store %s: %s: corrupt row from the server: %s", pg->label, what, why);
	return -EBADMSG;
}

static PGresult *check_result(struct kt_pgr *pg, PGresult *r, const char *what, int *err)
{
	ExecStatusType s = PQresultStatus(r);
	int e;

	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return r;
	/* libpq returns no result when it could not send the query: on a
	 * broken connection that is the outage (kt_pgr_err says so), not
	 * memory */
	if (r || PQstatus(pg->conn) != CONNECTION_OK) {
		e = kt_pgr_err(pg, r, what);
	} else {
		pr_err("store %s: %s: out of memory", pg->label, what);
		e = -ENOMEM;
	}
	PQclear(r);
	if (err)
		*err = e;
	return NULL;
}

int64_t kt_pgr_down_us(const struct kt_pgr *pg)
{
	return pg->down_since_us ? kt_mono_us() - pg->down_since_us : 0;
}

/*
 * A connection that broke (server restarted, network cut) is reset before
 * the next query (kt_pgr_revive), so a long-lived reader (kubetape-web, a
 * follower) goes on once the server is back; what the connection held
 * (prepared statements, the read-only setting, an open transaction) is
 * gone with it.
 *
 * Not before every query: a reader whose server is down would otherwise
 * try to connect for each one (kubetape-web for every request, a listing
 * for every row, a follower 7 times a second), each try up to
 * connect_timeout when the server is unreachable rather than refusing.
 * The first try of an outage is at once (a server restart between two
 * queries costs nothing), then at most one every KT_PGR_BACKOFF_MIN_US,
 * doubling up to KT_PGR_BACKOFF_MAX_US; the queries in between fail at
 * once with -ECONNRESET.  Logged: the query that met the outage (its own
 * line), the first failed reconnect (one line naming the backoff), the
 * reconnect; the tries in between at debug level only.
 */
int kt_pgr_revive(struct kt_pgr *pg)
{
	int64_t now, wait;
	PGresult *r;

	if (PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	now = kt_mono_us();
	if (!pg->down_since_us) {
		pg->down_since_us = now;
		pg->retry_at_us = now;
		pg->tries = 0;
	}
	if (now < pg->retry_at_us) {
		pr_debug("store %s: server down for %.1f s: next reconnect in %.1f s", pg->label,
			 (now - pg->down_since_us) / 1e6, (pg->retry_at_us - now) / 1e6);
		return -ECONNRESET;
	}
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pg->conn);

		wait = KT_PGR_BACKOFF_MIN_US << (pg->tries < 8 ? pg->tries : 8);
		if (wait > KT_PGR_BACKOFF_MAX_US)
			wait = KT_PGR_BACKOFF_MAX_US;
		now = kt_mono_us(); /* the try itself may have taken connect_timeout */
		pg->retry_at_us = now + wait;
		if (pg->tries++ == 0)
			pr_err("store %s: lost the connection to the server and cannot reconnect: "
			       "%.*s (further tries at most every %d s)", pg->label,
			       (int)strcspn(m, "\n"), m, (int)(KT_PGR_BACKOFF_MAX_US / 1000000));
		else
			pr_debug("store %s: reconnect try %u failed: %.*s", pg->label, pg->tries,
				 (int)strcspn(m, "\n"), m);
		return -ECONNRESET;
	}
	pg->n_prepared = 0;
	pg->cursors = 0;
	r = PQexec(pg->conn, "SET default_transaction_read_only = on; SET jit = off");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pr_warn("store %s: reconnected, but not read-only: %s", pg->label,
			PQerrorMessage(pg->conn));
	else
		pr_info("store %s: reconnected after %.1f s", pg->label,
			(kt_mono_us() - pg->down_since_us) / 1e6);
	PQclear(r);
	pg->down_since_us = 0;
	return 0;
}

/* The failure of a query not sent because the server is down (revive). */
static PGresult *down(struct kt_pgr *pg, const char *what, int *err)
{
	pr_debug("store %s: %s: not sent: the server is down", pg->label, what);
	if (err)
		*err = -ECONNRESET;
	return NULL;
}

PGresult *kt_pgr_query(struct kt_pgr *pg, const char *sql, int n, const char *const *vals,
		       const char *what, int *err)
{
	if (kt_pgr_revive(pg))
		return down(pg, what, err);
	return check_result(pg, PQexecParams(pg->conn, sql, n, NULL, vals, NULL, NULL, 1),
			    what, err);
}

int kt_pgr_exec(struct kt_pgr *pg, const char *sql, const char *what)
{
	int err = 0;
	PGresult *r = kt_pgr_query(pg, sql, 0, NULL, what, &err);

	PQclear(r);
	return r ? 0 : err;
}

PGresult *kt_pgr_prepared(struct kt_pgr *pg, const char *name, const char *sql, int n,
			  const char *const *vals, const char *what, int *err)
{
	PGresult *r;
	int i;

	if (kt_pgr_revive(pg))
		return down(pg, what, err);
	for (i = 0; i < pg->n_prepared; i++)
		if (pg->prepared[i] == name || strcmp(pg->prepared[i], name) == 0)
			break;
	if (i == pg->n_prepared) {
		if (pg->n_prepared == KT_PGR_MAX_PREPARED)
			return kt_pgr_query(pg, sql, n, vals, what, err);
		r = check_result(pg, PQprepare(pg->conn, name, sql, n, NULL), what, err);
		if (!r)
			return NULL;
		PQclear(r);
		pg->prepared[pg->n_prepared++] = name;
	}
	return check_result(pg, PQexecPrepared(pg->conn, name, n, vals, NULL, NULL, 1), what, err);
}

/* ---------------------------------------------------------------- values */

static int value(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
		 bool allow_null, int want_len)
{
	if (row < 0 || row >= PQntuples(r) || col < 0 || col >= PQnfields(r))
		return kt_pgr_corrupt(pg, what, "row %d column %d missing", row, col);
	if (PQfformat(r, col) != 1)
		return kt_pgr_corrupt(pg, what, "column %s not binary", PQfname(r, col));
	if (PQgetisnull(r, row, col))
		return allow_null ? 1 : kt_pgr_corrupt(pg, what, "%s is NULL", PQfname(r, col));
	if (want_len >= 0 && PQgetlength(r, row, col) != want_len)
		return kt_pgr_corrupt(pg, what, "%s is %d bytes, not %d", PQfname(r, col),
				      PQgetlength(r, row, col), want_len);
	return 0;
}

int kt_pgr_i64_null(struct kt_pgr *pg, const PGresult *r, int row, int col,
		    const char *what, int64_t dflt, int64_t *out)
{
	const uint8_t *p;
	uint64_t v = 0;
	int err = value(pg, r, row, col, what, true, 8);

	if (err < 0)
		return err;
	if (err) {
		*out = dflt;
		return 0;
	}
	/* int8send: big-endian two's complement */
	p = (const uint8_t *)PQgetvalue(r, row, col);
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	*out = (int64_t)v;
	return 0;
}

int kt_pgr_i64(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
	       int64_t *out)
{
	int err = value(pg, r, row, col, what, false, 8);

	return err ? err : kt_pgr_i64_null(pg, r, row, col, what, 0, out);
}

int kt_pgr_bool(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
		bool *out)
{
	int err = value(pg, r, row, col, what, false, 1);

	if (err)
		return err;
	*out = PQgetvalue(r, row, col)[0] != 0;
	return 0;
}

int kt_pgr_bytes(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
		 bool allow_null, const char **p, size_t *len)
{
	int err = value(pg, r, row, col, what, allow_null, -1);

	if (err < 0)
		return err;
	*p = err ? NULL : PQgetvalue(r, row, col);
	*len = err ? 0 : (size_t)PQgetlength(r, row, col);
	return 0;
}

int kt_pgr_str(struct kt_pgr *pg, const PGresult *r, int row, int col, const char *what,
	       char *dst, size_t size)
{
	const char *p;
	size_t len;
	int err = kt_pgr_bytes(pg, r, row, col, what, false, &p, &len);

	if (err)
		return err;
	/* clipped as kt_strlcpy clips the node's copy of the same value */
	if (len >= size)
		len = size - 1;
	memcpy(dst, p, len);
	dst[len] = 0;
	return 0;
}

static int64_t row_i64(struct kt_row *row, int col)
{
	int64_t v = 0;
	int err;

	if (row->err)
		return 0;
	err = kt_pgr_i64(row->pg, row->q, row->n, col, row->what, &v);
	if (err)
		row->err = err;
	return err ? 0 : v;
}

static const char *row_bytes(struct kt_row *row, int col, size_t *len)
{
	const char *p = NULL;
	int err;

	*len = 0;
	if (row->err)
		return "";
	/* bytea and text alike: PQgetvalue's binary value is NUL-terminated */
	err = kt_pgr_bytes(row->pg, row->q, row->n, col, row->what, false, &p, len);
	if (err)
		row->err = err;
	return err ? "" : p;
}

void kt_pgr_row(struct kt_row *row, struct kt_pgr *pg, const PGresult *r, int n,
		const char *what)
{
	*row = (struct kt_row){ .i64 = row_i64, .bytes = row_bytes, .q = r, .pg = pg, .n = n,
				.what = what };
}

const char *kt_pgr_i64_param(int64_t v, char buf[24])
{
	snprintf(buf, 24, "%lld", (long long)v);
	return buf;
}

int kt_pgr_param_str(struct kt_pgr_params *p, const char *v)
{
	if (p->n < 0 || p->n >= KT_PGR_MAX_PARAMS) {
		p->n = -1;
		return 0;
	}
	p->vals[p->n] = v;
	return ++p->n;
}

int kt_pgr_param_i64(struct kt_pgr_params *p, int64_t v)
{
	if (p->n < 0 || p->n >= KT_PGR_MAX_PARAMS) {
		p->n = -1;
		return 0;
	}
	return kt_pgr_param_str(p, kt_pgr_i64_param(v, p->ints[p->n]));
}

/* ---------------------------------------------------------------- sessions */

int kt_pgr_session_key(struct kt_pgr *pg, int64_t gid, char src[], int64_t *node_id)
{
	char b[24];
	const char *v[] = { kt_pgr_i64_param(gid, b) };
	PGresult *r;
	int err = -EIO;

	if (gid > 0 && gid == pg->key_gid) {
		memcpy(src, pg->key_src, KT_PGR_SRC_MAX);
		*node_id = pg->key_id;
		return 0;
	}
	r = kt_pgr_prepared(pg, "kt_pgr_key", "SELECT src, id FROM sessions WHERE gid = $1",
			    1, v, "session key", &err);
	if (!r)
		return err;
	if (PQntuples(r) == 0) {
		err = -ENOENT;
	} else {
		err = kt_pgr_str(pg, r, 0, 0, "session key", src, KT_PGR_SRC_MAX);
		if (!err)
			err = kt_pgr_i64(pg, r, 0, 1, "session key", node_id);
	}
	PQclear(r);
	if (!err) {
		pg->key_gid = gid;
		pg->key_id = *node_id;
		memcpy(pg->key_src, src, KT_PGR_SRC_MAX);
	}
	return err;
}

struct rows_ctx {
	struct kt_pgr *pg;
	const char *what;
	int (*cb)(struct kt_row *row, void *ctx);
	void *ctx;
};

static int rows_row(const PGresult *r, int n, void *ctx)
{
	struct rows_ctx *x = ctx;
	struct kt_row row;
	int err;

	kt_pgr_row(&row, x->pg, r, n, x->what);
	err = x->cb(&row, x->ctx);
	return err ? err : row.err;
}

int kt_pgr_session_rows(struct kt_store *st, int64_t gid, const char *sql, int nargs,
			const int64_t *args, const char *what,
			int (*cb)(struct kt_row *row, void *ctx), void *ctx)
{
	struct rows_ctx x = { st->pg, what, cb, ctx };
	char src[KT_PGR_SRC_MAX], b[2 + KT_ROWS_ARGS_MAX][24];
	const char *v[2 + KT_ROWS_ARGS_MAX] = { src, b[1] };
	int64_t id;
	int err = kt_pgr_session_key(st->pg, gid, src, &id);

	if (err)
		return err == -ENOENT ? 0 : err;
	kt_pgr_i64_param(id, b[1]);
	for (int i = 0; i < nargs; i++)
		v[2 + i] = kt_pgr_i64_param(args[i], b[2 + i]);
	return kt_pgr_each(st->pg, sql, 2 + nargs, v, what, rows_row, &x);
}

int kt_pgr_session_pubkey(struct kt_store *st, int64_t gid, uint8_t pk[32])
{
	char src[KT_PGR_SRC_MAX];
	const char *v[] = { src }, *p;
	size_t len;
	int64_t id;
	PGresult *r;
	int err = kt_pgr_session_key(st->pg, gid, src, &id);

	if (err)
		return err;
	r = kt_pgr_prepared(st->pg, "kt_pgr_pubkey", "SELECT pubkey FROM kt_nodes WHERE src = $1",
			    1, v, "node public key", &err);
	if (!r)
		return err;
	err = -ENOENT;
	if (PQntuples(r) && !kt_pgr_bytes(st->pg, r, 0, 0, "node public key", false, &p, &len) &&
	    len)
		err = kt_pubkey_parse(p, pk) ? kt_pgr_corrupt(st->pg, "node public key",
							      "kt_nodes.pubkey of %s", src) : 0;
	PQclear(r);
	return err;
}

int kt_pgr_node_checkpoints(struct kt_store *st, const char *src, const char *sql,
			    int (*cb)(struct kt_row *row, void *ctx), void *ctx)
{
	struct rows_ctx x = { st->pg, "verify (node chain)", cb, ctx };
	const char *v[] = { src };

	return kt_pgr_each(st->pg, sql, 1, v, x.what, rows_row, &x);
}

int kt_pgr_nodes_each(struct kt_store *st,
		      int (*cb)(const char *src, const uint8_t *pk, void *ctx), void *ctx)
{
	static const char what[] = "verify (nodes)";
	char src[KT_PGR_SRC_MAX];
	uint8_t pk[32];
	const char *key;
	size_t len;
	PGresult *r;
	int err = -EIO;

	/* all at once: a few rows per node, and the callback queries */
	r = kt_pgr_query(st->pg, "SELECT src, pubkey FROM kt_nodes ORDER BY src", 0, NULL, what, &err);
	if (!r)
		return err;
	err = 0;
	for (int i = 0; !err && i < PQntuples(r); i++) {
		err = kt_pgr_str(st->pg, r, i, 0, what, src, sizeof(src));
		if (!err)
			err = kt_pgr_bytes(st->pg, r, i, 1, what, false, &key, &len);
		if (!err && len && kt_pubkey_parse(key, pk))
			err = kt_pgr_corrupt(st->pg, what, "kt_nodes.pubkey of %s", src);
		if (!err)
			err = cb(src, len ? pk : NULL, ctx);
	}
	PQclear(r);
	return err;
}

/* ---------------------------------------------------------------- open */

/* The current role sees every node's rows: row-level security does not
 * apply to it (superuser, BYPASSRLS, the tables' owner: the server's own
 * answer, row_security_active) or it is a kubetape_reader.  One
 * expression for check_reader and checks_at_once.  Not through the
 * pg_roles view (a join the fresh backend of every CLI run would plan
 * and open: ~25 page faults per run, FORMAT-pg.md "Reader start cost"). */
#define SEES_ALL_SQL \
	"NOT row_security_active('sessions') OR pg_has_role('kubetape_reader', 'USAGE')"

/* A reader must see every node's rows: a node role (kubetape_node) sees
 * only its own through row-level security, and would list a part of the
 * cluster as if it were all of it. */
static int check_reader(struct kt_pgr *pg)
{
	PGresult *r;
	bool can_select = false, sees_all = false;
	const char *user;
	size_t ulen;
	int err = -EIO;

	r = kt_pgr_query(pg, "SELECT current_user::text, has_table_privilege('sessions', 'SELECT'), "
			 SEES_ALL_SQL, 0, NULL, "checking the reader role", &err);
	if (!r)
		return err;
	err = kt_pgr_bytes(pg, r, 0, 0, "reader role", false, &user, &ulen);
	if (!err)
		err = kt_pgr_bool(pg, r, 0, 1, "reader role", &can_select);
	if (!err)
		err = kt_pgr_bool(pg, r, 0, 2, "reader role", &sees_all);
	if (!err && (!can_select || !sees_all)) {
		pr_err("store %s: role %.*s cannot read the whole cluster store: a reader needs "
		       "the role kubetape_reader (GRANT kubetape_reader TO %.*s; FORMAT-pg.md "
		       "\"Roles\")", pg->label, (int)ulen, user, (int)ulen, user);
		err = -EACCES;
	}
	PQclear(r);
	return err;
}

/*
 * Every check of a fresh connection and its settings in one statement: one
 * round trip instead of five, four network round-trip times less per CLI
 * run against a remote server (on loopback it is within the noise of the
 * CLI's wall time, whose fixed cost is elsewhere: FORMAT-pg.md).  The
 * schema version, the reader role as check_reader() has it, then
 * read-only and jit off as set_config().  1 when anything is not as
 * expected (an error, an older schema, a role that does not see every
 * node): then the checks one by one say what and how to fix it.
 */
static int checks_at_once(struct kt_pgr *pg)
{
	static const char sql[] =
		"SELECT (SELECT value FROM kt_meta WHERE key = 'schema_version'),"
		" has_table_privilege('sessions', 'SELECT') AND (" SEES_ALL_SQL "),"
		" set_config('default_transaction_read_only', 'on', false),"
		" set_config('jit', 'off', false)";
	PGresult *r = PQexecParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	char want[16];
	int ok;

	snprintf(want, sizeof(want), "%d", KT_PG_SCHEMA_VERSION);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 4 &&
	     !PQgetisnull(r, 0, 0) && strcmp(PQgetvalue(r, 0, 0), want) == 0 &&
	     strcmp(PQgetvalue(r, 0, 1), "t") == 0 && strcmp(PQgetvalue(r, 0, 2), "on") == 0 &&
	     strcmp(PQgetvalue(r, 0, 3), "off") == 0;
	PQclear(r);
	return ok ? 0 : 1;
}

int kt_pgr_open(const char *uri, struct kt_pgr **out, char **label)
{
	/* ours first: the URI overrides them, except the encoding, which must
	 * be bytes in and out (node strings are not always UTF-8) */
	const char *keys[] = { "connect_timeout", "keepalives", "keepalives_idle",
			       "keepalives_interval", "keepalives_count", "application_name",
			       "dbname", "client_encoding", NULL };
	const char *vals[] = { "5", "1", "10", "5", "3", "kubetape", uri, "SQL_ASCII", NULL };
	struct kt_pgr *pg;
	int err;

	*out = NULL;
	*label = NULL;
	if (!kt_pgr_is_uri(uri))
		return -EINVAL;
	err = kt_pq_load();
	if (err)
		return err;
	pg = calloc(1, sizeof(*pg));
	if (!pg || !(pg->label = uri_label(uri))) {
		free(pg);
		return -ENOMEM;
	}
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn) {
		err = -ENOMEM;
		goto fail;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pg->conn);

		pr_err("store %s: cannot connect: %.*s", pg->label, (int)strcspn(m, "\n"), m);
		err = -ECONNREFUSED;
		goto fail;
	}
	/* encoding and server version (from the connection's parameters) */
	if (kt_pg_check_server(pg->conn)) {
		err = -EPROTO;
		goto fail;
	}
	if (!checks_at_once(pg))
		goto done;
	/* one by one, to say what is wrong: the schema version as the
	 * shipper checks it (never migrating: readers do not own the schema) */
	if (kt_pg_migrate(pg->conn, false)) {
		err = -EPROTO;
		goto fail;
	}
	err = check_reader(pg);
	if (err)
		goto fail;
	/* the backend is read-only; make the server hold us to it.  jit off:
	 * PostgreSQL 15 JIT-compiles a command search whose estimated cost
	 * passes 100,000 (~400 ms of compiling on a 50 ms query,
	 * bench/pg_scale.sh); the reader's queries are short index walks. */
	err = kt_pgr_exec(pg, "SET default_transaction_read_only = on", "read-only session");
	if (!err)
		err = kt_pgr_exec(pg, "SET jit = off", "jit off");
	if (err)
		goto fail;
done:
	*label = strdup(pg->label);
	if (!*label) {
		err = -ENOMEM;
		goto fail;
	}
	*out = pg;
	return 0;
fail:
	kt_pgr_close(pg);
	return err;
}

void kt_pgr_close(struct kt_pgr *pg)
{
	if (!pg)
		return;
	PQfinish(pg->conn);
	free(pg->label);
	free(pg);
}

int kt_pgr_rofs(struct kt_store *st, const char *what)
{
	pr_err("store %s: %s: the cluster store is read-only (nodes write their own SQLite "
	       "store; 'kubetape ship' copies it)", st->path, what);
	return -EROFS;
}

int kt_pgr_unsupported(struct kt_store *st, const char *what)
{
	pr_err("store %s: %s is not available on the cluster store: run it on the node's own "
	       "store (--db NODE.db; 'kubetape show ID' names the node)", st->path, what);
	return -EOPNOTSUPP;
}

/*
 * Three statements in one round trip (libpq's pipeline mode), the middle one
 * with parameters: what the cursor's BEGIN + DECLARE + first FETCH and the
 * access log's BEGIN + INSERT + COMMIT share.  1 when the pipeline could
 * not be used (the connection is not idle and healthy): nothing was sent.
 * Else 0, or the error logged once (the caller rolls back what the server
 * left open).  With rows, the last statement's PGRES_TUPLES_OK result is
 * handed back there (required: no rows is an error).
 */
int kt_pgr_pipeline3(struct kt_pgr *pg, const char *const sqls[3], int n,
		     const char *const *vals, int binary, PGresult **rows, const char *what)
{
	PGresult *r, *bad = NULL, *got = NULL;
	bool synced;
	int err, i;

	if (PQstatus(pg->conn) != CONNECTION_OK ||
	    PQtransactionStatus(pg->conn) != PQTRANS_IDLE || !PQenterPipelineMode(pg->conn))
		return 1;
	for (i = 0; i < 3; i++)
		if (!PQsendQueryParams(pg->conn, sqls[i], i == 1 ? n : 0, NULL, i == 1 ? vals : NULL,
				       NULL, NULL, binary))
			break;
	if (i < 3 || !PQpipelineSync(pg->conn)) {
		/* libpq could not send: the connection is gone */
		err = kt_pgr_err(pg, NULL, what);
		PQexitPipelineMode(pg->conn);
		return err;
	}
	/* per query its result then NULL, then the sync's; after an error the
	 * server skips to the sync (PGRES_PIPELINE_ABORTED for the rest) */
	for (i = 0; i < 3; i++) {
		while ((r = PQgetResult(pg->conn))) {
			ExecStatusType st = PQresultStatus(r);

			if (rows && i == 2 && st == PGRES_TUPLES_OK && !got)
				got = r;
			else if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && !bad)
				bad = r;
			else
				PQclear(r);
		}
	}
	r = PQgetResult(pg->conn);
	synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
	PQclear(r);
	err = bad || !synced || (rows && !got) ? kt_pgr_err(pg, bad, what) : 0;
	PQclear(bad);
	PQexitPipelineMode(pg->conn);
	if (err) {
		PQclear(got);
		got = NULL;
	}
	if (rows)
		*rows = got;
	return err;
}
