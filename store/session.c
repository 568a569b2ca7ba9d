// SPDX-License-Identifier: Apache-2.0
/*
 * The sessions table.  One column table drives INSERT, UPDATE, SELECT and
 * the row -> struct copy, so a new field is one line here (plus a
 * migration).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "log.h"
#include "pg/pgr.h"

enum col_type { C_I64, C_U64, C_INT, C_U32, C_U16, C_BOOL, C_STR };

enum col_update {
	U_SET,    /* update rewrites it */
	U_NEVER,  /* identity: id, uuid */
	U_MAX,    /* store-maintained running total: never decreases */
	U_KEEP,   /* store-maintained text: an empty value keeps the stored one */
};

struct col {
	const char *name;
	enum col_type type;
	size_t off, size;
	enum col_update upd;
};

#define COL(f, t, u) { #f, t, offsetof(struct kt_session_info, f), \
		       sizeof(((struct kt_session_info *)0)->f), u }

static const struct col cols[] = {
	COL(id, C_I64, U_NEVER),
	COL(uuid, C_STR, U_NEVER),
	COL(kernel_id, C_U64, U_SET),
	COL(start_us, C_I64, U_SET),
	COL(end_us, C_I64, U_SET),
	COL(state, C_INT, U_SET),
	COL(has_exit, C_BOOL, U_SET),
	COL(exit_status, C_INT, U_SET),
	COL(node, C_STR, U_SET),
	COL(k8s_namespace, C_STR, U_SET),
	COL(pod, C_STR, U_SET),
	COL(pod_uid, C_STR, U_SET),
	COL(container, C_STR, U_SET),
	COL(container_id, C_STR, U_SET),
	COL(runtime, C_STR, U_SET),
	COL(attribution_guess, C_BOOL, U_SET),
	COL(entry_flags, C_U32, U_SET),
	COL(hostname, C_STR, U_SET),
	COL(cgroup_path, C_STR, U_SET),
	COL(cgroup_id, C_U64, U_SET),
	COL(pidns_ino, C_U32, U_SET),
	COL(mntns_ino, C_U32, U_SET),
	COL(leader_pid, C_U32, U_SET),
	COL(leader_ns_pid, C_U32, U_SET),
	COL(leader_uid, C_U32, U_SET),
	COL(leader_gid, C_U32, U_SET),
	COL(leader_comm, C_STR, U_SET),
	COL(has_tty, C_BOOL, U_SET),
	COL(tty_name, C_STR, U_SET),
	COL(rows, C_U16, U_SET),
	COL(cols, C_U16, U_SET),
	COL(capture, C_STR, U_SET),
	COL(bytes_out, C_U64, U_MAX),
	COL(bytes_in, C_U64, U_MAX),
	COL(lost_bytes, C_U64, U_MAX),
	COL(lost_events, C_U64, U_MAX),
	COL(n_commands, C_U32, U_MAX),
	COL(first_command, C_STR, U_KEEP),
};
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

/* "id, uuid, ..." in cols[] order */
const char *const kt_session_cols_sql =
	"id, uuid, kernel_id, start_us, end_us, state, has_exit, exit_status, node,"
	" k8s_namespace, pod, pod_uid, container, container_id, runtime,"
	" attribution_guess, entry_flags, hostname, cgroup_path, cgroup_id, pidns_ino, mntns_ino,"
	" leader_pid, leader_ns_pid, leader_uid, leader_gid, leader_comm, has_tty,"
	" tty_name, rows, cols, capture, bytes_out, bytes_in, lost_bytes, lost_events,"
	" n_commands, first_command";

const char *kt_session_cols_prefixed(const char *prefix, char *buf, size_t len)
{
	size_t o = 0;

	for (int i = 0; i < NCOLS; i++) {
		int n = snprintf(buf + o, len - o, "%s%s%s", i ? ", " : "", prefix, cols[i].name);

		if (n < 0 || (size_t)n >= len - o)
			return NULL;
		o += n;
	}
	return buf;
}

int kt_session_ncols(void)
{
	return NCOLS;
}

bool kt_session_col_is_str(int i)
{
	return i >= 0 && i < NCOLS && cols[i].type == C_STR;
}

