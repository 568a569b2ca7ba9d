// SPDX-License-Identifier: Apache-2.0
/*
 * The commands table and command search.
 *
 * Search semantics (documented in FORMAT.md and store.h): the query is split
 * on ASCII whitespace into words; a command matches when its space-joined
 * argv contains every word as a substring, case-insensitively.  Words of 3+
 * characters use the FTS5 trigram index; shorter words (which trigram cannot
 * index) are LIKE '%word%' with % _ \ escaped.  When the session filter
 * leaves few commands, every word is a LIKE over just those (faster than the
 * index for common words).  Case folding is ASCII-only on the LIKE paths and
 * Unicode-aware in the index, the one way the plans can differ.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "pg/pgr.h"
#include "evidence.h"
#include "log.h"

#define CMD_COLS(p) \
	p "id, " p "session_id, " p "seq, " p "ts_us, " p "end_us, " p "has_exit, " \
	p "exit_status, " p "pid, " p "ns_pid, " p "ppid, " p "uid, " p "gid, " \
	p "euid, " p "egid, " p "comm, " p "filename, " p "argv, " p "argc, " p "cwd, " \
	p "argv_truncated, " p "cwd_truncated"

/* Fill *c from columns [k, k + 21); pointers are valid until the next step. */
static void command_from_row(sqlite3_stmt *stmt, int k, struct kt_command *c)
{
	const char *s;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(stmt, k + 0);
	c->session_id = sqlite3_column_int64(stmt, k + 1);
	c->seq = sqlite3_column_int(stmt, k + 2);
	c->ts_us = sqlite3_column_int64(stmt, k + 3);
	c->end_us = sqlite3_column_int64(stmt, k + 4);
	c->has_exit = sqlite3_column_int(stmt, k + 5) != 0;
	c->exit_status = sqlite3_column_int(stmt, k + 6);
	c->pid = (uint32_t)sqlite3_column_int64(stmt, k + 7);
	c->ns_pid = (uint32_t)sqlite3_column_int64(stmt, k + 8);
	c->ppid = (uint32_t)sqlite3_column_int64(stmt, k + 9);
	c->uid = (uint32_t)sqlite3_column_int64(stmt, k + 10);
	c->gid = (uint32_t)sqlite3_column_int64(stmt, k + 11);
	c->euid = (uint32_t)sqlite3_column_int64(stmt, k + 12);
	c->egid = (uint32_t)sqlite3_column_int64(stmt, k + 13);
	kt_strlcpy(c->comm, (const char *)sqlite3_column_text(stmt, k + 14), sizeof(c->comm));
	s = (const char *)sqlite3_column_text(stmt, k + 15);
	c->filename = s ? s : "";
	c->argv = sqlite3_column_blob(stmt, k + 16);
	c->argv_len = (size_t)sqlite3_column_bytes(stmt, k + 16);
	if (!c->argv)
		c->argv = "";
	c->argc = (uint32_t)sqlite3_column_int64(stmt, k + 17);
	s = (const char *)sqlite3_column_text(stmt, k + 18);
	c->cwd = s ? s : "";
	c->argv_truncated = sqlite3_column_int(stmt, k + 19) != 0;
	c->cwd_truncated = sqlite3_column_int(stmt, k + 20) != 0;
}

/*
 * argv "a\0b c\0" -> "a b c": NULs become spaces, trailing NULs go, and
 * invalid UTF-8 becomes U+FFFD so the tokenizer and every reader get text.
 * The exact bytes stay in the argv blob.
 */
static char *argv_join(const char *argv, size_t len)
{
	char *tmp, *out;

	while (len && argv[len - 1] == 0)
		len--;
	tmp = malloc(len + 1);
	out = malloc(len * 3 + 1);
	if (!tmp || !out) {
		free(tmp);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		tmp[i] = argv[i] ? argv[i] : ' ';
	kt_utf8_sanitize(out, tmp, len);
	free(tmp);
	return out;
}

/* Longest prefix of s shorter than max bytes that ends on a UTF-8 boundary. */
static int clip_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < max)
		return (int)n;
	n = max - 1;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

