// SPDX-License-Identifier: Apache-2.0
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "pin.h"
#include "ring.h"
#include "loader_int.h"
#include "kubetape.skel.h"

/* The oldest kernel kubetape supports: what current Kubernetes node images
 * ship, and the first LTS with everything used here (tp_btf, ring buffer,
 * BPF atomics with fetch, bpf_ktime_get_boot_ns). */
#define KT_MIN_MAJOR 5
#define KT_MIN_MINOR 15

#define TRACEFS "/sys/kernel/tracing"

/* Maps user space touches, pinned by these names (the programs hold the
 * others: scratch buffers); in the order of kt_loader.fds[]. */
const char *const kt_map_pin_names[M_N] = {
	"map_ctl_events", "map_events", "map_sessions", "map_ttys", "map_procs", "map_stats", "map_bss",
	"map_handover",
	"map_ctr_mntns",
};

struct backend {
	const char *name;
	const char *prefix;   /* its programs' name prefix in kubetape.bpf.c */
	const char *what;
	enum kt_capture only; /* the --capture value that forces it alone */
	bool lazy;            /* attach only while a tty is recorded */
};

/* In order of preference: the pty-driver hooks cost nothing to processes
 * outside a session; syscall tracepoints tax every read/write on the node. */
static const struct backend backends[] = {
	{ "tty-fentry", "kt_tty_fentry_", "fexit on pty_write, fentry on tty_do_resize/pty_resize", KT_CAPTURE_TTY_FENTRY, false },
	{ "tty-kprobe", "kt_tty_kprobe_", "kprobe+kretprobe on pty_write, kprobes on tty_do_resize/pty_resize", KT_CAPTURE_TTY_KPROBE, false },
	{ "syscall", "kt_sys_", "read/write/ioctl at syscall exit, attached while a tty is recorded", KT_CAPTURE_SYSCALL, true },
};

/* While probing a backend that may be refused, libbpf's warnings are
 * expected and would only alarm: they go to debug, and the refusal is
 * summarised in one line. */
static bool probing;

int kt_capture_parse(const char *s, enum kt_capture *out)
{
	static const char *const names[] = { "auto", "syscall", "tty", "tty-fentry", "tty-kprobe" };

	for (unsigned i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum kt_capture)i;
			return 0;
		}
	return -EINVAL;
}

static bool backend_allowed(const struct backend *b, enum kt_capture c)
{
	switch (c) {
	case KT_CAPTURE_AUTO:
		return true;
	case KT_CAPTURE_TTY:
		return b->only == KT_CAPTURE_TTY_FENTRY || b->only == KT_CAPTURE_TTY_KPROBE;
	default:
		return b->only == c;
	}
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum kt_log_level l = level == LIBBPF_WARN && !probing ? KT_LOG_WARN : KT_LOG_DEBUG;

	/* libbpf's debug output is the verifier log; only at --log-level debug */
	if (level == LIBBPF_DEBUG && kt_log_get_level() < KT_LOG_DEBUG)
		return 0;
	kt_vlog(l, fmt, ap);
	return 0;
}

int kt_kernel_release_ok(const char *release, int *major, int *minor)
{
	int ma = 0, mi = 0;

	if (!release || sscanf(release, "%d.%d", &ma, &mi) != 2)
		return -EINVAL;
	if (major)
		*major = ma;
	if (minor)
		*minor = mi;
	if (ma < KT_MIN_MAJOR || (ma == KT_MIN_MAJOR && mi < KT_MIN_MINOR))
		return -EOPNOTSUPP;
	return 0;
}

