/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every kernel difference kubetape's BPF code depends on, in one place, as
 * bcc's core_fixes.bpf.h does.  Each helper names the kernel change it
 * bridges.  CO-RE (bpf_core_field_exists / bpf_core_enum_value) picks the
 * variant when the program is loaded; there are no LINUX_VERSION_CODE
 * branches.  The ___old / ___new structs carry only the fields we touch.
 */
#ifndef KUBETAPE_CORE_FIXES_BPF_H
#define KUBETAPE_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * 6.15 "kernfs: Use RCU to access kernfs_node::parent" renamed
 * kernfs_node::parent to __parent.
 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kt_kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(((struct kernfs_node___new *)kn)->__parent))
		return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/*
 * 6.15 "tty: convert TTY_DRIVER_TYPE_* and PTY_TYPE_* defines to enums"
 * turned tty_driver::type/subtype from `short` fields holding #defines
 * (TTY_DRIVER_TYPE_PTY = 0x0004) into enum fields (TTY_DRIVER_TYPE_PTY = 3).
 * libbpf will not relocate an enum field onto an integer one, so the old
 * layout gets its own flavor; PTY_TYPE_SLAVE is 2 in both.
 */
struct tty_driver___short {
	short type;
	short subtype;
} __attribute__((preserve_access_index));

#define KT_OLD_TTY_DRIVER_TYPE_PTY 0x0004
#define KT_PTY_TYPE_SLAVE 0x0002

static __always_inline bool kt_tty_is_pty_slave(struct tty_struct *tty)
{
	struct tty_driver *drv = BPF_CORE_READ(tty, driver);
	int type, subtype, pty;

	if (!drv)
		return false;
	/* an int-typed field only relocates onto an int-typed field: this is
	 * true exactly on kernels before the change */
	if (bpf_core_field_exists(((struct tty_driver___short *)drv)->type)) {
		type = BPF_CORE_READ((struct tty_driver___short *)drv, type);
		subtype = BPF_CORE_READ((struct tty_driver___short *)drv, subtype);
		pty = KT_OLD_TTY_DRIVER_TYPE_PTY;
	} else {
		type = BPF_CORE_READ(drv, type);
		subtype = BPF_CORE_READ(drv, subtype);
		pty = bpf_core_enum_value(enum tty_driver_type, TTY_DRIVER_TYPE_PTY);
	}
	return type == pty && subtype == KT_PTY_TYPE_SLAVE;
}

/*
 * 6.6 (Jiri Slaby's tty u8/size_t series, "tty: make tty_operations::write()'s
 * count size_t") turned pty_write's `int c` into `size_t c` and its int return
 * into ssize_t.  fentry/kprobe hand over a 64-bit slot whose upper half is
 * undefined when the kernel passed an int; counts never exceed INT_MAX, so the
 * low 32 bits, sign-extended, are right on both sides of the change.
 */
static __always_inline long kt_pty_count(long v)
{
	return (long)(int)v;
}

/*
 * Namespace reference count.  6.18's namespace rework (Christian Brauner,
 * "ns: rename to __ns_ref") renamed ns_common::count to __ns_ref; from 5.11
 * to 6.17 it is ns_common::count (a refcount_t either way).  Each nsproxy
 * that points at a mount namespace holds one reference, as does every open
 * /proc/PID/ns/mnt file and bind mount of one.
 */
struct ns_common___old {
	refcount_t count;
} __attribute__((preserve_access_index));

struct mnt_namespace___refs_old {
	struct ns_common___old ns;
} __attribute__((preserve_access_index));

struct ns_common___new {
	refcount_t __ns_ref;
} __attribute__((preserve_access_index));

struct mnt_namespace___refs_new {
	struct ns_common___new ns;
} __attribute__((preserve_access_index));

static __always_inline int kt_mntns_refs_raw(struct mnt_namespace *m)
{
	if (bpf_core_field_exists(((struct mnt_namespace___refs_new *)m)->ns.__ns_ref))
		return BPF_CORE_READ((struct mnt_namespace___refs_new *)m, ns.__ns_ref.refs.counter);
	return BPF_CORE_READ((struct mnt_namespace___refs_old *)m, ns.count.refs.counter);
}