/* Integer columns as kt_session_from_row converts them (same widths). */
void kt_session_col_set_int(struct kt_session_info *s, int i, int64_t v)
{
	const struct col *c = &cols[i];
	char *p = (char *)s + c->off;

	switch (c->type) {
	case C_I64: *(int64_t *)p = v; break;
	case C_U64: *(uint64_t *)p = (uint64_t)v; break;
	case C_INT: *(int *)p = (int)v; break;
	case C_U32: *(uint32_t *)p = (uint32_t)v; break;
	case C_U16: *(uint16_t *)p = (uint16_t)v; break;
	case C_BOOL: *(bool *)p = v != 0; break;
	case C_STR: break;
	}
}

void kt_session_col_set_str(struct kt_session_info *s, int i, const char *v, size_t len)
{
	const struct col *c = &cols[i];
	char *p = (char *)s + c->off;

	/* clipped as kt_strlcpy clips the node's value in kt_session_from_row */
	if (c->type != C_STR)
		return;
	len = len < c->size - 1 ? len : c->size - 1;
	memcpy(p, v, len);
	p[len] = 0;
}

/* Statement text is built into the caller's buffer (no shared state: stores
 * may be opened from several threads). */
const char *kt_session_insert_sql(char *sql_insert, size_t len)
{
	size_t o;
	int n = 0;

	o = snprintf(sql_insert, len, "INSERT INTO sessions (");
	for (int i = 1; i < NCOLS; i++)
		o += snprintf(sql_insert + o, len - o, "%s%s", i > 1 ? ", " : "",
			      cols[i].name);
	o += snprintf(sql_insert + o, len - o, ") VALUES (");
	for (int i = 1; i < NCOLS; i++)
		o += snprintf(sql_insert + o, len - o, "%s?%d", n++ ? ", " : "", i);
	snprintf(sql_insert + o, len - o, ")");
	return sql_insert;
}

/* Parameter ?N is cols[N - 1]; ?1 is the id. */
const char *kt_session_update_sql(char *sql_update, size_t len)
{
	size_t o;
	int n = 0;

	o = snprintf(sql_update, len, "UPDATE sessions SET ");
	for (int i = 0; i < NCOLS; i++) {
		const char *nm = cols[i].name, *sep = n ? ", " : "";

		switch (cols[i].upd) {
		case U_NEVER:
			continue;
		case U_SET:
			o += snprintf(sql_update + o, len - o, "%s%s = ?%d", sep, nm, i + 1);
			break;
		case U_MAX:
			o += snprintf(sql_update + o, len - o, "%s%s = max(%s, ?%d)",
				      sep, nm, nm, i + 1);
			break;
		case U_KEEP:
			o += snprintf(sql_update + o, len - o,
				      "%s%s = coalesce(nullif(?%d, ''), %s)", sep, nm, i + 1, nm);
			break;
		}
		n++;
	}
	snprintf(sql_update + o, len - o, " WHERE id = ?1");
	return sql_update;
}

const char *kt_session_get_sql(char *sql_get, size_t len)
{
	snprintf(sql_get, len, "SELECT %s FROM sessions WHERE id = ?1", kt_session_cols_sql);
	return sql_get;
}

static void bind_col(sqlite3_stmt *stmt, int param, const struct col *c,
		     const struct kt_session_info *s)
{
	const char *p = (const char *)s + c->off;

	switch (c->type) {
	case C_I64:
		sqlite3_bind_int64(stmt, param, *(const int64_t *)p);
		break;
	case C_U64: /* bit pattern kept: ids and inode-like values may use bit 63 */
		sqlite3_bind_int64(stmt, param, (int64_t)*(const uint64_t *)p);
		break;
	case C_INT:
		sqlite3_bind_int(stmt, param, *(const int *)p);
		break;
	case C_U32:
		sqlite3_bind_int64(stmt, param, *(const uint32_t *)p);
		break;
	case C_U16:
		sqlite3_bind_int(stmt, param, *(const uint16_t *)p);
		break;
	case C_BOOL:
		sqlite3_bind_int(stmt, param, *(const bool *)p);
		break;
	case C_STR: /* fields may be filled to the brim without a NUL */
		sqlite3_bind_text(stmt, param, p, (int)strnlen(p, c->size), SQLITE_STATIC);
		break;
	}
}

