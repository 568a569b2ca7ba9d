/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and attaching kubetape's BPF programs: pre-flight checks (root,
 * BTF, kernel), choice of capture backend, and the map operations the
 * recorder needs afterwards.  libbpf's output goes through the logger.
 */
#ifndef KUBETAPE_LOADER_H
#define KUBETAPE_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "events.h"

enum kt_capture {
	KT_CAPTURE_AUTO = 0,     /* best that loads and attaches */
	KT_CAPTURE_SYSCALL,      /* read/write/ioctl tracepoints on pty masters */
	KT_CAPTURE_TTY,          /* pty driver: fentry, else kprobe */
	KT_CAPTURE_TTY_FENTRY,   /* pty driver, fentry/fexit only */
	KT_CAPTURE_TTY_KPROBE,   /* pty driver, kprobe/kretprobe only */
};

/* "auto", "syscall", "tty", "tty-fentry", "tty-kprobe" -> mode; -EINVAL */
int kt_capture_parse(const char *s, enum kt_capture *out);

struct kt_loader_opts {
	enum kt_capture capture;
	uint32_t ringbuf_bytes;   /* power of two, >= page size */
	bool capture_input;
	bool eager;               /* syscall backend: keep its hook attached */
	/* syscall backend's way in: KT_SYS_EXIT_AUTO (probe the kernel: see
	 * bpf/core_fixes.bpf.h), or forced, for tests and measurements */
	enum { KT_SYS_EXIT_AUTO = 0, KT_SYS_EXIT_BTF, KT_SYS_EXIT_PERF } sys_exit;
	/*
	 * bpffs directory for kernel state that outlives this process (maps,
	 * ring buffers, links, the lazy program); NULL: nothing pinned, the
	 * programs go with the process.  With a pin dir, state of this
	 * KT_PIN_LAYOUT found there is adopted as-is (backend, ring size and
	 * --no-input of the recorder that loaded it); state of another layout
	 * with this KT_EVENT_ABI is taken over (the new programs load onto its
	 * maps and rings and one map store moves recording to them); any other
	 * is replaced after the new programs are attached.
	 */
	const char *pin_dir;
	/*
	 * The layout to pin as (0: KT_PIN_LAYOUT).  Only tests set it, to
	 * leave state that looks like another version's and check the
	 * upgrade path (recorder/upgrade.c) with real kernel objects.
	 */
	int layout;
	/* Records are given back to the kernel only by kt_loader_consume()
	 * (after the caller's commit), not as soon as they are read. */
	bool defer_consume;
};

struct kt_loader;

/* Checks, loads (or adopts) and attaches.  Logs one clear line on failure. */
int kt_loader_open(const struct kt_loader_opts *o, ring_buffer_sample_fn cb, void *ctx,
		   struct kt_loader **out);
/* Closes this process's handles; pinned kernel state stays. */
void kt_loader_close(struct kt_loader *l);
/* Remove the pinned state under pin_dir: the programs detach (when a
 * running recorder exits, at once if none runs), open sessions stop being
 * recorded.  For uninstalling. */
int kt_loader_unpin(const char *pin_dir);
/* True when the kernel state was adopted from a previous recorder. */
bool kt_loader_adopted(const struct kt_loader *l);

/* Wait up to timeout_ms for events, then read every ring (control ring
 * first); returns the number of events handled or -errno.  Without
 * defer_consume what was read is consumed at once. */
int kt_loader_poll(struct kt_loader *l, int timeout_ms);
int kt_loader_drain(struct kt_loader *l);
/* Read at most max_bytes per ring (0: all); what poll does after waiting. */
int kt_loader_read(struct kt_loader *l, size_t max_bytes);
int kt_loader_wait(struct kt_loader *l, int timeout_ms);

/*
 * Rings, for commit-then-consume (defer_consume): ring i (0 = control,
 * 1 = terminal bytes) has a kernel map id (with the boot id, what names
 * it in the store) and positions.  The caller stores read positions with
 * its data, commits, then consumes; after a failed commit it rewinds; at
 * start it skips what an earlier process committed but did not consume.
 */
#define KT_LOADER_RINGS 2
uint32_t kt_loader_ring_id(const struct kt_loader *l, int i);
uint64_t kt_loader_ring_read_pos(const struct kt_loader *l, int i);
/* ring i's data size in bytes (what a pinned ring was made with) */
size_t kt_loader_ring_size(const struct kt_loader *l, int i);
int kt_loader_ring_skip_to(struct kt_loader *l, int i, uint64_t pos);
/* bytes read and not consumed, over all rings */
uint64_t kt_loader_held(const struct kt_loader *l);
/* all rings read up to their producer position */
bool kt_loader_caught_up(const struct kt_loader *l);
void kt_loader_consume(struct kt_loader *l);
void kt_loader_rewind(struct kt_loader *l);

