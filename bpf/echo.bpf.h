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
 * ioctl (TCSETS*, TCSETA*, on the slave, on /dev/tty, or on the master,
 * which forwards it to the slave), and the backend sees that ioctl's exit
 * too.  Per session tty it keeps one word: ECHO last seen off, and n_tty's
 * read_head of the slave at the last ioctl that left ECHO on (how many bytes
 * n_tty had taken in by then; taken at every such ioctl, whether or not the
 * ECHO-off before it was seen: the hook attaches lazily, after a session's
 * first command may have cleared ECHO).  A typed write of `len` bytes that
 * finds ECHO on is withheld when
 *   - ECHO was last seen off: it went on, but the ioctl that did it has not
 *     returned (the two ran concurrently);
 *   - or fewer than `len` bytes reached n_tty after that snapshot (read_head
 *     moved by less, counting what still waits in the flip buffers): some
 *     of this write was taken in before the ioctl, with ECHO off;
 *   - or it cannot count: the flip buffers do not read sanely.
 * The buffers are counted before read_head (echo_rule.h says why).
 * The first typed write that passes the count drops the snapshot: a
 * writer's next write starts after it returned, so after the ioctl.
 *
 * Errs on the side of withholding (a count, never the bytes): n_tty keeps
 * no byte for an ISIG character, so a ^C as the first thing typed after an
 * ECHO-on ioctl is withheld.  Not covered: a write that spans a password's
 * end whose part after the password, counted twice (echo_rule.h), or
 * bytes another writer typed at the same moment make up for the part
 * before (a paste of over 4 KiB: the tty layer passes 2 KiB at a time);
 * an ECHO-off never seen (before the hook attached, or a 32-bit compat
 * ioctl, not decoded) followed by the race itself; a slave whose line
 * discipline is not n_tty (then ECHO now decides); a full marks map (4096
 * ttys with a mark each: then ECHO now decides, and kt_stat says nothing).
 *
 * One 64-bit state word changed with BPF atomics (5.12, below our floor):
 * a reader on another CPU sees a snapshot and its flags together, on arm64
 * too, where plain stores to two fields may be seen in either order.
 */
#ifndef KUBETAPE_ECHO_BPF_H
#define KUBETAPE_ECHO_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "echo_rule.h"

struct kt_echo_mark {
	__u64 sid;   /* the session it was made for: keys (tty pointers) are reused */
	__u64 state; /* read_head at the last ECHO-on ioctl << KT_EM_SHIFT | KT_EM_* */
};

/* By slave tty (the ttys map's key); removed when the session's last
 * process exits (kt_echo_forget).  A plain hash, not LRU: an LRU map can
 * evict a live entry while nearly empty (per-CPU free lists, before 6.16's
 * "bpf: Adjust free target to avoid global starvation of LRU map"). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, struct kt_echo_mark);
} echo_marks SEC(".maps");

#define KT_N_TTY 0               /* N_TTY, uapi linux/tty.h */
#define KT_TTY_BUF_WALK 8        /* flip buffers counted before giving up */
#define KT_TTY_PENDING_MAX (1u << 20) /* more than any port holds: not a sane read */

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

/*
 * Bytes in the slave port's flip buffers that n_tty has not taken in yet
 * (a buffer's `read` moves after n_tty took its bytes), or KT_UNKNOWN: a
 * chain longer than the walk, a buffer freed under us (read past commit,
 * absurd sizes), or fields this kernel does not have.
 */
static __always_inline __u64 kt_port_pending(struct tty_struct *slave)
{
	struct tty_port *port = BPF_CORE_READ(slave, port);
	struct tty_buffer *b;
	__u64 n = 0;

	if (!port)
		return KT_UNKNOWN;
	b = BPF_CORE_READ(port, buf.head);
	if (!bpf_core_field_exists(b->commit) || !bpf_core_field_exists(b->read))
		return KT_UNKNOWN;
	for (int i = 0; i < KT_TTY_BUF_WALK; i++) {
		__u32 commit, read;

		if (!b)
			return n;
		commit = BPF_CORE_READ(b, commit);
		read = BPF_CORE_READ(b, read);
		if (read > commit || commit > KT_TTY_PENDING_MAX)
			return KT_UNKNOWN;
		n += commit - read;
		b = BPF_CORE_READ(b, next);
	}
	return b || n > KT_TTY_PENDING_MAX ? KT_UNKNOWN : n;
}

