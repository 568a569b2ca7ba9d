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

/* sessions (pgr_session.c) */
int kt_pgr_session_get(struct kt_store *st, int64_t gid, struct kt_session_info *out);
int kt_pgr_sessions_list(struct kt_store *st, const struct kt_session_filter *f,
			 kt_session_cb cb, void *ctx);
int kt_pgr_sessions_count(struct kt_store *st, const struct kt_session_filter *f,
			  int64_t *count);

/* commands (pgr_command.c) */
int kt_pgr_commands_list(struct kt_store *st, int64_t gid, kt_command_cb cb, void *ctx);
int kt_pgr_commands_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f, kt_command_hit_cb cb, void *ctx);

#endif