int kt_store_command_add(struct kt_store *st, struct kt_command *c)
{
	sqlite3_stmt *stmt;
	char *text = NULL;
	int32_t seq = 0;
	bool own = false;
	int rc, err;

	err = kt_store_check_writable(st, "command add");
	if (err)
		return err;
	if (!c || (c->argv_len && !c->argv))
		return -EINVAL;
	text = argv_join(c->argv ? c->argv : "", c->argv_len);
	if (!text)
		return -ENOMEM;

	err = kt_op_begin(st, &own);
	if (err)
		goto cleanup;

	/* validate and number first: see kt_op_begin about batches */
	stmt = kt_stmt(st, ST_CMD_SEQ);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, c->session_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int(stmt, 0);
	} else if (rc == SQLITE_DONE) {
		pr_err("store %s: command add: no session %lld", st->path,
		       (long long)c->session_id);
		err = -ENOENT;
	} else {
		err = kt_sql_err(st, rc, "command add (session)");
	}
	sqlite3_reset(stmt);
	if (err)
		goto end;

	stmt = kt_stmt(st, ST_CMD_INSERT);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, c->session_id);
	sqlite3_bind_int(stmt, 2, seq);
	sqlite3_bind_int64(stmt, 3, c->ts_us);
	sqlite3_bind_int64(stmt, 4, c->end_us);
	sqlite3_bind_int(stmt, 5, c->has_exit);
	sqlite3_bind_int(stmt, 6, c->exit_status);
	sqlite3_bind_int64(stmt, 7, c->pid);
	sqlite3_bind_int64(stmt, 8, c->ns_pid);
	sqlite3_bind_int64(stmt, 9, c->ppid);
	sqlite3_bind_int64(stmt, 10, c->uid);
	sqlite3_bind_int64(stmt, 11, c->gid);
	sqlite3_bind_int64(stmt, 12, c->euid);
	sqlite3_bind_int64(stmt, 13, c->egid);
	sqlite3_bind_text(stmt, 14, c->comm, (int)strnlen(c->comm, sizeof(c->comm)), SQLITE_STATIC);
	sqlite3_bind_text(stmt, 15, c->filename ? c->filename : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 16, c->argv ? c->argv : "", (int)c->argv_len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 17, c->argc);
	sqlite3_bind_text(stmt, 18, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 19, c->cwd ? c->cwd : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 20, c->argv_truncated);
	sqlite3_bind_int(stmt, 21, c->cwd_truncated);
	err = kt_stmt_done(st, stmt, "command add");
	if (err)
		goto end;
	c->id = sqlite3_last_insert_rowid(st->db);
	c->seq = seq;

	stmt = kt_stmt(st, ST_CMD_FTS);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, c->id);
	sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
	err = kt_stmt_done(st, stmt, "command add (search index)");
	if (err)
		goto end;

	stmt = kt_stmt(st, ST_CMD_BUMP);
	if (!stmt) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(stmt, 1, c->session_id);
	sqlite3_bind_text(stmt, 2, text, clip_utf8(text, KT_STR_LONG), SQLITE_STATIC);
	err = kt_stmt_done(st, stmt, "command add (session)");
end:
	err = kt_op_end(st, own, err);
cleanup:
	free(text);
	return err;
}

int kt_store_command_exit_seq(struct kt_store *st, int64_t session_id, uint32_t pid,
			      int64_t end_us, int exit_status, int32_t *seq)
{
	sqlite3_stmt *stmt;
	int rc, err;

	*seq = -1;
	err = kt_store_check_writable(st, "command exit");
	if (err)
		return err;
	stmt = kt_stmt(st, ST_CMD_EXIT);
	if (!stmt)
		return -ENOMEM;
	sqlite3_bind_int64(stmt, 1, session_id);
	sqlite3_bind_int64(stmt, 2, pid);
	sqlite3_bind_int64(stmt, 3, end_us);
	sqlite3_bind_int(stmt, 4, exit_status);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int(stmt, 0);
	else if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "command exit");
	sqlite3_reset(stmt);
	return err;
}

int kt_store_command_exit(struct kt_store *st, int64_t session_id, uint32_t pid,
			  int64_t end_us, int exit_status)
{
	int32_t seq;

	return kt_store_command_exit_seq(st, session_id, pid, end_us, exit_status, &seq);
}

