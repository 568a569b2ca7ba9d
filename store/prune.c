// SPDX-License-Identifier: Apache-2.0
/*
 * Retention: prune by age or size budget, legal holds, the prune record
 * (prune.h, FORMAT.md "Retention").
 *
 * What a prune deletes: the session's chunks, commands (commands_fts
 * follows through its trigger), keyframes, screen blocks, pending lines,
 * screen index row, trigram sets and groups (with their screen_gfts rows,
 * store/index/index_group.c), chain head and sessions row.  What it keeps: the
 * session's checkpoints, so the node chain stays linked and signed (a
 * checkpoint is ~200 bytes), and one row in `prunes` (what, when, which
 * rule, by whom, the chain head), which verify reads.  Limits: the block
 * documents of v2-v7 in the contentless screen_fts cannot be deleted without their
 * text (SQLite 3.40 has no contentless_delete); they stay as orphans,
 * never returned (search joins screen_blocks), costing ~0.05-0.1x the
 * pruned session's screen text.
 *
 * The prune record is signed into the node chain (a KT_CP_PRUNE
 * checkpoint over its rule, age, time and the session's chain head, in the
 * same transaction), so verify tells a pruned session (signed record) from
 * a deleted one (no record, or an unsigned or altered one).  A signed
 * store is therefore pruned only with its key (rule.signer); an unsigned
 * one (no key ever attached) keeps unsigned records.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence_int.h"
#include "log.h"
#include "pg/pgr.h"
#include "prune.h"
#include "store_int.h"

/* v5 (renumbered by whoever merges later): holds and prunes. */
const char kt_schema_retention[] =
	"CREATE TABLE holds ("
	"  session_id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  who TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE TABLE prunes ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL,"
	"  uuid TEXT NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  rule TEXT NOT NULL,"
	"  min_age_us INTEGER NOT NULL DEFAULT 0,"
	"  who TEXT NOT NULL DEFAULT '',"
	"  start_us INTEGER NOT NULL,"
	"  end_us INTEGER NOT NULL,"
	"  k8s_namespace TEXT NOT NULL DEFAULT '',"
	"  pod TEXT NOT NULL DEFAULT '',"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  n_frames INTEGER NOT NULL DEFAULT 0,"
	"  head BLOB"
	");"
	"CREATE INDEX prunes_session ON prunes (session_id);";

static int exec_sql(struct kt_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : kt_sql_err(st, rc, what);
}

/* Stored bytes of a session (chunks and keyframes: nearly all of it). */
#define SESSION_BYTES(s) \
	"(SELECT coalesce(sum(length(data)), 0) FROM chunks WHERE session_id = " s ") +" \
	" (SELECT coalesce(sum(length(data)), 0) FROM keyframes WHERE session_id = " s ")"

/* Prunable now: ended, not held, settled (see prune.h). */
#define PRUNABLE(s) \
	s ".state != 0 AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.session_id = " s ".id)" \
	" AND (" s ".end_us < ?2 OR (EXISTS (SELECT 1 FROM screen_index i WHERE" \
	" i.session_id = " s ".id AND i.done = 1) AND NOT EXISTS (SELECT 1 FROM chunks c" \
	" WHERE c.session_id = " s ".id AND c.codec = 0)))"