static int preflight(void)
{
	struct utsname u;
	struct stat st;
	int ma, mi, err;

	if (geteuid() != 0) {
		pr_err("must run as root (uid 0 with CAP_BPF and CAP_PERFMON) to load BPF programs");
		return -EPERM;
	}
	if (stat("/sys/kernel/btf/vmlinux", &st) != 0) {
		pr_err("kernel has no BTF (/sys/kernel/btf/vmlinux missing): kubetape needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	uname(&u);
	err = kt_kernel_release_ok(u.release, &ma, &mi);
	if (err) {
		pr_err("kernel %s is too old: kubetape needs Linux %d.%d or newer",
		       u.release, KT_MIN_MAJOR, KT_MIN_MINOR);
		return -ENOTSUP;
	}
	/* None of our program types needs tracefs (tp_btf, raw tracepoints,
	 * fentry, perf-PMU kprobes), but libbpf falls back to tracefs for
	 * legacy kprobes on old kernels: mount it when we can, never require it. */
	if (stat(TRACEFS "/events", &st) != 0 && stat("/sys/kernel/debug/tracing/events", &st) != 0) {
		if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0)
			pr_info("mounted tracefs on %s", TRACEFS);
		else
			pr_debug("tracefs not mounted (%s); not needed on this kernel", strerror(errno));
	}
	return 0;
}

/* The programs of one capture backend, by name prefix. */
static bool prog_is_backend(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

static void select_programs(struct kubetape_bpf *skel, const char *prefix)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj) {
		const char *name = bpf_program__name(p);

		if (prog_is_backend(name, "kt_sys_") || prog_is_backend(name, "kt_tty_"))
			bpf_program__set_autoload(p, prog_is_backend(name, prefix));
	}
}

/* The syscall backend's two ways in (bpf/capture_syscall.bpf.h): the BTF
 * raw tracepoint, or the perf tracepoint where the former is preemptible. */
