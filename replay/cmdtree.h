/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A session's commands copied out of the store (its callback strings are
 * borrowed), each with its depth in the process tree: a command sits under
 * the latest earlier command whose pid is its ppid.  Used by `show` (the
 * timeline, --json) and `export --format json`.  Holds every command in
 * memory: commands are small next to terminal data, and the depth needs
 * the ones before.
 */
#ifndef KUBETAPE_REPLAY_CMDTREE_H
#define KUBETAPE_REPLAY_CMDTREE_H

#include <stddef.h>

#include "store.h"

#define KT_CMDTREE_MAX_DEPTH 16 /* deeper trees are drawn at this indent */

struct kt_cmdrec {
	struct kt_command c;  /* filename, cwd, argv point into `strings` */
	char *strings;        /* one allocation; argv is also NUL-terminated */
	int depth;
};

struct kt_cmdtree {
	struct kt_cmdrec *v;
	size_t n, cap;
};

/* 0, -ENOMEM (logged as "<cmd>: out of memory") or a store error (logged). */
int kt_cmdtree_load(struct kt_store *st, int64_t session_id, struct kt_cmdtree *t,
		    const char *cmd);
void kt_cmdtree_free(struct kt_cmdtree *t);

#endif
