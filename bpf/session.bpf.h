/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Session tracking: detect an exec entering a container, follow the
 * process tree on fork, report every exec and exit inside a session.
 *
 * These run on exec, fork and exit of every process on the node (not on
 * the read/write path).  A process outside any session costs one hash
 * lookup, plus, on exec only, the loads of kt_entry_rule's first step (two
 * pid-namespace levels and two mount-namespace pointers).
 */
#ifndef KUBETAPE_SESSION_BPF_H
#define KUBETAPE_SESSION_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "echo.bpf.h"
#include <bpf/bpf_tracing.h>

/* exec event scratch: header, then filename | argv | cwd packed */
#define KT_EXEC_DATA (KT_FILENAME_MAX + KT_ARGV_MAX + KT_PATH_MAX)
struct kt_exec_buf {
	/* Loop-carried offsets live in map memory, not registers: the verifier
	 * then treats them as unknown and prunes loop states instead of
	 * exploring every precise value (48 iterations blew its budget). */
	__s32 pos;
	__u32 _pad;
	struct kt_ev_exec ev; /* sent from here: ev, then data */
	char data[KT_EXEC_DATA];
	/* cwd built right to left; the slack lets the verifier see every
	 * masked name read stay inside the value */
	char path[KT_PATH_MAX + KT_NAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_exec_buf);
} exec_buf SEC(".maps");

struct kt_session_buf {
	__s32 pos; /* as in kt_exec_buf */
	__u32 _pad;
	struct kt_ev_session ev;
	char path[KT_CGPATH_MAX + KT_NAME_MAX]; /* cgroup path, right to left */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_session_buf);
} session_buf SEC(".maps");

#define KT_MAX_PIDNS_LEVEL 32

static __always_inline int kt_ns_pid(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid up = {};

	bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[level & (KT_MAX_PIDNS_LEVEL - 1)]);
	return up.nr;
}

static __always_inline void kt_fill_task(struct kt_task *kt, struct task_struct *t)
{
	const struct cred *cred = BPF_CORE_READ(t, real_cred);

	kt->pid = BPF_CORE_READ(t, tgid);
	kt->ns_pid = kt_ns_pid(t);
	kt->ppid = BPF_CORE_READ(t, real_parent, tgid);
	kt->uid = BPF_CORE_READ(cred, uid.val);
	kt->gid = BPF_CORE_READ(cred, gid.val);
	kt->euid = BPF_CORE_READ(cred, euid.val);
	kt->egid = BPF_CORE_READ(cred, egid.val);
	BPF_CORE_READ_STR_INTO(&kt->comm, t, comm);
}

/*
 * Prepend "/name" to a path built right to left in buf[0..size) whose start
 * offset is *posp; -1 when it does not fit.  `size` is a power of two
 * and buf has KT_NAME_MAX bytes of slack after it.
 */
static __always_inline int kt_prepend(char *buf, __u32 size, __s32 *posp, const unsigned char *name, __u32 len)
{
	int pos = *posp;

	if (len > KT_NAME_MAX - 1)
		len = KT_NAME_MAX - 1;
	if (pos < 0 || pos > (int)size - 1 || (int)len + 1 > pos)
		return -1;
	pos -= len + 1;
	buf[pos & (size - 1)] = '/';
	bpf_probe_read_kernel(&buf[(pos + 1) & (size - 1)], len & (KT_NAME_MAX - 1), name);
	*posp = pos;
	return 0;
}

/*
 * cwd of `t`, relative to its root (a container's rootfs for a container
 * process), built by walking dentries and crossing mounts, as d_path does.
 * Limits: KT_PATH_DEPTH components; names read without the rename lock, so a
 * concurrent rename can give a stale name.  Returns the start offset in
 * b->path (the string ends at KT_PATH_MAX - 1), or -1.
 */