/* Sign the prunes row just inserted into the node chain (same transaction). */
static int sign_prune(struct kt_store *st, struct kt_signer *sg, int64_t prune_id)
{
	struct kt_cp cp = {0};
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(st->db,
		"SELECT p.session_id, p.uuid, p.ts_us, p.rule, p.min_age_us, p.n_frames, p.head,"
		" coalesce((SELECT max(seq) + 1 FROM checkpoints c WHERE c.session_id = p.session_id), 0),"
		" (SELECT chain_ver FROM sessions s WHERE s.id = p.session_id)"
		" FROM prunes p WHERE p.id = ?1", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prune: sign");
	sqlite3_bind_int64(q, 1, prune_id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? -ENOENT : kt_sql_err(st, rc, "prune: sign");
		goto out;
	}
	cp.session_id = sqlite3_column_int64(q, 0);
	kt_strlcpy(cp.uuid, (const char *)sqlite3_column_text(q, 1), sizeof(cp.uuid));
	cp.ts_us = sqlite3_column_int64(q, 2);
	kt_strlcpy(cp.rule, (const char *)sqlite3_column_text(q, 3), sizeof(cp.rule));
	cp.min_age_us = sqlite3_column_int64(q, 4);
	cp.n_frames = sqlite3_column_int64(q, 5);
	if (sqlite3_column_bytes(q, 6) == KT_HASH_LEN)
		memcpy(cp.head, sqlite3_column_blob(q, 6), KT_HASH_LEN);
	cp.seq = sqlite3_column_int64(q, 7);
	/* signed with the session's chain version (its head's hash); the
	 * session row is still there (deleted after this, same transaction) */
	cp.ver = sqlite3_column_int64(q, 8);
	/* the signature covers the rule as stored; kt_store_prune builds it
	 * shorter than kt_prune_record.rule, so readers get it whole */
	assert(strcmp(cp.rule, (const char *)sqlite3_column_text(q, 3)) == 0);
	err = kt_chain_sign_prune(st, sg, &cp);
out:
	sqlite3_finalize(q);
	return err;
}

/* Delete one session in its own transaction, re-checking it is prunable. */
static int prune_one(struct kt_store *st, int64_t id, const char *rule, int64_t min_age_us,
		     const char *who, struct kt_signer *sg, int64_t now, bool *pruned)
{
	static const char *const dels[] = {
		"DELETE FROM screen_pending WHERE block_id IN"
		" (SELECT id FROM screen_blocks WHERE session_id = ?1)",
		"DELETE FROM screen_blocks WHERE session_id = ?1",
		"DELETE FROM screen_index WHERE session_id = ?1",
		"DELETE FROM keyframes WHERE session_id = ?1",
		"DELETE FROM chunks WHERE session_id = ?1",
		"DELETE FROM commands WHERE session_id = ?1",
		"DELETE FROM chain_heads WHERE session_id = ?1",
		"DELETE FROM sessions WHERE id = ?1",
	};
	sqlite3_stmt *q = NULL;
	int64_t sg_seq = sg ? sg->node_seq : 0;
	uint8_t sg_prev[KT_HASH_LEN];
	int rc, err;

	*pruned = false;
	if (sg)
		memcpy(sg_prev, sg->prev, KT_HASH_LEN);
	err = exec_sql(st, "BEGIN IMMEDIATE", "prune: begin");
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db,
		"INSERT INTO prunes (session_id, uuid, ts_us, rule, min_age_us, who, start_us, end_us,"
		" k8s_namespace, pod, bytes, n_frames, head) SELECT s.id, s.uuid, ?3, ?4, ?5, ?6,"
		" s.start_us, s.end_us, s.k8s_namespace, s.pod, " SESSION_BYTES("s.id") ","
		" coalesce((SELECT n_frames FROM chain_heads WHERE session_id = s.id), 0),"
		" (SELECT head FROM chain_heads WHERE session_id = s.id)"
		" FROM sessions s WHERE s.id = ?1 AND " PRUNABLE("s"), -1, &q, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "prune: record");
		goto out;
	}
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now - KT_PRUNE_SETTLE_US);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_text(q, 4, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, min_age_us);
	sqlite3_bind_text(q, 6, who ? who : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		err = kt_sql_err(st, rc, "prune: record");
		goto out;
	}
	if (sqlite3_changes(st->db) == 0)
		goto out; /* held or became unprunable meanwhile: nothing */
	if (sg)
		err = sign_prune(st, sg, sqlite3_last_insert_rowid(st->db));
	if (!err)
		err = kt_index_prune(st, id); /* v8's trigram sets and groups */
	for (size_t i = 0; i < sizeof(dels) / sizeof(dels[0]) && !err; i++) {
		rc = sqlite3_prepare_v2(st->db, dels[i], -1, &q, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(q, 1, id);
			rc = sqlite3_step(q);
			sqlite3_finalize(q);
		}
		if (rc != SQLITE_DONE && rc != SQLITE_OK)
			err = kt_sql_err(st, rc, "prune: delete");
	}
	if (!err)
		*pruned = true;