int kt_store_commands_list(struct kt_store *st, int64_t session_id,
			   kt_command_cb cb, void *ctx)
{
	sqlite3_stmt *stmt = NULL;
	struct kt_command c;
	int rc, err = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_commands_list(st, session_id, cb, ctx);
	/* Not cached: the callback may call back into the store. */
	rc = sqlite3_prepare_v2(st->db, "SELECT " CMD_COLS("") " FROM commands"
				" WHERE session_id = ?1 ORDER BY seq", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "commands list");
	sqlite3_bind_int64(stmt, 1, session_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		command_from_row(stmt, 0, &c);
		err = cb(&c, ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "commands list");
cleanup:
	sqlite3_finalize(stmt);
	return err;
}

/* ---------------------------------------------------------------- search */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

void kt_search_plan_free(struct kt_search_plan *p)
{
	free(p->fts);
	for (int i = 0; i < p->nlike; i++)
		free(p->like[i]);
	free(p->like);
	free(p->indexed);
}

/*
 * User text -> FTS5 phrases and LIKE patterns.  Every word becomes one
 * double-quoted FTS5 string (internal " doubled), so operators, column
 * filters, prefixes and NEAR() are plain characters, and one LIKE pattern
 * with \ % _ escaped; no user byte ever reaches SQL text.
 */
static int plan_query(const char *q, size_t len, struct kt_search_plan *p)
{
	size_t i = 0, o = 0, maxw = len / 2 + 1;

	memset(p, 0, sizeof(*p));
	p->fts = malloc(len * 3 + 8); /* worst case: every byte a doubled quote */
	p->like = calloc(maxw, sizeof(*p->like));
	p->indexed = calloc(maxw, sizeof(*p->indexed));
	if (!p->fts || !p->like || !p->indexed)
		return -ENOMEM;
	while (i < len) {
		size_t start, wlen;
		char *pat, *w;

		while (i < len && is_space(q[i]))
			i++;
		start = i;
		while (i < len && !is_space(q[i]))
			i++;
		wlen = i - start;
		if (!wlen)
			break;
		if (utf8_chars(q + start, wlen) >= 3) {
			if (o)
				p->fts[o++] = ' ';
			p->fts[o++] = '"';
			for (size_t k = start; k < i; k++) {
				if (q[k] == '"')
					p->fts[o++] = '"';
				p->fts[o++] = q[k];
			}
			p->fts[o++] = '"';
			p->indexed[p->nlike] = true;
		}
		pat = w = malloc(wlen * 2 + 3);
		if (!pat)
			return -ENOMEM;
		*w++ = '%';
		for (size_t k = start; k < i; k++) {
			if (q[k] == '%' || q[k] == '_' || q[k] == '\\')
				*w++ = '\\';
			*w++ = q[k];
		}
		*w++ = '%';
		*w = 0;
		p->like[p->nlike++] = pat;
	}
	p->fts[o] = 0;
	if (!o) {
		free(p->fts);
		p->fts = NULL;
	}
	return 0;
}

/* Shared with the screen text search (index/index_search.c). */
int kt_search_plan_make(const char *query, struct kt_search_plan *p)
{
	size_t qlen = strnlen(query, KT_QUERY_MAX + 1);
	int err;

	memset(p, 0, sizeof(*p));
	if (qlen > KT_QUERY_MAX) {
		pr_err("search: query longer than %d bytes", KT_QUERY_MAX);
		return -EINVAL;
	}
	if (!kt_utf8_valid(query, qlen)) {
		pr_err("search: query is not valid UTF-8");
		return -EINVAL;
	}
	err = plan_query(query, qlen, p);
	if (!err && !p->fts && !p->nlike) {
		pr_err("search: empty query");
		err = -EINVAL;
	}
	if (err)
		kt_search_plan_free(p);
	return err;
}

static bool filter_selects(const struct kt_session_filter *f)
{
	return f->k8s_namespace || f->pod || f->container || f->node || f->since_us ||
	       f->until_us || f->active == 0 || f->active == 1 || f->tty == 0 || f->tty == 1;
}

/* How many commands the filter's sessions hold (sum of n_commands). */
static int filter_commands(struct kt_store *st, const struct kt_session_filter *f,
			   int64_t *n)
{
	sqlite3_stmt *stmt = NULL;
	char sql[1024] = "SELECT total(n_commands) FROM sessions WHERE 1";
	int np = 0, rc, err;

	*n = INT64_MAX;
	err = kt_session_filter_sql(f, "", sql, sizeof(sql), &np);
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "commands search");
	kt_session_filter_bind(stmt, f, 1);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*n = (int64_t)sqlite3_column_double(stmt, 0);
	else
		err = kt_sql_err(st, rc, "commands search");
	sqlite3_finalize(stmt);
	return err;
}

/*
 * Below this many commands in the filtered sessions, LIKE over just those
 * rows beats walking the FTS hits of the whole node (a common word has tens
 * of thousands) and looking each one's session up.
 */
#define KT_SEARCH_SCAN_MAX 20000

