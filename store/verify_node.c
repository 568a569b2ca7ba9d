// SPDX-License-Identifier: Apache-2.0
/*
 * The node chain (FORMAT.md, "Tamper evidence"): every checkpoint the node
 * signed, in node_seq order, on a node's store or per node on the cluster
 * store; a session missing from the store is deleted unless a prune record
 * signed into the same chain says it was pruned.  Reads only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "evidence_int.h"
#include "log.h"
#include "prune.h"
#include "pg/pgr.h"

/* ---- the node chain ----------------------------------------------------------- */

/* A prune checkpoint's rule and age live in its prunes row (same session,
 * uuid and time): fill them in.  false if there is no such row. */
static bool prune_fill_sqlite(struct kt_store *st, struct kt_cp *cp)
{
	sqlite3_stmt *q = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(st->db, "SELECT rule, min_age_us FROM prunes WHERE session_id = ?1"
			       " AND uuid = ?2 AND ts_us = ?3 ORDER BY id DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(q, 1, cp->session_id);
	sqlite3_bind_text(q, 2, cp->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, cp->ts_us);
	if (sqlite3_step(q) == SQLITE_ROW) {
		kt_strlcpy(cp->rule, (const char *)sqlite3_column_text(q, 0), sizeof(cp->rule));
		cp->min_age_us = sqlite3_column_int64(q, 1);
		found = true;
	}
	sqlite3_finalize(q);
	return found;
}

int kt_verify_pruned(struct kt_store *st, const uint8_t *pk, int64_t session_id,
		     struct kt_prune_record *pr)
{
	uint8_t own_pk[KT_PK_LEN];
	sqlite3_stmt *q = NULL;
	struct kt_row row;
	struct kt_cp cp;
	int rc, err;

	err = kt_store_prune_get(st, session_id, pr);
	if (err)
		return err;
	if (sodium_init() < 0)
		return -EIO;
	if (!pk && kt_store_pubkey(st, own_pk) == 0)
		pk = own_pk;
	rc = sqlite3_prepare_v2(st->db, "SELECT " CP_COLS " FROM checkpoints WHERE session_id = ?1"
				" AND uuid = ?2 AND ts_us = ?3 AND final = 2", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "verify (prune record)");
	sqlite3_bind_int64(q, 1, session_id);
	sqlite3_bind_text(q, 2, pr->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, pr->ts_us);
	err = -EBADMSG; /* no signed record, or a signature that does not cover this one */
	kt_row_sqlite(&row, q);
	while (err && sqlite3_step(q) == SQLITE_ROW) {
		kt_cp_read(&row, &cp);
		kt_strlcpy(cp.rule, pr->rule, sizeof(cp.rule));
		cp.min_age_us = pr->min_age_us;
		if (kt_cp_sig_ok(&cp, pk))
			err = 0;
	}
	sqlite3_finalize(q);
	return err;
}

/* The node chain, one checkpoint at a time in node_seq order. */
struct node_walk {
	struct kt_store *st;
	const uint8_t *pk;
	const char *node;          /* the cluster store: whose chain ("" on a node) */
	const char *head_path;
	int64_t head_seq, expect, n;
	uint8_t prev[KT_HASH_LEN], head_hash[KT_HASH_LEN];
	sqlite3_stmt *sq;          /* a node's own store: does the session exist */
	void (*cb)(const char *problem, void *ctx);
	void *ctx;
	int problems;
};

#define NODE_PROBLEM(w, ...) do { \
		char _m[512]; int _o = snprintf(_m, sizeof(_m), "node chain%s%s: ", \
						*(w)->node ? " of " : "", (w)->node); \
		snprintf(_m + _o, sizeof(_m) - _o, __VA_ARGS__); \
		(w)->cb(_m, (w)->ctx); (w)->problems++; } while (0)

/* A prune checkpoint's rule and age: from the prunes row on a node, from
 * the node query's join on the cluster store (columns 12..14). */