out:
	if (!err)
		err = exec_sql(st, "COMMIT", "prune: commit");
	if (err) {
		exec_sql(st, "ROLLBACK", "prune: rollback");
		*pruned = false;
		if (sg) { /* the chain position of what was rolled back */
			sg->node_seq = sg_seq;
			memcpy(sg->prev, sg_prev, KT_HASH_LEN);
		}
		return err;
	}
	/* the anchor outside the store follows the commit */
	return *pruned && sg ? kt_signer_save_head(sg) : 0;
}

/* Does the store carry a node chain (a key was attached)?  Then every
 * prune must be signed. */
static int store_signed(struct kt_store *st, bool *is_signed)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(st->db, "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'node_pubkey')"
				    " OR EXISTS (SELECT 1 FROM checkpoints)", -1, &q, NULL);

	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prune: signed?");
	rc = sqlite3_step(q);
	*is_signed = rc == SQLITE_ROW && sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : kt_sql_err(st, rc, "prune: signed?");
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Allowed by the rule's id list (if any)? */
static bool allowed(const struct kt_prune_rule *r, int64_t id)
{
	return !r->only_ids_set ||
	       (r->n_only_ids && bsearch(&id, r->only_ids, r->n_only_ids, sizeof(id), cmp_id));
}

struct cand {
	int64_t id, bytes;
	bool prunable, shipped;
};

/* Sessions in scope, oldest first (end for the age rule, start for size). */
static int candidates(struct kt_store *st, const struct kt_prune_rule *r, int64_t now,
		      bool by_age, struct cand **out, int *n)
{
	char sql[2048];
	sqlite3_stmt *q;
	struct cand *v = NULL;
	int cap = 0, rc;

	*n = 0;
	snprintf(sql, sizeof(sql), "SELECT s.id, " SESSION_BYTES("s.id") ", " PRUNABLE("s")
		 " FROM sessions s WHERE (?3 IS NULL OR s.k8s_namespace = ?3)%s ORDER BY %s",
		 /* by age: verify (verify_node.c) holds a pruned session's
		  * final checkpoint, not its end time, against the rule, and
		  * the recorder signs it a little after the end (later still
		  * when it lags): both must be older than the cutoff */
		 by_age ? " AND s.state != 0 AND s.end_us < ?1 AND NOT EXISTS (SELECT 1 FROM checkpoints c"
			  " WHERE c.session_id = s.id AND c.ts_us >= ?1)" : " AND ?1 = ?1",
		 by_age ? "s.end_us, s.id" : "s.start_us, s.id");
	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prune: candidates");
	sqlite3_bind_int64(q, 1, now - r->older_than_us);
	sqlite3_bind_int64(q, 2, now - KT_PRUNE_SETTLE_US);
	if (r->k8s_namespace)
		sqlite3_bind_text(q, 3, r->k8s_namespace, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			void *p = realloc(v, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!p) {
				free(v);
				sqlite3_finalize(q);
				return -ENOMEM;
			}
			v = p;
		}
		v[*n].id = sqlite3_column_int64(q, 0);
		v[*n].bytes = sqlite3_column_int64(q, 1);
		v[*n].prunable = sqlite3_column_int(q, 2);
		v[*n].shipped = allowed(r, v[*n].id);
		(*n)++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		free(v);
		return kt_sql_err(st, rc, "prune: candidates");
	}
	*out = v;
	return 0;
}

static int is_held(struct kt_store *st, int64_t id, bool *held, bool *active)
{
	sqlite3_stmt *q;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "SELECT state = 0, EXISTS (SELECT 1 FROM holds"
				" WHERE session_id = ?1) FROM sessions WHERE id = ?1", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prune: hold");
	sqlite3_bind_int64(q, 1, id);
	*held = *active = false;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*active = sqlite3_column_int(q, 0);
		*held = sqlite3_column_int(q, 1);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : kt_sql_err(st, rc, "prune: hold");
}

static int apply(struct kt_store *st, const struct kt_prune_rule *r, int64_t id, int64_t bytes,
		 const char *rule, int64_t min_age, int64_t now, kt_prune_cb cb, void *ctx,
		 struct kt_prune_stats *stats, bool *done)
{
	struct kt_session_info s;
	int err;

