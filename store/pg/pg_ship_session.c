// SPDX-License-Identifier: Apache-2.0
/*
 * One session's rows to the server: its sessions row, new commands and the
 * exits of commands the server still has running, its chunks, screen index
 * rows and chain head.
 *
 * Chunks: a chunk's seq is the frame number of its first frame, and
 * compaction replaces a run of chunks by one with the run's first seq
 * (FORMAT.md "Positions").  The server keeps a signature per session
 * (count, frames = max(seq + nframes), raw chunks) in kt_ship_sessions.
 * When only appends happened, the chunks at or beyond `frames` are sent.
 * Otherwise (compaction), every node chunk the server does not have as is
 * replaces the server's chunks inside its frame range: after every
 * committed batch the server's chunks cover the frames without gaps or
 * overlaps, whichever form they have.  A chunk the node deleted is kept on
 * the server (the archive).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_int.h"

struct sig {
	int64_t n, frames, raw;
};

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), (buf))

static int sq_sig(struct kt_shipper *sh, int64_t id, int64_t from, struct sig *s)
{
	sqlite3_stmt *q = kt_ship_prep(sh, "SELECT count(*), coalesce(max(seq + nframes), 0),"
				       " coalesce(sum(codec = 0), 0) FROM chunks"
				       " WHERE session_id = ?1 AND seq >= ?2");
	int rc;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, from);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		s->n = sqlite3_column_int64(q, 0);
		s->frames = sqlite3_column_int64(q, 1);
		s->raw = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : kt_sql_err(sh->st, rc, "ship: chunk signature");
}

static int pg_sig(struct kt_shipper *sh, const char *const *v, struct sig *s)
{
	PGresult *r = kt_pg_query(sh, "SELECT count(*), coalesce(max(seq + nframes), 0),"
				  " count(*) FILTER (WHERE codec = 0) FROM chunks"
				  " WHERE src = $1 AND session_id = $2", 2, v, "chunk signature");

	if (!r)
		return -EIO;
	s->n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	s->frames = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	s->raw = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return 0;
}

/* Full resync after compaction (see the top of the file). */
static int chunks_resync(struct kt_shipper *sh, int64_t id, const char *const *v)
{
	sqlite3_stmt *q = kt_ship_prep(sh, "SELECT seq, nframes, codec, raw_len, length(data)"
				       " FROM chunks WHERE session_id = ?1 ORDER BY seq");
	PGresult *have;
	int rc, err = 0, i = 0, n;

	if (!q)
		return -EIO;
	have = kt_pg_query(sh, "SELECT seq, nframes, codec, raw_len, length(data) FROM chunks"
			   " WHERE src = $1 AND session_id = $2 ORDER BY seq", 2, v, "listing chunks");
	if (!have) {
		sqlite3_finalize(q);
		return -EIO;
	}
	n = PQntuples(have);
	sqlite3_bind_int64(q, 1, id);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(q, 0), nf = sqlite3_column_int64(q, 1);
		bool same = false;
		char a[24], b[24];
		const char *dv[4] = { v[0], v[1], I64(a, seq), I64(b, seq + nf) };
		PGresult *r;

		while (i < n && strtoll(PQgetvalue(have, i, 0), NULL, 10) < seq)
			i++;
		if (i < n && strtoll(PQgetvalue(have, i, 0), NULL, 10) == seq) {
			same = strtoll(PQgetvalue(have, i, 1), NULL, 10) == nf &&
			       strtoll(PQgetvalue(have, i, 2), NULL, 10) == sqlite3_column_int64(q, 2) &&
			       strtoll(PQgetvalue(have, i, 3), NULL, 10) == sqlite3_column_int64(q, 3) &&
			       strtoll(PQgetvalue(have, i, 4), NULL, 10) == sqlite3_column_int64(q, 4);
		}
		if (same)
			continue;
		if (!sh->budget_left) {
			sh->batch_more = true;
			break;
		}
		/* the node's chunk replaces whatever covers its frames */
		r = kt_pg_query(sh, "DELETE FROM chunks WHERE src = $1 AND session_id = $2"
				" AND seq > $3 AND seq < $4", 4, dv, "replacing chunks");
		if (!r) {
			err = -EIO;
			break;
		}
		PQclear(r);
		err = kt_ship_copy_bound(sh,
					 "SELECT * FROM chunks WHERE session_id = ?1 AND seq = ?2", id, seq, 0,
					 "chunks", "src, session_id, seq", KT_COPY_UPDATE);
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = kt_sql_err(sh->st, rc, "ship: listing chunks");
	PQclear(have);
	sqlite3_finalize(q);
	return err;
}

