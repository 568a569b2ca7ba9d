/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's PostgreSQL read backend (the cluster store, FORMAT-pg.md
 * "The read side"), as the rest of store/ sees it: no libpq types, so
 * the store.c files dispatch to it without libpq's headers.  Every public read
 * function of the store begins with `if (st->pg) return kt_pgr_xxx(...)`;
 * replay/ and web/ never learn which backend they read.
 *
 * On the cluster store the session id users see (kt_session_info.id,
 * `kubetape show ID`) is `sessions.gid`, unique across nodes; the node and
 * its node-local id stay visible (kt_pgr_session_key, `show`).  The
 * backend is read-only: write and maintenance calls return -EROFS.
 */
#ifndef KUBETAPE_STORE_PGR_H
#define KUBETAPE_STORE_PGR_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct kt_store;
struct kt_pgr;

/* Is this store path a PostgreSQL connection URI (postgres:// or
 * postgresql://)? */
bool kt_pgr_is_uri(const char *path);
/* Connects (read-only transactions, reader role), checks the server and
 * the schema version.  *label: the URI without its password, for logs
 * (malloc'd).  -ECONNREFUSED (unreachable), -EPROTO (wrong server,
 * schema), -EACCES (no read access), -ENOMEM; each logged once. */
int kt_pgr_open(const char *uri, struct kt_pgr **out, char **label);
void kt_pgr_close(struct kt_pgr *pg);
/* The one line a write or maintenance call on the cluster store logs. */
int kt_pgr_rofs(struct kt_store *st, const char *what);

/* What the cluster store cannot do (yet): one line naming it, -EOPNOTSUPP. */
int kt_pgr_unsupported(struct kt_store *st, const char *what);

/* retention records (pgr_retention.c) */
struct kt_hold;
struct kt_prune_record;
int kt_pgr_holds_list(struct kt_store *st, int (*cb)(const struct kt_hold *h, void *ctx),
		      void *ctx);
int kt_pgr_prune_get(struct kt_store *st, int64_t gid, struct kt_prune_record *out);
/* sessions whose screen index is behind on their node (search's note) */
int kt_pgr_index_pending(struct kt_store *st, int (*cb)(int64_t gid, void *ctx), void *ctx);

/* screen search candidates (pgr_screen.c; the search is index_search.c's) */
struct kt_pgr_block {
	int64_t id;              /* the node's screen_blocks.id */
	int64_t key;             /* KT_PGR_BLOCK_KEY: hit ids and the cursor */
	int64_t chunk_seq, end_chunk_seq;
	uint32_t frame_index, end_frame_index;
	bool final, open;
};
/* A block's cluster-wide key: its session's gid and its seq. */
#define KT_PGR_BLOCK_SEQ_BITS 16
#define KT_PGR_BLOCK_KEY(gid, seq) ((int64_t)(gid) << KT_PGR_BLOCK_SEQ_BITS | (int64_t)(seq))
/*
 * Candidate blocks newest first (session gid, then block seq, down from
 * the block key after_key when not 0): with trigrams (a text[] literal),
 * the closed blocks whose trigram set holds them, those whose trigrams
 * are not shipped yet, and the open ones; without, every block.  The
 * filter restricts the sessions.  cb's non-zero result stops (returned).
 */
int kt_pgr_screen_candidates(struct kt_store *st, const char *trigrams,
			     const struct kt_session_filter *f, int64_t after_key,
			     int (*cb)(const struct kt_session_info *s,
				       const struct kt_pgr_block *b, void *ctx), void *ctx);

struct kt_row;
/* The node chains (verify.c): every node in kt_nodes with its key
 * (NULL when it has none), by name; and one node's rows of sql ($1 src). */
int kt_pgr_nodes_each(struct kt_store *st,
		      int (*cb)(const char *src, const uint8_t *pk, void *ctx), void *ctx);
int kt_pgr_node_checkpoints(struct kt_store *st, const char *src, const char *sql,
			    int (*cb)(struct kt_row *row, void *ctx), void *ctx);

/* kt_session_rows on the cluster store (store_int.h) */
int kt_pgr_session_rows(struct kt_store *st, int64_t gid, const char *sql, int nargs,
			const int64_t *args, const char *what,
			int (*cb)(struct kt_row *row, void *ctx), void *ctx);
/* The public key of session gid's node (kt_nodes.pubkey): 0, -ENOENT. */
int kt_pgr_session_pubkey(struct kt_store *st, int64_t gid, uint8_t pk[32]);

/* sessions (pgr_session.c) */
int kt_pgr_session_get(struct kt_store *st, int64_t gid, struct kt_session_info *out);
int kt_pgr_sessions_list(struct kt_store *st, const struct kt_session_filter *f,
			 kt_session_cb cb, void *ctx);
int kt_pgr_sessions_count(struct kt_store *st, const struct kt_session_filter *f,
			  int64_t *count);
int kt_pgr_session_origin(struct kt_store *st, int64_t gid, char *node, size_t len,
			  int64_t *node_id);
int kt_pgr_session_find(struct kt_store *st, const char *node, int64_t node_id, int64_t *gid);

/* commands (pgr_command.c) */
int kt_pgr_commands_list(struct kt_store *st, int64_t gid, kt_command_cb cb, void *ctx);
int kt_pgr_commands_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f, kt_command_hit_cb cb, void *ctx);

/* the identity join's rows (pgr_audit.c; the join is audit_join.c's) */
struct kt_audit_request;
/* The join's node: the node of session gid. */
int kt_pgr_audit_scope(struct kt_store *st, int64_t gid);
/* Session gid's first argv, malloc'd (NULL, 0: no command yet). */
int kt_pgr_first_argv(struct kt_store *st, int64_t gid, char **argv, size_t *len);
typedef int (*kt_pgr_jsess_cb)(int64_t gid, int64_t start_us, const char *container,
			       const char *argv, size_t argv_len, void *ctx);
int kt_pgr_pod_sessions(struct kt_store *st, const char *ns, const char *pod, int64_t from,
			int64_t to, kt_pgr_jsess_cb cb, void *ctx);
int kt_pgr_pod_requests(struct kt_store *st, const char *ns, const char *pod, int64_t from,
			int64_t to, const char *exec_id,
			int (*cb)(const struct kt_audit_request *r, void *ctx), void *ctx);
int kt_pgr_audit_requests_list(struct kt_store *st, int64_t since_us, int64_t until_us,
			       int (*cb)(const struct kt_audit_request *r, void *ctx), void *ctx);
int kt_pgr_audit_span(struct kt_store *st, int64_t *first_us, int64_t *last_us);
bool kt_pgr_audit_any(struct kt_store *st);

#endif