/* The session's mark, made (nothing seen) if missing or left by an
 * earlier session on a reused tty.  NULL: the map is full. */
static __always_inline struct kt_echo_mark *kt_echo_mark_get(__u64 sid, __u64 key)
{
	struct kt_echo_mark fresh = { .sid = sid }, *m;

	m = bpf_map_lookup_elem(&echo_marks, &key);
	if (!m) {
		bpf_map_update_elem(&echo_marks, &key, &fresh, BPF_NOEXIST);
		return bpf_map_lookup_elem(&echo_marks, &key);
	}
	if (m->sid != sid) {
		__sync_lock_test_and_set(&m->state, 0);
		m->sid = sid;
	}
	return m;
}

/*
 * If ECHO is off now, note it (and say so).  The mark is read (fully
 * ordered) before ECHO, and OFF is set only if the mark has not changed
 * since: an ioctl that turned ECHO on after our look at ECHO must win, or
 * a stale OFF would withhold everything typed until the next one.
 */
static __always_inline bool kt_echo_note_off(struct kt_echo_mark *m, struct tty_struct *slave)
{
	__u64 st = __sync_fetch_and_or(&m->state, 0);

	if (!kt_tty_echo_off(slave))
		return false;
	if (!(st & KT_EM_OFF))
		__sync_val_compare_and_swap(&m->state, st, st | KT_EM_OFF);
	return true;
}

/* A TCSETS-like ioctl on session `sid`'s tty returned (whatever its result:
 * set_termios fails only before it changes anything): note ECHO's state. */
static __always_inline void kt_echo_termios_set(__u64 sid, struct tty_struct *slave)
{
	struct kt_echo_mark *m = kt_echo_mark_get(sid, (__u64)slave);
	struct n_tty_data *ld;
	__u64 rh;

	if (!m)
		return;
	if (kt_echo_note_off(m, slave))
		return;
	ld = kt_slave_n_tty(slave);
	rh = ld ? BPF_CORE_READ(ld, read_head) : 0;
	/* the snapshot and "on" in one store */
	__sync_lock_test_and_set(&m->state, ld ? kt_echo_on_state(rh) : 0);
}

/* A typed write of `len` bytes to the master of session `sid`'s tty
 * returned: were any of them (or may they have been) taken in with ECHO off? */
static __always_inline bool kt_echo_withhold(__u64 sid, struct tty_struct *slave, __u64 len)
{
	struct kt_echo_mark *m;
	struct n_tty_data *ld;
	__u64 st, rh, pending, key = (__u64)slave;

	m = kt_echo_mark_get(sid, key);
	if (!m)	/* the map is full: ECHO now decides */
		return kt_tty_echo_off(slave);
	if (kt_echo_note_off(m, slave))
		return true;
	st = __sync_fetch_and_or(&m->state, 0);
	if ((st & KT_EM_OFF) || !(st & KT_EM_VALID)) /* no counting needed */
		return kt_echo_rule(st, 0, 0, len) == KT_ECHO_WITHHOLD;
	ld = kt_slave_n_tty(slave);
	if (!ld)
		return false;
	/* the flip buffers before read_head (echo_rule.h) */
	pending = kt_port_pending(slave);
	rh = BPF_CORE_READ(ld, read_head);
	switch (kt_echo_rule(st, pending, rh, len)) {
	case KT_ECHO_WITHHOLD:
		return true;
	case KT_ECHO_PASSED:
		/* drop the snapshot, unless a newer one came meanwhile */
		__sync_val_compare_and_swap(&m->state, st, st & ~KT_EM_VALID);
		return false;
	default:
		return false;
	}
}

/* Session `sid` lost its last process: its tty's mark goes (if still its). */
static __always_inline void kt_echo_forget(__u64 sid, __u64 key)
{
	struct kt_echo_mark *m;

	if (!key)
		return;
	m = bpf_map_lookup_elem(&echo_marks, &key);
	if (m && m->sid == sid)
		bpf_map_delete_elem(&echo_marks, &key);
}

#endif /* KUBETAPE_ECHO_BPF_H */