static __always_inline int kt_cwd(struct kt_exec_buf *b, struct task_struct *t, bool *trunc)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct dentry *root = BPF_CORE_READ(fs, root.dentry);
	struct vfsmount *rootmnt = BPF_CORE_READ(fs, root.mnt);
	struct dentry *d = BPF_CORE_READ(fs, pwd.dentry);
	struct vfsmount *vmnt = BPF_CORE_READ(fs, pwd.mnt);
	struct mount *mnt = container_of(vmnt, struct mount, mnt);
	int pos;

	b->pos = KT_PATH_MAX - 1;
	b->path[KT_PATH_MAX - 1] = 0;
	*trunc = true;
	for (int i = 0; i < KT_PATH_DEPTH; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vmnt, mnt_root);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct qstr q;

		if (d == root && vmnt == rootmnt) {
			*trunc = false;
			break;
		}
		if (d == mnt_root || d == parent) {
			struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);

			if (d != mnt_root || mp == mnt) { /* global root or unlinked */
				*trunc = false;
				break;
			}
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mp;
			vmnt = &mp->mnt;
			continue;
		}
		q = BPF_CORE_READ(d, d_name);
		if (kt_prepend(b->path, KT_PATH_MAX, &b->pos, q.name, q.len))
			return -1;
		d = parent;
	}
	pos = b->pos;
	if (pos == KT_PATH_MAX - 1) { /* at the root itself */
		pos = KT_PATH_MAX - 2;
		b->path[pos] = '/';
	}
	return pos;
}

/* kernfs path of the task's cgroup v2 cgroup, e.g. /kubepods/besteffort/pod…/<id> */
static __always_inline void kt_cgroup_path(struct kt_session_buf *b, struct task_struct *t)
{
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	int pos;

	b->pos = KT_CGPATH_MAX - 1;
	b->path[KT_CGPATH_MAX - 1] = 0;
	for (int i = 0; i < KT_CGPATH_DEPTH && kn; i++) {
		struct kernfs_node *parent = kt_kernfs_parent(kn);
		const char *name;
		int len;

		if (!parent) /* the root's name is "" */
			break;
		name = BPF_CORE_READ(kn, name);
		/* read once to learn the length (into the output field, rewritten below) */
		len = bpf_probe_read_kernel_str(b->ev.s.cgroup_path, KT_NAME_MAX, name);
		if (len <= 1)
			break;
		if (kt_prepend(b->path, KT_CGPATH_MAX, &b->pos, (const unsigned char *)name, len - 1))
			break;
		kn = parent;
	}
	pos = b->pos;
	if (pos < 0 || pos >= KT_CGPATH_MAX - 1) {
		b->ev.s.cgroup_path[0] = '/';
		b->ev.s.cgroup_path[1] = 0;
		return;
	}
	bpf_probe_read_kernel(b->ev.s.cgroup_path, (KT_CGPATH_MAX - pos) & (KT_CGPATH_MAX - 1),
			      &b->path[pos & (KT_CGPATH_MAX - 1)]);
}

/* mount namespace inode -> first process seen in that container-like
 * namespace (see kt_ctr_note); LRU: a dead container's entry ages out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KT_MAX_SESSIONS);
	__type(key, __u32);
	__type(value, struct kt_ctr_ns);
} ctr_mntns SEC(".maps");

/* internal mounts (a memfd's, pipefs...) have no namespace: MNT_NS_INTERNAL
 * is ERR_PTR(-EINVAL) (older kernels) or NULL */
#define KT_PTR_IS_ERR(p) ((unsigned long)(p) >= (unsigned long)-4095)

static __always_inline struct mount *kt_real_mount(struct vfsmount *v)
{
	return container_of(v, struct mount, mnt);
}

/* The mount namespace the mount holding t's executable belongs to: where
 * t came from, whatever namespaces it joined since it exec'd. */
static __always_inline struct mnt_namespace *kt_exe_mntns(struct task_struct *t)
{
	struct vfsmount *v = BPF_CORE_READ(t, mm, exe_file, f_path.mnt);

	if (!v)
		return NULL;
	return BPF_CORE_READ(kt_real_mount(v), mnt_ns);
}

/*
 * Where the parent came from, for the crossing test.  A parent in do_exit
 * has no mm any more (exit_mm runs long before exit_notify hands its
 * children on), so its executable cannot be read: this is `runc exec
 * --detach` (containerd's shim uses it) exiting just as its [2:INIT] child
 * execs the user's command, which made hostPID execs a session only when
 * runc happened to exit before or after that window.  The child is about
 * to be handed to an ancestor (the shim, a subreaper, or init): judge by
 * the exiting parent's own parent instead.
 */