/*
 * 6.19 "ns: make all reference counts on initial namespace a nop" (Christian
 * Brauner, commit 657aeb436d70, the nstree series; in every 7.x) stopped
 * counting references to the boot-time namespaces: ns_ref_get/put on them
 * do nothing and __ns_ref stays 1 for ever, however many tasks share them.
 * Read as a count, the node's own mount namespace then looks like a brand
 * new one with a single user, and kt_entry_rule took every entry from the
 * host (runc exec into a pod without a mount namespace of its own, nsenter
 * -p) for a namespace being created: no session at all on 7.x.  The same
 * series numbered the initial namespaces (enum init_ns_id, MNT_NS_INIT_ID,
 * next to ns_common::ns_id): where that enum exists the initial mount
 * namespace is recognised by its id and reported as shared.  Before it,
 * references to it are counted like any other's.
 */
enum init_ns_id___nop {
	MNT_NS_INIT_ID___nop = 8, /* the value is the target kernel's, relocated */
};
#define KT_REFS_SHARED 0x40000000
static __always_inline int kt_mntns_refs(struct mnt_namespace *m)
{
	if (bpf_core_enum_value_exists(enum init_ns_id___nop, MNT_NS_INIT_ID___nop) &&
	    BPF_CORE_READ(m, ns.ns_id) ==
		    bpf_core_enum_value(enum init_ns_id___nop, MNT_NS_INIT_ID___nop))
		return KT_REFS_SHARED;
	return kt_mntns_refs_raw(m);
}

/*
 * A mount namespace's boot-unique id (never reused, unlike its inode
 * number).  6.18 ("mnt: use ns_common->ns_id", part of the same namespace
 * rework) moved it from mnt_namespace::seq to ns_common::ns_id.
 */
struct mnt_namespace___old {
	u64 seq;
} __attribute__((preserve_access_index));

static __always_inline __u64 kt_mntns_id(struct mnt_namespace *m)
{
	if (bpf_core_field_exists(m->ns.ns_id))
		return BPF_CORE_READ(m, ns.ns_id);
	return BPF_CORE_READ((struct mnt_namespace___old *)m, seq);
}

/*
 * Is ECHO off on this (slave) tty right now?  What n_tty will do with the
 * bytes being written to its master: with ECHO off nothing typed is shown,
 * so it is a secret by the user's terminal's own account (read -s, stty
 * -echo, sudo and getpass all clear it).  tty_struct::termios has been an
 * embedded struct ktermios since 3.7 ("tty: move the termios object into
 * the tty", a pointer before; below our 5.15 floor, so no flavor here).
 * ECHO is 0000010 on every architecture (uapi asm-generic/termbits-common.h
 * since 6.0, the per-arch termbits.h before, same value).  The state now is
 * not always the state n_tty took the bytes in with: bpf/echo.bpf.h.
 */
#define KT_ECHO 0000010
static __always_inline bool kt_tty_echo_off(struct tty_struct *slave)
{
	return !(BPF_CORE_READ(slave, termios.c_lflag) & KT_ECHO);
}

