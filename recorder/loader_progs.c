// SPDX-License-Identifier: Apache-2.0
/*
 * The loader's programs as kernel objects: the tracepoint probe that picks
 * the syscall backend's way in, attaching that backend's sys_exit program,
 * and reading every loaded program's recursion_misses (runs the kernel
 * skipped), fresh or adopted alike.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader_int.h"
#include "log.h"
#include "kubetape.skel.h"
#include "probe.skel.h"

/*
 * Runs bpf/probe.bpf.c's sys_exit program for one syscall of ours: whether
 * this kernel runs BTF raw tracepoint programs preemptible (7.x; see
 * bpf/core_fixes.bpf.h) and its preemption model (KT_PREEMPT_MODE_*).
 * Negative errno when the probe could not run (tp_btf refused: then only
 * the perf tracepoint can work anyway).
 */
static int run_probe_once(bool *tp_preemptible, int *mode)
{
	struct probe_bpf *pr = probe_bpf__open();
	int err;

	if (!pr)
		return -errno;
	pr->bss->kt_probe_tgid = (uint32_t)getpid();
	err = probe_bpf__load(pr);
	if (!err)
		err = probe_bpf__attach(pr);
	if (!err) {
		/* any syscall of ours: the probe counts them at exit */
		(void)getppid();
		(void)getppid();
		err = __atomic_load_n(&pr->bss->kt_probe_runs, __ATOMIC_SEQ_CST) ? 0 : -ENODATA;
	}
	if (!err) {
		*tp_preemptible = __atomic_load_n(&pr->bss->kt_probe_preemptible, __ATOMIC_SEQ_CST) != 0;
		*mode = __atomic_load_n(&pr->data->kt_probe_preempt_mode, __ATOMIC_SEQ_CST);
	}
	probe_bpf__destroy(pr);
	return err;
}

/*
 * The probe's answers are the kernel's and do not change while we run: it
 * loads and attaches once per process (the backend choice asks for the
 * preemption model, a fallback to the syscall backend or an adopted hook
 * for the tracepoint; each used to load the probe object again).
 */
static int run_probe(bool *tp_preemptible, int *mode)
{
	static int err = 1; /* 1: not run yet */
	static bool pre;
	static int pmode = KT_PREEMPT_MODE_UNKNOWN;

	if (err == 1)
		err = run_probe_once(&pre, &pmode);
	*tp_preemptible = pre;
	*mode = pmode;
	return err;
}

/* 1 yes, 0 no, negative errno: see run_probe. */
int kt_loader_probe_tp(void)
{
	bool pre = false;
	int mode, err = run_probe(&pre, &mode);

	return err ? err : pre;
}

/*
 * The static preemption models are named in the kernel's version string
 * (scripts/mkcompile_h: "PREEMPT_DYNAMIC", "PREEMPT_RT", "PREEMPT_LAZY" on
 * kernels that name it, or "PREEMPT" for a build that preempts kernel code).
 */
int kt_preempt_from_version(const char *v)
{
	const char *p;

	if (!v)
		return -EINVAL;
	if (strstr(v, " PREEMPT_RT") || strstr(v, " PREEMPT_LAZY"))
		return 1;
	if (strstr(v, " PREEMPT_DYNAMIC"))
		return -ENODATA; /* the model is chosen at boot: only the probe knows */
	for (p = strstr(v, " PREEMPT"); p; p = strstr(p + 1, " PREEMPT"))
		if (p[8] == ' ' || p[8] == 0)
			return 1;
	return 0;
}

int kt_loader_probe_fentry_preemptible(int *mode_out)
{
	struct utsname u;
	bool pre = false;
	int mode = KT_PREEMPT_MODE_UNKNOWN, err = run_probe(&pre, &mode);

	if (mode_out)
		*mode_out = mode;
	if (!err && mode != KT_PREEMPT_MODE_UNKNOWN)
		return mode >= KT_PREEMPT_MODE_FULL;
	if (uname(&u))
		return -errno;
	return kt_preempt_from_version(u.version);
}

static const char *mode_name(int pre, int mode)
{
	if (pre < 0)
		return "unknown";
	return mode == KT_PREEMPT_MODE_LAZY ? "lazy" : mode == KT_PREEMPT_MODE_FULL ? "full" :
	       "preemptible";
}

/*
 * Should the tty capture try its kprobe variant before its fentry one?
 * Where fexit runs can be preempted, a preempted run makes the kernel skip
 * every other task's run of it on that CPU: pty writes recorded nowhere and
 * only counted as skipped runs (bpf/core_fixes.bpf.h, kt_kernel_preempt_mode).
 * kprobes run with preemption off.  An unknown model counts as preemptible.
 */