static __always_inline struct mnt_namespace *kt_parent_exe_mntns(struct task_struct *parent)
{
	struct mnt_namespace *m = kt_exe_mntns(parent);

	if (!m && !BPF_CORE_READ(parent, mm))
		m = kt_exe_mntns(BPF_CORE_READ(parent, real_parent));
	return m;
}

/* Its root is not its parent's: it pivot_root'ed (or chroot'ed) into a
 * rootfs, as every container's init does.  A host service with a private
 * mount namespace (PrivateTmp=, unshare -m) keeps the host's root dentry. */
static __always_inline bool kt_root_moved(struct task_struct *p, struct task_struct *parent)
{
	return BPF_CORE_READ(p, fs, root.dentry) != BPF_CORE_READ(parent, fs, root.dentry);
}

/* A pty of its own: its controlling tty is a pty slave that its parent does
 * not have (runc gave it the console of terminal: true). */
static __always_inline bool kt_own_pty(struct task_struct *p, struct task_struct *parent)
{
	struct tty_struct *tty = BPF_CORE_READ(p, signal, tty);

	return tty && tty != BPF_CORE_READ(parent, signal, tty) && kt_tty_is_pty_slave(tty);
}

/* cgroup v2 id of p, as bpf_get_current_cgroup_id() gives it for current
 * (the kernfs node id of its default-hierarchy cgroup).  Read from p, not
 * current: the start-up task iterator (late.bpf.h) runs in the recorder. */
static __always_inline __u64 kt_task_cgroup_id(struct task_struct *p)
{
	return BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
}

/* Remember the first process of a container-like mount namespace, so a
 * later entry whose cgroup is not the container's (nsenter) can be
 * attributed to it. */
static __always_inline void kt_ctr_note(struct mnt_namespace *mnt, struct task_struct *p)
{
	__u32 ino = BPF_CORE_READ(mnt, ns.inum);
	struct kt_ctr_ns v = {
		.ns_id = kt_mntns_id(mnt),
		.cgroup_id = kt_task_cgroup_id(p),
		.tgid = BPF_CORE_READ(p, tgid),
	};
	struct kt_ctr_ns *old = bpf_map_lookup_elem(&ctr_mntns, &ino);

	if (old && old->ns_id == v.ns_id)
		return; /* the init re-exec'ing (sh -c 'exec app') */
	bpf_map_update_elem(&ctr_mntns, &ino, &v, BPF_ANY);
}

/*
 * Is this execve a way into a container?  Returns KT_ENTRY_* (0: not a
 * session) and, for an entry, the container's first process in *w if known.
 *
 *  1. Crossing: a namespace boundary between the new image and where its
 *     parent came from.  Either its pid namespace is deeper than its
 *     parent's (runc exec into a pod, nsenter -p), or, at the same level, its
 *     mount namespace is not the one holding its parent's executable (runc
 *     exec into a hostPID pod: the parent is runc, from the host; nsenter -m:
 *     the parent is nsenter, which joined the namespace after it exec'd from
 *     the host).  Everything else bails out here: host processes, and a
 *     container's own processes (their parent's executable is on the
 *     container's rootfs, in the container's mount namespace).  Their cost:
 *     loads of two pid levels and two mount-namespace pointers, no map
 *     operation.
 *  2. Created or entered.  A mount namespace with a single reference (one
 *     nsproxy) belongs to this process alone: it is the namespace's first
 *     process.  So is pid 1 of a new pid namespace.  If its root moved
 *     (pivot_root into a rootfs) it is a container's init: remembered in
 *     ctr_mntns, and a session only if it runs on a pty of its own
 *     (terminal: true: kubectl run -it, kubectl debug).
 *     Limit: a parent that shares the new mount namespace and had its root
 *     moved by the child's pivot_root (it moves every root in the namespace)
 *     hides the move; runtimes' parents (runc, crun, the shim) stay outside.
 *  3. Otherwise it entered a populated namespace.  Into a deeper pid
 *     namespace: a session, as before.  At the same pid level: a session if
 *     the mount namespace is a known container's (ctr_mntns: noted by step 2,
 *     or seeded by the recorder from /proc for containers older than these
 *     programs), so nsenter -m into a host service's private mounts is not.
 */
