// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "kubetape.skel.h"

/* The oldest kernel kubetape supports: what current Kubernetes node images
 * ship, and the first LTS with everything used here (tp_btf, ring buffer,
 * BPF atomics with fetch, bpf_ktime_get_boot_ns). */
#define KT_MIN_MAJOR 5
#define KT_MIN_MINOR 15

#define TRACEFS "/sys/kernel/tracing"

struct kt_loader {
	struct kubetape_bpf *skel;
	struct ring_buffer *rb;
	const char *backend;
	struct bpf_program *lazy_prog; /* attached on demand, or NULL */
	struct bpf_link *lazy_link;
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
	{ "syscall", "kt_sys_", "read/write/ioctl at the sys_exit raw tracepoint, attached while a tty is recorded", KT_CAPTURE_SYSCALL, true },
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

/* Open, load and attach with one backend's programs; on failure the reason
 * goes to `why` and nothing is left behind. */
static int try_backend(struct kt_loader *l, const struct kt_loader_opts *o, const struct backend *b,
		       ring_buffer_sample_fn cb, void *ctx, char *why, size_t cap)
{
	struct kubetape_bpf *skel;
	int err;

	skel = kubetape_bpf__open();
	if (!skel) {
		err = -errno;
		describe(why, cap, "open", err);
		return err;
	}
	skel->rodata->kt_capture_input = o->capture_input;
	/* Ids stay unique across recorder restarts: start from the wall clock. */
	skel->bss->kt_next_session_id = wall_us();
	if (o->ringbuf_bytes) {
		err = bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
		if (err) {
			describe(why, cap, "ring buffer sizing", err);
			goto cleanup;
		}
	}
	select_programs(skel, b->prefix);
	if (b->lazy && !o->eager) {
		l->lazy_prog = skel->progs.kt_sys_exit;
		bpf_program__set_autoattach(l->lazy_prog, false);
	}
	err = kubetape_bpf__load(skel);
	if (err) {
		describe(why, cap, "load", err);
		goto cleanup;
	}
	err = kubetape_bpf__attach(skel);
	if (err) {
		describe(why, cap, "attach", err);
		goto cleanup;
	}
	if (l->lazy_prog) {
		/* prove now that it can attach, so auto mode can fall through */
		struct bpf_link *link = bpf_program__attach(l->lazy_prog);

		if (!link) {
			err = -errno;
			describe(why, cap, "attach", err);
			goto cleanup;
		}
		bpf_link__destroy(link);
	}
	/* control events first: a session's start is usually read before its
	 * bytes (and rebuilt from the sessions map when it is not) */
	l->rb = ring_buffer__new(bpf_map__fd(skel->maps.ctl_events), cb, ctx, NULL);
	if (!l->rb || ring_buffer__add(l->rb, bpf_map__fd(skel->maps.events), cb, ctx)) {
		err = -errno;
		describe(why, cap, "ring buffer setup", err);
		ring_buffer__free(l->rb);
		l->rb = NULL;
		goto cleanup;
	}
	l->skel = skel;
	l->backend = b->name;
	return 0;
cleanup:
	l->lazy_prog = NULL;
	kubetape_bpf__destroy(skel);
	return err;
}

int kt_loader_open(const struct kt_loader_opts *o, ring_buffer_sample_fn cb, void *ctx,
		   struct kt_loader **out)
{
	char refused[1024] = "", why[256];
	const struct backend *chosen = NULL;
	struct kt_loader *l = NULL;
	size_t nref = 0;
	int err = -ENOENT;

	*out = NULL;
	err = preflight();
	if (err)
		return err;
	libbpf_set_print(libbpf_print_fn);

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (unsigned i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		const struct backend *b = &backends[i];

		if (!backend_allowed(b, o->capture))
			continue;
		probing = true;
		err = try_backend(l, o, b, cb, ctx, why, sizeof(why));
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
		goto cleanup;
	}
	pr_info("capture backend: %s (%s)%s", chosen->name, chosen->what, refused);
	*out = l;
	return 0;
cleanup:
	kt_loader_close(l);
	return err;
}

void kt_loader_close(struct kt_loader *l)
{
	if (!l)
		return;
	bpf_link__destroy(l->lazy_link);
	ring_buffer__free(l->rb);
	kubetape_bpf__destroy(l->skel);
	free(l);
}

int kt_loader_poll(struct kt_loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms), m;

