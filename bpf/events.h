/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one definition of everything the BPF programs and user space exchange:
 * ring-buffer events, map keys/values and the shared limits.  Included by
 * bpf/kubetape.bpf.c (with vmlinux.h types) and by user space (with linux/types.h).
 *
 * Every event starts with struct kt_hdr.  Events are variable-sized: hdr.size
 * is the number of bytes that follow the header's start, so a reader can skip
 * types it does not know.  All integers are little-endian host order (the
 * ring buffer never leaves the node).
 */
#ifndef KUBETAPE_EVENTS_H
#define KUBETAPE_EVENTS_H

#ifndef __KUBETAPE_BPF__
#include <linux/types.h>
#endif

/* Limits.  Powers of two where the BPF side masks a length with (X - 1). */
#define KT_ARGV_MAX      16384u /* argv bytes kept per exec (NUL-separated) */
#define KT_FILENAME_MAX  4096u  /* execve filename */
#define KT_PATH_MAX      4096u  /* cwd, built from at most KT_PATH_DEPTH names */
#define KT_PATH_DEPTH    48
#define KT_NAME_MAX      256u   /* one dentry / kernfs name */
#define KT_CGPATH_MAX    1024u  /* cgroup path, from at most KT_CGPATH_DEPTH names */
#define KT_CGPATH_DEPTH  12
#define KT_DATA_MAX      8192u  /* tty bytes per data event */
#define KT_DATA_LOOPS    32     /* data events per syscall: 256 KiB */
#define KT_UTS_LEN       65
#define KT_COMM_LEN      16

/* Ring buffer sizes (bpf/maps.bpf.h): terminal bytes (the recorder may set
 * another power of two before load, --ringbuf-mb) and the control ring. */
#define KT_RING_DATA_BYTES (16u << 20)
#define KT_RING_CTL_BYTES  (2u << 20)

/*
 * dev_t as the kernel keeps it inside (include/linux/kdev_t.h: MINORBITS
 * 20), which is what BPF reads from struct fields such as a superblock's
 * s_dev and an inode's i_rdev; not the uapi/new_encode_dev layout that
 * stat(2) returns.
 */
#define KT_MINORBITS 20
#define KT_MKDEV(ma, mi) (((ma) << KT_MINORBITS) | (mi))
#define KT_DEV_MAJOR(d) ((d) >> KT_MINORBITS)
#define KT_DEV_MINOR(d) ((d) & ((1u << KT_MINORBITS) - 1))

/*
 * Version of the kernel state a recorder leaves pinned in bpffs for the next
 * one (recorder/loader.c, deploy/README.md "Restarts and upgrades"): the
 * event layouts below, the map definitions in bpf/maps.bpf.h and what the
 * programs do.  A recorder adopts pinned state only of its own version: bump
 * it whenever any of these changes.  Pinned under <pin-dir>/v<N>/.
 */
#define KT_PIN_LAYOUT    7

/*
 * Version of what a newer recorder must read to take over another layout's
 * state without a reload window (recorder/upgrade.c): the records in the two
 * rings (the structs below) and the values of the sessions, ttys and procs
 * maps.  Layouts with the same KT_EVENT_ABI share those maps and rings, and
 * one store into the shared "handover" map moves recording from the old
 * programs to the new ones.  Bump it whenever a ring record or one of those
 * map values changes; then open sessions cannot be carried over (the
 * recorder says so and marks them interrupted).
 */
#define KT_EVENT_ABI     3

enum kt_event_type {
	KT_EV_SESSION_START = 1, /* struct kt_ev_session                     */
	KT_EV_EXEC          = 2, /* struct kt_ev_exec + strings             */
	KT_EV_EXIT          = 3, /* struct kt_ev_exit (a process of a session) */
	KT_EV_SESSION_END   = 4, /* struct kt_ev_exit (the leader)           */
	KT_EV_TTY_OUT       = 5, /* struct kt_ev_data: what the terminal showed */
	KT_EV_TTY_IN        = 6, /* struct kt_ev_data: what the user typed   */
	KT_EV_WINSIZE       = 7, /* struct kt_ev_winsize                      */
	KT_EV_IN_WITHHELD   = 8, /* struct kt_ev_withheld: input typed with the
				  * terminal's ECHO off, dropped in the kernel */
	KT_EV_TYPE_MAX,
};

/* kt_hdr.flags */
#define KT_F_ARGV_TRUNC     (1u << 0) /* exec: argv longer than KT_ARGV_MAX */
#define KT_F_CWD_TRUNC      (1u << 1) /* exec: cwd deeper than KT_PATH_DEPTH */
#define KT_F_DATA_TRUNC     (1u << 2) /* data: syscall moved more than we copy */
#define KT_F_NO_TTY         (1u << 3) /* session: leader has no controlling tty */
#define KT_F_FILENAME_TRUNC (1u << 4)
#define KT_F_LAST_PROC      (1u << 5) /* exit: the session has no process left */
/* data ring record (TTY_OUT/IN, IN_WITHHELD): the first one sent for its
 * session after one or more of the session's records were lost (any loss
 * counted in kt_session.lost_*).  The hole lies just before this record, so
 * a reader must not join it to the bytes before it (the recorder's
 * coalescing, store/chunk_merge.c). */