void kt_session_from_row(sqlite3_stmt *stmt, int first, struct kt_session_info *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < NCOLS; i++) {
		const struct col *c = &cols[i];
		char *p = (char *)s + c->off;
		int k = first + i;

		switch (c->type) {
		case C_I64:
			*(int64_t *)p = sqlite3_column_int64(stmt, k);
			break;
		case C_U64:
			*(uint64_t *)p = (uint64_t)sqlite3_column_int64(stmt, k);
			break;
		case C_INT:
			*(int *)p = sqlite3_column_int(stmt, k);
			break;
		case C_U32:
			*(uint32_t *)p = (uint32_t)sqlite3_column_int64(stmt, k);
			break;
		case C_U16:
			*(uint16_t *)p = (uint16_t)sqlite3_column_int(stmt, k);
			break;
		case C_BOOL:
			*(bool *)p = sqlite3_column_int(stmt, k) != 0;
			break;
		case C_STR:
			kt_strlcpy(p, (const char *)sqlite3_column_text(stmt, k), c->size);
			break;
		}
	}
}

/* The cached session statements: their SQL comes from the column table
 * here, so the store's statement cache (store.c) needs nothing of ours. */
static sqlite3_stmt *session_stmt(struct kt_store *st, enum kt_stmt_id id)
{
	char buf[4096];
	const char *sql = NULL;

	if (!st->stmts[id]) {
		if (id == ST_SESSION_INSERT)
			sql = kt_session_insert_sql(buf, sizeof(buf));
		else if (id == ST_SESSION_UPDATE)
			sql = kt_session_update_sql(buf, sizeof(buf));
		else
			sql = kt_session_get_sql(buf, sizeof(buf));
	}
	return kt_stmt_sql(st, id, sql);
}

int kt_store_session_create(struct kt_store *st, struct kt_session_info *s)
{
	sqlite3_stmt *stmt;
	int rc, err;

	err = kt_store_check_writable(st, "session create");
	if (err)
		return err;
	if (!s || !s->uuid[0])
		return -EINVAL;
	stmt = session_stmt(st, ST_SESSION_INSERT);
	if (!stmt)
		return -ENOMEM;
	for (int i = 1; i < NCOLS; i++)
		bind_col(stmt, i, &cols[i], s);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		s->id = sqlite3_last_insert_rowid(st->db);
		err = 0;
	} else if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		pr_err("store %s: session %.*s already exists", st->path,
		       (int)sizeof(s->uuid), s->uuid);
		err = -EEXIST;
	} else {
		err = kt_sql_err(st, rc, "session create");
	}
	sqlite3_reset(stmt);
	return err;
}

int kt_store_session_update(struct kt_store *st, const struct kt_session_info *s)
{
	sqlite3_stmt *stmt;
	int rc, err;

	err = kt_store_check_writable(st, "session update");
	if (err)
		return err;
	if (!s)
		return -EINVAL;
	stmt = session_stmt(st, ST_SESSION_UPDATE);
	if (!stmt)
		return -ENOMEM;
	for (int i = 0; i < NCOLS; i++)
		if (cols[i].upd != U_NEVER || i == 0)
			bind_col(stmt, i + 1, &cols[i], s);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "session update");
	else if (sqlite3_changes(st->db) == 0)
		err = -ENOENT;
	sqlite3_reset(stmt);
	return err;
}

int kt_store_session_get(struct kt_store *st, int64_t id, struct kt_session_info *out)
{
	sqlite3_stmt *stmt;
	int rc, err = 0;

	if (!st || !out)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_session_get(st, id, out);
	stmt = session_stmt(st, ST_SESSION_GET);
	if (!stmt)
		return -ENOMEM;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		kt_session_from_row(stmt, 0, out);
	else if (rc == SQLITE_DONE)
		err = -ENOENT;
	else
		err = kt_sql_err(st, rc, "session get");
	sqlite3_reset(stmt);
	return err;
}

int kt_store_session_origin(struct kt_store *st, int64_t id, char *node, size_t len,
			    int64_t *node_id)
{
	if (!st || !node || !len || !node_id)
		return -EINVAL;
	return st->pg ? kt_pgr_session_origin(st, id, node, len, node_id) : 0;
}