static void select_sys_exit(struct kubetape_bpf *skel, bool perf)
{
	bpf_program__set_autoload(skel->progs.kt_sys_exit, !perf);
	bpf_program__set_autoload(skel->progs.kt_sys_exit_perf, perf);
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void describe(char *why, size_t cap, const char *stage, int err)
{
	const char *hint = "";

	if (err == -EPERM || err == -EACCES)
		hint = " (the kernel or its lockdown policy refuses this program type)";
	else if (err == -ENOENT || err == -EOPNOTSUPP || err == -ENOTSUP)
		hint = " (hook or feature missing in this kernel)";
	snprintf(why, cap, "%s failed: %s%s", stage, strerror(-err), hint);
}

int kt_loader_path(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int kt_loader_pin_at(const char *dir, const char *name, int fd)
{
	char p[PATH_MAX];

	if (kt_loader_path(p, dir, name))
		return -ENAMETOOLONG;
	return bpf_obj_pin(fd, p) ? -errno : 0;
}

int kt_loader_get_at(const char *dir, const char *name)
{
	char p[PATH_MAX];
	int fd;

	if (kt_loader_path(p, dir, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(p);
	return fd < 0 ? -errno : fd;
}

bool kt_loader_exists_at(const char *dir, const char *name)
{
	char p[PATH_MAX];

	return kt_loader_path(p, dir, name) == 0 && kt_pin_exists(p);
}

static bool exists_at(const char *dir, const char *name)
{
	return kt_loader_exists_at(dir, name);
}

/* Pin everything a later recorder needs into `tmp`; the caller renames it
 * into place, so a crash halfway leaves only a "tmp-<pid>" dir (removed later; bpffs
 * refuses names with a dot). */
static int pin_all(struct kt_loader *l, const char *tmp)
{
	int err;

	if (mkdir(tmp, 0700))
		return -errno;
	for (int i = 0; i < M_N; i++) {
		err = kt_loader_pin_at(tmp, kt_map_pin_names[i], l->fds[i]);
		if (err)
			return err;
	}
	for (int i = 0; i < l->nlinks; i++) {
		char name[128];

		snprintf(name, sizeof(name), "link_%.100s", l->link_names[i]);
		err = kt_loader_pin_at(tmp, name, bpf_link__fd(l->links[i]));
		if (err)
			return err;
	}
	{
		char abi[32];

		snprintf(abi, sizeof(abi), KT_ABI_PIN_FMT, KT_EVENT_ABI);
		err = kt_loader_pin_at(tmp, abi, l->fds[M_HANDOVER]);
		if (err)
			return err;
	}
	if (l->lazy_prog_fd >= 0)
		return kt_loader_pin_at(tmp, "prog_lazy", l->lazy_prog_fd);
	return 0;
}

/* Open, load and attach with one backend's programs; on failure the reason
 * goes to `why` and nothing is left behind. */
static int try_backend(struct kt_loader *l, const struct kt_loader_opts *o, const struct backend *b,
		       char *why, size_t cap)
{
	struct kubetape_bpf *skel;
	struct bpf_program *p;
	int err, fd;

	skel = kubetape_bpf__open();
	if (!skel) {
		err = -errno;
		describe(why, cap, "open", err);
		return err;
	}
	skel->bss->kt_capture_input = o->capture_input;
	skel->rodata->kt_layout = (__u32)l->layout;
	/* Ids stay unique across recorder restarts: start from the wall clock. */
	skel->bss->kt_next_session_id = wall_us();
	/* an upgrade loads onto the older layout's maps and rings */
	err = kt_upgrade_reuse(l, skel);
	if (err) {
		describe(why, cap, "taking over the older layout's maps", err);
		goto cleanup;
	}
	if (o->ringbuf_bytes && l->reuse[M_EVENTS] < 0) {
		err = bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
		if (err) {
			describe(why, cap, "ring buffer sizing", err);
			goto cleanup;
		}
	}
	select_programs(skel, b->prefix);
	if (!o->capture_input) /* its only job is typed bytes (capture_tty.bpf.h) */
		bpf_program__set_autoload(skel->progs.kt_tty_fentry_pty_write_in, false);
	if (b->only == KT_CAPTURE_SYSCALL) {
		int pre = o->sys_exit == KT_SYS_EXIT_AUTO ? kt_loader_probe_tp() :
			  o->sys_exit == KT_SYS_EXIT_PERF;

		l->lazy_perf = pre != 0;
		if (o->sys_exit != KT_SYS_EXIT_AUTO)
			pr_info("syscall capture forced onto the %s", pre ? "perf tracepoint" : "BTF raw tracepoint");
		else if (pre < 0)
			pr_info("tracepoint probe failed (%s): using the perf tracepoint", strerror(-pre));
		else if (pre)
			pr_info("this kernel runs BTF tracepoint programs preemptible (skipped runs): "
				"syscall capture uses the perf tracepoint raw_syscalls:sys_exit");
		select_sys_exit(skel, l->lazy_perf);
	}
	err = kubetape_bpf__load(skel);
	if (err) {
		describe(why, cap, "load", err);
		goto cleanup;
	}
	if (l->reuse[M_HANDOVER] < 0) {
		/* a new handover map: these programs record from their attach
		 * on (an upgrade switches later, kt_upgrade_switch) */
		__u32 zero = 0, me = (__u32)l->layout;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.handover), &zero, &me, BPF_ANY)) {
			err = -errno;
			describe(why, cap, "handover map", err);
			goto cleanup;
		}
	}
	l->lazy_prog_fd = -1;
	bpf_object__for_each_program(p, skel->obj) {
		if (!bpf_program__autoload(p))
			continue;
		if (p == skel->progs.kt_iter_late)
			continue; /* run once, by kt_loader_find_running */
		if (b->lazy && !o->eager &&
		    (p == skel->progs.kt_sys_exit || p == skel->progs.kt_sys_exit_perf)) {
			/* prove now that it can attach, so auto mode can fall through */
			fd = kt_loader_attach_sys_exit(bpf_program__fd(p), l->lazy_perf);
			if (fd < 0) {
				err = fd;
				describe(why, cap, "attach", err);
				goto cleanup;
			}
			close(fd);
			l->lazy_prog_fd = bpf_program__fd(p);
			continue;
		}
		assert(l->nlinks < MAX_LINKS);
		l->link_names[l->nlinks] = bpf_program__name(p);
		l->links[l->nlinks] = bpf_program__attach(p);
		if (!l->links[l->nlinks]) {
			err = -errno;
			describe(why, cap, "attach", err);
			goto cleanup;
		}
		l->nlinks++;
	}
	l->skel = skel;
	l->backend = b->name;
	return 0;
cleanup:
	while (l->nlinks)
		bpf_link__destroy(l->links[--l->nlinks]);
	l->lazy_prog_fd = -1;
	kubetape_bpf__destroy(skel);
	return err;
}

/* fds of a freshly loaded object, owned by the loader like adopted ones */
static int own_fds(struct kt_loader *l)
{
	struct bpf_map *m[M_N] = {
		l->skel->maps.ctl_events, l->skel->maps.events, l->skel->maps.sessions,
		l->skel->maps.ttys, l->skel->maps.procs, l->skel->maps.stats, l->skel->maps.bss,
		l->skel->maps.handover,
		l->skel->maps.ctr_mntns,
	};

	for (int i = 0; i < M_N; i++) {
		l->fds[i] = fcntl(bpf_map__fd(m[i]), F_DUPFD_CLOEXEC, 3);
		if (l->fds[i] < 0)
			return -errno;
	}
	l->nr_ttys = &l->skel->bss->kt_nr_ttys;
	if (l->lazy_prog_fd >= 0) {
		l->lazy_prog_fd = fcntl(l->lazy_prog_fd, F_DUPFD_CLOEXEC, 3);
		if (l->lazy_prog_fd < 0)
			return -errno;
	}
	return 0;
}

static int load_fresh(struct kt_loader *l, const struct kt_loader_opts *o)
{
	char refused[1024] = "", why[256];
	const struct backend *chosen = NULL;
	unsigned order[] = { 0, 1, 2 };
	size_t nref = 0;
	int err = -ENOENT;

	_Static_assert(sizeof(order) == sizeof(backends) / sizeof(backends[0]) * sizeof(order[0]),
		       "one slot per backend");
	if (kt_loader_prefer_kprobe(o->capture)) {
		order[0] = 1; /* backends[]: tty-kprobe before tty-fentry */
		order[1] = 0;
	}
	for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		const struct backend *b = &backends[order[k]];

		if (!backend_allowed(b, o->capture))
			continue;
		probing = true;
		err = try_backend(l, o, b, why, sizeof(why));
		probing = false;
		if (!err) {
			chosen = b;
			break;
		}
		nref += snprintf(refused + nref, nref < sizeof(refused) ? sizeof(refused) - nref : 0,
				 "; %s refused: %s", b->name, why);
		if (nref >= sizeof(refused))
			nref = sizeof(refused) - 1;
	}
	if (!chosen) {
		pr_err("no capture backend could be attached%s%s", refused,
		       o->capture == KT_CAPTURE_AUTO ? "" : " (forced by --capture; try --capture=auto)");
		pr_info("run with --log-level debug for libbpf's and the verifier's messages");
		return err;
	}
	pr_info("capture backend: %s (%s%s)%s", chosen->name, chosen->what,
		!chosen->lazy ? "" : l->lazy_perf ? "; perf tracepoint raw_syscalls:sys_exit" :
		"; BTF raw tracepoint sys_exit", refused);
	return own_fds(l);
}

