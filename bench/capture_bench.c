// SPDX-License-Identifier: Apache-2.0
/*
 * bench/capture_bench.c — the recorder's capture path without the kernel:
 * recorder/sessions.c + continuity.c on a synthetic kernel (records handed
 * over exactly as recorder/ring.c does: read, commit, consume), into a real
 * SQLite store opened as the daemon opens it (zstd level 0, synchronous=FULL,
 * signed checkpoints), ticking every 100 ms of real time like the daemon.
 * Optionally the index worker's loop (kt_store_maintain_round every 500 ms)
 * runs in a child process on the same DB, as the recorder's worker does.
 *
 *   capture_bench DIR SESSIONS KIB_PER_S SECONDS FRAME_BYTES [worker]
 *
 * Prints one line: "sessions=N bytes=B wall=S capture_cpu=C worker_cpu=W
 * capture_cpu_per_gib=X worker_cpu_per_gib=Y commits=K".  CPU is user+sys
 * of this process (capture) and of the worker child (getrusage), so the
 * synthetic kernel's own cost (building the events: memcpy) is included in
 * the capture figure; it is small against the rest and the same before and
 * after a change.  The output is base64-like text, so the index worker has
 * lines to index.  Limits: no BPF, no ring-buffer wakeups, no attribution
 * (no container runtime state): what it measures is drain + chunk build +
 * hash chain + SQLite + fsync, and the worker's render/index/compaction.
 *
 * Env (experiments; capture.sh sets none): CB_BLOCK=FILE output from a file
 * instead of the built-in text (which is slices of a 68 KiB pool: zstd finds
 * it far more compressible than real output), CB_ZLEVEL=N compress chunks at
 * capture, CB_FLUSH_KIB=K cut chunks at K KiB, CB_SQL, CB_NORMAL, CB_TICK_MS, and the worker's CB_CLEVEL,
 * CB_IDLE_MS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "sessions.h"
#include "evidence.h"
#include "reader.h"
#include "store.h"
#include "log.h"
#include "store_int.h"

struct srec {
	uint64_t pos;
	uint32_t len;
	uint32_t off;	/* in buf */
};

struct sring {
	uint8_t *buf;
	size_t len, cap;
	struct srec *recs;
	size_t n, cap_recs;
	size_t next;	/* first record not yet read */
	uint64_t end, read, cons;
};

struct skernel {
	struct sring rings[KT_KOPS_RINGS];
	struct kt_session *sess;
	int nsess;
	struct kt_recorder *r;
};

static void push(struct sring *g, const void *ev, uint32_t len)
{
	if (g->len + len > g->cap) {
		g->cap = (g->len + len) * 2;
		g->buf = realloc(g->buf, g->cap);
	}
	if (g->n == g->cap_recs) {
		g->cap_recs = g->cap_recs ? g->cap_recs * 2 : 1024;
		g->recs = realloc(g->recs, g->cap_recs * sizeof(*g->recs));
	}
	if (!g->buf || !g->recs)
		abort();
	memcpy(g->buf + g->len, ev, len);
	g->recs[g->n++] = (struct srec){ .pos = g->end, .len = len, .off = (uint32_t)g->len };
	g->len += len;
	g->end += (len + 8 + 7) & ~7ull;
}

static const char *k_backend(void *c) { return "syscall"; }
static bool k_false(void *c) { return false; }
static bool k_true(void *c) { return true; }
static int k_zero(void *c) { return 0; }
static void k_none(void *c) { }
static uint32_t k_nr(void *c) { return 0; }
static int k_wait(void *c, int ms) { return 0; }

static int k_lookup(void *c, uint64_t sid, struct kt_session *o)
{
	struct skernel *k = c;

	if (sid < 1 || sid > (uint64_t)k->nsess || !k->sess[sid - 1].id)
		return -ENOENT;
	*o = k->sess[sid - 1];
	return 0;
}

static void k_retire(void *c, uint64_t sid, uint64_t key)
{
	struct skernel *k = c;

	if (sid >= 1 && sid <= (uint64_t)k->nsess)
		k->sess[sid - 1].id = 0;
}

static void k_claim(void *c, uint64_t key, uint64_t sid) { }

