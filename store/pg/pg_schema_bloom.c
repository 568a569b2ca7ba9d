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
 * table by COPY after each fetch, then one UPDATE joins them in.  On
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

_Static_assert(KT_PG_BLOOM_BITS == 2048, "the empty filter below is written out");

struct fill {
	PGconn *c;
	char *src;              /* the session being read, NULL before the first */
	int64_t id;
	uint8_t bloom[KT_PG_BLOOM_BYTES];
	char *buf;              /* COPY text lines not yet sent */
	size_t len, cap;
	int64_t sessions;
};

static int buf_put(struct fill *f, const char *s, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 1 << 20;
		char *b;

		while (cap < f->len + n)
			cap *= 2;
		b = realloc(f->buf, cap);
		if (!b)
			return -ENOMEM;
		f->buf = b;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	return 0;
}

/* COPY's text format: a backslash, tab, newline or CR in src escaped. */
static int put_field(struct fill *f, const char *s)
{
	int err = 0;

	for (; *s && !err; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" :
				*s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;

		err = e ? buf_put(f, e, 2) : buf_put(f, s, 1);
	}
	return err;
}

/* The session read so far as one COPY line. */
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
		err = buf_put(f, num, strlen(num));
	if (!err)
		err = buf_put(f, hex, KT_PG_BLOOM_HEX - 1);
	if (!err)
		err = buf_put(f, "\n", 1);
	free(f->src);
	f->src = NULL;
	f->sessions++;
	return err;
}

static int copy_out(struct fill *f)
{
	PGresult *r;
	int err = 0;

	if (!f->len)
		return 0;
	r = PQexec(f->c, "COPY kt_bloom_fill FROM STDIN");
	if (PQresultStatus(r) != PGRES_COPY_IN)
		err = kt_pg_err(f->c, r, "step 8: COPY");
	PQclear(r);
	if (err)
		return err;
	if (PQputCopyData(f->c, f->buf, (int)f->len) != 1 || PQputCopyEnd(f->c, NULL) != 1)
		return kt_pg_err(f->c, NULL, "step 8: COPY data");
	while ((r = PQgetResult(f->c))) {
		if (!err && PQresultStatus(r) != PGRES_COMMAND_OK)
			err = kt_pg_err(f->c, r, "step 8: COPY");
		PQclear(r);
	}
	f->len = 0;
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
		err = fill_rows(&f, r);
		PQclear(r);
		r = NULL;
		if (!err)
			err = copy_out(&f);
	}
	PQclear(r);
	if (!err)
		err = flush_session(&f);
	if (!err)
		err = copy_out(&f);
	if (!err)
		err = kt_pg_exec(c, "CLOSE kt_bloom;"
				 "UPDATE sessions s SET cmd_bloom = f.b FROM kt_bloom_fill f"
				 " WHERE s.src = f.src AND s.id = f.id AND s.state <> 0;"
				 /* ended, and no command on the server */
				 "UPDATE sessions SET cmd_bloom = repeat('0', 2048)::" KT_PG_BLOOM_TYPE
				 " WHERE cmd_bloom IS NULL AND state <> 0;"
				 "RESET enable_sort", "step 8: writing the filters");
	if (!err)
		pr_info("postgres: step 8: command trigrams of %" PRId64 " sessions", f.sessions);
	free(f.src);
	free(f.buf);
	return err;
}
