// SPDX-License-Identifier: Apache-2.0
/*
 * chain_hash_bench [MIB] — the per-frame cost of the tamper-evidence chain
 * step (kt_chain_step, store/chain.c) for each chain version, at the frame
 * sizes the recorder writes: shell echo (32 B), lines (256 B), the flood's
 * 1-4 KiB.  CPU time (CLOCK_PROCESS_CPUTIME_ID), versions alternated per
 * size so a loaded machine affects both alike.  Prints ns per frame and
 * CPU-s per GiB of payload.  Build (after make):
 *   cc -O2 -Istore/include -o /tmp/chb bench/chain_hash_bench.c build/libkubetape.a \
 *      $(make -s print-store-libs)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "evidence.h"

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double run(int ver, const uint8_t *buf, size_t len, long n)
{
	struct kt_chain *c = kt_chain_new(ver);
	struct kt_frame f = { .type = KT_FRAME_OUT, .data = buf, .len = (uint32_t)len };
	uint8_t h[KT_HASH_LEN] = { 0 };
	double t;

	if (!c) {
		fprintf(stderr, "chain_hash_bench: version %d: %s\n", ver, strerror(errno));
		exit(1);
	}
	t = cpu_s();
	for (long i = 0; i < n; i++) {
		f.ts_us = 1700000000000000 + i;
		kt_chain_step(c, h, &f);
	}
	t = cpu_s() - t;
	kt_chain_free(c);
	return t;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 32, 256, 1024, 4096 };
	long mib = argc > 1 ? atol(argv[1]) : 256;
	static uint8_t buf[4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	printf("%-6s %10s %10s %12s %12s %12s %12s\n", "frame", "frames", "", "v1 ns/frame",
	       "v1 s/GiB", "v2 ns/frame", "v2 s/GiB");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		long n = (mib << 20) / (long)sizes[k];
		double gib, t1 = 0, t2 = 0;

		if (n > 4000000)
			n = 4000000;
		gib = (double)n * sizes[k] / (1 << 30);
		for (int r = 0; r < 3; r++) {
			t1 += run(KT_CHAIN_BLAKE2B, buf, sizes[k], n);
			t2 += run(KT_CHAIN_SHA256, buf, sizes[k], n);
		}
		printf("%-6zu %10ld %10s %12.0f %12.2f %12.0f %12.2f\n", sizes[k], n, "",
		       t1 / 3 / n * 1e9, t1 / 3 / gib, t2 / 3 / n * 1e9, t2 / 3 / gib);
	}
	return 0;
}