int kt_store_session_find(struct kt_store *st, const char *node, int64_t node_id,
			  int64_t *id)
{
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	if (!st || !node || !id)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_session_find(st, node, node_id, id);
	rc = sqlite3_prepare_v2(st->db, "SELECT id FROM sessions WHERE id = ?1 AND node = ?2",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "session find");
	sqlite3_bind_int64(q, 1, node_id);
	sqlite3_bind_text(q, 2, node, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		err = -ENOENT;
	else
		err = kt_sql_err(st, rc, "session find");
	sqlite3_finalize(q);
	return err;
}

int kt_store_sessions_interrupt_open(struct kt_store *st, int64_t now_us, int *count)
{
	sqlite3_stmt *stmt;
	int err;

	if (count)
		*count = 0;
	err = kt_store_check_writable(st, "interrupt open sessions");
	if (err)
		return err;
	stmt = kt_stmt(st, ST_SESSION_INTERRUPT);
	if (!stmt)
		return -ENOMEM;
	sqlite3_bind_int64(stmt, 1, now_us);
	err = kt_stmt_done(st, stmt, "interrupt open sessions");
	if (!err && count)
		*count = sqlite3_changes(st->db);
	return err;
}

/* ---------------------------------------------------------------- filters */

/* SQLite: parameters numbered in a fixed order after *nparam, bound by
 * kt_session_filter_bind. */
static const char *sqlite_ph(void *ctx, int slot, const struct kt_session_filter *f,
			     char *buf, size_t len)
{
	(void)f;
	snprintf(buf, len, "?%d", *(int *)ctx + slot);
	return buf;
}

int kt_session_filter_sql(const struct kt_session_filter *f, const char *alias,
			  char *sql, size_t len, int *nparam)
{
	struct kt_filter_dialect d = { .instr = "instr", .ph = sqlite_ph, .ctx = nparam };
	int err = kt_session_filter_sql_d(f, alias, sql, len, &d);

	if (!err)
		*nparam += 6;
	return err;
}

int kt_session_filter_sql_d(const struct kt_session_filter *f, const char *alias,
			    char *sql, size_t len, const struct kt_filter_dialect *d)
{
	size_t o = strlen(sql);
	char ph[24];

/* '%' || value with \ % _ escaped || '%' (LIKE's default escape is \) */
#define KT_ILIKE_SUBSTR "('%%' || replace(replace(replace(%s, '\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || '%%')"

#define ADD(...) do { \
		int _w = snprintf(sql + o, len - o, __VA_ARGS__); \
		if (_w < 0 || (size_t)_w >= len - o) return -ENAMETOOLONG; \
		o += _w; } while (0)
#define PH(slot) d->ph(d->ctx, slot, f, ph, sizeof(ph))

	/* Slots 1..6 in a fixed order (SQLite numbers its parameters by
	 * them, unused ones left unbound and absent from the SQL;
	 * kt_session_filter_bind mirrors it). */
	/* substr: ASCII case-insensitive (SQLite's lower() folds ASCII only,
	 * as PostgreSQL's does in the cluster store's SQL_ASCII/C database;
	 * Kubernetes names are lower-case ASCII, what an auditor types may not
	 * be).  instr/strpos, not LIKE: '%' and '_' in the text stay literal. */
	if (f->k8s_namespace && f->substr && d->ilike)
		ADD(" AND %sk8s_namespace ILIKE " KT_ILIKE_SUBSTR, alias, PH(1));
	else if (f->k8s_namespace && f->substr)
		ADD(" AND %s(lower(%sk8s_namespace), lower(%s)) > 0", d->instr, alias, PH(1));
	else if (f->k8s_namespace)
		ADD(" AND %sk8s_namespace = %s", alias, PH(1));
	if (f->pod && f->substr && d->ilike)
		ADD(" AND %spod ILIKE " KT_ILIKE_SUBSTR, alias, PH(2));
	else if (f->pod && f->substr)
		ADD(" AND %s(lower(%spod), lower(%s)) > 0", d->instr, alias, PH(2));
	else if (f->pod)
		ADD(" AND %spod = %s", alias, PH(2));
	if (f->container)
		ADD(" AND %scontainer = %s", alias, PH(3));
	if (f->node && d->node_alt) {
		ADD(" AND (%snode = %s", alias, PH(4));
		ADD(" OR %s%s = %s)", alias, d->node_alt, PH(4));
	} else if (f->node) {
		ADD(" AND %snode = %s", alias, PH(4));
	}
	/* overlap of [start, end or +inf while open] with [since, until] */
	if (f->until_us)
		ADD(" AND %sstart_us <= %s", alias, PH(5));
	if (f->since_us) {
		PH(6);
		ADD(" AND (%send_us = 0 OR %send_us >= %s)", alias, alias, ph);
	}
	if (f->active == 1)
		ADD(" AND %sstate = 0", alias);
	else if (f->active == 0)
		ADD(" AND %sstate <> 0", alias);
	if (f->tty == 0 || f->tty == 1)
		ADD(" AND %shas_tty = %d", alias, f->tty);
#undef PH
#undef ADD
	return 0;
}