	*done = false;
	err = kt_store_session_get(st, id, &s);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	if (!r->dry_run) {
		err = prune_one(st, id, rule, min_age, r->who, r->signer, now, done);
		if (err || !*done)
			return err;
	}
	*done = true;
	stats->sessions++;
	stats->bytes += bytes;
	return cb ? cb(&s, bytes, rule, ctx) : 0;
}

int kt_store_prune(struct kt_store *st, const struct kt_prune_rule *r, kt_prune_cb cb,
		   void *ctx, struct kt_prune_stats *stats)
{
	struct kt_prune_stats dummy;
	struct cand *v = NULL;
	char rule[128], ns[96] = "";
	int64_t now = kt_now_us();
	bool done, held, active;
	int n = 0, err = 0;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (!r || (r->older_than_us <= 0 && !r->max_bytes))
		return -EINVAL;
	if (!r->dry_run) {
		bool is_signed = false;

		err = kt_store_check_writable(st, "prune");
		if (!err && !r->signer)
			err = store_signed(st, &is_signed);
		if (err)
			return err;
		if (is_signed) {
			pr_err("prune: this store's sessions are signed (node chain): a prune must be "
			       "signed with the node key too, or verify reports the sessions as deleted "
			       "(kubetape prune --key, default node.key next to the store)");
			return -EPERM;
		}
		if (r->signer) {
			uint8_t pk[KT_PK_LEN];

			/* another node's key would sign a chain verify rejects */
			if (kt_store_pubkey(st, pk) == 0 && memcmp(pk, r->signer->pk, KT_PK_LEN)) {
				pr_err("prune: the key given is not this store's node key (meta node_pubkey)");
				return -EKEYREJECTED;
			}
			err = kt_signer_attach(r->signer, st);
			if (err)
				return err;
		}
	}
	if (r->k8s_namespace)
		snprintf(ns, sizeof(ns), " namespace=%.80s", r->k8s_namespace);
	if (r->only_ids_set)
		snprintf(ns + strlen(ns), sizeof(ns) - strlen(ns), " shipped");

	if (r->older_than_us > 0) {
		snprintf(rule, sizeof(rule), "older-than %" PRId64 "s%s", r->older_than_us / 1000000, ns);
		err = candidates(st, r, now, true, &v, &n);
		for (int i = 0; !err && i < n; i++) {
			if (!v[i].shipped) {
				stats->unshipped++;
				continue;
			}
			if (!v[i].prunable) {
				err = is_held(st, v[i].id, &held, &active);
				stats->held += held;
				stats->active += !held;
				continue;
			}
			err = apply(st, r, v[i].id, v[i].bytes, rule, r->older_than_us, now, cb, ctx,
				    stats, &done);
		}
		free(v);
		v = NULL;
		if (err)
			return err;
	}
	if (r->max_bytes) {
		int64_t total = 0;

		snprintf(rule, sizeof(rule), "max-bytes %" PRIu64 "%s", r->max_bytes, ns);
		err = candidates(st, r, now, false, &v, &n);
		for (int i = 0; !err && i < n; i++)
			total += v[i].bytes;
		stats->total_before = total;
		for (int i = 0; !err && i < n && (uint64_t)total > r->max_bytes; i++) {
			if (!v[i].shipped) {
				stats->unshipped++;
				continue;
			}
			if (!v[i].prunable) {
				err = is_held(st, v[i].id, &held, &active);
				stats->held += held;
				stats->active += !held;
				continue;
			}
			err = apply(st, r, v[i].id, v[i].bytes, rule, 0, now, cb, ctx, stats, &done);
			if (done)
				total -= v[i].bytes;
		}
		stats->total_after = total;
		free(v);
	}
	return err;
}

int kt_store_reclaim(struct kt_store *st, int64_t *freed)
{
	sqlite3_stmt *q;
	int64_t before = 0, after = 0, mode = 0;
	int err;

	err = kt_store_check_writable(st, "reclaim");
	if (err)
		return err;
#define PRAGMA_INT(sql, dst) do { \
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) == SQLITE_OK) { \
			if (sqlite3_step(q) == SQLITE_ROW) (dst) = sqlite3_column_int64(q, 0); \
			sqlite3_finalize(q); } } while (0)
	PRAGMA_INT("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", before);
	PRAGMA_INT("PRAGMA auto_vacuum", mode);
	if (mode == 2) {
		err = exec_sql(st, "PRAGMA incremental_vacuum", "reclaim: incremental_vacuum");
	} else {
		/* takes effect with the VACUUM; later reclaims are incremental */
		err = exec_sql(st, "PRAGMA auto_vacuum = INCREMENTAL", "reclaim: auto_vacuum");
		if (!err)
			err = exec_sql(st, "VACUUM", "reclaim: vacuum");
	}
	if (!err)
		err = exec_sql(st, "PRAGMA wal_checkpoint(TRUNCATE)", "reclaim: checkpoint");
	PRAGMA_INT("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", after);
