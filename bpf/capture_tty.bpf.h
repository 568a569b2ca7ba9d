/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture backend "tty": hooks in the pty driver, for production kernels.
 *
 * pty_write(tty, buf, count) is where every byte crosses between the two
 * sides of a pty:
 *   - tty is a recorded SLAVE: the bytes the master will read, i.e. exactly
 *     what the kubectl client receives: output after the line discipline's
 *     OPOST (\n -> \r\n) and the line discipline's own echo, which n_tty
 *     sends through tty->ops->write without going through tty_write();
 *   - tty is the MASTER of a recorded slave: what the user typed.
 * So one function gives both directions byte-exactly, and it runs only for
 * pty writes: a process writing anywhere else never reaches this code.
 * (tty_write() would see only what session processes write, before OPOST
 * and without echo, so it cannot reproduce the screen on its own.)
 *
 * Two attach variants feed the same events:
 *   kt_tty_fentry_*  fexit: arguments and return value in one program;
 *   kt_tty_kprobe_*  kprobe + kretprobe, for kernels or policies (lockdown,
 *                    no BPF trampoline) that refuse fentry/fexit, and first
 *                    choice where fexit runs can be preempted (kernels with
 *                    the full or lazy preemption model: Debian's 6.18 and
 *                    7.x), because there a preempted fexit run makes the
 *                    kernel skip every other task's run on that CPU, and
 *                    those bytes would be lost unattributed.
 * Only the bytes pty_write accepted (its return value) are recorded: the
 * flip buffer can take less than asked, and the line discipline retries.
 *
 * Window size: TIOCSWINSZ on a pty master is applied to its slave, whose
 * driver has no resize op, so it lands in tty_do_resize(slave); pty_resize()
 * (the master's op) is hooked too for drivers that route through it.
 */
#ifndef KUBETAPE_CAPTURE_TTY_BPF_H
#define KUBETAPE_CAPTURE_TTY_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "input.bpf.h"
#include <bpf/bpf_tracing.h>

struct kt_pty_call {
	__u64 key;   /* kt_pty_session's key; 0: no call in flight */
	__u64 buf;
	__u64 sid;   /* session of the write (its loss is counted there) */
	__u64 count; /* bytes asked for: at most this many were written */
	__u16 type;  /* KT_EV_TTY_OUT / KT_EV_TTY_IN */
	__u16 echo_off; /* typed, and the slave had ECHO off at entry */
	__u16 _pad[2];
};

/*
 * pty_write in flight on a recorded pty, by thread (entry -> return): the
 * kprobe variant's, and the fexit variant's typed writes' ECHO at entry.  A
 * thread's slot stays once made and is reused in place (key 0 between
 * calls): no map update or delete per write, only lookups.  LRU: slots of
 * threads gone are reclaimed; a slot in flight was used microseconds ago.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kt_pty_call);
} pty_calls SEC(".maps");

/* Which recorded session a pty_write on `tty` belongs to, and its direction. */
static __always_inline __u64 kt_pty_session(struct tty_struct *tty, __u64 *key, __u16 *type)
{
	__u64 *sid;

	*key = (__u64)tty;
	sid = bpf_map_lookup_elem(&ttys, key);
	if (sid) {
		*type = KT_EV_TTY_OUT;
		return *sid;
	}
	if (!kt_capture_input)
		return 0;
	*key = (__u64)BPF_CORE_READ(tty, link);
	sid = bpf_map_lookup_elem(&ttys, key);
	if (sid) {
		*type = KT_EV_TTY_IN;
		return *sid;
	}
	return 0;
}

/*
 * `ret` bytes at `buf` went through a pty of session `sid` (kt_pty_session).
 * Typed bytes are withheld when the slave (key) has ECHO off now or had it
 * off at pty_write's entry (`off_at_entry`): pty_write
 * queues them for n_tty, which can take them in and let the reader turn ECHO
 * back on before pty_write returns (bpf/echo.bpf.h tells the whole race).
 * The fexit variant gets it from its entry half (kt_tty_fentry_pty_write_in).
 */
static __always_inline void kt_pty_emit(__u64 sid, __u64 key, __u16 type, const char *buf, long ret,
					bool off_at_entry)
{
	if (ret <= 0)
		return;
	if (type == KT_EV_TTY_OUT)
		kt_emit_data(sid, key, type, KT_SRC_TTY, buf, ret, false);
	else
		kt_emit_input(sid, (struct tty_struct *)key, KT_SRC_TTY, buf, ret, false, off_at_entry);
}

/* fexit: typed bytes take ECHO at entry from kt_tty_fentry_pty_write_in's slot */
static __always_inline void kt_pty_written(struct tty_struct *tty, const char *buf, long ret)
{
	struct kt_pty_call *slot;
	bool off = false;
	__u16 type;
	__u64 key, sid, id;

	if (ret <= 0)
		return;
	sid = kt_pty_session(tty, &key, &type);
	if (!sid)
		return;
	if (type == KT_EV_TTY_IN) {
		id = bpf_get_current_pid_tgid();
		slot = bpf_map_lookup_elem(&pty_calls, &id);
		if (slot && slot->key == key) {
			off = slot->echo_off;
			slot->key = 0;
		}
	}
	kt_pty_emit(sid, key, type, buf, ret, off);
}

static __always_inline void kt_pty_resized(struct tty_struct *tty, struct winsize *ws)
{
	__u16 type, rows, cols;
	__u64 key, sid;

	sid = kt_pty_session(tty, &key, &type);
	if (!sid)
		return;
	rows = BPF_CORE_READ(ws, ws_row);
	cols = BPF_CORE_READ(ws, ws_col);
	kt_emit_winsize(sid, key, rows, cols);
}

/* ---- fentry/fexit variant ---------------------------------------------- */

SEC("fexit/pty_write")
int BPF_PROG(kt_tty_fentry_pty_write, struct tty_struct *tty, const char *buf, long c, long ret)
{
	if (!kt_nr_ttys || !kt_recording())
		return 0;
	kt_pty_written(tty, buf, kt_pty_count(ret));
	return 0;
}

/*
 * The fexit variant's entry half, for typed bytes only: ECHO as pty_write
 * starts, before it queues the bytes for n_tty (kt_pty_emit).  Loaded only
 * with input capture (recorder/loader.c): without it no pty_write pays a
 * second trampoline.  A recorder that turns --input on while adopting
 * programs loaded without it has the fexit's own check only.
 */
SEC("fentry/pty_write")
int BPF_PROG(kt_tty_fentry_pty_write_in, struct tty_struct *tty, const char *buf, long c)
{
	struct kt_pty_call call = {}, *slot;
	__u64 id, key, sid;
	__u16 type;

	if (!kt_nr_ttys || !kt_capture_input || !kt_recording())
		return 0;
	sid = kt_pty_session(tty, &key, &type);
	if (!sid || type != KT_EV_TTY_IN)
		return 0;
	id = bpf_get_current_pid_tgid();
	slot = bpf_map_lookup_elem(&pty_calls, &id);
	if (slot) {	/* reused in place, as the kprobe variant does */
		slot->echo_off = kt_tty_echo_off((struct tty_struct *)key);
		slot->key = key;
		return 0;
	}
	call.key = key;
	call.echo_off = kt_tty_echo_off((struct tty_struct *)key);
	bpf_map_update_elem(&pty_calls, &id, &call, BPF_ANY);
	return 0;
}

SEC("fentry/pty_resize")
int BPF_PROG(kt_tty_fentry_pty_resize, struct tty_struct *tty, struct winsize *ws)
{
	if (!kt_nr_ttys || !kt_recording())
		return 0;
	kt_pty_resized(tty, ws);
	return 0;
}

SEC("fentry/tty_do_resize")
int BPF_PROG(kt_tty_fentry_tty_do_resize, struct tty_struct *tty, struct winsize *ws)
{
	if (!kt_nr_ttys || !kt_recording())
		return 0;
	kt_pty_resized(tty, ws);
	return 0;
}

/* ---- kprobe variant ----------------------------------------------------- */

/*
 * The preferred variant where fexit runs can be preempted (the loader's
 * probe, bpf/core_fixes.bpf.h kt_kernel_preempt_mode): kprobe programs run
 * with preemption off, so no task can find them in flight and be skipped.
 */

SEC("kprobe/pty_write")
int BPF_KPROBE(kt_tty_kprobe_pty_write, struct tty_struct *tty, const char *buf, long c)
{
	struct kt_pty_call call = {}, *slot;
	__u64 id, key, sid;
	__u16 type, echo_off;

	if (!kt_nr_ttys || !kt_recording())
		return 0;
	sid = kt_pty_session(tty, &key, &type);
	if (!sid)
		return 0;
	/* typed: ECHO before pty_write queues the bytes (kt_pty_emit) */
	echo_off = type == KT_EV_TTY_IN && kt_tty_echo_off((struct tty_struct *)key);
	id = bpf_get_current_pid_tgid();
	slot = bpf_map_lookup_elem(&pty_calls, &id);
	if (!slot) {
		call.key = key;
		call.buf = (__u64)buf;
		call.sid = sid;
		call.count = kt_pty_count(c);
		call.type = type;
		call.echo_off = echo_off;
		bpf_map_update_elem(&pty_calls, &id, &call, BPF_ANY);
		return 0;
	}
	/*
	 * A call of this thread still in flight: its return was never seen
	 * (the kretprobe ran out of instances, maxactive, or its program run
	 * was skipped).  pty_write does not nest, so those bytes went through
	 * unrecorded: counted against their session (up to what was asked
	 * for), never dropped silently.
	 */
	if (slot->key && slot->count > 0 && slot->count <= 0x7fffffff)
		kt_count_loss(slot->sid, slot->count);
	slot->buf = (__u64)buf;
	slot->sid = sid;
	slot->count = kt_pty_count(c);
	slot->type = type;
	slot->echo_off = echo_off;
	slot->key = key;
	return 0;
}

SEC("kretprobe/pty_write")
int BPF_KRETPROBE(kt_tty_kprobe_pty_write_ret, long ret)
{
	struct kt_pty_call *slot;
	__u64 id, key;

	if (!kt_nr_ttys)
		return 0;
	id = bpf_get_current_pid_tgid();
	slot = bpf_map_lookup_elem(&pty_calls, &id);
	if (!slot || !slot->key)
		return 0;
	key = slot->key;
	slot->key = 0;
	kt_pty_emit(slot->sid, key, slot->type, (const char *)slot->buf, kt_pty_count(ret),
		    slot->echo_off);
	return 0;
}

SEC("kprobe/pty_resize")
int BPF_KPROBE(kt_tty_kprobe_pty_resize, struct tty_struct *tty, struct winsize *ws)
{
	if (!kt_nr_ttys || !kt_recording())
		return 0;
	kt_pty_resized(tty, ws);
	return 0;
}

SEC("kprobe/tty_do_resize")
int BPF_KPROBE(kt_tty_kprobe_tty_do_resize, struct tty_struct *tty, struct winsize *ws)
{
	if (!kt_nr_ttys || !kt_recording())
		return 0;
	kt_pty_resized(tty, ws);
	return 0;
}

#endif /* KUBETAPE_CAPTURE_TTY_BPF_H */