#define KT_F_AFTER_LOSS     (1u << 6)

/*
 * kt_session.entry: how the leader came into the container.  Decided at its
 * execve by kt_entry_rule() in session.bpf.h (the rule is described there).
 */
#define KT_ENTRY_PIDNS       (1u << 0) /* it crossed into a deeper pid namespace */
#define KT_ENTRY_MNTNS       (1u << 1) /* it crossed into another mount namespace at
					* its parent's pid-namespace level (a hostPID
					* container, or nsenter -m) */
#define KT_ENTRY_INTERACTIVE (1u << 2) /* it is the container's own first process, on a
					* terminal of its own (OCI process.terminal);
					* without it the leader entered a running one */
#define KT_ENTRY_LATE        (1u << 3) /* found running when the programs loaded (the
					* start-up task iterator, late.bpf.h), by the
					* same rule: recorded from then on only */

/*
 * Value of the BPF "ctr_mntns" map (key: mount namespace inode): the first
 * process seen in a container-like mount namespace.  ns_id tells a recycled
 * inode number from the namespace that was recorded.
 */
struct kt_ctr_ns {
	__u64 ns_id;      /* unique mount namespace id (kt_mntns_id) */
	__u64 cgroup_id;  /* its cgroup v2 id */
	__u32 tgid;       /* host tgid */
	__u32 _pad;
};

/* Which capture path produced a data event (kt_ev_data.source). */
enum kt_capture_source {
	KT_SRC_SYSCALL = 1, /* read(2)/write(2) of the pty master (tracepoints) */
	KT_SRC_TTY     = 2, /* tty layer: fentry/kprobe on the tty write path  */
};

struct kt_hdr {
	__u16 type;       /* enum kt_event_type */
	__u16 flags;      /* KT_F_* */
	__u32 size;       /* whole event, header included */
	__u64 ts_ns;      /* CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns) */
	__u64 session_id; /* unique per node; see kt_session.id */
};

/* Identity of a process, as the kernel saw it when the event fired. */
struct kt_task {
	__u32 pid;     /* host tgid */
	__u32 ns_pid;  /* tgid in its own pid namespace */
	__u32 ppid;    /* host tgid of real_parent */
	__u32 uid, gid;   /* real */
	__u32 euid, egid;
	__u32 _pad;
	char comm[KT_COMM_LEN];
};

/* Controlling terminal: devpts instance + index, never major:minor alone. */
struct kt_tty {
	__u64 key;      /* opaque kernel identity of the slave tty (map key) */
	__u32 dev;      /* s_dev of the devpts superblock (kernel dev_t, KT_DEV_MAJOR) */
	__u32 index;    /* N of /dev/pts/N */
	__u16 rows, cols;
	__u32 _pad;
};

/*
 * Kept in the BPF "sessions" map for as long as the session has processes,
 * and sent once as KT_EV_SESSION_START.  The recorder can rebuild a session
 * from the map if the start event was lost.
 */
struct kt_session {
	__u64 id;
	__u64 start_ns;       /* CLOCK_BOOTTIME */
	__u64 cgroup_id;      /* cgroup v2 id (= inode of its directory) */
	__u32 pidns_ino, mntns_ino;
	__u32 pid_level;      /* depth of the session's pid namespace */
	__s32 nprocs;         /* live processes; the entry goes at 0 */
	__u32 entry;          /* KT_ENTRY_*: which detection rule made it a session */
	/* A process of the container whose mount namespace the leader entered
	 * (its first process, seen by the kernel when it started), for
	 * attributing sessions whose cgroup is not the container's (nsenter).
	 * 0: not known (the container started before the programs loaded). */
	__u32 ctr_tgid;
	__u64 ctr_cgroup_id;  /* cgroup v2 id of that process at its start */
	__u64 leader_start_ns; /* CLOCK_BOOTTIME start of the leader process: before
				* start_ns for a session found late */
	struct kt_task leader;
	struct kt_tty tty;    /* tty.key == 0: no controlling tty; rows/cols are
			       * the last size reported (the start event has the
			       * size at start) */
	char uts_name[KT_UTS_LEN + 7];
	/* Loss, counted where a ring-buffer reserve failed. Cumulative. */
	__u64 lost_bytes;
	__u64 lost_events;
	/* syscall backend: position in the pty master's n_tty read stream
	 * (n_tty_data.read_tail) up to which output is recorded; ~0 unknown */
	__u64 out_next;
	/* Non-zero: loss was counted (lost_*) since the last data ring record
	 * sent; the next one carries KT_F_AFTER_LOSS and clears it (maps.bpf.h
	 * kt_loss_take).  Set and cleared with plain stores: see there. */
	__u32 loss_pending;
	__u32 _pad2;
	/* kernfs path of the cgroup, '/'-separated, NUL-terminated */
	char cgroup_path[KT_CGPATH_MAX];
};

