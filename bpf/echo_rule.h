/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall backend's ECHO-race rule (kt_echo_withhold in echo.bpf.h),
 * alone so that tests/unit/test_echo_rule.c checks it without a kernel.
 * Pure arithmetic on one mark word and n_tty's counters; no kernel types.
 *
 * The mark word: n_tty's read_head at the last ioctl that left ECHO on,
 * shifted left by KT_EM_SHIFT, with KT_EM_OFF (ECHO last seen off) and
 * KT_EM_VALID (that snapshot is one no typed write has passed yet).
 */
#ifndef KUBETAPE_ECHO_RULE_H
#define KUBETAPE_ECHO_RULE_H

#ifndef __KUBETAPE_BPF__
#include <stdbool.h>
#include <linux/types.h>
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#define KT_EM_OFF   1ULL /* ECHO last seen off */
#define KT_EM_VALID 2ULL /* a snapshot no typed write has passed yet */
#define KT_EM_SHIFT 2    /* read_head << 2 | flags: read_head wraps at 2^62 */
#define KT_UNKNOWN  (~0ULL)

enum kt_echo_verdict {
	KT_ECHO_RECORD = 0, /* ECHO was on for all of it: record, snapshot kept */
	KT_ECHO_PASSED,     /* record, and the snapshot is behind us: drop it */
	KT_ECHO_WITHHOLD,   /* some of it was (or may have been) taken in with ECHO off */
};

/* The mark after an ioctl left ECHO on with n_tty's read_head at `rh`. */
static __always_inline __u64 kt_echo_on_state(__u64 rh)
{
	return (rh << KT_EM_SHIFT) | KT_EM_VALID;
}

/*
 * A typed write of `len` bytes returned with ECHO on.  `state` is the mark
 * word, `pending` the bytes still in the flip buffers (read first;
 * KT_UNKNOWN if they cannot be counted), `rh` n_tty's read_head (read
 * after).  In that order every byte that reached n_tty after the snapshot
 * is in one count or the other: one that leaves the buffers between the two
 * reads is in read_head by the second.  A byte can be in both (n_tty took it
 * in but the buffer's `read` had not moved yet), and such a byte did reach
 * n_tty after the snapshot, so the double count only adds to bytes typed
 * after ECHO went on: it can hide the race only for a write whose part
 * after the password is at least as long as the part before (a paste of
 * over 4 KiB), which echo.bpf.h lists as not covered.
 */
static __always_inline enum kt_echo_verdict kt_echo_rule(__u64 state, __u64 pending, __u64 rh,
							 __u64 len)
{
	__u64 on, taken;

	if (state & KT_EM_OFF)
		return KT_ECHO_WITHHOLD; /* ECHO went on, its ioctl has not returned */
	if (!(state & KT_EM_VALID))
		return KT_ECHO_RECORD;
	if (pending == KT_UNKNOWN)
		return KT_ECHO_WITHHOLD;
	rh = (rh << KT_EM_SHIFT) >> KT_EM_SHIFT;
	on = state >> KT_EM_SHIFT;
	/* read_head below the snapshot: n_tty was reset since (^C, a flush,
	 * a new line discipline) and counts from 0 again, all of it after */
	taken = rh >= on ? rh - on : rh;
	if (pending + taken < len)
		return KT_ECHO_WITHHOLD;
	return KT_ECHO_PASSED;
}

#endif /* KUBETAPE_ECHO_RULE_H */
