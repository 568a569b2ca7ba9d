// SPDX-License-Identifier: Apache-2.0
/*
 * Opening the database, schema version checks and migrations, the statement
 * cache, transactions and error mapping.  The schema itself is in schema.c.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zstd.h>

#include "store_int.h"
#include "log.h"
#include "pg/pgr.h"

#define KT_BUSY_TIMEOUT_MS 5000
#define KT_APPLICATION_ID 0x4b544150 /* "KTAP": lets file(1) and others tell */

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* session statements are generated from the column table in session.c */
	[ST_SESSION_INTERRUPT] =
		"UPDATE sessions SET state = 2, end_us = max(?1, start_us) WHERE state = 0",
	[ST_SESSION_ADD_TOTALS] =
		"UPDATE sessions SET bytes_out = bytes_out + ?2, bytes_in = bytes_in + ?3,"
		" lost_bytes = lost_bytes + ?4, lost_events = lost_events + ?5 WHERE id = ?1",
	[ST_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = ?1",
	/* n_commands before the insert is the new command's seq.  Not one
	 * UPDATE .. RETURNING: RETURNING runs as a statement transaction, which
	 * makes FTS5 flush (see schema.c). */
	[ST_CMD_SEQ] = "SELECT n_commands FROM sessions WHERE id = ?1",
	[ST_CMD_BUMP] =
		"UPDATE sessions SET n_commands = n_commands + 1,"
		" first_command = CASE WHEN first_command = '' THEN ?2 ELSE first_command END"
		" WHERE id = ?1",
	[ST_CMD_FTS] = "INSERT INTO commands_fts (rowid, argv_text) VALUES (?1, ?2)",
	[ST_CMD_INSERT] =
		"INSERT INTO commands (session_id, seq, ts_us, end_us, has_exit, exit_status,"
		" pid, ns_pid, ppid, uid, gid, euid, egid, comm, filename, argv, argc,"
		" argv_text, cwd, argv_truncated, cwd_truncated)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
		" ?16, ?17, ?18, ?19, ?20, ?21)",
	[ST_CMD_EXIT] =
		"UPDATE commands SET end_us = ?3, has_exit = 1, exit_status = ?4 WHERE id ="
		" (SELECT id FROM commands WHERE session_id = ?1 AND pid = ?2 AND end_us = 0"
		"  ORDER BY seq DESC LIMIT 1) RETURNING seq",
	[ST_CHUNK_LAST] =
		"SELECT seq + nframes, end_us, out_offset + out_bytes, in_offset + in_bytes"
		" FROM chunks WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1",
	[ST_CHUNK_INSERT] =
		"INSERT INTO chunks (session_id, seq, start_us, end_us, out_offset, in_offset,"
		" out_bytes, in_bytes, nframes, raw_len, codec, data)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	/* tamper evidence (chain.c) */
	[ST_CHAIN_GET] = "SELECT coalesce(h.n_frames, 0), h.head, s.chain_ver FROM sessions s"
		" LEFT JOIN chain_heads h ON h.session_id = s.id WHERE s.id = ?1",
	[ST_CHAIN_PUT] = "INSERT OR REPLACE INTO chain_heads (session_id, n_frames, head)"
		" VALUES (?1, ?2, ?3)",
	/* checkpoints: cached, a recorder signs every session's head at its
	 * start, every 30 s and at its end (3 statements each time) */
	[ST_CP_HEAD] =
		"SELECT s.uuid, coalesce(h.n_frames, 0), h.head,"
		" (SELECT seq FROM checkpoints WHERE session_id = s.id ORDER BY seq DESC LIMIT 1),"
		" (SELECT n_frames FROM checkpoints WHERE session_id = s.id ORDER BY seq DESC LIMIT 1),"
		" (SELECT final FROM checkpoints WHERE session_id = s.id ORDER BY seq DESC LIMIT 1),"
		" s.chain_ver"
		" FROM sessions s LEFT JOIN chain_heads h ON h.session_id = s.id WHERE s.id = ?1",
	[ST_CP_INSERT] =
		"INSERT INTO checkpoints (node_seq, session_id, uuid, seq, ts_us, n_frames, head,"
		" final, prev, sig, ver) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_CP_TAIL] =
		"SELECT c.node_seq, c.session_id, c.uuid, c.seq, c.ts_us,"
		" c.n_frames, c.head, c.final, c.prev, p.rule, p.min_age_us, c.ver"
		" FROM checkpoints c LEFT JOIN prunes p ON c.final = 2 AND"
		" p.session_id = c.session_id AND p.uuid = c.uuid AND p.ts_us = c.ts_us"
		" ORDER BY c.node_seq DESC LIMIT 1",
};


