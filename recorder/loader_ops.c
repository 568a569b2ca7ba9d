// SPDX-License-Identifier: Apache-2.0
/* What the recorder does with its kernel state once loaded or adopted:
 * read and consume the rings, look up and retire sessions, attach the lazy
 * capture hook, read counters.  Works the same on fresh and adopted state:
 * only fds (no skeleton) are used here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader_int.h"
#include "sessions.h"
#include "log.h"

bool kt_loader_adopted(const struct kt_loader *l)
{
	return l->adopted;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct kt_loader *l = ctx;

	return l->cb ? l->cb(l->ctx, data, size) : 0;
}

int kt_loader_read(struct kt_loader *l, size_t max_bytes)
{
	int n = 0;

	/* control events first: a session's start is usually read before its
	 * bytes (and rebuilt from the sessions map when it is not) */
	for (int i = 0; i < KT_LOADER_RINGS; i++) {
		int m = kt_ring_read(l->rings[i], ring_cb, l, max_bytes);

		if (m < 0)
			return m;
		n += m;
	}
	if (!l->defer)
		kt_loader_consume(l);
	return n;
}

int kt_loader_wait(struct kt_loader *l, int timeout_ms)
{
	struct epoll_event ev[KT_LOADER_RINGS];
	int n = epoll_wait(l->epfd, ev, KT_LOADER_RINGS, timeout_ms);

	return n < 0 ? -errno : n;
}