static __always_inline __u32 kt_entry_rule(struct task_struct *p, struct kt_ctr_ns *w)
{
	struct task_struct *parent = BPF_CORE_READ(p, real_parent);
	unsigned int level = BPF_CORE_READ(p, thread_pid, level);
	unsigned int plevel = BPF_CORE_READ(parent, thread_pid, level);
	struct mnt_namespace *mnt = BPF_CORE_READ(p, nsproxy, mnt_ns);
	struct mnt_namespace *pmnt;
	struct kt_ctr_ns *v;
	__u64 ns_id;
	__u32 ino, entry;
	bool first;

	if (level > plevel) {
		entry = KT_ENTRY_PIDNS;
	} else {
		pmnt = kt_parent_exe_mntns(parent);
		if (!pmnt || pmnt == mnt || KT_PTR_IS_ERR(pmnt))
			return 0; /* the common case: no boundary */
		entry = KT_ENTRY_MNTNS;
	}
	/* rare from here on: container starts, execs, nsenter, sandboxes */
	if (!mnt)
		return 0;
	first = kt_mntns_refs(mnt) <= 1;
	if (first || (entry == KT_ENTRY_PIDNS && kt_ns_pid(p) == 1)) {
		if (!kt_root_moved(p, parent))
			return 0; /* unshare -p / -m on the host */
		if (first)
			kt_ctr_note(mnt, p);
		return kt_own_pty(p, parent) ? entry | KT_ENTRY_INTERACTIVE : 0;
	}
	ino = BPF_CORE_READ(mnt, ns.inum);
	ns_id = kt_mntns_id(mnt);
	v = bpf_map_lookup_elem(&ctr_mntns, &ino);
	if (v && !v->ns_id)
		v->ns_id = ns_id; /* seeded without an id: it is this one */
	if (v && v->ns_id == ns_id) {
		/* the container's own first process, met again after others
		 * joined its namespace: its init re-exec'ing, or the start-up
		 * task iterator visiting a running container (late.bpf.h) */
		if (v->tgid == BPF_CORE_READ(p, tgid))
			return kt_own_pty(p, parent) ? entry | KT_ENTRY_INTERACTIVE : 0;
		*w = *v;
	} else if (entry == KT_ENTRY_MNTNS) {
		return 0;
	}
	return entry;
}

static __always_inline void kt_session_tty(struct kt_session *s, struct task_struct *p)
{
	struct tty_struct *tty = BPF_CORE_READ(p, signal, tty);
	struct n_tty_data *ld;
	struct dentry *dn;

	if (!tty || !kt_tty_is_pty_slave(tty))
		return; /* no tty, or not a pty: command-only session */
	s->tty.key = (__u64)tty;
	s->tty.index = BPF_CORE_READ(tty, index);
	/* a pty slave's driver_data is its /dev/pts/N dentry (devpts_pty_new) */
	dn = BPF_CORE_READ(tty, driver_data);
	s->tty.dev = BPF_CORE_READ(dn, d_sb, s_dev);
	s->tty.rows = BPF_CORE_READ(tty, winsize.ws_row);
	s->tty.cols = BPF_CORE_READ(tty, winsize.ws_col);
	/* where the master's reader stands now: the syscall backend records
	 * (or recovers) everything consumed after this point */
	ld = BPF_CORE_READ(tty, link, disc_data);
	s->out_next = ld ? BPF_CORE_READ(ld, read_tail) : ~0ULL;
}