/* The backend of pinned state, from its link names. */
static const char *pinned_backend(const char *dir, bool *lazy)
{
	char name[128];

	*lazy = false;
	if (exists_at(dir, "prog_lazy")) {
		*lazy = true;
		return "syscall";
	}
	if (exists_at(dir, "link_kt_sys_exit") || exists_at(dir, "link_kt_sys_exit_perf"))
		return "syscall";
	for (unsigned i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct bpf_program *prog;
		struct kubetape_bpf *skel = NULL;
		bool found = false;

		if (backends[i].lazy)
			continue;
		/* names come from the object: open (not load) it to list them */
		skel = kubetape_bpf__open();
		if (!skel)
			return NULL;
		bpf_object__for_each_program(prog, skel->obj) {
			if (strncmp(bpf_program__name(prog), backends[i].prefix, strlen(backends[i].prefix)))
				continue;
			snprintf(name, sizeof(name), "link_%.100s", bpf_program__name(prog));
			found = exists_at(dir, name);
			break;
		}
		kubetape_bpf__destroy(skel);
		if (found)
			return backends[i].name;
	}
	return NULL;
}

static int adopt(struct kt_loader *l, const struct kt_loader_opts *o)
{
	static const char *const session_links[] = {
		"link_kt_sched_exec", "link_kt_sched_fork", "link_kt_sched_exit",
	};
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	bool lazy;
	void *p;

	for (unsigned i = 0; i < sizeof(session_links) / sizeof(session_links[0]); i++) {
		if (!exists_at(l->dir, session_links[i])) {
			pr_warn("pinned state in %s is incomplete (no %s): replacing it", l->dir,
				session_links[i]);
			return -ENOENT;
		}
	}
	l->backend = pinned_backend(l->dir, &lazy);
	if (!l->backend) {
		pr_warn("pinned state in %s has no capture backend: replacing it", l->dir);
		return -ENOENT;
	}
	for (int i = 0; i < M_N; i++) {
		l->fds[i] = kt_loader_get_at(l->dir, kt_map_pin_names[i]);
		if (l->fds[i] < 0) {
			pr_warn("pinned state in %s: %s: %s; replacing it", l->dir, kt_map_pin_names[i],
				strerror(-l->fds[i]));
			return l->fds[i];
		}
	}
	if (lazy) {
		l->lazy_prog_fd = kt_loader_get_at(l->dir, "prog_lazy");
		if (l->lazy_prog_fd < 0)
			return l->lazy_prog_fd;
		l->lazy_link_fd = kt_loader_get_at(l->dir, "link_lazy"); /* absent: detached */
		if (l->lazy_link_fd < 0)
			l->lazy_link_fd = -1;
		{
			struct bpf_prog_info pi = {};
			__u32 plen = sizeof(pi);

			if (bpf_obj_get_info_by_fd(l->lazy_prog_fd, &pi, &plen))
				return -errno;
			/* kt_sys_exit_perf is a classic tracepoint program */
			l->lazy_perf = pi.type == BPF_PROG_TYPE_TRACEPOINT;
		}
		/* pinned by a recorder from before the 7.x fix */
		if (!l->lazy_perf && kt_loader_probe_tp() == 1)
			pr_warn("the adopted syscall hook is the BTF raw tracepoint, which this kernel runs "
				"preemptible: the kernel will skip some of its runs (counted, kubetape "
				"show); kubetape-recorder --unpin and a restart switch to the perf tracepoint");
	}
	if (bpf_obj_get_info_by_fd(l->fds[M_BSS], &info, &len))
		return -errno;
	l->bss_len = info.value_size;
	p = mmap(NULL, l->bss_len, PROT_READ | PROT_WRITE, MAP_SHARED, l->fds[M_BSS], 0);
	if (p == MAP_FAILED)
		return -errno;
	l->bss_map = p;
	l->nr_ttys = (uint32_t *)((char *)p + offsetof(struct kubetape_bpf__bss, kt_nr_ttys));
	/* input capture is this recorder's choice, not the previous one's */
	__atomic_store_n((bool *)((char *)p + offsetof(struct kubetape_bpf__bss, kt_capture_input)),
			 o->capture_input, __ATOMIC_SEQ_CST);
	l->adopted = true;
	/* a recorder that died between pinning a new layout and switching
	 * recording to it (kt_upgrade_switch) left the older one recording */
	kt_handover_claim(l);
	pr_info("adopted the kernel state pinned in %s: backend %s%s; capture never stopped", l->dir,
		l->backend, lazy ? (l->lazy_link_fd >= 0 ? " (attached)" : " (detached)") : "");
	if (o->capture != KT_CAPTURE_AUTO || o->eager)
		pr_warn("--capture, --eager-capture and --ringbuf-mb take effect only when "
			"the programs are loaded again (kubetape-recorder --unpin, then start)");
	return 0;
}

