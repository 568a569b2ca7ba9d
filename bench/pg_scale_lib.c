// SPDX-License-Identifier: Apache-2.0
/*
 * bench/pg_scale_lib.c — the store API's own cost on a cluster store
 * (bench/pg_scale.sh): kt_store_sessions_list / _count and
 * kt_store_commands_search through `kt_store_open("postgres://…")`, the
 * calls the CLI and kubetape-web make, without process start or printing.
 *
 *   pg_scale_lib URL ROUNDS POD TOKEN
 *
 * One line per shape: "NAME<TAB>hits<TAB>ms ms ms…" (ROUNDS timed calls
 * after 2 warm-up calls, on one open store: one connection).  Exit 1 when
 * the store cannot be opened or a call fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static long hits;

static int on_session(const struct kt_session_info *s, void *ctx)
{
	(void)ctx;
	hits += s->id > 0;
	return 0;
}

static int on_hit(const struct kt_session_info *s, const struct kt_command *c, void *ctx)
{
	(void)ctx;
	hits += s->id > 0 && c->argv_len > 0;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

enum kind { LIST, COUNT, SEARCH };

struct shape {
	const char *name;
	enum kind kind;
	const char *query;
	struct kt_session_filter f;
};

int main(int argc, char **argv)
{
	struct kt_store *st = NULL;
	int rounds;

	if (argc != 5) {
		fprintf(stderr, "usage: pg_scale_lib URL ROUNDS POD TOKEN\n");
		return 2;
	}
	rounds = atoi(argv[2]);
	struct shape shapes[] = {
		{ "sessions, limit 50", LIST, NULL, { .active = -1, .tty = -1, .limit = 50 } },
		{ "sessions by start (web), limit 51", LIST, NULL,
		  { .active = -1, .tty = -1, .limit = 51, .by_start = true } },
		{ "sessions count (web total)", COUNT, NULL, { .active = -1, .tty = -1 } },
		{ "sessions --namespace payments", LIST, NULL,
		  { .k8s_namespace = "payments", .active = -1, .tty = -1, .limit = 50 } },
		{ "sessions --pod (rare)", LIST, NULL,
		  { .pod = argv[3], .active = -1, .tty = -1, .limit = 50 } },
		{ "sessions --node node-07", LIST, NULL,
		  { .node = "node-07", .active = -1, .tty = -1, .limit = 50 } },
		{ "sessions --active", LIST, NULL, { .active = 1, .tty = -1, .limit = 50 } },
		{ "search rm -rf", SEARCH, "rm -rf", { .active = -1, .tty = -1, .limit = 1000 } },
		{ "search /proc/1/environ", SEARCH, "/proc/1/environ",
		  { .active = -1, .tty = -1, .limit = 1000 } },
		{ "search a unique token", SEARCH, argv[4], { .active = -1, .tty = -1, .limit = 1000 } },
		{ "search password", SEARCH, "password", { .active = -1, .tty = -1, .limit = 1000 } },
		{ "search password (web, 51)", SEARCH, "password",
		  { .active = -1, .tty = -1, .limit = 51 } },
		{ "search ls (short, common)", SEARCH, "ls", { .active = -1, .tty = -1, .limit = 1000 } },
		{ "search password --namespace payments", SEARCH, "password",
		  { .k8s_namespace = "payments", .active = -1, .tty = -1, .limit = 1000 } },
	};

	if (kt_store_open(argv[1], KT_STORE_RDONLY, &st)) {
		fprintf(stderr, "pg_scale_lib: cannot open %s\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct shape *sh = &shapes[i];

		printf("%s\t", sh->name);
		for (int r = -2; r < rounds; r++) {
			double t0 = now_ms();
			int64_t n = 0;
			int err;

			hits = 0;
			if (sh->kind == LIST)
				err = kt_store_sessions_list(st, &sh->f, on_session, NULL);
			else if (sh->kind == COUNT)
				err = kt_store_sessions_count(st, &sh->f, &n);
			else
				err = kt_store_commands_search(st, sh->query, &sh->f, on_hit, NULL);
			if (err < 0) {
				fprintf(stderr, "pg_scale_lib: %s failed (%d)\n", sh->name, err);
				kt_store_close(st);
				return 1;
			}
			if (r == -1)
				printf("%ld\t", sh->kind == COUNT ? (long)n : hits);
			if (r >= 0)
				printf("%.3f ", now_ms() - t0);
		}
		printf("\n");
		fflush(stdout);
	}
	kt_store_close(st);
	return 0;
}
