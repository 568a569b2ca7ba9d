// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL schema step 8: sessions.cmd_bloom, a session's command
 * trigrams (pg_bloom.c; FORMAT-pg.md "Command trigrams").  Never edit a
 * released step.
 *
 * NULL means "not known": the search tests such a session's commands as
 * before.  Step 8 fills the column for every ended session from the
 * server's own commands and leaves active ones NULL: a shipper older than
 * step 8 that is still connected while the step runs (a rolling upgrade)
 * goes on adding commands to active sessions without writing the column,
 * and a filter that missed them would hide hits.  It never sets the
 * column, so what it ships stays NULL; a step-8 shipper writes the whole
 * filter, from the node's commands, with the upsert of the session row
 * whenever the server lacks some of them or has no filter
 * (pg_ship_session.c).
 * An ended session with no commands on the server gets the empty filter.
 *
 * The fill reads the commands in the order of their unique key (src,
 * session_id, seq) INCLUDE (argv_text): an index-only scan, no sort, one
 * session's filter in memory at a time; the filters go to a temporary
 * table by COPY as each fetch completes them (streamed: libpq buffers),
 * then one UPDATE joins them in.  On
 * bench/pg_scale.sh's 100,000 sessions and 10 M commands: see
 * FORMAT-pg.md for the measured time.  It runs inside the migration's
 * transaction (shippers wait on their next batch).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_bloom.h"
#include "pg_int.h"

/*
 * With it, sessions_end: a search with --since walked sessions newest
 * first until it had its hits, and since the column made every session
 * row 256 bytes wider, a walk through most of them got slower (bench set,
 * where gids are not in time order: `search secret --since 7d` 75 -> 94
 * ms).  By the index, the sessions alive since then are found first:
 * 25-35 ms for every --since search measured there (`password --since
 * 30d` was 106 ms).  ~2 MB per 100,000 sessions.
 */
const char kt_pg_step_cmd_bloom[] = "ALTER TABLE sessions ADD COLUMN cmd_bloom " KT_PG_BLOOM_TYPE ";"
	"CREATE INDEX sessions_end ON sessions (end_us);";

#define FILL_FETCH 20000

struct fill {
	PGconn *c;
	char *src;              /* the session being read, NULL before the first */
	int64_t id;
	uint8_t bloom[KT_PG_BLOOM_BYTES];
	int64_t sessions;
};

/* A piece of the COPY text stream (libpq buffers and sends it). */
static int put(struct fill *f, const char *s, size_t n)
{
	return PQputCopyData(f->c, s, (int)n) == 1 ? 0 : kt_pg_err(f->c, NULL, "step 8: COPY data");
}

/* COPY's text format: a backslash, tab, newline or CR in src escaped. */
static int put_field(struct fill *f, const char *s)
{
	const char *run = s;
	int err = 0;

	for (; *s && !err; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" :
				*s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;

		if (!e)
			continue;
		err = put(f, run, (size_t)(s - run));
		if (!err)
			err = put(f, e, 2);
		run = s + 1;
	}
	return err ? err : put(f, run, (size_t)(s - run));
}

/* The session read so far as one COPY line (inside copy_begin/copy_end). */
static int flush_session(struct fill *f)
{
	char num[32], hex[KT_PG_BLOOM_HEX];
	int err;

	if (!f->src)
		return 0;
	kt_pg_bloom_hex(f->bloom, hex);
	snprintf(num, sizeof(num), "\t%" PRId64 "\t", f->id);
	err = put_field(f, f->src);
	if (!err)
		err = put(f, num, strlen(num));
	if (!err)
		err = put(f, hex, KT_PG_BLOOM_HEX - 1);
	if (!err)
		err = put(f, "\n", 1);
	free(f->src);
	f->src = NULL;
	f->sessions++;
	return err;
}

static int copy_begin(struct fill *f)
{
	PGresult *r = PQexec(f->c, "COPY kt_bloom_fill FROM STDIN");
	int err = PQresultStatus(r) == PGRES_COPY_IN ? 0 : kt_pg_err(f->c, r, "step 8: COPY");

	PQclear(r);
	return err;
}

/* End the COPY; after an error, abort it (the connection must leave the
 * COPY state for the migration's ROLLBACK) and keep that error. */
static int copy_end(struct fill *f, int err)
{
	PGresult *r;

	if (PQputCopyEnd(f->c, err ? "step 8 failed" : NULL) != 1 && !err)
		err = kt_pg_err(f->c, NULL, "step 8: COPY end");
	while ((r = PQgetResult(f->c))) {
		if (!err && PQresultStatus(r) != PGRES_COMMAND_OK)
			err = kt_pg_err(f->c, r, "step 8: COPY");
		PQclear(r);
	}
	return err;
}

static int fill_rows(struct fill *f, const PGresult *r)
{
	int err = 0;

	for (int i = 0; i < PQntuples(r) && !err; i++) {
		const char *src = PQgetvalue(r, i, 0);
		int64_t id = strtoll(PQgetvalue(r, i, 1), NULL, 10);

		if (!f->src || f->id != id || strcmp(f->src, src) != 0) {
			err = flush_session(f);
			if (err)
				break;
			f->src = strdup(src);
			if (!f->src)
				return -ENOMEM;
			f->id = id;
			memset(f->bloom, 0, sizeof(f->bloom));
		}
		kt_pg_bloom_add(f->bloom, PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2));
	}
	return err;
}

int kt_pg_fill_cmd_bloom(PGconn *c)
{
	struct fill f = { .c = c };
	char sql[256];
	PGresult *r = NULL;
	int err;

	/* the key's order from its index, not a sort of every command */
	err = kt_pg_exec(c, "SET LOCAL enable_sort = off;"
			 "CREATE TEMP TABLE kt_bloom_fill (src text, id bigint, b " KT_PG_BLOOM_TYPE ")"
			 " ON COMMIT DROP;"
			 "DECLARE kt_bloom NO SCROLL CURSOR FOR SELECT src, session_id, argv_text"
			 " FROM commands ORDER BY src, session_id", "step 8: reading commands");
	snprintf(sql, sizeof(sql), "FETCH %d FROM kt_bloom", FILL_FETCH);
	while (!err) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			err = kt_pg_err(c, r, "step 8: reading commands");
			break;
		}
		if (PQntuples(r) == 0)
			break;
		/* the sessions this fetch completed; the last one may go on */
		err = copy_begin(&f);
		if (!err)
			err = copy_end(&f, fill_rows(&f, r));
		PQclear(r);
		r = NULL;
	}
	PQclear(r);
	if (!err)
		err = copy_begin(&f);
	if (!err)
		err = copy_end(&f, flush_session(&f));
	if (!err)
		err = kt_pg_exec(c, "CLOSE kt_bloom;"
				 "UPDATE sessions s SET cmd_bloom = f.b FROM kt_bloom_fill f"
				 " WHERE s.src = f.src AND s.id = f.id AND s.state <> 0;"
				 /* ended, and no command on the server */
				 "UPDATE sessions SET cmd_bloom = " KT_PG_BLOOM_EMPTY
				 " WHERE cmd_bloom IS NULL AND state <> 0;"
				 "RESET enable_sort", "step 8: writing the filters");
	if (!err)
		pr_info("postgres: step 8: command trigrams of %" PRId64 " sessions", f.sessions);
	free(f.src);
	return err;
}