bool kt_loader_prefer_kprobe(enum kt_capture capture)
{
	int mode = KT_PREEMPT_MODE_UNKNOWN, pre;

	if (capture != KT_CAPTURE_AUTO && capture != KT_CAPTURE_TTY &&
	    capture != KT_CAPTURE_TTY_FENTRY)
		return false;
	pre = kt_loader_probe_fentry_preemptible(&mode);
	if (pre == 0)
		return false;
	if (capture == KT_CAPTURE_TTY_FENTRY) {
		pr_warn("this kernel can preempt fentry/fexit programs (preemption model %s): with "
			"--capture tty-fentry some pty writes can go unrecorded; they are counted as "
			"skipped runs (kubetape show), not attributed to a session. --capture tty "
			"uses the kprobe variant here", mode_name(pre, mode));
		return false;
	}
	pr_info("this kernel can preempt fentry/fexit programs (preemption model %s): tty "
		"capture prefers its kprobe variant, whose runs cannot be skipped that way",
		mode_name(pre, mode));
	return true;
}

#define SYS_EXIT_TP_ID "/sys/kernel/tracing/events/raw_syscalls/sys_exit/id"
#define SYS_EXIT_TP_ID_DEBUGFS "/sys/kernel/debug/tracing/events/raw_syscalls/sys_exit/id"

/*
 * Attach a syscall-exit program; returns a link fd (close it to detach, pin
 * it to keep it).  The perf tracepoint needs the event's id from tracefs
 * (preflight mounts it) and a perf event whose BPF link (5.15) keeps it.
 */
int kt_loader_attach_sys_exit(int prog_fd, bool perf)
{
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
					.sample_period = 1, .wakeup_events = 1 };
	unsigned long long id = 0;
	int fd, pfd, err;
	FILE *f;

	if (!perf) {
		fd = bpf_raw_tracepoint_open(NULL, prog_fd);
		return fd < 0 ? -errno : fd;
	}
	f = fopen(SYS_EXIT_TP_ID, "re");
	if (!f)
		f = fopen(SYS_EXIT_TP_ID_DEBUGFS, "re");
	if (!f)
		return -errno;
	err = fscanf(f, "%llu", &id) == 1 ? 0 : -EINVAL;
	fclose(f);
	if (err)
		return err;
	attr.config = id;
	/* a tracepoint's programs run on every CPU whatever the event's CPU */
	pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	fd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
	err = fd < 0 ? -errno : fd;
	close(pfd); /* the link holds the event */
	return err;
}


static int prog_id(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* Keep prog fd `fd` (taken over) unless a program with its id is kept. */
static void keep_prog(struct kt_loader *l, int fd)
{
	struct bpf_prog_info info;

	if (fd < 0)
		return;
	if (prog_id(fd, &info) || l->nprogs >= MAX_PROGS) {
		close(fd);
		return;
	}
	for (int i = 0; i < l->nprogs; i++) {
		if (l->prog_ids[i] == info.id) {
			close(fd);
			return;
		}
	}
	l->prog_ids[l->nprogs] = info.id;
	l->prog_fds[l->nprogs++] = fd;
}

/* The program behind a pinned link, as a new fd. */
static int link_prog_fd(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	fd = bpf_prog_get_fd_by_id(info.prog_id);
	return fd < 0 ? -errno : fd;
}

int kt_loader_collect_progs(struct kt_loader *l)
{
	char p[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (l->skel) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, l->skel->obj) {
			if (bpf_program__fd(prog) >= 0)
				keep_prog(l, fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 3));
		}
		return 0;
	}
	/* adopted: the programs are what the pinned links and prog_* hold */
	d = opendir(l->dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		int fd;

		if (strncmp(e->d_name, "link_", 5) && strncmp(e->d_name, "prog_", 5))
			continue;
		if (kt_loader_path(p, l->dir, e->d_name))
			continue;
		fd = bpf_obj_get(p);
		if (fd < 0)
			continue;
		if (e->d_name[0] == 'l') {
			int pfd = link_prog_fd(fd);

			close(fd);
			fd = pfd;
		}
		keep_prog(l, fd);
	}
	closedir(d);
	return 0;
}

void kt_loader_release_progs(struct kt_loader *l)
{
	while (l->nprogs)
		close(l->prog_fds[--l->nprogs]);
}

int kt_loader_prog_misses(struct kt_loader *l, struct kt_prog_misses *out, int max)
{
	int n = 0;

	for (int i = 0; i < l->nprogs && n < max; i++) {
		struct bpf_prog_info info;

		if (prog_id(l->prog_fds[i], &info))
			return -errno;
		out[n].id = info.id;
		snprintf(out[n].name, sizeof(out[n].name), "%s", info.name);
		out[n].misses = info.recursion_misses;
		n++;
	}
	return n;
}