int kt_loader_poll(struct kt_loader *l, int timeout_ms)
{
	int n = kt_loader_wait(l, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* terminal bytes are submitted without wakeups (bpf/maps.bpf.h):
	 * whatever woke us, or the timeout, read every ring */
	return kt_loader_read(l, 0);
}

int kt_loader_drain(struct kt_loader *l)
{
	return kt_loader_read(l, 0);
}

uint32_t kt_loader_ring_id(const struct kt_loader *l, int i)
{
	return l->ring_ids[i];
}

uint64_t kt_loader_ring_read_pos(const struct kt_loader *l, int i)
{
	return kt_ring_read_pos(l->rings[i]);
}

size_t kt_loader_ring_size(const struct kt_loader *l, int i)
{
	return kt_ring_size(l->rings[i]);
}

int kt_loader_ring_skip_to(struct kt_loader *l, int i, uint64_t pos)
{
	return kt_ring_skip_to(l->rings[i], pos);
}

uint64_t kt_loader_held(const struct kt_loader *l)
{
	uint64_t n = 0;

	for (int i = 0; i < KT_LOADER_RINGS; i++)
		n += kt_ring_held(l->rings[i]);
	return n;
}

bool kt_loader_caught_up(const struct kt_loader *l)
{
	for (int i = 0; i < KT_LOADER_RINGS; i++)
		if (kt_ring_read_pos(l->rings[i]) != kt_ring_producer_pos(l->rings[i]))
			return false;
	return true;
}

void kt_loader_consume(struct kt_loader *l)
{
	for (int i = 0; i < KT_LOADER_RINGS; i++)
		kt_ring_consume(l->rings[i]);
}

void kt_loader_rewind(struct kt_loader *l)
{
	for (int i = 0; i < KT_LOADER_RINGS; i++)
		kt_ring_rewind(l->rings[i]);
}

const char *kt_loader_backend(const struct kt_loader *l)
{
	return l->backend;
}

int kt_loader_session_lookup(struct kt_loader *l, uint64_t sid, struct kt_session *out)
{
	if (bpf_map_lookup_elem(l->fds[M_SESSIONS], &sid, out))
		return -errno;
	return 0;
}

/* a container's mount namespace found by the start-up /proc scan (ctr_seed.c) */
int kt_loader_ctr_ns_seed(struct kt_loader *l, uint32_t mntns_ino, const struct kt_ctr_ns *v)
{
	if (bpf_map_update_elem(l->fds[M_CTR_MNTNS], &mntns_ino, v, BPF_NOEXIST))
		return -errno;
	return 0;
}

int kt_loader_sessions_each(struct kt_loader *l, int (*cb)(const struct kt_session *s, void *ctx),
			    void *ctx)
{
	struct kt_session *ks = malloc(sizeof(*ks));
	uint64_t key, next;
	void *prev = NULL;
	int err = 0;

	if (!ks)
		return -ENOMEM;
	while (bpf_map_get_next_key(l->fds[M_SESSIONS], prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(l->fds[M_SESSIONS], &key, ks))
			continue; /* went away meanwhile */
		err = cb(ks, ctx);
		if (err)
			break;
	}
	free(ks);
	return err;
}

int kt_loader_sessions_batch(struct kt_loader *l, int (*cb)(const struct kt_session *s, void *ctx),
			     void *ctx)
{
	enum { BATCH = 64 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	/* the hash map's batch token is a bucket number (u32); room for more */
	uint64_t keys[BATCH], in_tok = 0, out_tok = 0;
	struct kt_session *vals = malloc(BATCH * sizeof(*vals));
	bool first = true, last = false;
	int err = 0;

	if (!vals)
		return -ENOMEM;
	while (!last && !err) {
		__u32 n = BATCH;

		if (bpf_map_lookup_batch(l->fds[M_SESSIONS], first ? NULL : &in_tok, &out_tok, keys,
					 vals, &n, &opts)) {
			err = -errno;
			if (err != -ENOENT)
				break;	/* -ENOSPC: a bucket over BATCH; -EINVAL: old kernel */
			err = 0;
			last = true;	/* the map's end; n entries still came with it */
		}
		for (__u32 i = 0; i < n && !err; i++)
			err = cb(&vals[i], ctx);
		in_tok = out_tok;
		first = false;
	}
	free(vals);
	return err;
}

void kt_loader_session_retire(struct kt_loader *l, uint64_t sid, uint64_t tty_key)
{
	uint64_t owner;

	if (tty_key && bpf_map_lookup_elem(l->fds[M_TTYS], &tty_key, &owner) == 0 && owner == sid &&
	    bpf_map_delete_elem(l->fds[M_TTYS], &tty_key) == 0)
		__atomic_fetch_sub(l->nr_ttys, 1, __ATOMIC_SEQ_CST);
	bpf_map_delete_elem(l->fds[M_SESSIONS], &sid);
}

bool kt_loader_capture_lazy(const struct kt_loader *l)
{
	return l->lazy_prog_fd >= 0;
}

bool kt_loader_capture_is_up(const struct kt_loader *l)
{
	return l->lazy_prog_fd < 0 || l->lazy_link_fd >= 0;
}

int kt_loader_capture_up(struct kt_loader *l)
{
	int err;

	if (kt_loader_capture_is_up(l))
		return 0;
	l->lazy_link_fd = kt_loader_attach_sys_exit(l->lazy_prog_fd, l->lazy_perf);
	if (l->lazy_link_fd < 0) {
		err = l->lazy_link_fd;
		l->lazy_link_fd = -1;
		pr_err("cannot attach the %s capture program: %s; ttys are not recorded",
		       l->backend, strerror(-err));
		return err;
	}
	/* pinned, so the hook stays while no recorder runs (and the next one
	 * finds it attached) */
	if (l->dir[0] && (err = kt_loader_pin_at(l->dir, "link_lazy", l->lazy_link_fd)))
		pr_warn("cannot pin the capture link: %s; a recorder restart will stop tty capture "
			"until the next session starts", strerror(-err));
	pr_debug("capture attached");
	return 0;
}

void kt_loader_capture_down(struct kt_loader *l)
{
	if (l->lazy_link_fd < 0)
		return;
	if (l->dir[0])
	{
		char p[PATH_MAX];

		if (kt_loader_path(p, l->dir, "link_lazy") == 0)
			unlink(p);
	}
	close(l->lazy_link_fd);
	l->lazy_link_fd = -1;
	pr_debug("capture detached: no tty is recorded");
}

uint32_t kt_loader_nr_ttys(const struct kt_loader *l)
{
	return __atomic_load_n(l->nr_ttys, __ATOMIC_SEQ_CST);
}

void kt_loader_tty_claim(struct kt_loader *l, uint64_t tty_key, uint64_t sid)
{
	if (bpf_map_update_elem(l->fds[M_TTYS], &tty_key, &sid, BPF_NOEXIST) == 0)
		__atomic_fetch_add(l->nr_ttys, 1, __ATOMIC_SEQ_CST);
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
		if (bpf_map_lookup_elem(l->fds[M_STATS], &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

/* ---- struct kt_kops over the loader ----------------------------------- */

static const char *k_backend(void *c) { return kt_loader_backend(c); }
static bool k_adopted(void *c) { return kt_loader_adopted(c); }
static int k_lookup(void *c, uint64_t sid, struct kt_session *o) { return kt_loader_session_lookup(c, sid, o); }
static int k_batch(void *c, int (*cb)(const struct kt_session *s, void *x), void *x) { return kt_loader_sessions_batch(c, cb, x); }
static void k_retire(void *c, uint64_t sid, uint64_t key) { kt_loader_session_retire(c, sid, key); }
static void k_claim(void *c, uint64_t key, uint64_t sid) { kt_loader_tty_claim(c, key, sid); }
static bool k_lazy(void *c) { return kt_loader_capture_lazy(c); }
static bool k_is_up(void *c) { return kt_loader_capture_is_up(c); }
static int k_up(void *c) { return kt_loader_capture_up(c); }
static void k_down(void *c) { kt_loader_capture_down(c); }
static uint32_t k_nr_ttys(void *c) { return kt_loader_nr_ttys(c); }
static int k_wait(void *c, int ms) { return kt_loader_wait(c, ms); }
static int k_read(void *c, size_t max) { return kt_loader_read(c, max); }
static uint32_t k_ring_id(void *c, int i) { return kt_loader_ring_id(c, i); }
static uint64_t k_read_pos(void *c, int i) { return kt_loader_ring_read_pos(c, i); }
static int k_skip_to(void *c, int i, uint64_t pos) { return kt_loader_ring_skip_to(c, i, pos); }
static bool k_caught_up(void *c) { return kt_loader_caught_up(c); }
static void k_consume(void *c) { kt_loader_consume(c); }
static void k_rewind(void *c) { kt_loader_rewind(c); }

void kt_loader_kops(struct kt_loader *l, struct kt_kops *o)
{
	_Static_assert(KT_KOPS_RINGS == KT_LOADER_RINGS, "one ring layout");
	*o = (struct kt_kops){
		.ctx = l, .backend = k_backend, .adopted = k_adopted, .session_lookup = k_lookup,
		.sessions_batch = k_batch,
		.session_retire = k_retire, .tty_claim = k_claim, .capture_lazy = k_lazy,
		.capture_is_up = k_is_up, .capture_up = k_up, .capture_down = k_down,
		.nr_ttys = k_nr_ttys, .wait = k_wait, .read = k_read, .ring_id = k_ring_id,
		.ring_read_pos = k_read_pos, .ring_skip_to = k_skip_to, .caught_up = k_caught_up,
		.consume = k_consume, .rewind = k_rewind,
	};
}