/* Visit every session the kernel is tracking. */
int kt_loader_sessions_each(struct kt_loader *l, int (*cb)(const struct kt_session *s, void *ctx),
			    void *ctx);
/* The same in batches (BPF_MAP_LOOKUP_BATCH, Linux 5.6): one system call
 * per 64 sessions instead of two per session; a kernel without it gives
 * -EINVAL or -EOPNOTSUPP before any callback (the caller falls back). */
int kt_loader_sessions_batch(struct kt_loader *l, int (*cb)(const struct kt_session *s, void *ctx),
			     void *ctx);

/* The backend in use: "syscall", "tty-fentry", "tty-kprobe". */
const char *kt_loader_backend(const struct kt_loader *l);

/* Copy of the kernel's record of a live session; -ENOENT if it is gone. */
int kt_loader_session_lookup(struct kt_loader *l, uint64_t sid, struct kt_session *out);
/* Tell the kernel side that mntns_ino is a container's mount namespace
 * (see ctr_seed.h); -EEXIST if it already knows it. */
int kt_loader_ctr_ns_seed(struct kt_loader *l, uint32_t mntns_ino, const struct kt_ctr_ns *v);
/*
 * Find the sessions that were running before these programs were loaded
 * (the task iterator in bpf/late.bpf.h, same rule as the exec hook) and
 * record them from now on, flagged KT_ENTRY_LATE; their start events come
 * through the control ring.  Only for freshly loaded programs (-EALREADY
 * when the state was adopted: its sessions are continued).  Call after
 * seeding container namespaces (kt_loader_ctr_ns_seed).  Returns the
 * number found or -errno.
 */
int kt_loader_find_running(struct kt_loader *l);
/* Forget a finished session's kernel state: its tty entry (if it still maps
 * to sid) and record. */
void kt_loader_session_retire(struct kt_loader *l, uint64_t sid, uint64_t tty_key);
/* Make sure tty_key maps to sid (after a retire raced with a newer session
 * on the same tty_struct). */
void kt_loader_tty_claim(struct kt_loader *l, uint64_t tty_key, uint64_t sid);

/*
 * The syscall backend's hook taxes every syscall on the node while attached,
 * so it is attached only while a tty is recorded ("lazy"); output consumed
 * before it attaches is recovered from the pty's n_tty ring by the BPF side,
 * or counted as loss.  The tty backends are always attached (they cost
 * nothing to unrelated processes); for them up/down are no-ops.
 */
bool kt_loader_capture_lazy(const struct kt_loader *l);
bool kt_loader_capture_is_up(const struct kt_loader *l);
int kt_loader_capture_up(struct kt_loader *l);
void kt_loader_capture_down(struct kt_loader *l);
/* ttys the kernel side is recording now */
uint32_t kt_loader_nr_ttys(const struct kt_loader *l);

/*
 * Runs of this loader's programs the kernel skipped (bpf_prog_info's
 * recursion_misses: a run found the same program still in flight on its
 * CPU).  Counted by the kernel since each program was loaded, so across
 * recorder restarts for adopted programs.  Returns how many were filled.
 */
struct kt_prog_misses {
	uint32_t id;       /* kernel program id (unique while loaded) */
	char name[16];     /* BPF_OBJ_NAME_LEN, possibly truncated */
	uint64_t misses;
};
int kt_loader_prog_misses(struct kt_loader *l, struct kt_prog_misses *out, int max);

/* Sum of the per-CPU global counters. */
int kt_loader_stats(struct kt_loader *l, uint64_t out[KT_STAT_MAX]);

/* The recorder core's view of it (recorder/sessions.h). */
struct kt_kops;
void kt_loader_kops(struct kt_loader *l, struct kt_kops *out);

/* 1 when this kernel runs BTF tracepoint programs preemptible (their runs
 * can be skipped: bpf/core_fixes.bpf.h), 0 when not, -errno if unknown. */
int kt_loader_probe_tp(void);

/*
 * 1 when fentry/fexit programs can be preempted mid-run on this kernel (its
 * preemption model is full, lazy or RT: bpf/core_fixes.bpf.h,
 * kt_kernel_preempt_mode), so that other tasks' runs are skipped; 0 when
 * not; -errno if unknown.  *mode gets the model read (KT_PREEMPT_MODE_*).
 */
int kt_loader_probe_fentry_preemptible(int *mode);
/* The same from a kernel version string (uname -v) alone: -ENODATA for
 * PREEMPT_DYNAMIC kernels, whose model is chosen at boot.  For tests. */
int kt_preempt_from_version(const char *version);

/* Pre-flight, exposed for tests: 0 if the kernel release is new enough. */
int kt_kernel_release_ok(const char *release, int *major, int *minor);

#endif