static __always_inline __u64 kt_session_start(struct task_struct *p, __u32 entry,
					      const struct kt_ctr_ns *w)
{
	__u32 zero = 0;
	struct kt_session_buf *b = bpf_map_lookup_elem(&session_buf, &zero);
	struct kt_session *s;
	struct kt_proc proc;
	struct pid *pid;
	__u64 sid;

	if (!b)
		return 0;
	s = &b->ev.s;
	__builtin_memset(s, 0, sizeof(*s) - sizeof(s->cgroup_path));
	sid = __sync_fetch_and_add(&kt_next_session_id, 1);
	s->id = sid;
	s->start_ns = bpf_ktime_get_boot_ns();
	s->leader_start_ns = BPF_CORE_READ(p, start_boottime);
	s->cgroup_id = kt_task_cgroup_id(p);
	pid = BPF_CORE_READ(p, thread_pid);
	s->pid_level = BPF_CORE_READ(pid, level);
	{
		struct upid up = {};

		bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[s->pid_level & (KT_MAX_PIDNS_LEVEL - 1)]);
		s->pidns_ino = BPF_CORE_READ(up.ns, ns.inum);
	}
	s->mntns_ino = BPF_CORE_READ(p, nsproxy, mnt_ns, ns.inum);
	s->nprocs = 1;
	s->entry = entry;
	s->ctr_tgid = w->tgid;
	s->ctr_cgroup_id = w->cgroup_id;
	kt_fill_task(&s->leader, p);
	BPF_CORE_READ_STR_INTO(&s->uts_name, p, nsproxy, uts_ns, name.nodename);
	kt_session_tty(s, p);
	kt_cgroup_path(b, p);

	if (bpf_map_update_elem(&sessions, &sid, s, BPF_NOEXIST)) {
		kt_stat_add(KT_STAT_MAP_FULL, 1);
		return 0;
	}
	proc.session_id = sid;
	if (bpf_map_update_elem(&procs, &s->leader.pid, &proc, BPF_ANY)) {
		bpf_map_delete_elem(&sessions, &sid);
		kt_stat_add(KT_STAT_MAP_FULL, 1);
		return 0;
	}
	/*
	 * The newest session on a tty owns its bytes.  An entry can already be
	 * there because the kernel reused a freed tty_struct (same address) for
	 * this session's new pty while the previous session is still in its
	 * close grace, or because two host tools entered containers from the
	 * same terminal.  The recorder retires an entry only if it still maps
	 * to the session it is retiring.
	 */
	if (s->tty.key && bpf_map_update_elem(&ttys, &s->tty.key, &sid, BPF_EXIST) &&
	    !bpf_map_update_elem(&ttys, &s->tty.key, &sid, BPF_NOEXIST))
		__sync_fetch_and_add(&kt_nr_ttys, 1);

	kt_stat_add(KT_STAT_SESSIONS, 1);
	b->ev.hdr.type = KT_EV_SESSION_START;
	b->ev.hdr.flags = s->tty.key ? 0 : KT_F_NO_TTY;
	b->ev.hdr.size = sizeof(b->ev);
	b->ev.hdr.ts_ns = s->start_ns;
	b->ev.hdr.session_id = sid;
	/* If this is lost the recorder rebuilds it from the sessions map. */
	if (bpf_ringbuf_output(&ctl_events, &b->ev, sizeof(b->ev), 0))
		kt_stat_add(KT_STAT_LOST_SESSION_EV, 1);
	return sid;
}