static int ship_chunks(struct kt_shipper *sh, int64_t id, const char *const *v,
		       struct sig *pg, struct sig *sq)
{
	struct sig tail = { 0 };
	int err;

	err = sq_sig(sh, id, 0, sq);
	if (!err)
		err = sq_sig(sh, id, pg->frames, &tail);
	if (err)
		return err;
	if (sq->n == pg->n && sq->frames == pg->frames && sq->raw == pg->raw)
		return 0;
	if (pg->n + tail.n == sq->n && pg->raw + tail.raw == sq->raw)
		err = kt_ship_copy_bound(sh,
					 "SELECT * FROM chunks WHERE session_id = ?1 AND seq >= ?2 ORDER BY seq",
					 id, pg->frames, 0, "chunks", "src, session_id, seq",
					 KT_COPY_UPDATE | KT_COPY_BUDGET);
	else
		err = chunks_resync(sh, id, v);
	if (!err)
		err = pg_sig(sh, v, pg);
	return err;
}

/*
 * The server's last command of the session (*maxid, 0 for none), and
 * whether the session row must carry its command trigrams this time
 * (schema step 8, pg_bloom.c): when the node has commands the server has
 * not, or the server has no filter (a new row, or NULL: not known).
 * Otherwise the filter the server has is the one of these commands (a
 * command's argv_text never changes), and computing it again would cost
 * every batch of a long session ~0.75 us per command it holds (~75 ms at
 * 100,000 commands).
 */
static int commands_state(struct kt_shipper *sh, int64_t id, const char *const *v,
			  int64_t *maxid, bool *with_bloom)
{
	sqlite3_stmt *q = kt_ship_prep(sh, "SELECT coalesce(max(id), 0) FROM commands WHERE session_id = ?1");
	PGresult *r;
	int64_t node_max = 0;
	int rc;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		node_max = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return kt_sql_err(sh->st, rc, "ship: commands high-water mark");
	r = kt_pg_query(sh, "SELECT coalesce((SELECT max(id) FROM commands WHERE src = $1"
			" AND session_id = $2), 0), (SELECT cmd_bloom IS NOT NULL FROM sessions"
			" WHERE src = $1 AND id = $2)", 2, v, "commands high-water mark");
	if (!r)
		return PQstatus(sh->conn) != CONNECTION_OK ? -ECONNRESET : -EIO;
	*maxid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	/* no row (NULL) or no filter (f): write it */
	*with_bloom = node_max > *maxid || strcmp(PQgetvalue(r, 0, 1), "t") != 0;
	PQclear(r);
	return 0;
}

/* New commands (after the server's maxid), and exits of the ones the
 * server has running. */
static int ship_commands(struct kt_shipper *sh, int64_t id, const char *const *v, int64_t maxid)
{
	PGresult *run;
	const char *ids;
	char *sql;
	sqlite3_stmt *q;
	int err;

	err = kt_ship_copy_bound(sh,
				 "SELECT * FROM commands WHERE session_id = ?1 AND id > ?2 ORDER BY id",
				 id, maxid, 0, "commands", "src, id", KT_COPY_UPDATE);
	if (err)
		return err;
	/* few: the shell and what it runs now (bigints, so safe as SQL text) */
	run = kt_pg_query(sh, "SELECT string_agg(id::text, ',') FROM commands WHERE src = $1"
			  " AND session_id = $2 AND end_us = 0", 2, v, "running commands");
	if (!run)
		return -EIO;
	ids = PQgetisnull(run, 0, 0) ? "" : PQgetvalue(run, 0, 0);
	if (*ids && asprintf(&sql, "SELECT * FROM commands WHERE session_id = ?1 AND end_us != 0"
			     " AND id IN (%s) ORDER BY id", ids) >= 0) {
		q = kt_ship_prep(sh, sql);
		free(sql);
		if (q) {
			sqlite3_bind_int64(q, 1, id);
			err = kt_ship_copy(sh, q, "commands", "src, id", KT_COPY_UPDATE, NULL);
			sqlite3_finalize(q);
		} else {
			err = -EIO;
		}
	} else if (*ids) {
		err = -ENOMEM;
	}
	PQclear(run);
	return err;
}