static int k_read(void *c, size_t max)
{
	struct skernel *k = c;
	int n = 0;

	for (int i = 0; i < KT_KOPS_RINGS; i++) {
		struct sring *g = &k->rings[i];
		uint64_t start = g->read;

		while (g->next < g->n) {
			struct srec *x = &g->recs[g->next];

			if (max && g->read - start >= max)
				break;
			if (kt_recorder_event(k->r, g->buf + x->off, x->len) < 0)
				break;
			g->next++;
			g->read = g->next < g->n ? g->recs[g->next].pos : g->end;
			n++;
		}
	}
	return n;
}

static uint32_t k_ring_id(void *c, int i) { return 100 + i; }
static uint64_t k_read_pos(void *c, int i) { return ((struct skernel *)c)->rings[i].read; }
static int k_skip_to(void *c, int i, uint64_t pos) { return 0; }

static bool k_caught_up(void *c)
{
	struct skernel *k = c;

	for (int i = 0; i < KT_KOPS_RINGS; i++)
		if (k->rings[i].read != k->rings[i].end)
			return false;
	return true;
}

static void k_consume(void *c)
{
	struct skernel *k = c;

	for (int i = 0; i < KT_KOPS_RINGS; i++) {
		struct sring *g = &k->rings[i];

		g->cons = g->read;
		if (g->next == g->n) {	/* all given back: reuse the buffer */
			g->len = 0;
			g->n = g->next = 0;
		}
	}
}

static void k_rewind(void *c)
{
	fprintf(stderr, "capture_bench: the store failed (rewind)\n");
	exit(1);
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_of(const struct rusage *u)
{
	return u->ru_utime.tv_sec + u->ru_utime.tv_usec / 1e6 + u->ru_stime.tv_sec +
	       u->ru_stime.tv_usec / 1e6;
}

static void ev_start(struct skernel *k, uint64_t sid)
{
	struct kt_ev_session e = {0};

	e.hdr.type = KT_EV_SESSION_START;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = boot_ns();
	e.hdr.session_id = sid;
	e.s.id = sid;
	e.s.start_ns = e.hdr.ts_ns;
	e.s.nprocs = 1;
	e.s.leader.pid = 100000 + (uint32_t)sid;
	snprintf(e.s.leader.comm, sizeof(e.s.leader.comm), "sh");
	snprintf(e.s.uts_name, sizeof(e.s.uts_name), "bench-pod");
	snprintf(e.s.cgroup_path, sizeof(e.s.cgroup_path), "/");
	e.s.tty.key = 0x1000 + sid;
	e.s.tty.rows = 24;
	e.s.tty.cols = 80;
	k->sess[sid - 1] = e.s;
	push(&k->rings[0], &e, sizeof(e));
}

static void ev_exit(struct skernel *k, uint64_t sid)
{
	struct kt_ev_exit e = {0};

	e.hdr.type = KT_EV_SESSION_END;
	e.hdr.flags = KT_F_LAST_PROC;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = boot_ns();
	e.hdr.session_id = sid;
	e.task.pid = 100000 + (uint32_t)sid;
	push(&k->rings[0], &e, sizeof(e));
	k->sess[sid - 1].nprocs = 0;
}

/* text the screen indexer has lines in: 76 printable bytes and CR LF */
static void fill_text(uint8_t *p, size_t n, uint64_t *seed)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i++) {
		if (i % 78 == 76) {
			p[i] = '\r';
		} else if (i % 78 == 77) {
			p[i] = '\n';
		} else {
			*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
			p[i] = (uint8_t)al[(*seed >> 33) & 63];
		}
	}
}

static int done_cb(int64_t id, bool compaction, int ret, void *ctx)
{
	return 0;
}

