// SPDX-License-Identifier: Apache-2.0
/* A session's commands with their process-tree depth (cmdtree.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmdtree.h"
#include "log.h"

void kt_cmdtree_free(struct kt_cmdtree *t)
{
	for (size_t i = 0; t && i < t->n; i++)
		free(t->v[i].strings);
	if (t) {
		free(t->v);
		memset(t, 0, sizeof(*t));
	}
}

static int on_command(const struct kt_command *c, void *ctx)
{
	struct kt_cmdtree *l = ctx;
	const char *fn = c->filename ? c->filename : "", *cwd = c->cwd ? c->cwd : "";
	size_t fl = strlen(fn), cl = strlen(cwd);
	struct kt_cmdrec *r;
	char *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	p = malloc(fl + 1 + cl + 1 + c->argv_len + 1);
	if (!p)
		return -ENOMEM;
	r = &l->v[l->n++];
	r->c = *c;
	r->strings = p;
	r->depth = 0;
	memcpy(p, fn, fl + 1);
	r->c.filename = p;
	p += fl + 1;
	memcpy(p, cwd, cl + 1);
	r->c.cwd = p;
	p += cl + 1;
	if (c->argv_len)
		memcpy(p, c->argv, c->argv_len);
	p[c->argv_len] = 0;
	r->c.argv = p;
	return 0;
}

/*
 * Indentation: a command sits under the latest earlier command whose pid is
 * its ppid (the shell that forked it).  An exec by a pid that already ran a
 * command replaces that image, so it keeps that command's depth.  Pids can
 * be reused within a long session; "latest earlier" makes that mostly right.
 * A small open-addressing map pid -> latest index keeps this O(n).
 */
static int compute_depths(struct kt_cmdtree *l)
{
	size_t cap = 16, mask;
	struct { uint32_t pid; size_t idx; bool used; } *map;

	while (cap < l->n * 2)
		cap *= 2;
	mask = cap - 1;
	map = calloc(cap, sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct kt_cmdrec *r = &l->v[i];
		size_t h;
		bool found = false;

		for (h = (r->c.ppid * 2654435761u) & mask; map[h].used; h = (h + 1) & mask)
			if (map[h].pid == r->c.ppid) {
				r->depth = l->v[map[h].idx].depth + 1;
				found = true;
				break;
			}
		for (h = (r->c.pid * 2654435761u) & mask; map[h].used; h = (h + 1) & mask)
			if (map[h].pid == r->c.pid)
				break;
		if (!found && map[h].used)
			r->depth = l->v[map[h].idx].depth;
		if (r->depth > KT_CMDTREE_MAX_DEPTH)
			r->depth = KT_CMDTREE_MAX_DEPTH;
		map[h].used = true;
		map[h].pid = r->c.pid;
		map[h].idx = i;
	}
	free(map);
	return 0;
}

int kt_cmdtree_load(struct kt_store *st, int64_t session_id, struct kt_cmdtree *t,
		    const char *cmd)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = kt_store_commands_list(st, session_id, on_command, t);
	if (!err)
		err = compute_depths(t);
	if (err == -ENOMEM)
		pr_err("%s: out of memory", cmd);
	if (err)
		kt_cmdtree_free(t); /* other errors logged by the store */
	return err;
}
