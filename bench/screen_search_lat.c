// SPDX-License-Identifier: Apache-2.0
/*
 * screen_search_lat DB REPS QUERY... — in-process latency of screen search
 * (kt_store_screen_search_stats, all hits) on an existing store: per query
 * the median wall time of REPS runs, the candidate blocks verified and the
 * hits.  No process start, so an old and a new libkubetape can be compared
 * on the same corpus (bench/results/30-trigram-sets.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"

static int on_hit(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	(void)s; (void)h; (void)ctx;
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct kt_store *st = NULL;
	int reps;

	if (argc < 4) {
		fprintf(stderr, "usage: screen_search_lat DB REPS QUERY...\n");
		return 2;
	}
	reps = atoi(argv[2]);
	if (reps < 1 || reps > 1000 || kt_store_open(argv[1], 0, &st)) {
		fprintf(stderr, "screen_search_lat: bad REPS or cannot open %s\n", argv[1]);
		return 1;
	}
	for (int a = 3; a < argc; a++) {
		double *t = calloc((size_t)reps, sizeof(*t));
		struct kt_screen_search_stats stats = { 0 };

		for (int i = 0; t && i < reps; i++) {
			struct timespec s, e;

			clock_gettime(CLOCK_MONOTONIC, &s);
			if (kt_store_screen_search_stats(st, argv[a], NULL, on_hit, NULL, &stats)) {
				fprintf(stderr, "screen_search_lat: search '%s' failed\n", argv[a]);
				return 1;
			}
			clock_gettime(CLOCK_MONOTONIC, &e);
			t[i] = (e.tv_sec - s.tv_sec) * 1e3 + (e.tv_nsec - s.tv_nsec) / 1e6;
		}
		if (!t)
			return 1;
		qsort(t, (size_t)reps, sizeof(*t), cmp_d);
		printf("%s\t%.3f ms\tblocks %lld\thits %lld\n", argv[a], t[reps / 2],
		       (long long)stats.blocks, (long long)stats.hits);
		free(t);
	}
	kt_store_close(st);
	return 0;
}
