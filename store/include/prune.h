/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention (store/prune.c, FORMAT.md "Retention"): deleting old sessions
 * by age or by a size budget, legal holds that exempt a session, and the
 * record of every prune that `kubetape verify` uses to tell a pruned
 * session from a deleted one.
 *
 * Never pruned: active sessions, held sessions, and sessions the recorder
 * may still be working on (ended less than KT_PRUNE_SETTLE_US ago unless
 * their screen index is finished and no raw chunk waits for compaction).
 * Each session goes in its own short write transaction (WAL: readers keep
 * reading; the recorder waits at most that long).  A reader following a
 * session that is pruned sees its stream end.
 */
#ifndef KUBETAPE_STORE_PRUNE_H
#define KUBETAPE_STORE_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define KT_PRUNE_SETTLE_US (600 * 1000000LL)

struct kt_signer;

struct kt_prune_rule {
	int64_t older_than_us;       /* >0: sessions that ended before now - this */
	uint64_t max_bytes;          /* >0: oldest first until the stored bytes are <= this */
	const char *k8s_namespace;   /* NULL: every namespace (and the budget is the node's) */
	bool dry_run;                /* report, delete nothing */
	const char *who;             /* recorded with each prune */
	/* signs each prune record into the node chain (kt_signer_load); NULL
	 * only for a store that was never signed (else -EPERM) */
	struct kt_signer *signer;
	/* only these sessions (ascending), e.g. the ones settled on the cluster
	 * store (kt_pg_shipped_sessions); only_ids_set with none: nothing */
	const int64_t *only_ids;
	size_t n_only_ids;
	bool only_ids_set;
};

struct kt_prune_stats {
	int64_t sessions, bytes;     /* pruned (or would be, dry run) */
	int64_t held, active;        /* matched a rule but exempt */
	int64_t unshipped;           /* not in only_ids */
	int64_t total_before, total_after; /* stored bytes in scope (size rule) */
};

/* Called for each session pruned (or that would be): the rule's text and
 * the session's stored bytes (chunks and keyframes). */
typedef int (*kt_prune_cb)(const struct kt_session_info *s, int64_t bytes,
			   const char *rule, void *ctx);

/* Needs a writable store.  0 or -errno; a callback's non-zero stops it. */
int kt_store_prune(struct kt_store *st, const struct kt_prune_rule *r, kt_prune_cb cb,
		   void *ctx, struct kt_prune_stats *stats);

/*
 * Give the file's free pages back: PRAGMA incremental_vacuum on a store
 * with auto_vacuum=INCREMENTAL, else a VACUUM that also switches it to
 * INCREMENTAL (the writer waits for it: run it when the node is quiet).
 * *freed: bytes the file shrank by.
 */
int kt_store_reclaim(struct kt_store *st, int64_t *freed);

/* Legal holds.  hold: -ENOENT no such session, -EEXIST already held;
 * release: -ENOENT not held. */
int kt_store_hold(struct kt_store *st, int64_t session_id, const char *who, const char *reason);
int kt_store_release(struct kt_store *st, int64_t session_id);
struct kt_hold {
	int64_t session_id, ts_us;
	const char *uuid, *who, *reason;
};
int kt_store_holds_list(struct kt_store *st, int (*cb)(const struct kt_hold *h, void *ctx),
			void *ctx);

/* The prune record of a session id (the newest); -ENOENT if never pruned. */
struct kt_prune_record {
	int64_t session_id, ts_us, min_age_us, start_us, end_us, bytes;
	char uuid[40];
	char rule[128];
	char who[128];
};
int kt_store_prune_get(struct kt_store *st, int64_t session_id, struct kt_prune_record *out);
/*
 * The same, checked against the node chain (store/verify.c): 0 when the
 * record is signed by a prune checkpoint valid under `pk` (NULL: meta's
 * key), -EBADMSG when it is not (unsigned, forged or altered: the session
 * counts as deleted), -ENOENT when there is no record.
 */
int kt_verify_pruned(struct kt_store *st, const uint8_t *pk, int64_t session_id,
		     struct kt_prune_record *pr);

#endif
