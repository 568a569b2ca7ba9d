// SPDX-License-Identifier: Apache-2.0
/*
 * Skipped runs.  The kernel runs a BPF program only if that program is not
 * already in flight on the CPU; otherwise it skips the run and counts it in
 * the program's recursion_misses.  A preemptible tracepoint program (7.x,
 * bpf/core_fixes.bpf.h) or an fentry program preempted mid-run makes that
 * happen for runs of other tasks on its CPU: a tty read, a fork, an exec
 * that is then not recorded.  Which session (if any) it belonged to is
 * unknowable, so it is reported as what it is: counted, unattributed loss.
 *
 * The kernel's counts live as long as the programs, which outlive a
 * recorder when pinned: the store remembers, per boot and program id, the
 * count already added (store/skipped.c), so a restart neither counts a
 * skip twice nor drops the ones made while no recorder ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skips.h"
#include "log.h"

#define CHECK_EVERY_US 1000000
#define NPROG 16

struct prog {
	uint32_t id;
	char name[16];
	uint64_t stored;  /* the kernel count the store has */
	uint64_t logged;  /* the kernel count the log has */
};

struct kt_skips {
	char boot_id[9];
	struct prog p[NPROG];
	int n;
	uint64_t counted, kernel_total;
	int64_t next_us;
	bool read_failed;
};

int kt_skips_new(struct kt_skips **out)
{
	struct kt_skips *sk = calloc(1, sizeof(*sk));
	char buf[64] = "";
	int fd;

	if (!sk)
		return -ENOMEM;
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	snprintf(sk->boot_id, sizeof(sk->boot_id), "%.8s", buf[0] ? buf : "00000000");
	*out = sk;
	return 0;
}

void kt_skips_free(struct kt_skips *sk)
{
	free(sk);
}

uint64_t kt_skips_counted(const struct kt_skips *sk)
{
	return sk ? sk->counted : 0;
}

uint64_t kt_skips_kernel_total(const struct kt_skips *sk)
{
	return sk ? sk->kernel_total : 0;
}

/* The slot of program `id`, new ones starting from what the store has. */
static struct prog *slot(struct kt_skips *sk, struct kt_store *st, const struct kt_prog_misses *m)
{
	struct prog *p;

	for (int i = 0; i < sk->n; i++)
		if (sk->p[i].id == m->id)
			return &sk->p[i];
	if (sk->n >= NPROG)
		return NULL;
	p = &sk->p[sk->n];
	if (kt_store_skipped_seen(st, sk->boot_id, m->id, &p->stored))
		return NULL; /* store unreadable: next time */
	p->id = m->id;
	snprintf(p->name, sizeof(p->name), "%s", m->name);
	p->logged = p->stored;
	sk->n++;
	return p;
}

void kt_skips_check(struct kt_skips *sk, struct kt_loader *ld, struct kt_store *st,
		    int64_t now_us, bool force)
{
	struct kt_prog_misses m[NPROG];
	uint64_t total = 0;
	int n;

	if (!sk || (!force && now_us < sk->next_us))
		return;
	sk->next_us = now_us + CHECK_EVERY_US;
	n = kt_loader_prog_misses(ld, m, NPROG);
	if (n < 0) {
		if (!sk->read_failed)
			pr_warn("cannot read the programs' skipped-run counts: %s", strerror(-n));
		sk->read_failed = true;
		return;
	}
	sk->read_failed = false;
	for (int i = 0; i < n; i++) {
		struct prog *p = slot(sk, st, &m[i]);
		uint64_t add;
		int err;

		total += m[i].misses;
		if (!p || m[i].misses <= p->stored)
			continue;
		if (m[i].misses > p->logged) {
			pr_warn("the kernel skipped %" PRIu64 " run(s) of %s (recursion_misses %" PRIu64
				"): what they would have recorded is missing and cannot be attributed "
				"to a session; counted in the store (kubetape show)",
				m[i].misses - p->logged, p->name, m[i].misses);
			p->logged = m[i].misses;
		}
		add = m[i].misses - p->stored;
		err = kt_store_begin(st);
		if (!err)
			err = kt_store_skipped_add(st, sk->boot_id, p->id, m[i].misses, add, now_us);
		if (!err)
			err = kt_store_commit(st);
		if (err) {
			kt_store_rollback(st); /* the count stays pending: next check */
			continue;
		}
		p->stored = m[i].misses;
		sk->counted += add;
	}
	sk->kernel_total = total;
}
