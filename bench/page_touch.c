// SPDX-License-Identifier: Apache-2.0
/*
 * bench/page_touch.c — what a new process pays on this host to touch a page
 * the first time (bench/pg_scale.sh prints it next to the CLI rows).  A
 * `kubetape --db postgres://` run is a new client process and a new server
 * process (PostgreSQL forks one per connection), and both touch thousands
 * of pages once: the libraries they load, the memory they allocate, and
 * on the server the shared buffers (a forked backend maps each 4 KB page
 * of shared memory on its first touch).  On a bare-metal x86 host that is
 * ~0.1-0.5 us a page; under a hypervisor with shadow paging it can be 50
 * times that, and then it, not our code, is most of a CLI run.
 *
 * Prints two lines, microseconds per 4 KB page (median of 5 rounds of
 * 4,096 pages): "anon" a private anonymous page written (malloc'd memory),
 * "shared" a page of populated shared memory read by a newly forked child
 * (a server backend on shared_buffers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGES 4096
#define PG 4096
#define ROUNDS 5

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	double anon[ROUNDS], shared[ROUNDS], t;
	int pfd[2];

	for (int r = 0; r < ROUNDS; r++) {
		volatile char *p = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		volatile char *q = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		pid_t pid;

		if (p == MAP_FAILED || q == MAP_FAILED || pipe(pfd)) {
			perror("page_touch");
			return 1;
		}
		t = now_us();
		for (int i = 0; i < PAGES; i++)
			p[(size_t)i * PG] = 1;
		anon[r] = (now_us() - t) / PAGES;
		for (int i = 0; i < PAGES; i++)
			q[(size_t)i * PG] = 1;
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid) {
			char s = 0;

			t = now_us();
			for (int i = 0; i < PAGES; i++)
				s += q[(size_t)i * PG];
			t = (now_us() - t) / PAGES;
			(void)s;
			_exit(write(pfd[1], &t, sizeof(t)) == sizeof(t) ? 0 : 1);
		}
		if (read(pfd[0], &shared[r], sizeof(shared[r])) != sizeof(shared[r]) ||
		    waitpid(pid, NULL, 0) != pid) {
			fprintf(stderr, "page_touch: the child failed\n");
			return 1;
		}
		close(pfd[0]);
		close(pfd[1]);
		munmap((void *)p, PAGES * PG);
		munmap((void *)q, PAGES * PG);
	}
	qsort(anon, ROUNDS, sizeof(*anon), cmp);
	qsort(shared, ROUNDS, sizeof(*shared), cmp);
	printf("anon\t%.2f\nshared\t%.2f\n", anon[ROUNDS / 2], shared[ROUNDS / 2]);
	return 0;
}