static int64_t sq_i64(struct kt_row *row, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)row->q, col);
}

static const char *sq_bytes(struct kt_row *row, int col, size_t *len)
{
	sqlite3_stmt *q = (sqlite3_stmt *)row->q;
	/* text first: blobs are then NUL-terminated too (sqlite3 adds one) */
	const char *p = (const char *)sqlite3_column_text(q, col);

	*len = p ? (size_t)sqlite3_column_bytes(q, col) : 0;
	return p ? p : "";
}

void kt_row_sqlite(struct kt_row *row, sqlite3_stmt *q)
{
	*row = (struct kt_row){ .i64 = sq_i64, .bytes = sq_bytes, .q = q };
}

int kt_session_rows(struct kt_store *st, int64_t session_id, const char *sqlite_sql,
		    const char *pg_sql, int nargs, const int64_t *args, const char *what,
		    int (*cb)(struct kt_row *row, void *ctx), void *ctx)
{
	struct kt_row row;
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	assert(nargs >= 0 && nargs <= KT_ROWS_ARGS_MAX);
	if (st->pg)
		return kt_pgr_session_rows(st, session_id, pg_sql, nargs, args, what, cb, ctx);
	/* not cached: callbacks may call back into the store */
	rc = sqlite3_prepare_v2(st->db, sqlite_sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, what);
	sqlite3_bind_int64(q, 1, session_id);
	for (int i = 0; i < nargs; i++)
		sqlite3_bind_int64(q, i + 2, args[i]);
	kt_row_sqlite(&row, q);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW)
		err = cb(&row, ctx);
	if (!err && rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, what);
	sqlite3_finalize(q);
	return err;
}

int kt_sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		return -EPROTO;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_INTERRUPT:
		return -EINTR;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int kt_sql_err(struct kt_store *st, int rc, const char *what)
{
	const char *path = st && st->path ? st->path : "?";
	const char *msg = st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);

	if (st && st->quiet)
		pr_debug("store %s: %s: %s", path, what, msg);
	else
		pr_err("store %s: %s: %s", path, what, msg);
	return kt_sqlite_errno(rc);
}

sqlite3_stmt *kt_stmt(struct kt_store *st, enum kt_stmt_id id)
{
	return kt_stmt_sql(st, id, stmt_sql[id]);
}

sqlite3_stmt *kt_stmt_sql(struct kt_store *st, enum kt_stmt_id id, const char *sql)
{
	sqlite3_stmt *stmt = st->stmts[id];
	int rc;

	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return stmt;
	}
	/* the session statements' SQL comes from session.c (session_stmt) */
	assert(sql);
	if (!sql) {
		pr_err("store %s: statement %d has no SQL", st->path, (int)id);
		return NULL;
	}
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK) {
		kt_sql_err(st, rc, "prepare");
		return NULL;
	}
	st->stmts[id] = stmt;
	return stmt;
}

int kt_stmt_done(struct kt_store *st, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);
	int err = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = kt_sql_err(st, rc, what);
	sqlite3_reset(stmt);
	return err;
}

static int exec_cached(struct kt_store *st, enum kt_stmt_id id, const char *what)
{
	sqlite3_stmt *stmt = kt_stmt(st, id);

	if (!stmt)
		return -ENOMEM;
	return kt_stmt_done(st, stmt, what);
}

int kt_op_begin(struct kt_store *st, bool *own)
{
	*own = sqlite3_get_autocommit(st->db) != 0;
	return *own ? exec_cached(st, ST_BEGIN, "begin") : 0;
}