int kt_loader_find_running(struct kt_loader *l)
{
	struct bpf_link *link;
	char buf[4096];
	int fd, err = 0, n = 0;
	ssize_t r;

	if (!l->skel)
		return -EALREADY; /* adopted: those sessions are continued instead */
	link = bpf_program__attach_iter(l->skel->progs.kt_iter_late, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	/* one line per session found ("leader-tgid session-id"); the sessions
	 * themselves come as start events on the control ring */
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
	if (r < 0)
		err = -errno;
	close(fd);
cleanup:
	bpf_link__destroy(link);
	return err ? err : n;
}

static void drop_foreign(const char *path, int layout, void *ctx)
{
	struct kt_loader *l = ctx;
	char abi[32];

	if (layout < 0) {
		kt_pin_rmtree(path);
		return;
	}
	snprintf(abi, sizeof(abi), KT_ABI_PIN_FMT, KT_EVENT_ABI);
	if (l && ((l->from_layout && strcmp(path, l->from_dir) == 0) ||
		  (l->adopted && !l->from_layout && kt_loader_exists_at(path, abi)))) {
		/* taken over now, or by a recorder that pinned this layout
		 * and stopped before removing the old one (kt_handover_claim):
		 * its maps and rings live on under this layout; its programs
		 * stopped recording at the switch and detach now */
		pr_info("%s: kernel state of layout v%d handed over to v%d: removing its programs",
			path, layout, l->layout);
		kt_pin_rmtree(path);
		return;
	}
	/* Another layout's maps cannot be read by this build: its sessions
	 * end here (the recorder marks their rows interrupted). */
	pr_warn("%s: kernel state of pinned layout v%d (this recorder uses v%d) cannot be carried "
		"over (%s): the bytes still in its rings and its open sessions are not continued "
		"(their rows are marked interrupted); removing it now that this recorder's "
		"programs are attached", path, layout, l ? l->layout : KT_PIN_LAYOUT,
		kt_loader_exists_at(path, "map_handover") ?
		"its ring records or session maps have another format (KT_EVENT_ABI)" :
		"it has no handover map: it predates layout 3");
	kt_pin_rmtree(path);
}

static int open_rings(struct kt_loader *l)
{
	int fds[KT_LOADER_RINGS] = { l->fds[M_CTL], l->fds[M_EVENTS] }, err;

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	for (int i = 0; i < KT_LOADER_RINGS; i++) {
		/* edge-triggered: records held back (defer_consume) keep the
		 * ring readable, which level-triggered polling would spin on */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = i };
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		err = kt_ring_open(fds[i], &l->rings[i]);
		if (err)
			return err;
		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			return -errno;
		l->ring_ids[i] = info.id;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fds[i], &ev))
			return -errno;
	}
	return 0;
}