int kt_store_commands_search(struct kt_store *st, const char *query,
			     const struct kt_session_filter *f,
			     kt_command_hit_cb cb, void *ctx)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct kt_search_plan plan = { 0 };
	struct kt_session_info *s = NULL;
	sqlite3_stmt *stmt = NULL;
	struct kt_command c;
	char scols[1024], *sql = NULL;
	size_t sqlcap, o;
	bool by_session = false, use_fts;
	int n = 0, rc, err;

	if (!st || !query || !cb)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_commands_search(st, query, f, cb, ctx);
	if (!f)
		f = &any;
	err = kt_search_plan_make(query, &plan);
	if (err)
		return err;

	/*
	 * Three plans, same results:
	 *  - fts: the trigram index walks hits newest first (ORDER BY rowid
	 *    DESC LIMIT stops early), words under 3 characters as LIKE;
	 *  - sessions: a selective filter drives from its few sessions' commands,
	 *    every word as LIKE;
	 *  - scan: only short words and no selective filter: LIKE over all
	 *    commands, newest first.
	 * CROSS JOIN pins the loop order the plan is about.
	 */
	if (filter_selects(f)) {
		int64_t ncmd;

		err = filter_commands(st, f, &ncmd);
		if (err)
			goto cleanup;
		by_session = ncmd <= KT_SEARCH_SCAN_MAX;
	}
	use_fts = plan.fts && !by_session;

	sqlcap = 4096 + (size_t)plan.nlike * 64;
	sql = malloc(sqlcap);
	s = malloc(sizeof(*s));
	if (!sql || !s) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!kt_session_cols_prefixed("s.", scols, sizeof(scols))) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	/* ?1..?6 session filter, ?7 FTS query, ?8 after_id, ?9 limit, ?10.. LIKE */
	if (use_fts)
		o = snprintf(sql, sqlcap,
			     "SELECT %s, " CMD_COLS("c.") " FROM commands_fts"
			     " CROSS JOIN commands c ON c.id = commands_fts.rowid"
			     " CROSS JOIN sessions s ON s.id = c.session_id"
			     " WHERE commands_fts MATCH ?7", scols);
	else if (by_session)
		o = snprintf(sql, sqlcap,
			     "SELECT %s, " CMD_COLS("c.") " FROM sessions s"
			     " CROSS JOIN commands c ON c.session_id = s.id WHERE 1", scols);
	else
		o = snprintf(sql, sqlcap,
			     "SELECT %s, " CMD_COLS("c.") " FROM commands c"
			     " CROSS JOIN sessions s ON s.id = c.session_id WHERE 1", scols);
	for (int i = 0; i < plan.nlike; i++)
		if (!use_fts || !plan.indexed[i])
			o += snprintf(sql + o, sqlcap - o,
				      " AND c.argv_text LIKE ?%d ESCAPE '\\'", 10 + i);
	if (f->after_id > 0)
		o += snprintf(sql + o, sqlcap - o, " AND %s < ?8",
			      use_fts ? "commands_fts.rowid" : "c.id");
	err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
	if (err)
		goto cleanup;
	o = strlen(sql);
	o += snprintf(sql + o, sqlcap - o, " ORDER BY %s DESC",
		      use_fts ? "commands_fts.rowid" : "c.id");
	if (f->limit > 0)
		snprintf(sql + o, sqlcap - o, " LIMIT ?9");

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "commands search");
		goto cleanup;
	}
	kt_session_filter_bind(stmt, f, 1);
	if (use_fts)
		sqlite3_bind_text(stmt, 7, plan.fts, -1, SQLITE_STATIC);
	if (f->after_id > 0)
		sqlite3_bind_int64(stmt, 8, f->after_id);
	if (f->limit > 0)
		sqlite3_bind_int(stmt, 9, f->limit);
	for (int i = 0; i < plan.nlike; i++)
		if (!use_fts || !plan.indexed[i])
			sqlite3_bind_text(stmt, 10 + i, plan.like[i], -1, SQLITE_STATIC);

	s->id = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		/* hits come in runs from one session: copy it once per run */
		if (sqlite3_column_int64(stmt, 0) != s->id || !s->id)
			kt_session_from_row(stmt, 0, s);
		command_from_row(stmt, sqlite3_column_count(stmt) - 21, &c);
		err = cb(s, &c, ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "commands search");
cleanup:
	sqlite3_finalize(stmt);
	kt_search_plan_free(&plan);
	free(sql);
	free(s);
	return err;
}