int kt_op_end(struct kt_store *st, bool own, int err)
{
	if (!own)
		return err;
	if (err) {
		exec_cached(st, ST_ROLLBACK, "rollback");
		return err;
	}
	err = exec_cached(st, ST_COMMIT, "commit");
	if (err && !sqlite3_get_autocommit(st->db))
		exec_cached(st, ST_ROLLBACK, "rollback");
	return err;
}

int kt_store_check_writable(struct kt_store *st, const char *what)
{
	if (!st)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_rofs(st, what);
	if (st->flags & KT_STORE_RDONLY) {
		pr_err("store %s: %s: store is open read-only", st->path, what);
		return -EROFS;
	}
	return 0;
}

int kt_store_begin(struct kt_store *st)
{
	int err = kt_store_check_writable(st, "begin");

	if (err)
		return err;
	if (!sqlite3_get_autocommit(st->db)) {
		pr_err("store %s: begin: a transaction is already open", st->path);
		return -EINVAL;
	}
	return exec_cached(st, ST_BEGIN, "begin");
}

int kt_store_commit(struct kt_store *st)
{
	int err = kt_store_check_writable(st, "commit");

	if (err)
		return err;
	if (sqlite3_get_autocommit(st->db)) {
		pr_err("store %s: commit: no transaction is open", st->path);
		return -EINVAL;
	}
	err = exec_cached(st, ST_COMMIT, "commit");
	/* Never leave the writer stuck inside a failed batch: drop it. */
	if (err && !sqlite3_get_autocommit(st->db))
		exec_cached(st, ST_ROLLBACK, "rollback");
	return err;
}

int kt_store_set_zstd_level(struct kt_store *st, int level)
{
	if (!st || level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return -EINVAL;
	st->zstd_level = level;
	return 0;
}

/* ---------------------------------------------------------------- open */

/* Log a failed schema probe; "not a database" gets a message users grasp. */
static int probe_err(struct kt_store *st, int rc, const char *what)
{
	if ((rc & 0xff) == SQLITE_NOTADB) {
		pr_err("store %s: not a kubetape database (not an SQLite file)", st->path);
		return -EPROTO;
	}
	return kt_sql_err(st, rc, what);
}

/* Run a query returning one integer (0 if no row) into *val. */
static int query_int(struct kt_store *st, const char *sql, const char *arg,
		     int64_t *val, bool *found)
{
	sqlite3_stmt *stmt = NULL;
	int rc, err = 0;

	*val = 0;
	*found = false;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return probe_err(st, rc, "reading schema");
	if (arg)
		sqlite3_bind_text(stmt, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*found = sqlite3_column_type(stmt, 0) == SQLITE_INTEGER;
		*val = sqlite3_column_int64(stmt, 0);
	} else if (rc != SQLITE_DONE) {
		err = probe_err(st, rc, "reading schema");
	}
	sqlite3_finalize(stmt);
	return err;
}

/*
 * The schema version stored in meta; 0 for an empty database.  -EPROTO
 * (logged) for a file that is not SQLite or a SQLite database that is not
 * ours: such a file is never modified.
 */
static int read_schema_version(struct kt_store *st, int *version)
{
	int64_t v;
	bool found;
	int err;

	*version = 0;
	err = query_int(st, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
			"meta", &v, &found);
	if (err)
		return err;
	if (v == 0) {
		err = query_int(st, "SELECT count(*) FROM sqlite_schema", NULL, &v, &found);
		if (err)
			return err;
		if (v > 0) {
			pr_err("store %s: not a kubetape database (SQLite without a meta table)",
			       st->path);
			return -EPROTO;
		}
		return 0;
	}
	err = query_int(st, "SELECT value FROM meta WHERE key = 'schema_version'", NULL,
			&v, &found);
	if (err)
		return err;
	if (!found || v < 1 || v > INT32_MAX) {
		pr_err("store %s: not a kubetape database (no valid schema_version in meta)",
		       st->path);
		return -EPROTO;
	}
	*version = (int)v;
	return 0;
}

static int migrate(struct kt_store *st)
{
	sqlite3_stmt *stmt = NULL;
	char *errmsg = NULL;
	int version, rc, err;

	/* IMMEDIATE: two recorders racing to create the file serialize here. */
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "begin migration");
	err = read_schema_version(st, &version);
	if (err)
		goto cleanup;
	if (version > KT_SCHEMA_VERSION) {
		pr_err("store %s: schema version %d is newer than this kubetape (%d); upgrade kubetape",
		       st->path, version, KT_SCHEMA_VERSION);
		err = -EPROTO;
		goto cleanup;
	}
	if (version == KT_SCHEMA_VERSION)
		goto cleanup;

	for (size_t i = 0; i < kt_n_migrations; i++) {
		if (kt_migrations[i].from_version < version)
			continue;
		rc = sqlite3_exec(st->db, kt_migrations[i].sql, NULL, NULL, &errmsg);
		if (rc != SQLITE_OK) {
			pr_err("store %s: migration %d -> %d: %s", st->path,
			       kt_migrations[i].from_version, kt_migrations[i].from_version + 1,
			       errmsg ? errmsg : sqlite3_errstr(rc));
			sqlite3_free(errmsg);
			err = kt_sqlite_errno(rc);
			goto cleanup;
		}
	}
	rc = sqlite3_prepare_v2(st->db,
				"INSERT OR REPLACE INTO meta (key, value) VALUES"
				" ('schema_version', ?1), ('stream_version', ?2)",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "prepare migration");
		goto cleanup;
	}
	sqlite3_bind_int(stmt, 1, KT_SCHEMA_VERSION);
	sqlite3_bind_int(stmt, 2, KT_STREAM_VERSION);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "write schema version");
		goto cleanup;
	}
	if (version == 0)
		pr_info("store %s: created schema version %d", st->path, KT_SCHEMA_VERSION);
	else
		pr_info("store %s: migrated schema %d -> %d", st->path, version, KT_SCHEMA_VERSION);
