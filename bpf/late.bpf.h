/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sessions that were already running when the programs loaded ("recording
 * started late"): a first install on a node, or a recorder that found no
 * pinned kernel state to adopt (a new kernel object, a reboot of the
 * daemon's state).  The live programs only see entries as they execve, so a
 * shell that entered a container before then would never be recorded.
 *
 * The recorder runs this task iterator once, right after attaching the live
 * programs (and after seeding ctr_mntns from /proc).  For every process not
 * yet in a session it walks up its ancestors and applies kt_entry_rule,
 * the same rule the exec hook applies, to each ancestor and that ancestor's
 * parent as they are now: the nearest ancestor that passes is the session's
 * leader.  The leader gets a session (kt_session_start, flagged
 * KT_ENTRY_LATE, start time now), and the process joins it, so its execs,
 * exits and terminal bytes are recorded from this moment on.
 *
 * A process that joined a container's namespaces but has not exec'd since
 * (nsenter waiting for its child) is passed over, as the exec hook passes
 * it over.
 *
 * Limits: what the rule decides from the parent is decided from the parent
 * the leader has now (re-parented to a subreaper or init if its own died:
 * still outside the container, so still a crossing).  A container's first
 * process is known by ctr_mntns (noted, or the lowest pid in the namespace
 * when seeded from /proc); a hostPID container whose first process is not
 * the lowest pid of its mount namespace (pids wrapped) can be taken for an
 * entry.  Ancestors are followed KT_LATE_DEPTH levels up.  A process that
 * exits while it is being visited can leave a stale procs entry (its exit
 * hook ran before the entry was made): its session then ends when its
 * other processes do, or stays open until the recorder stops.
 */
#ifndef KUBETAPE_LATE_BPF_H
#define KUBETAPE_LATE_BPF_H

#include "session.bpf.h"

#define KT_LATE_DEPTH 8
#define KT_PF_EXITING 0x00000004  /* include/linux/sched.h */
#define KT_PF_KTHREAD 0x00200000

/* p joins session sid: counted among its processes */
static __always_inline void kt_late_join(__u32 tgid, __u64 sid)
{
	struct kt_proc proc = { .session_id = sid };
	struct kt_session *s = bpf_map_lookup_elem(&sessions, &sid);

	if (!s)
		return;
	if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_NOEXIST))
		return; /* already in one (the live hooks were faster) */
	__sync_fetch_and_add(&s->nprocs, 1);
}

SEC("iter/task")
int kt_iter_late(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task, *a;
	struct mnt_namespace *mnt, *emnt;
	struct kt_ctr_ns w = {};
	__u32 tgid, atgid, entry = 0;
	struct kt_proc *proc;
	__u64 sid;

	if (!t)
		return 0;
	tgid = BPF_CORE_READ(t, tgid);
	/* one visit per process (the iterator gives every thread), living
	 * user processes only */
	if (BPF_CORE_READ(t, pid) != tgid || tgid <= 1 ||
	    (BPF_CORE_READ(t, flags) & (KT_PF_EXITING | KT_PF_KTHREAD)))
		return 0;
	if (bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	a = t;
	for (int i = 0; i < KT_LATE_DEPTH; i++) {
		atgid = BPF_CORE_READ(a, tgid);
		if (atgid <= 1)
			return 0; /* reached the node's init: a host process */
		proc = bpf_map_lookup_elem(&procs, &atgid);
		if (proc) { /* its leader's session, made earlier in this walk */
			kt_late_join(tgid, proc->session_id);
			return 0;
		}
		/* a process that joined namespaces and has not exec'd since
		 * (nsenter waiting for its child, runc init before its exec)
		 * runs an image from where it came from: a joiner, not an
		 * entry; the exec hook never sees it either.  (An image on an
		 * internal mount, a memfd, has no namespace to compare.) */
		mnt = BPF_CORE_READ(a, nsproxy, mnt_ns);
		emnt = kt_exe_mntns(a);
		if (!emnt || KT_PTR_IS_ERR(emnt) || emnt == mnt) {
			entry = kt_entry_rule(a, &w);
			if (entry)
				break;
		}
		a = BPF_CORE_READ(a, real_parent);
		if (!a)
			return 0;
	}
	if (!entry)
		return 0;
	sid = kt_session_start(a, entry | KT_ENTRY_LATE, &w);
	if (!sid)
		return 0;
	/* for the recorder's log: leader tgid, session id */
	BPF_SEQ_PRINTF(seq, "%u %llu\n", atgid, sid);
	if (a != t)
		kt_late_join(tgid, sid);
	return 0;
}

#endif /* KUBETAPE_LATE_BPF_H */