	if (n < 0 && n != -EINTR)
		return n;
	/* terminal bytes are submitted without wakeups (bpf/maps.bpf.h):
	 * whatever woke us, or the timeout, drain every ring */
	m = ring_buffer__consume(l->rb);
	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
}

int kt_loader_drain(struct kt_loader *l)
{
	return ring_buffer__consume(l->rb);
}

const char *kt_loader_backend(const struct kt_loader *l)
{
	return l->backend;
}

int kt_loader_session_lookup(struct kt_loader *l, uint64_t sid, struct kt_session *out)
{
	if (bpf_map__lookup_elem(l->skel->maps.sessions, &sid, sizeof(sid), out, sizeof(*out), 0))
		return -errno;
	return 0;
}

int kt_loader_ctr_ns_seed(struct kt_loader *l, uint32_t mntns_ino, const struct kt_ctr_ns *v)
{
	if (bpf_map__update_elem(l->skel->maps.ctr_mntns, &mntns_ino, sizeof(mntns_ino), v,
				 sizeof(*v), BPF_NOEXIST))
		return -errno;
	return 0;
}

void kt_loader_session_retire(struct kt_loader *l, uint64_t sid, uint64_t tty_key)
{
	uint64_t owner;

	if (tty_key &&
	    bpf_map__lookup_elem(l->skel->maps.ttys, &tty_key, sizeof(tty_key), &owner, sizeof(owner), 0) == 0 &&
	    owner == sid &&
	    bpf_map__delete_elem(l->skel->maps.ttys, &tty_key, sizeof(tty_key), 0) == 0)
		__atomic_fetch_sub(&l->skel->bss->kt_nr_ttys, 1, __ATOMIC_SEQ_CST);
	bpf_map__delete_elem(l->skel->maps.sessions, &sid, sizeof(sid), 0);
}

bool kt_loader_capture_lazy(const struct kt_loader *l)
{
	return l->lazy_prog != NULL;
}

bool kt_loader_capture_is_up(const struct kt_loader *l)
{
	return !l->lazy_prog || l->lazy_link;
}

int kt_loader_capture_up(struct kt_loader *l)
{
	int err;

	if (kt_loader_capture_is_up(l))
		return 0;
	l->lazy_link = bpf_program__attach(l->lazy_prog);
	if (!l->lazy_link) {
		err = -errno;
		pr_err("cannot attach the %s capture program: %s; ttys are not recorded",
		       l->backend, strerror(-err));
		return err;
	}
	pr_debug("capture attached");
	return 0;
}

void kt_loader_capture_down(struct kt_loader *l)
{
	if (!l->lazy_link)
		return;
	bpf_link__destroy(l->lazy_link);
	l->lazy_link = NULL;
	pr_debug("capture detached: no tty is recorded");
}

uint32_t kt_loader_nr_ttys(const struct kt_loader *l)
{
	return __atomic_load_n(&l->skel->bss->kt_nr_ttys, __ATOMIC_SEQ_CST);
}

void kt_loader_tty_claim(struct kt_loader *l, uint64_t tty_key, uint64_t sid)
{
	if (bpf_map__update_elem(l->skel->maps.ttys, &tty_key, sizeof(tty_key), &sid, sizeof(sid),
				 BPF_NOEXIST) == 0)
		__atomic_fetch_add(&l->skel->bss->kt_nr_ttys, 1, __ATOMIC_SEQ_CST);
}

int kt_loader_stats(struct kt_loader *l, uint64_t out[KT_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < KT_STAT_MAX; k++) {
		out[k] = 0;
		if (bpf_map__lookup_elem(l->skel->maps.stats, &k, sizeof(k), vals,
					 sizeof(*vals) * ncpu, 0))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}