cleanup:
	sqlite3_finalize(stmt);
	rc = sqlite3_exec(st->db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	if (!err && rc != SQLITE_OK)
		err = kt_sql_err(st, rc, "commit migration");
	return err;
}

/* Read the version in one read transaction (one consistent snapshot). */
static int probe_version(struct kt_store *st, int *version)
{
	int rc, err;

	rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return probe_err(st, rc, "begin");
	err = read_schema_version(st, version);
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return err;
}

/* Without KT_STORE_CREATE the schema must be exactly ours. */
static int check_version(struct kt_store *st, int version, bool may_migrate)
{
	if (version > KT_SCHEMA_VERSION) {
		pr_err("store %s: schema version %d is newer than this kubetape (%d); upgrade kubetape",
		       st->path, version, KT_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (may_migrate || version == KT_SCHEMA_VERSION)
		return 0;
	if (version == 0)
		pr_err("store %s: not a kubetape database (empty)", st->path);
	else
		pr_err("store %s: schema version %d is older than %d; start the recorder once to migrate",
		       st->path, version, KT_SCHEMA_VERSION);
	return -EPROTO;
}

static int exec_simple(struct kt_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, sql);
}

/* The cluster store (store/pg/pgr.h): read-only, whatever the caller
 * wanted; a writer is told so at once rather than at its first write. */
static int open_pg(const char *uri, unsigned flags, struct kt_store **out)
{
	struct kt_store *st;
	int err;

	if (!(flags & KT_STORE_RDONLY)) {
		struct kt_store tmp = { .path = (char *)"postgres" };

		return kt_pgr_rofs(&tmp, flags & KT_STORE_CREATE ? "create" : "open for writing");
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->flags = KT_STORE_RDONLY;
	err = kt_pgr_open(uri, &st->pg, &st->path);
	if (err) {
		free(st);
		return err;
	}
	*out = st;
	return 0;
}

int kt_store_open(const char *path, unsigned flags, struct kt_store **out)
{
	struct kt_store *st = NULL;
	struct stat sb;
	int oflags, rc, version, err = 0;

	if (!path || !out || ((flags & KT_STORE_RDONLY) && (flags & KT_STORE_CREATE)))
		return -EINVAL;
	*out = NULL;
	if (kt_pgr_is_uri(path))
		return open_pg(path, flags, out);

	/* SQLite would say "unable to open database file"; be precise. */
	if (!(flags & KT_STORE_CREATE) && stat(path, &sb) < 0) {
		err = -errno;
		pr_err("store %s: %s", path, strerror(errno));
		return err;
	}

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->flags = flags;
	st->zstd_level = 3;
	st->path = strdup(path);
	if (!st->path) {
		err = -ENOMEM;
		goto cleanup;
	}

	if (flags & KT_STORE_RDONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE | ((flags & KT_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	/* NOMUTEX: a kt_store is used by one thread at a time. */
	oflags |= SQLITE_OPEN_NOMUTEX;
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "open");
		goto cleanup;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, KT_BUSY_TIMEOUT_MS);

	/* Refuse foreign or newer files before touching them (journal_mode
	 * writes the header). */
	err = probe_version(st, &version);
	if (err)
		goto cleanup;
	err = check_version(st, version, flags & KT_STORE_CREATE);
	if (err)
		goto cleanup;
	if (!(flags & KT_STORE_RDONLY)) {
		/* WAL: readers never block the writer nor the writer readers. */
		err = exec_simple(st, "PRAGMA journal_mode=WAL");
		if (err)
			goto cleanup;
		err = exec_simple(st, "PRAGMA synchronous=NORMAL");
		if (err)
			goto cleanup;
	}
	if (flags & KT_STORE_CREATE) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", KT_APPLICATION_ID);
		err = exec_simple(st, sql);
		if (err)
			goto cleanup;
		err = migrate(st);
		if (err)
			goto cleanup;
	}
	*out = st;
	return 0;
cleanup:
	kt_store_close(st);
	return err;
}

void kt_store_close(struct kt_store *st)
{
	if (!st)
		return;
	kt_pgr_close(st->pg);
	if (st->db && !sqlite3_get_autocommit(st->db)) {
		/* Every operation is atomic on its own; keep what was batched. */
		pr_warn("store %s: closed inside a transaction; committing it", st->path);
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			kt_sql_err(st, sqlite3_errcode(st->db), "commit on close");
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		}
	}
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	if (st->db && !(st->flags & KT_STORE_RDONLY))
		sqlite3_exec(st->db, "PRAGMA optimize", NULL, NULL, NULL);
	sqlite3_close_v2(st->db);
	ZSTD_freeCCtx(st->cctx);
	kt_compact_ctx_free(st->compact);
	free(st->zbuf);
	free(st->path);
	free(st);
}

int64_t kt_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t kt_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---------------------------------------------------------------- strings */

void kt_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n;

	if (!size)
		return;
	if (!src)
		src = "";
	n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool kt_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

size_t kt_utf8_sanitize(char *dst, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, n;

	while (i < len) {
		/* ASCII 8 bytes at a time: nearly all terminal text (the index
		 * worker sanitizes every line it stores, 4 % of its time byte
		 * by byte) */
		while (len - i >= 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			memcpy(dst + o, &w, 8);
			o += 8;
			i += 8;
		}
		if (i >= len)
			break;
		n = utf8_seq(p + i, len - i);
		if (n) {
			memcpy(dst + o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	dst[o] = 0;
	return o;
}

int kt_sql_ids_each(struct kt_store *st, sqlite3_stmt *q, const char *what,
		    int (*cb)(int64_t id, void *ctx), void *ctx)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc, err = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			void *p = realloc(ids, ncap * sizeof(*ids));

			if (!p) {
				err = -ENOMEM;
				goto cleanup;
			}
			ids = p;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, what);
	sqlite3_finalize(q);
	q = NULL;
	for (size_t i = 0; !err && i < n; i++)
		err = cb(ids[i], ctx);
cleanup:
	sqlite3_finalize(q);
	free(ids);
	return err;
}

int kt_store_set_durable(struct kt_store *st)
{
	if (st->pg)
		return kt_pgr_rofs(st, "durable commits");
	return exec_simple(st, "PRAGMA synchronous=FULL");
}

int kt_store_set_wal_autocheckpoint(struct kt_store *st, int pages)
{
	char sql[64];

	if (pages < 0)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%d", pages);
	return exec_simple(st, sql);
}

int kt_store_wal_checkpoint(struct kt_store *st)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	/* BUSY: another checkpoint runs; the next call does it */
	if (rc == SQLITE_OK || rc == SQLITE_BUSY)
		return 0;
	return kt_sql_err(st, rc, "WAL checkpoint");
}