static bool prune_fill(struct node_walk *w, struct kt_row *q, struct kt_cp *cp)
{
	size_t n;

	if (w->sq)
		return prune_fill_sqlite(w->st, cp);
	if (!q->i64(q, 14))
		return false;
	kt_strlcpy(cp->rule, q->bytes(q, 12, &n), sizeof(cp->rule));
	cp->min_age_us = q->i64(q, 13);
	return true;
}

static int node_cp(struct kt_row *q, void *ctx)
{
	struct node_walk *w = ctx;
	struct kt_cp cp;
	bool exists = true;

	kt_cp_read(q, &cp);
	if (q->err)
		return q->err;
	w->n++;
	if (cp.node_seq != w->expect)
		NODE_PROBLEM(w, "checkpoints %" PRId64 "..%" PRId64 " missing (a session or its checkpoints were deleted)",
			     w->expect, cp.node_seq - 1);
	else if (memcmp(cp.prev, w->prev, KT_HASH_LEN))
		NODE_PROBLEM(w, "checkpoint %" PRId64 " does not follow checkpoint %" PRId64,
			     cp.node_seq, cp.node_seq - 1);
	if (!kt_chain_ver_known(cp.ver))
		/* no message to check the signature of, no hash to link by */
		NODE_PROBLEM(w, "checkpoint %" PRId64 " (session %s): chain version %" PRId64 " unknown to this kubetape",
			     cp.node_seq, cp.uuid, cp.ver);
	else if (cp.final == KT_CP_PRUNE && !prune_fill(w, q, &cp))
		NODE_PROBLEM(w, "checkpoint %" PRId64 " signs the prune of session %s (id %" PRId64 ") but its prune record is missing or altered",
			     cp.node_seq, cp.uuid, cp.session_id);
	else if (!kt_cp_sig_ok(&cp, w->pk))
		NODE_PROBLEM(w, "checkpoint %" PRId64 " (session %s%s): signature invalid",
			     cp.node_seq, cp.uuid, cp.final == KT_CP_PRUNE ? ", prune record" : "");
	if (cp.final != KT_CP_PRUNE) {
		if (w->sq) {
			sqlite3_bind_int64(w->sq, 1, cp.session_id);
			sqlite3_bind_text(w->sq, 2, cp.uuid, -1, SQLITE_STATIC);
			exists = sqlite3_step(w->sq) == SQLITE_ROW;
			sqlite3_reset(w->sq);
		} else {
			/* the cluster store's query joined sessions: column 11 */
			exists = q->i64(q, 11) != 0;
		}
	}
	if (!exists && !w->sq) {
		/* the server keeps what nodes prune: a session missing there
		 * was deleted on the server */
		NODE_PROBLEM(w, "session %s (id %" PRId64 ") signed by checkpoint %" PRId64 " is not in the store: deleted",
			     cp.uuid, cp.session_id, cp.node_seq);
	} else if (!exists) {
		struct kt_prune_record pr;
		int perr = kt_verify_pruned(w->st, w->pk, cp.session_id, &pr);

		/* pruned (prune.c keeps the checkpoints and signs the record
		 * into this chain): not tampering, as long as the signed end
		 * is as old as the rule says */
		if (perr == -ENOENT || (!perr && strcmp(pr.uuid, cp.uuid)))
			NODE_PROBLEM(w, "session %s (id %" PRId64 ") signed by checkpoint %" PRId64 " is not in the store: deleted",
				     cp.uuid, cp.session_id, cp.node_seq);
		else if (perr == -EBADMSG)
			NODE_PROBLEM(w, "session %s (id %" PRId64 ") signed by checkpoint %" PRId64 " is not in the store, and its prune record ('%s') is not signed into the chain: deleted",
				     cp.uuid, cp.session_id, cp.node_seq, pr.rule);
		else if (perr)
			return perr;
		else if (cp.final && pr.min_age_us && cp.ts_us > pr.ts_us - pr.min_age_us)
			NODE_PROBLEM(w, "session %s (id %" PRId64 ") was removed as pruned by rule '%s', but its final checkpoint %" PRId64 " was signed less than that before the prune",
				     cp.uuid, cp.session_id, pr.rule, cp.node_seq);
	}
	if (kt_cp_hash(&cp, w->prev))
		/* unknown version (reported above): the next one cannot be
		 * linked either, and is reported as not following */
		memset(w->prev, 0, sizeof(w->prev));
	if (cp.node_seq == w->head_seq && memcmp(w->prev, w->head_hash, KT_HASH_LEN))
		NODE_PROBLEM(w, "checkpoint %" PRId64 " is not the one the head file names", cp.node_seq);
	w->expect = cp.node_seq + 1;
	return 0;
}