static void release(struct kt_loader *l);

int kt_loader_open(const struct kt_loader_opts *o, ring_buffer_sample_fn cb, void *ctx,
		   struct kt_loader **out)
{
	struct kt_loader *l = NULL;
	char tmp[PATH_MAX];
	int err;

	*out = NULL;
	err = preflight();
	if (err)
		return err;
	libbpf_set_print(libbpf_print_fn);

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->lock_fd = l->epfd = l->lazy_prog_fd = l->lazy_link_fd = -1;
	for (int i = 0; i < M_N; i++)
		l->fds[i] = -1;
	for (int i = 0; i < M_N; i++)
		l->reuse[i] = -1;
	l->layout = o->layout ? o->layout : KT_PIN_LAYOUT;
	l->cb = cb;
	l->ctx = ctx;
	l->defer = o->defer_consume;
	if (o->pin_dir) {
		err = kt_pin_prepare(o->pin_dir);
		if (err < 0)
			goto cleanup;
		l->lock_fd = err;
		if (snprintf(l->dir, sizeof(l->dir), "%s/v%d", o->pin_dir, l->layout) >=
		    (int)sizeof(l->dir)) {
			err = -ENAMETOOLONG;
			goto cleanup;
		}
		if (kt_pin_exists(l->dir) && adopt(l, o)) {
			/* incomplete (a crash while pinning, a manual rm): its
			 * sessions cannot be continued; start over, fresh */
			release(l);
			kt_pin_rmtree(l->dir);
		}
	}
	if (!l->adopted) {
		/* an older layout whose maps these programs can share */
		if (o->pin_dir)
			kt_upgrade_find(l, o->pin_dir);
		err = load_fresh(l, o);
		if (err)
			goto cleanup;
		if (l->dir[0]) {
			err = snprintf(tmp, sizeof(tmp), "%s/tmp-%d", o->pin_dir, (int)getpid()) >=
			      (int)sizeof(tmp) ? -ENAMETOOLONG : 0;
			kt_pin_rmtree(tmp);
			if (!err)
				err = pin_all(l, tmp);
			if (!err && rename(tmp, l->dir))
				err = -errno;
			if (err) {
				pr_err("cannot pin the kernel state in %s: %s", l->dir, strerror(-err));
				kt_pin_rmtree(tmp);
				goto cleanup;
			}
			pr_info("kernel state pinned in %s: it keeps recording while no recorder runs",
				l->dir);
		}
		/* pinned first: a crash from here on leaves state the next
		 * recorder adopts (and switches, kt_handover_claim) */
		if (l->from_layout && (err = kt_upgrade_switch(l)))
			goto cleanup;
	}
	if (o->pin_dir)
		kt_pin_foreign(o->pin_dir, l->layout, drop_foreign, l);
	err = open_rings(l);
	if (err) {
		pr_err("ring buffer setup failed: %s", strerror(-err));
		goto cleanup;
	}
	err = kt_loader_collect_progs(l);
	if (err)
		pr_warn("cannot list the loaded programs (%s): skipped runs are not counted",
			strerror(-err));
	*out = l;
	return 0;
cleanup:
	kt_loader_close(l);
	return err;
}