static __always_inline void kt_emit_exec(struct task_struct *p, struct linux_binprm *bprm, __u64 sid)
{
	__u32 zero = 0;
	struct kt_exec_buf *b = bpf_map_lookup_elem(&exec_buf, &zero);
	unsigned long arg_start, arg_end;
	__u64 fn_len, argv_len, cwd_len = 0, off;
	bool trunc;
	int pos;

	if (!b)
		return;
	b->ev.hdr.type = KT_EV_EXEC;
	b->ev.hdr.flags = 0;
	b->ev.hdr.ts_ns = bpf_ktime_get_boot_ns();
	b->ev.hdr.session_id = sid;
	kt_fill_task(&b->ev.task, p);
	b->ev.argc = BPF_CORE_READ(bprm, argc);

	fn_len = bpf_probe_read_kernel_str(b->data, KT_FILENAME_MAX, BPF_CORE_READ(bprm, filename));
	if ((long)fn_len <= 0) {
		b->data[0] = 0;
		fn_len = 1;
	}
	if (fn_len == KT_FILENAME_MAX)
		b->ev.hdr.flags |= KT_F_FILENAME_TRUNC;
	off = fn_len;

	/* The new image's argv is already on its stack at this tracepoint. */
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	argv_len = arg_end - arg_start;
	if (argv_len > KT_ARGV_MAX) {
		argv_len = KT_ARGV_MAX;
		b->ev.hdr.flags |= KT_F_ARGV_TRUNC;
	}
	if (off > KT_FILENAME_MAX)
		return;
	if (bpf_probe_read_user(&b->data[off], argv_len, (void *)arg_start))
		argv_len = 0;
	if (argv_len && b->data[(off + argv_len - 1) & (KT_EXEC_DATA - 1)] != 0)
		b->data[(off + argv_len - 1) & (KT_EXEC_DATA - 1)] = 0; /* truncated mid-arg */
	off += argv_len;

	pos = kt_cwd(b, p, &trunc);
	if (trunc)
		b->ev.hdr.flags |= KT_F_CWD_TRUNC;
	if (pos >= 0 && pos < KT_PATH_MAX - 1 && off <= KT_FILENAME_MAX + KT_ARGV_MAX) {
		cwd_len = KT_PATH_MAX - pos;
		bpf_probe_read_kernel(&b->data[off], cwd_len & (KT_PATH_MAX - 1), &b->path[pos & (KT_PATH_MAX - 1)]);
	}
	b->ev.filename_len = fn_len;
	b->ev.argv_len = argv_len;
	b->ev.cwd_len = cwd_len;
	off += cwd_len;
	b->ev.hdr.size = sizeof(b->ev) + off;
	if (off > KT_EXEC_DATA)
		return;
	if (bpf_ringbuf_output(&ctl_events, &b->ev, sizeof(b->ev) + off, 0))
		kt_count_loss(sid, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kt_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct kt_proc *proc = bpf_map_lookup_elem(&procs, &tgid);
	__u64 sid;

	if (!kt_recording())
		return 0;
	if (proc) {
		sid = proc->session_id;
	} else {
		struct kt_ctr_ns w = {};
		__u32 entry = kt_entry_rule(p, &w);

		if (!entry)
			return 0;
		sid = kt_session_start(p, entry, &w);
		if (!sid)
			return 0;
	}
	kt_emit_exec(p, bprm, sid);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kt_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct kt_proc *proc;
	struct kt_session *s;

	if (ctgid == ptgid) /* a new thread, not a new process */
		return 0;
	proc = bpf_map_lookup_elem(&procs, &ptgid);
	if (!proc)
		return 0;
	/* after the "not in a session" bail-out: every fork on the node gets
	 * this far, only a session's reach the handover check */
	if (!kt_recording())
		return 0;
	s = bpf_map_lookup_elem(&sessions, &proc->session_id);
	if (!s)
		return 0;
	if (bpf_map_update_elem(&procs, &ctgid, proc, BPF_ANY)) {
		kt_stat_add(KT_STAT_MAP_FULL, 1);
		return 0;
	}
	__sync_fetch_and_add(&s->nprocs, 1);
	return 0;
}

#define KT_SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(kt_sched_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct kt_proc *proc = bpf_map_lookup_elem(&procs, &tgid);
	struct kt_ev_exit ev = {};
	struct kt_session *s;
	__u64 sid;

	if (!proc || !kt_recording())
		return 0;
	/* Only when the last thread of the process goes. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	sid = proc->session_id;
	bpf_map_delete_elem(&procs, &tgid);

	ev.hdr.ts_ns = bpf_ktime_get_boot_ns();
	ev.hdr.session_id = sid;
	ev.hdr.size = sizeof(ev);
	kt_fill_task(&ev.task, p);
	if (BPF_CORE_READ(p, signal, flags) & KT_SIGNAL_GROUP_EXIT)
		ev.exit_status = BPF_CORE_READ(p, signal, group_exit_code);
	else
		ev.exit_status = BPF_CORE_READ(p, exit_code);

	s = bpf_map_lookup_elem(&sessions, &sid);
	if (s) {
		ev.hdr.type = s->leader.pid == tgid ? KT_EV_SESSION_END : KT_EV_EXIT;
		if (__sync_fetch_and_add(&s->nprocs, -1) == 1) {
			ev.hdr.flags |= KT_F_LAST_PROC;
			kt_echo_forget(sid, s->tty.key);
		}
	} else {
		ev.hdr.type = KT_EV_EXIT;
	}
	if (bpf_ringbuf_output(&ctl_events, &ev, sizeof(ev), 0))
		kt_count_loss(sid, 0);
	return 0;
}

#endif /* KUBETAPE_SESSION_BPF_H */