/* The cluster store: every node's chain with that node's key (or pk). */
static int node_src(const char *src, const uint8_t *node_pk, void *ctx)
{
	struct node_walk *w = ctx;
	const uint8_t *pk = w->pk;
	int err;

	w->node = src;
	if (!w->pk)
		w->pk = node_pk;
	w->expect = 1;
	memset(w->prev, 0, sizeof(w->prev));
	err = kt_pgr_node_checkpoints(w->st, src, "SELECT " CP_COLS_C ", (s.id IS NOT NULL)::int::int8,"
				      " p.rule, p.min_age_us, (p.rule IS NOT NULL)::int::int8"
				      " FROM checkpoints c LEFT JOIN sessions s ON s.src = c.src"
				      " AND s.id = c.session_id AND s.uuid = c.uuid"
				      " LEFT JOIN LATERAL (SELECT rule, min_age_us FROM prunes p"
				      "  WHERE c.final = 2 AND p.src = c.src AND p.session_id = c.session_id"
				      "  AND p.uuid = c.uuid AND p.ts_us = c.ts_us ORDER BY p.id DESC LIMIT 1) p ON true"
				      " WHERE c.src = $1 ORDER BY c.node_seq", node_cp, w);
	w->pk = pk;
	return err;
}

int kt_verify_node(struct kt_store *st, const uint8_t *pk, const char *head_path,
		   void (*cb)(const char *problem, void *ctx), void *ctx, int64_t *ncheckpoints)
{
	struct node_walk w = { .st = st, .node = "", .head_path = head_path, .head_seq = -1,
			       .expect = 1, .cb = cb, .ctx = ctx };
	uint8_t own_pk[KT_PK_LEN];
	sqlite3_stmt *q = NULL;
	struct kt_row row;
	int rc, err = 0;

	if (sodium_init() < 0)
		return -EIO;
	if (st->pg) {
		/* no head file: it is on each node, beside its key */
		w.pk = pk;
		err = kt_pgr_nodes_each(st, node_src, &w);
		goto out;
	}
	if (!pk && kt_store_pubkey(st, own_pk) == 0)
		pk = own_pk;
	w.pk = pk;
	if (head_path && kt_head_read(head_path, &w.head_seq, w.head_hash))
		w.head_seq = -1;
	rc = sqlite3_prepare_v2(st->db, "SELECT " CP_COLS " FROM checkpoints ORDER BY node_seq", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "SELECT 1 FROM sessions WHERE id = ?1 AND uuid = ?2", -1, &w.sq, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "verify (node chain)");
		goto cleanup;
	}
	kt_row_sqlite(&row, q);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW)
		err = node_cp(&row, &w);
	if (!err && rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "verify (node chain)");
	if (!err && w.head_seq >= w.expect)
		NODE_PROBLEM(&w, "ends at checkpoint %" PRId64 " but the head file %s says %" PRId64 ": the last checkpoints were deleted",
			     w.expect - 1, head_path, w.head_seq);
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(w.sq);
out:
	if (ncheckpoints)
		*ncheckpoints = w.n;
	return err ? err : w.problems;
}