#undef PRAGMA_INT
	if (freed)
		*freed = before - after;
	return err;
}

int kt_store_hold(struct kt_store *st, int64_t session_id, const char *who, const char *reason)
{
	sqlite3_stmt *q;
	int rc, err;

	err = kt_store_check_writable(st, "hold");
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO holds (session_id, uuid, ts_us, who, reason)"
				" SELECT id, uuid, ?2, ?3, ?4 FROM sessions WHERE id = ?1"
				" ON CONFLICT DO NOTHING", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "hold");
	sqlite3_bind_int64(q, 1, session_id);
	sqlite3_bind_int64(q, 2, kt_now_us());
	sqlite3_bind_text(q, 3, who ? who : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, reason ? reason : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return kt_sql_err(st, rc, "hold");
	if (sqlite3_changes(st->db) == 1)
		return 0;
	{
		struct kt_session_info s;

		err = kt_store_session_get(st, session_id, &s);
		return err ? err : -EEXIST;
	}
}

int kt_store_release(struct kt_store *st, int64_t session_id)
{
	sqlite3_stmt *q;
	int rc, err;

	err = kt_store_check_writable(st, "release");
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM holds WHERE session_id = ?1", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "release");
	sqlite3_bind_int64(q, 1, session_id);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return kt_sql_err(st, rc, "release");
	return sqlite3_changes(st->db) ? 0 : -ENOENT;
}

int kt_store_holds_list(struct kt_store *st, int (*cb)(const struct kt_hold *h, void *ctx),
			void *ctx)
{
	sqlite3_stmt *q;
	int rc, ret = 0;

	if (st->pg)
		return kt_pgr_holds_list(st, cb, ctx);
	rc = sqlite3_prepare_v2(st->db, "SELECT session_id, ts_us, uuid, who, reason FROM holds"
				" ORDER BY session_id", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "holds");
	while (!ret && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct kt_hold h = {
			.session_id = sqlite3_column_int64(q, 0),
			.ts_us = sqlite3_column_int64(q, 1),
			.uuid = (const char *)sqlite3_column_text(q, 2),
			.who = (const char *)sqlite3_column_text(q, 3),
			.reason = (const char *)sqlite3_column_text(q, 4),
		};
		ret = cb(&h, ctx);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = kt_sql_err(st, rc, "holds");
	sqlite3_finalize(q);
	return ret;
}

int kt_store_prune_get(struct kt_store *st, int64_t session_id, struct kt_prune_record *out)
{
	sqlite3_stmt *q;
	int rc;

	if (st->pg)
		return kt_pgr_prune_get(st, session_id, out);
	rc = sqlite3_prepare_v2(st->db, "SELECT session_id, ts_us, min_age_us, start_us, end_us,"
				" bytes, uuid, rule, who FROM prunes WHERE session_id = ?1"
				" ORDER BY id DESC LIMIT 1", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "prune record");
	sqlite3_bind_int64(q, 1, session_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->session_id = sqlite3_column_int64(q, 0);
		out->ts_us = sqlite3_column_int64(q, 1);
		out->min_age_us = sqlite3_column_int64(q, 2);
		out->start_us = sqlite3_column_int64(q, 3);
		out->end_us = sqlite3_column_int64(q, 4);
		out->bytes = sqlite3_column_int64(q, 5);
		kt_strlcpy(out->uuid, (const char *)sqlite3_column_text(q, 6), sizeof(out->uuid));
		kt_strlcpy(out->rule, (const char *)sqlite3_column_text(q, 7), sizeof(out->rule));
		kt_strlcpy(out->who, (const char *)sqlite3_column_text(q, 8), sizeof(out->who));
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : kt_sql_err(st, rc, "prune record");
}