/* Close this process's handles (pinned objects stay in the kernel); the
 * loader can be filled again. */
static void release(struct kt_loader *l)
{
	for (int i = 0; i < KT_LOADER_RINGS; i++) {
		kt_ring_close(l->rings[i]);
		l->rings[i] = NULL;
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->lazy_link_fd >= 0)
		close(l->lazy_link_fd);
	if (l->lazy_prog_fd >= 0)
		close(l->lazy_prog_fd);
	l->epfd = l->lazy_link_fd = l->lazy_prog_fd = -1;
	kt_loader_release_progs(l);
	for (int i = 0; i < M_N; i++) {
		if (l->fds[i] >= 0)
			close(l->fds[i]);
		l->fds[i] = -1;
	}
	for (int i = 0; i < M_N; i++) {
		if (l->reuse[i] >= 0)
			close(l->reuse[i]);
		l->reuse[i] = -1;
	}
	if (l->bss_map)
		munmap(l->bss_map, l->bss_len);
	l->bss_map = NULL;
	/* unpinned links detach here; pinned ones live on in bpffs */
	while (l->nlinks)
		bpf_link__destroy(l->links[--l->nlinks]);
	kubetape_bpf__destroy(l->skel);
	l->skel = NULL;
	l->nr_ttys = NULL;
	l->adopted = false;
}

void kt_loader_close(struct kt_loader *l)
{
	if (!l)
		return;
	release(l);
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	free(l);
}

/* Not under the pin dir's lock: a running recorder keeps its own
 * references and records until it exits; then nothing is left. */
int kt_loader_unpin(const char *pin_dir)
{
	char dir[PATH_MAX];
	int err;

	if (snprintf(dir, sizeof(dir), "%s/v%d", pin_dir, KT_PIN_LAYOUT) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	err = kt_pin_rmtree(dir);
	if (kt_pin_exists(pin_dir))
		kt_pin_foreign(pin_dir, KT_PIN_LAYOUT, drop_foreign, NULL);
	rmdir(pin_dir);
	return err;
}