/*
 * What changes whenever anything of the session the shipper copies changes:
 * totals and state (chunks, commands), the chain head (every frame: EXIT
 * frames too), the screen index position (keyframes, blocks, pending
 * lines), raw chunks (compaction), running commands (exits), exit status and
 * attribution (filled in late).  Equal to the last sync's: nothing to do.
 * Limit: a change to a column not named here (leader pid, terminal size of
 * an old session) is shipped with the session's next other change.
 */
static int session_fp(struct kt_shipper *sh, int64_t id, char *fp, size_t len, bool *exists,
		      bool *recent)
{
	sqlite3_stmt *q = kt_ship_prep(sh, "SELECT s.bytes_out, s.bytes_in, s.n_commands, s.state,"
		" s.end_us, s.lost_events, (SELECT n_frames FROM chain_heads WHERE session_id = s.id),"
		" (SELECT chunk_seq || '.' || frame_index || '.' || done || '.' || block_seq"
		"  FROM screen_index WHERE session_id = s.id),"
		" (SELECT count(*) FROM chunks WHERE session_id = s.id AND codec = 0),"
		" (SELECT count(*) FROM commands WHERE session_id = s.id AND end_us = 0),"
		/* attribution can be filled in later, without output */
		" s.has_exit || ':' || s.exit_status || ':' || s.k8s_namespace || '/' || s.pod || '/' ||"
		" s.container || '/' || s.container_id || '/' || s.pod_uid || '/' || s.runtime || '/' ||"
		" s.attribution_guess || '/' || s.node || '/' || s.hostname"
		" FROM sessions s WHERE s.id = ?1");
	int rc;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	*exists = rc == SQLITE_ROW;
	*recent = rc == SQLITE_ROW && (sqlite3_column_int64(q, 3) == KT_SESSION_ACTIVE ||
				       sqlite3_column_int64(q, 4) >= kt_now_us() - 3600 * 1000000LL);
	if (rc == SQLITE_ROW)
		snprintf(fp, len, "%lld/%lld/%lld/%lld/%lld/%lld/%lld/%s/%lld/%lld/%s",
			 (long long)sqlite3_column_int64(q, 0), (long long)sqlite3_column_int64(q, 1),
			 (long long)sqlite3_column_int64(q, 2), (long long)sqlite3_column_int64(q, 3),
			 (long long)sqlite3_column_int64(q, 4), (long long)sqlite3_column_int64(q, 5),
			 (long long)sqlite3_column_int64(q, 6),
			 sqlite3_column_text(q, 7) ? (const char *)sqlite3_column_text(q, 7) : "-",
			 (long long)sqlite3_column_int64(q, 8), (long long)sqlite3_column_int64(q, 9),
			 sqlite3_column_text(q, 10) ? (const char *)sqlite3_column_text(q, 10) : "");
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : kt_sql_err(sh->st, rc, "ship: session state");
}

