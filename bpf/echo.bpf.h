/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Was ECHO off when n_tty took in the bytes a write to a pty master just
 * handed over?  The syscall backend's answer (capture_syscall.bpf.h).
 *
 * Why "ECHO off now" at write(2)'s exit is not enough: the master's write
 * queues the bytes (pty_write -> the slave port's flip buffer) and returns;
 * n_tty takes them in (flush_to_ldisc, a work item) on any CPU, possibly
 * before the writer reaches syscall exit.  A prompt that reads a password
 * with ECHO off (read -s, getpass, sudo) can then read the line, turn ECHO
 * back on and print its next line while the writer has not returned yet:
 * seen at the exit, ECHO is on and the password would be recorded as input.
 * CI saw exactly that once (evidence_test, the read -s secret, on a loaded
 * 2-CPU machine).  tests/bpf/capture_echo.h makes the race certain by
 * parking the writer in a userfaultfd fault between two 2 KiB chunks of one
 * write.
 *
 * How, without a hook at syscall entry (a second tracepoint on every write
 * of the node): every termios change of a session's tty goes through an
 * ioctl (TCSETS*, TCSETA*, on the slave or, forwarded to it, the master),
 * and the backend sees that ioctl's exit too.  Per session tty it keeps:
 *   - seen_off: ECHO was last seen off (at such an ioctl or a typed write);
 *   - on_head: n_tty's read_head of the slave when ECHO was seen turned back
 *     on, i.e. how many bytes n_tty had taken in before that moment.
 * A typed write of `len` bytes that finds ECHO on is withheld when
 *   - seen_off is still set: ECHO went on, but the ioctl that did it has not
 *     returned (the two ran concurrently);
 *   - or fewer than `len` bytes reached n_tty after on_head (read_head moved
 *     by less, counting what still waits in the flip buffers): some of this
 *     write was taken in before ECHO went on, with ECHO off.
 * The first typed write that passes the count clears on_head: a writer's
 * next write starts after it returned, so after the transition.
 *
 * Errs on the side of withholding (a count, never the bytes): n_tty keeps
 * no byte for an ISIG character, and an erase character moves read_head
 * back, so a ^C or a backspace as the first thing typed after ECHO goes
 * back on is withheld too.  Not covered: one write that spans a password's
 * end and enough later input for n_tty to take in `len` bytes after the
 * transition before the write returns (more than 2 KiB in one write, typed
 * ahead of the prompt's reader); a slave whose line discipline is not
 * n_tty (then ECHO now decides).
 */
#ifndef KUBETAPE_ECHO_BPF_H
#define KUBETAPE_ECHO_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"

struct kt_echo_mark {
	__u64 sid;      /* the session it was made for: keys (tty pointers) are reused */
	__u64 on_head;  /* slave n_tty read_head when ECHO was seen turned back on */
	__u32 seen_off; /* ECHO last seen off */
	__u32 on_valid; /* on_head is a transition no typed write has passed yet */
};

/* By slave tty (the ttys map's key).  LRU: marks of ttys gone are reclaimed;
 * a mark evicted from a live session reads as "no transition seen", which is
 * what ECHO's current state then decides. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kt_echo_mark);
} echo_marks SEC(".maps");

#define KT_N_TTY 0          /* N_TTY, uapi linux/tty.h */
#define KT_TTY_BUF_WALK 8   /* flip buffers counted before giving up */

/*
 * TCSETS, TCSETSW, TCSETSF, TCSETA, TCSETAW, TCSETAF (0x5402-4, 0x5406-8)
 * and TCSETS2, TCSETSW2, TCSETSF2 (_IOW('T', 0x2b-0x2d, struct termios2)):
 * type 'T', these numbers, whatever the size bits.  The same on x86 and
 * arm64 (asm-generic/ioctls.h).
 */
#define KT_TCSET_NRS ((1ULL << 0x02) | (1ULL << 0x03) | (1ULL << 0x04) | (1ULL << 0x06) | \
		      (1ULL << 0x07) | (1ULL << 0x08) | (1ULL << 0x2b) | (1ULL << 0x2c) | \
		      (1ULL << 0x2d))
static __always_inline bool kt_ioctl_sets_termios(unsigned int cmd)
{
	unsigned int nr = cmd & 0xff;

	return ((cmd >> 8) & 0xff) == 'T' && nr < 64 && ((KT_TCSET_NRS >> nr) & 1);
}

static __always_inline struct n_tty_data *kt_slave_n_tty(struct tty_struct *slave)
{
	if (BPF_CORE_READ(slave, ldisc, ops, num) != KT_N_TTY)
		return NULL;
	return BPF_CORE_READ(slave, disc_data);
}

/* Bytes in the slave port's flip buffers that n_tty has not taken in yet;
 * ~0 when the chain is longer than the walk (then: "enough"). */
static __always_inline __u64 kt_port_pending(struct tty_struct *slave)
{
	struct tty_buffer *b = BPF_CORE_READ(slave, port, buf.head);
	__u64 n = 0;

	for (int i = 0; i < KT_TTY_BUF_WALK; i++) {
		if (!b)
			return n;
		n += (__u32)(BPF_CORE_READ(b, commit) - BPF_CORE_READ(b, read));
		b = BPF_CORE_READ(b, next);
	}
	return b ? ~0ULL : n;
}

/* The session's mark, made (ECHO on, no transition) if missing or left by
 * an earlier session on a reused tty. */
static __always_inline struct kt_echo_mark *kt_echo_mark_get(__u64 sid, __u64 key)
{
	struct kt_echo_mark fresh = { .sid = sid }, *m;

	m = bpf_map_lookup_elem(&echo_marks, &key);
	if (!m) {
		bpf_map_update_elem(&echo_marks, &key, &fresh, BPF_NOEXIST);
		return bpf_map_lookup_elem(&echo_marks, &key);
	}
	if (m->sid != sid) {
		m->on_valid = 0;
		m->seen_off = 0;
		m->sid = sid;
	}
	return m;
}

/* A TCSETS-like ioctl on session `sid`'s tty returned: note ECHO's state. */
static __always_inline void kt_echo_termios_set(__u64 sid, struct tty_struct *slave)
{
	struct kt_echo_mark *m = kt_echo_mark_get(sid, (__u64)slave);
	struct n_tty_data *ld;

	if (!m)
		return;
	if (kt_tty_echo_off(slave)) {
		m->seen_off = 1;
		return;
	}
	if (!m->seen_off)
		return; /* on before, on now: no transition */
	/* off -> on: the snapshot first, seen_off last, so that a write exit
	 * in between still withholds */
	ld = kt_slave_n_tty(slave);
	if (ld) {
		m->on_head = BPF_CORE_READ(ld, read_head);
		m->on_valid = 1;
	}
	m->seen_off = 0;
}

/* A typed write of `len` bytes to the master of session `sid`'s tty
 * returned: were any of them (or may they have been) taken in with ECHO off? */
static __always_inline bool kt_echo_withhold(__u64 sid, struct tty_struct *slave, __u64 len)
{
	struct kt_echo_mark *m;
	struct n_tty_data *ld;
	__u64 pending, key;
	__s64 taken;

	if (kt_tty_echo_off(slave)) {
		m = kt_echo_mark_get(sid, (__u64)slave);
		if (m)
			m->seen_off = 1;
		return true;
	}
	key = (__u64)slave;
	m = bpf_map_lookup_elem(&echo_marks, &key);
	if (!m || m->sid != sid)
		return false;
	if (m->seen_off)
		return true;
	if (!m->on_valid)
		return false;
	ld = kt_slave_n_tty(slave);
	if (!ld)
		return false;
	/* flip buffers first: bytes moving on into n_tty meanwhile are counted
	 * twice (more, never fewer) */
	pending = kt_port_pending(slave);
	taken = (__s64)(BPF_CORE_READ(ld, read_head) - m->on_head);
	if (taken < 0)
		taken = 0;
	if (pending != ~0ULL && pending + (__u64)taken < len)
		return true;
	m->on_valid = 0;
	return false;
}

#endif /* KUBETAPE_ECHO_BPF_H */