struct kt_ev_session {
	struct kt_hdr hdr;
	struct kt_session s;
};

struct kt_ev_exec {
	struct kt_hdr hdr;
	struct kt_task task;
	__u32 filename_len; /* bytes, NUL included */
	__u32 argv_len;     /* bytes of NUL-separated argv, last NUL included */
	__u32 cwd_len;      /* bytes, NUL included; 0 if it could not be had */
	__u32 argc;         /* number of arguments in the whole argv */
	/* followed by: filename, argv, cwd */
	char data[];
};

struct kt_ev_exit {
	struct kt_hdr hdr;
	struct kt_task task;
	__s32 exit_status; /* wait(2) status: (code << 8) | termsig */
	__u32 _pad;
};

struct kt_ev_data {
	struct kt_hdr hdr;
	__u32 len;     /* bytes in data[] */
	__u16 source;  /* enum kt_capture_source */
	__u16 _pad;
	__u64 tty_key;
	char data[];
};

struct kt_ev_winsize {
	struct kt_hdr hdr;
	__u16 rows, cols;
	__u32 _pad;
	__u64 tty_key;
};

/*
 * Input capture is opt-in (the recorder's --input).  With it on, bytes typed
 * while the session's terminal has ECHO off (password prompts: read -s,
 * stty -echo, sudo, getpass) never leave the kernel: the hook sends only
 * their count, in the data ring so it stays in order with the IN/OUT bytes
 * around it.  Decided from the slave tty's termios at the moment of the
 * write.
 */
struct kt_ev_withheld {
	struct kt_hdr hdr;
	__u32 bytes;   /* bytes typed and not recorded */
	__u16 source;  /* enum kt_capture_source */
	__u16 _pad;
	__u64 tty_key;
};

/*
 * The kernel's preemption model as bpf/probe.bpf.c reads it (the kernel's
 * own preempt_dynamic_mode values; bpf/core_fixes.bpf.h,
 * kt_kernel_preempt_mode): from FULL up, fentry/fexit runs can be
 * preempted and other tasks' runs on that CPU skipped.
 */
#define KT_PREEMPT_MODE_UNKNOWN   (-2)
#define KT_PREEMPT_MODE_NONE      0
#define KT_PREEMPT_MODE_VOLUNTARY 1
#define KT_PREEMPT_MODE_FULL      2
#define KT_PREEMPT_MODE_LAZY      3

/* Global counters (BPF "stats" array, one slot per CPU). */
enum kt_stat {
	KT_STAT_SESSIONS = 0,      /* sessions detected */
	KT_STAT_LOST_SESSION_EV,   /* session start events that could not be sent */
	KT_STAT_LOST_EVENTS,       /* all events lost (any session) */
	KT_STAT_LOST_BYTES,        /* tty bytes lost (any session) */
	KT_STAT_MAP_FULL,          /* a process could not join its session */
	KT_STAT_MAX,
};

#ifndef __KUBETAPE_BPF__
_Static_assert(sizeof(struct kt_hdr) == 24, "kt_hdr layout");
_Static_assert(sizeof(struct kt_task) == 48, "kt_task layout");
_Static_assert(sizeof(struct kt_tty) == 24, "kt_tty layout");
_Static_assert(sizeof(struct kt_ev_exec) == 24 + 48 + 16, "kt_ev_exec layout");
_Static_assert(sizeof(struct kt_ev_exit) == 24 + 48 + 8, "kt_ev_exit layout");
_Static_assert(sizeof(struct kt_ev_data) == 24 + 16, "kt_ev_data layout");
_Static_assert(sizeof(struct kt_ev_winsize) == 24 + 16, "kt_ev_winsize layout");
_Static_assert(sizeof(struct kt_ev_withheld) == 24 + 16, "kt_ev_withheld layout");
_Static_assert(__builtin_offsetof(struct kt_session, cgroup_path) % 8 == 0, "kt_session layout");
_Static_assert(__builtin_offsetof(struct kt_session, leader) % 8 == 0, "kt_session layout");
_Static_assert(sizeof(struct kt_ctr_ns) == 24, "kt_ctr_ns layout");
_Static_assert((KT_ARGV_MAX & (KT_ARGV_MAX - 1)) == 0, "KT_ARGV_MAX is masked");
_Static_assert((KT_DATA_MAX & (KT_DATA_MAX - 1)) == 0, "KT_DATA_MAX is masked");
_Static_assert((KT_PATH_MAX & (KT_PATH_MAX - 1)) == 0, "KT_PATH_MAX is masked");
_Static_assert((KT_CGPATH_MAX & (KT_CGPATH_MAX - 1)) == 0, "KT_CGPATH_MAX is masked");
#endif

#endif /* KUBETAPE_EVENTS_H */
