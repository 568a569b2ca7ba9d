// SPDX-License-Identifier: Apache-2.0
/*
 * The exec probe: what the session detection rule (kt_entry_rule at
 * tp_btf/sched_process_exec) costs an execve that is no session's, i.e.
 * almost every exec on a node.  A process outside any session forks and
 * execs /bin/true (a host binary, host namespaces) and waits, N times;
 * prints the mean microseconds per fork+exec+wait over the best of R rounds
 * (the minimum filters scheduler noise on a shared machine).
 *
 *   exec_loop [ITERATIONS] [ROUNDS]
 *
 * Limits: the fork and exit hooks run too (one hash lookup each), so this
 * is the whole per-process tax of the session programs, not the exec hook
 * alone; /bin/true's own exec (ELF load, ld.so) dominates the figure, so
 * the difference recorder on minus off is what to read, not the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	char *const av[] = { "true", NULL };
	char *const env[] = { NULL };
	double best = 1e18;

	if (n <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: exec_loop [ITERATIONS] [ROUNDS]\n");
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now_us();

		for (long i = 0; i < n; i++) {
			int st;
			pid_t p = vfork();

			if (p == 0) {
				execve("/bin/true", av, env);
				_exit(127);
			}
			if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
				return 1;
		}
		double per = (now_us() - t0) / n;
		if (per < best)
			best = per;
	}
	printf("%.3f\n", best);
	return 0;
}