/*
 * How the kernel runs tracepoint programs.  Up to 6.18 a BTF raw tracepoint
 * program (tp_btf) runs with preemption off: 6.14's 4aadde89d81f
 * "tracing/bpf: disable preemption in syscall probe" kept it so when 6.13
 * made the syscall tracepoints faultable (Mathieu Desnoyers' "tracing:
 * Allow system call tracepoints to handle page faults" series).  Debian's
 * 7.x kernels (7.3 measured; 6.19 to 7.2 not tested) run every tp_btf
 * program with only migration disabled: Paul McKenney's "tracing: Guard
 * __DECLARE_TRACE() use of __DO_TRACE_CALL() with SRCU-fast" (and the
 * syscall probe's matching migrate_disable) let tracepoint BPF be
 * preempted, which real-time users asked for (7.3's BTF has its
 * tracepoint_srcu_srcu_data, 6.18's does not).  The kernel's recursion guard is per program and CPU
 * (prog->active, bpf_trace_run*), so while one task's run is preempted
 * every other run of that program on that CPU is skipped and only counted
 * in the program's recursion_misses: on 7.3 under six read loops on two
 * vCPUs, 1.06 M of 2.29 M sys_exit runs.  Classic tracepoint programs on
 * raw_syscalls:* still run with preemption off there (perf's probe keeps
 * its preempt guard: 0 skipped of 1.7 M); per-syscall syscalls:sys_exit_*
 * programs do not (trace_call_bpf_faultable: 0.76 M of 1.9 M skipped).
 *
 * The sign the loader probes for (bpf/probe.bpf.c): a tp_btf program runs
 * with the current task's migration_disabled raised.  Where preemption is
 * off the kernel has no reason to disable migration too (6.1, 6.12 and 6.18
 * measured: 0), so it is seen exactly where runs can be preempted.  The
 * field exists on SMP kernels since 5.11 ("sched: Add migrate_disable()");
 * without it (uniprocessor) there is no migration to disable and the answer
 * is "not preemptible".
 */
struct task_struct___mig {
	unsigned short migration_disabled;
} __attribute__((preserve_access_index));

static __always_inline bool kt_tp_runs_preemptible(void)
{
	struct task_struct___mig *t = (struct task_struct___mig *)bpf_get_current_task();

	if (!bpf_core_field_exists(t->migration_disabled))
		return false;
	return BPF_CORE_READ(t, migration_disabled) != 0;
}

/*
 * The kernel's preemption model at run time, which decides whether a
 * fentry/fexit program can be preempted mid-run.  The BPF trampoline runs
 * them with only migration disabled (__bpf_prog_enter_recur: rcu_read_lock
 * + migrate_disable, then the per-program, per-CPU recursion guard
 * prog->active), on every kernel we support.  Under the "none" and
 * "voluntary" models kernel code is never preempted involuntarily, so a run
 * completes before another task gets the CPU.  Under "full" and "lazy"
 * (Debian's 6.18 and 7.x default: CONFIG_PREEMPT_LAZY, 6.13's "sched: Add
 * Lazy preemption model") a tick can preempt a run; every run of the same
 * program by another task on that CPU is then skipped and only counted in
 * recursion_misses: a pty_write that is never recorded.  kprobe programs
 * run with preemption off (the kprobe/ftrace handler holds it, and
 * trace_call_bpf asserts it), so they cannot be preempted there.
 *
 * With CONFIG_PREEMPT_DYNAMIC (5.12, "sched: Add boot-time preemption
 * model selection", also "preempt=" on the command line) the model is the
 * int preempt_dynamic_mode in kernel/sched/core.c (its enum: undefined -1,
 * none 0, voluntary 1, full 2, lazy 3 since 6.13), read as a typeless ksym
 * (kallsyms: CONFIG_KALLSYMS_ALL, as Debian builds).  Without the symbol
 * the answer is "unknown" and user space decides (uname -v names the
 * static models).  The values: KT_PREEMPT_MODE_* in bpf/events.h.
 */
extern const void preempt_dynamic_mode __ksym __weak;

static __always_inline int kt_kernel_preempt_mode(void)
{
	int mode = KT_PREEMPT_MODE_UNKNOWN;

	if (!&preempt_dynamic_mode ||
	    bpf_probe_read_kernel(&mode, sizeof(mode), &preempt_dynamic_mode))
		return KT_PREEMPT_MODE_UNKNOWN;
	return mode;
}

/* KT_MKDEV: the kernel-internal dev_t encoding, bpf/events.h. */
#define KT_DEV_PTMX KT_MKDEV(5, 2)
/* /dev/tty: its file's tty_file_private names the opener's controlling tty
 * (tty_open_current_tty), so an ioctl on it reaches the slave itself */
#define KT_DEV_TTY KT_MKDEV(5, 0)
/* UNIX98_PTY_SLAVE_MAJOR .. + UNIX98_PTY_MAJOR_COUNT - 1 */
#define KT_PTS_MAJOR_FIRST 136
#define KT_PTS_MAJOR_LAST 143

#endif /* KUBETAPE_CORE_FIXES_BPF_H */
