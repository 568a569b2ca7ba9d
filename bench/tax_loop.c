// SPDX-License-Identifier: Apache-2.0
/*
 * The node-wide tax probe: a process outside any session doing 1-byte
 * write(2) and read(2) calls on /dev/null in a tight loop.  Prints the mean
 * nanoseconds per syscall over the best of R rounds (the minimum filters
 * scheduler noise on a shared 2-core machine).
 *
 *   tax_loop [ITERATIONS] [ROUNDS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	int fd = open("/dev/null", O_RDWR);
	double best = 1e18;
	char c = 'x';

	if (fd < 0 || n <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: tax_loop [ITERATIONS] [ROUNDS]\n");
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ns();

		for (long i = 0; i < n; i++) {
			if (write(fd, &c, 1) != 1 || read(fd, &c, 1) < 0)
				return 1;
		}
		double per = (now_ns() - t0) / (2.0 * n);
		if (per < best)
			best = per;
	}
	printf("%.1f\n", best);
	return 0;
}