static int worker_loop(const char *db)
{
	struct kt_store *st = NULL;
	struct kt_maintain_ops ops = { .done = done_cb };
	int idle_ms = getenv("CB_IDLE_MS") ? atoi(getenv("CB_IDLE_MS")) : 500;

	if (kt_store_open(db, 0, &st))
		return 1;
	kt_store_set_quiet(st, true);
	/* CB_CLEVEL: the compaction's zstd level (default KT_COMPACT_LEVEL) */
	if (getenv("CB_CLEVEL") &&
	    kt_store_set_compaction(st, atoi(getenv("CB_CLEVEL")), KT_COMPACT_TARGET))
		return 1;
	setpriority(PRIO_PROCESS, 0, 10);
	for (;;) {
		if (getppid() == 1)
			break;
		int more = kt_store_maintain_round(st, 1u << 20, &ops);

		kt_store_wal_checkpoint(st);
		if (more <= 0)
			usleep(idle_ms * 1000);
	}
	kt_store_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	struct kt_attrib_config ac = {0};
	struct kt_recorder_opts o = { .attrib = &ac, .flush_age_us = 400000, .flush_bytes = 128 << 10,
				      .close_grace_us = 1000000, .keep_kernel_state = false };
	struct skernel k = {0};
	struct kt_kops ops = {
		.ctx = &k, .backend = k_backend, .adopted = k_false, .session_lookup = k_lookup,
		.session_retire = k_retire, .tty_claim = k_claim, .capture_lazy = k_false,
		.capture_is_up = k_true, .capture_up = k_zero, .capture_down = k_none,
		.nr_ttys = k_nr, .wait = k_wait, .read = k_read, .ring_id = k_ring_id,
		.ring_read_pos = k_read_pos, .ring_skip_to = k_skip_to, .caught_up = k_caught_up,
		.consume = k_consume, .rewind = k_rewind,
	};
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL;
	struct kt_recorder *r = NULL;
	struct kt_recorder_counters c;
	struct rusage u0, u1, wu;
	char db[512], key[512];
	uint8_t *ev, *pool;
	size_t pool_len = 0, pool_at = 0;
	uint64_t seed = 1, per_tick, bytes = 0;
	double t0, t1, cpu;
	int nsess, secs, frame, status, tick_ms;
	pid_t worker = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: %s DIR SESSIONS KIB_PER_S SECONDS FRAME_BYTES [worker]\n", argv[0]);
		return 2;
	}
	nsess = atoi(argv[2]);
	per_tick = (uint64_t)atoi(argv[3]) * 1024 / 10;
	secs = atoi(argv[4]);
	frame = atoi(argv[5]);
	if (nsess < 1 || secs < 1 || frame < 1 || frame > (int)KT_DATA_MAX || !per_tick) {
		fprintf(stderr, "capture_bench: bad arguments\n");
		return 2;
	}
	kt_log_init("capture_bench", KT_LOG_WARN);
	snprintf(db, sizeof(db), "%s/capture.db", argv[1]);
	snprintf(key, sizeof(key), "%s/node.key", argv[1]);
	/* as the daemon opens it (recorder/daemon.c) */
	if (kt_store_open(db, KT_STORE_CREATE, &st) || kt_signer_open(key, &sg) ||
	    kt_signer_attach(sg, st))
		return 1;
	/* CB_ZLEVEL: compress chunks at capture (the daemon stores raw: 0) */
	kt_store_set_zstd_level(st, getenv("CB_ZLEVEL") ? atoi(getenv("CB_ZLEVEL")) : 0);
	if (!getenv("CB_NORMAL") && kt_store_set_durable(st))
		return 1;
	if (getenv("CB_SQL") && sqlite3_exec(st->db, getenv("CB_SQL"), NULL, NULL, NULL))
		return 1;
	tick_ms = getenv("CB_TICK_MS") ? atoi(getenv("CB_TICK_MS")) : 100;
	if (getenv("CB_FLUSH_KIB"))	/* the chunk cut (options.c: 128 KiB) */
		o.flush_bytes = (size_t)atoi(getenv("CB_FLUSH_KIB")) << 10;
	o.signer = sg;
	k.nsess = nsess;
	k.sess = calloc((size_t)nsess, sizeof(*k.sess));
	ev = malloc(sizeof(struct kt_ev_data) + KT_DATA_MAX);
	/* CB_BLOCK=FILE: the output is FILE's bytes in order, cycled (e.g.
	 * bench/flood_block.py's, or base64 of /dev/urandom): the built-in
	 * text is slices of a 68 KiB pool, which zstd compresses far better
	 * than any real output, so capture-time compression needs this. */
	if (getenv("CB_BLOCK")) {
		FILE *bf = fopen(getenv("CB_BLOCK"), "rb");

		if (!bf || fseek(bf, 0, SEEK_END) || (pool_len = (size_t)ftell(bf)) < KT_DATA_MAX) {
			fprintf(stderr, "capture_bench: CB_BLOCK: unreadable or under %u bytes\n",
				(unsigned)KT_DATA_MAX);
			return 2;
		}
		rewind(bf);
		pool = malloc(pool_len + KT_DATA_MAX);
		if (!pool || fread(pool, 1, pool_len, bf) != pool_len)
			return 1;
		memcpy(pool + pool_len, pool, KT_DATA_MAX);	/* a frame may wrap */
		fclose(bf);
	} else {
		pool = malloc(4096 * 16 + KT_DATA_MAX);
		if (!pool)
			return 1;
		fill_text(pool, 4096 * 16 + KT_DATA_MAX, &seed);
	}
	if (!k.sess || !ev || kt_recorder_new(st, &o, &r))
		return 1;
	kt_recorder_set_kops(r, &ops);
	k.r = r;
	kt_recorder_adopt(r);
	if (argc > 6 && !strcmp(argv[6], "worker")) {
		/* as the daemon does with its worker */
		if (kt_store_set_wal_autocheckpoint(st, 16384))
			return 1;
		worker = fork();
		if (worker == 0)
			_exit(worker_loop(db));
	}

	getrusage(RUSAGE_SELF, &u0);
	t0 = mono_s();
	for (uint64_t s = 1; s <= (uint64_t)nsess; s++)
		ev_start(&k, s);
	for (int tick = 0; tick < secs * 10; tick++) {
		double next = t0 + (tick + 1) * 0.1;
		bool do_tick = (tick + 1) % (tick_ms / 100 ? tick_ms / 100 : 1) == 0;

		for (uint64_t s = 1; s <= (uint64_t)nsess; s++) {
			struct kt_ev_data *e = (void *)ev;

			for (uint64_t left = per_tick; left;) {
				uint32_t n = left < (uint64_t)frame ? (uint32_t)left : (uint32_t)frame;

				memset(e, 0, sizeof(*e));
				e->hdr.type = KT_EV_TTY_OUT;
				e->hdr.size = sizeof(*e) + n;
				e->hdr.ts_ns = boot_ns();
				e->hdr.session_id = s;
				e->len = n;
				e->source = KT_SRC_SYSCALL;
				if (pool_len) {
					memcpy(e->data, pool + pool_at, n);
					pool_at = (pool_at + n) % pool_len;
				} else {
					memcpy(e->data, pool + (seed++ % 4096) * 16, n);
				}
				push(&k.rings[1], e, sizeof(*e) + n);
				left -= n;
				bytes += n;
			}
		}
		if (do_tick && (kt_recorder_poll(r, 0) < 0 || kt_recorder_tick(r)))
			return 1;
		while (mono_s() < next)
			usleep((useconds_t)((next - mono_s()) * 1e6) + 1);
	}
	for (uint64_t s = 1; s <= (uint64_t)nsess; s++)
		ev_exit(&k, s);
	/* the close grace, then every session ended */
	for (int i = 0; i < 15; i++) {
		kt_recorder_poll(r, 0);
		kt_recorder_tick(r);
		usleep(100000);
	}
	t1 = mono_s();
	getrusage(RUSAGE_SELF, &u1);
	cpu = cpu_of(&u1) - cpu_of(&u0);
	kt_recorder_counters(r, &c);
	if (c.bytes_out != bytes) {
		fprintf(stderr, "capture_bench: recorded %llu of %llu bytes\n",
			(unsigned long long)c.bytes_out, (unsigned long long)bytes);
		return 1;
	}
	memset(&wu, 0, sizeof(wu));
	if (worker > 0) {
		/* let the worker finish the ended sessions' index and compaction */
		sleep(3);
		kill(worker, SIGKILL);
		wait4(worker, &status, 0, &wu);
	}
	printf("sessions=%d bytes=%llu wall=%.2f capture_cpu=%.3f worker_cpu=%.3f "
	       "capture_cpu_per_gib=%.2f worker_cpu_per_gib=%.2f\n",
	       nsess, (unsigned long long)bytes, t1 - t0, cpu, cpu_of(&wu),
	       cpu / ((double)bytes / (1u << 30)), cpu_of(&wu) / ((double)bytes / (1u << 30)));
	kt_recorder_free(r);
	kt_signer_free(sg);
	kt_store_close(st);
	free(k.sess);
	free(ev);
	for (int i = 0; i < KT_KOPS_RINGS; i++) {
		free(k.rings[i].buf);
		free(k.rings[i].recs);
	}
	return 0;
}