int kt_session_filter_bind(sqlite3_stmt *stmt, const struct kt_session_filter *f,
			   int first)
{
	if (f->k8s_namespace)
		sqlite3_bind_text(stmt, first, f->k8s_namespace, -1, SQLITE_STATIC);
	if (f->pod)
		sqlite3_bind_text(stmt, first + 1, f->pod, -1, SQLITE_STATIC);
	if (f->container)
		sqlite3_bind_text(stmt, first + 2, f->container, -1, SQLITE_STATIC);
	if (f->node)
		sqlite3_bind_text(stmt, first + 3, f->node, -1, SQLITE_STATIC);
	if (f->until_us)
		sqlite3_bind_int64(stmt, first + 4, f->until_us);
	if (f->since_us)
		sqlite3_bind_int64(stmt, first + 5, f->since_us);
	return 0;
}

int kt_store_sessions_list(struct kt_store *st, const struct kt_session_filter *f,
			   kt_session_cb cb, void *ctx)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct kt_session_info *s = NULL;
	sqlite3_stmt *stmt = NULL;
	char sql[4096];
	int n = 0, rc, err;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_sessions_list(st, f, cb, ctx);
	if (!f)
		f = &any;
	snprintf(sql, sizeof(sql), "SELECT %s FROM sessions WHERE 1", kt_session_cols_sql);
	err = kt_session_filter_sql(f, "", sql, sizeof(sql), &n);
	if (err)
		return err;
	/* ?7 after_id, ?8 limit, ?9 after_start_us */
	if (f->after_id > 0 && f->by_start)
		strcat(sql, " AND (start_us < ?9 OR (start_us = ?9 AND id < ?7))");
	else if (f->after_id > 0)
		strcat(sql, " AND id < ?7");
	strcat(sql, f->by_start ? " ORDER BY start_us DESC, id DESC" : " ORDER BY id DESC");
	if (f->limit > 0)
		strcat(sql, " LIMIT ?8");

	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* Not cached: the callback may call back into the store. */
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "sessions list");
		goto cleanup;
	}
	kt_session_filter_bind(stmt, f, 1);
	if (f->after_id > 0)
		sqlite3_bind_int64(stmt, 7, f->after_id);
	if (f->limit > 0)
		sqlite3_bind_int(stmt, 8, f->limit);
	if (f->after_id > 0 && f->by_start)
		sqlite3_bind_int64(stmt, 9, f->after_start_us);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kt_session_from_row(stmt, 0, s);
		err = cb(s, ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "sessions list");
cleanup:
	sqlite3_finalize(stmt);
	free(s);
	return err;
}

int kt_store_sessions_count(struct kt_store *st, const struct kt_session_filter *f,
			    int64_t *count)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	sqlite3_stmt *stmt = NULL;
	char sql[1024] = "SELECT count(*) FROM sessions WHERE 1";
	int n = 0, rc, err;

	if (!st || !count)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_sessions_count(st, f, count);
	if (!f)
		f = &any;
	err = kt_session_filter_sql(f, "", sql, sizeof(sql), &n);
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "sessions count");
	kt_session_filter_bind(stmt, f, 1);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(stmt, 0);
	else
		err = kt_sql_err(st, rc, "sessions count");
	sqlite3_finalize(stmt);
	return err;
}