int kt_ship_session(struct kt_shipper *sh, int64_t id, bool *done)
{
	char sid[24], buf[3][24], fp[2048] = "";
	const char *v[2] = { sh->src, I64(sid, id) };
	struct sig pg = { 0 }, sq = { 0 };
	sqlite3_stmt *q;
	int64_t state = -1, end_us = 0, idx_done = 0, maxid = 0;
	bool exists, recent, have_cursor = false, with_bloom = true;
	PGresult *r;
	int rc, err;

	*done = false;
	err = session_fp(sh, id, fp, sizeof(fp), &exists, &recent);
	if (err)
		return err;
	r = kt_pg_query(sh, "SELECT n_chunks, frames, raw_chunks, fp FROM kt_ship_sessions"
			" WHERE src = $1 AND session_id = $2", 2, v, "session cursor");
	if (!r)
		return -EIO;
	if (PQntuples(r) == 1) {
		have_cursor = true;
		pg.n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		pg.frames = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		pg.raw = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		/* unchanged since the last complete sync: skip (one that ended
		 * an hour ago gets its settling pass below) */
		if (exists && recent && *fp && strcmp(fp, PQgetvalue(r, 0, 3)) == 0) {
			PQclear(r);
			return 0;
		}
	}
	PQclear(r);
	if (!exists) {
		/* gone from the node (pruned): the server keeps its copy */
		*done = true;
		goto mark;
	}
	q = kt_ship_prep(sh, "SELECT state, end_us, (SELECT done FROM screen_index"
			 " WHERE session_id = ?1) FROM sessions WHERE id = ?1");
	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		state = sqlite3_column_int64(q, 0);
		end_us = sqlite3_column_int64(q, 1);
		idx_done = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return kt_sql_err(sh->st, rc, "ship: reading a session");
	(void)have_cursor;

	/*
	 * With the filter of its commands as the node has them in this
	 * batch's read snapshot, the ones ship_commands sends next included
	 * (schema step 8, pg_schema_bloom.c), whole, never merged with the
	 * server's; left out of the upsert (the server keeps its own) when
	 * the server has every command and a filter (commands_state).
	 */
	err = commands_state(sh, id, v, &maxid, &with_bloom);
	if (!err)
		err = kt_ship_copy_bound(sh, with_bloom ?
					 "SELECT *, (SELECT kt_cmd_bloom(argv_text) FROM commands"
					 " WHERE session_id = ?1) AS cmd_bloom FROM sessions WHERE id = ?1" :
					 "SELECT * FROM sessions WHERE id = ?1",
					 id, 0, 0, "sessions", "src, id", KT_COPY_UPDATE);
	if (!err)
		err = ship_commands(sh, id, v, maxid);
	if (!err)
		err = ship_chunks(sh, id, v, &pg, &sq);
	if (!err)
		err = kt_ship_screen(sh, id, sid);
	if (!err)
		err = kt_ship_copy_bound(sh,
					 "SELECT * FROM chain_heads WHERE session_id = ?1", id, 0, 0,
					 "chain_heads", "src, session_id", KT_COPY_UPDATE);
	if (err)
		return err;

	/* settled: ended, all chunks as the node has them, and compaction
	 * and the screen index finished (or an hour since the end: a node
	 * that never compacts or indexes it must not be rechecked forever) */
	*done = state != KT_SESSION_ACTIVE && !sh->batch_more &&
		sq.n == pg.n && sq.frames == pg.frames && sq.raw == pg.raw &&
		((sq.raw == 0 && idx_done) || end_us < kt_now_us() - 3600 * 1000000LL);
	/* a sync cut by the budget is not complete: no fingerprint */
	if (sh->batch_more)
		fp[0] = 0;
mark:
	r = kt_pg_query(sh, "INSERT INTO kt_ship_sessions (src, session_id, done, n_chunks, frames,"
			" raw_chunks, fp) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (src, session_id)"
			" DO UPDATE SET done = EXCLUDED.done, n_chunks = EXCLUDED.n_chunks,"
			" frames = EXCLUDED.frames, raw_chunks = EXCLUDED.raw_chunks, fp = EXCLUDED.fp", 7,
			(const char *const[]){ v[0], v[1], *done ? "t" : "f", I64(buf[0], pg.n),
					       I64(buf[1], pg.frames), I64(buf[2], pg.raw), fp },
			"session cursor");
	if (!r)
		return -EIO;
	PQclear(r);
	return 0;
}
