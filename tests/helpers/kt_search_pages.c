// SPDX-License-Identifier: Apache-2.0
/*
 * kt_search_pages DB QUERY LIMIT [NODE] — page through a command search
 * as kubetape-web does (kt_store_commands_search with `limit` and
 * `after_id` = the last hit's id), on a node's SQLite file or the cluster
 * store (postgres://…), and print every hit as
 *
 *   page N: SESSION-UUID seq S: ARGV (NUL-separated words joined by spaces)
 *
 * Ids are left out (a node's command id is its rowid, the server's is
 * gid * 2^24 + seq), so the two outputs are equal when both stores return
 * the same hits in the same order and the page boundaries fall alike
 * (tests/e2e/pg_read_test.sh).  NODE restricts the search to one node
 * (--node).  Exit 0 after the last page, 1 on an error (logged).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define MAX_PAGES 100000

struct page {
	int n;
	int64_t last_id;
};

static int on_hit(const struct kt_session_info *s, const struct kt_command *c, void *ctx)
{
	struct page *p = ctx;

	printf("%s seq %d:", s->uuid, c->seq);
	for (size_t i = 0; i < c->argv_len;) {
		size_t len = strnlen(c->argv + i, c->argv_len - i);

		printf(" %.*s", (int)len, c->argv + i);
		i += len + 1;
	}
	printf("\n");
	p->n++;
	p->last_id = c->id;
	return 0;
}

int main(int argc, char **argv)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct kt_store *st = NULL;
	int limit, err = 0, pages = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: kt_search_pages DB QUERY LIMIT [NODE]\n");
		return 2;
	}
	limit = atoi(argv[3]);
	if (limit < 1) {
		fprintf(stderr, "kt_search_pages: LIMIT must be 1 or more\n");
		return 2;
	}
	f.limit = limit;
	f.node = argc == 5 ? argv[4] : NULL;
	err = kt_store_open(argv[1], KT_STORE_RDONLY, &st);
	if (err) {
		fprintf(stderr, "kt_search_pages: cannot open %s (%d)\n", argv[1], err);
		return 1;
	}
	for (pages = 1; pages <= MAX_PAGES; pages++) {
		struct page p = { 0 };

		printf("page %d\n", pages);
		err = kt_store_commands_search(st, argv[2], &f, on_hit, &p);
		if (err) {
			fprintf(stderr, "kt_search_pages: search failed (%d)\n", err);
			break;
		}
		if (p.n < limit)
			break;
		f.after_id = p.last_id;
	}
	kt_store_close(st);
	if (!err && pages > MAX_PAGES) {
		fprintf(stderr, "kt_search_pages: more than %d pages\n", MAX_PAGES);
		err = 1;
	}
	return err ? 1 : 0;
}
