/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall backend's n_tty catch-up arithmetic (kt_master_catch_up in
 * capture_syscall.bpf.h), alone so that tests/unit/test_catchup.c checks it
 * without a kernel.  Pure arithmetic on n_tty's free-running counters; no
 * kernel types.
 *
 * n_tty (drivers/tty/n_tty.c) keeps what the master's reader consumes in a
 * 4 KiB ring (read_buf, N_TTY_BUF_SIZE, unchanged since 2.6) indexed by
 * free-running counters: read_tail is how far the reader consumed,
 * read_head how far the line discipline produced.  Byte p lives at
 * read_buf[p & 4095] until the producer reaches p + 4096, so the ring holds
 * exactly [head - 4096, head).
 */
#ifndef KUBETAPE_CATCHUP_H
#define KUBETAPE_CATCHUP_H

#ifndef __KUBETAPE_BPF__
#include <stdbool.h>
#include <linux/types.h>
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#define KT_N_TTY_BUF_SIZE 4096

struct kt_catchup {
	__u64 lost;      /* consumed unseen and overwritten since: counted as loss */
	__u64 copy_from; /* consumed unseen, still in the ring: copy [copy_from, */
	__u64 copy_len;  /*   copy_from + copy_len) from read_buf */
};

/*
 * A read returned [start, tail); the backend has emitted everything before
 * `from`.  The hole [from, start) was consumed without the backend seeing
 * it (a call it does not hook, a read before it attached, a run the kernel
 * skipped).  Split the hole into what is lost and what the ring still
 * holds.  The loss is exact: bytes from `start` on were returned by this
 * read itself and are emitted from the reader's buffer, so a lap reaching
 * past `start` never counts them (lost <= start - from).  False when there
 * is no hole: nothing missed, counters that went backwards (they are
 * free-running and never wrap: that is 2^64 bytes), or a jump of
 * more than 4 GiB (not n_tty, or reset counters: out_next starts at ~0).
 */
static __always_inline bool kt_catchup_span(__u64 from, __u64 start, __u64 head,
					    struct kt_catchup *c)
{
	__u64 hole = start - from, lapped;

	c->lost = c->copy_len = 0;
	c->copy_from = start;
	if (start <= from || hole > (1ULL << 32))
		return false;
	lapped = head - from > KT_N_TTY_BUF_SIZE ? head - KT_N_TTY_BUF_SIZE - from : 0;
	if (lapped > hole)
		lapped = hole;
	c->lost = lapped;
	c->copy_from = from + lapped;
	c->copy_len = hole - lapped;
	return true;
}

#endif /* KUBETAPE_CATCHUP_H */
