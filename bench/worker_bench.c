// SPDX-License-Identifier: Apache-2.0
/*
 * bench/worker_bench.c — the index worker's CPU per GiB, alone and
 * repeatable (perf-friendly: one process, no real-time waits).
 *
 *   worker_bench DB SESSIONS KIB_PER_S SECONDS FRAME_BYTES BLOCK [FAST_LEVEL]
 *
 * Writes SESSIONS sessions into a fresh store as the recorder does (raw
 * chunks, zstd level 0; a chunk cut at 128 KiB or when its first frame is
 * 0.4 s old, at 100 ms ticks; one commit per tick), their output taken from
 * BLOCK (bench/flood_block.py: seq, find, ls -lR, base64; "\n" made "\r\n"
 * as the pty delivers it), each session at its own offset.  Time is
 * virtual, starting now, so a session's chunks are
 * as old relative to the clock as in a live recording at that rate.  Every
 * 500 ms of virtual time it runs what the recorder's worker runs
 * (recorder/indexer.c) on its own store handle: kt_store_maintain_round
 * with the worker's 1 MiB budget until it has nothing more, then the WAL
 * checkpoint.  At the end the sessions end and the worker finishes their
 * index and compaction.  The worker's user+sys (getrusage around its part
 * only) per GiB of output, split into indexing and compaction (CPU between
 * the per-session callbacks) and the checkpoint.
 *
 * FAST_LEVEL: kt_store_set_compaction_fast's level for the run (to
 * compare levels; 9 = always the dense level).
 *
 * Prints one line: "bytes=B worker_cpu=W worker_cpu_per_gib=X index=I
 * compact=C checkpoint=K chunks=Z" (Z: the chunk blobs' bytes per output
 * byte once the worker is done).  Limits: the worker runs in the writer's
 * process (same CPU, no nice), and never waits for the recorder's locks:
 * live, the two contend.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "reader.h"
#include "store.h"

#define TICK_US 100000
#define STEP_US 500000		/* recorder/indexer.c IDLE_MS */
#define BUDGET (1u << 20)	/* recorder/indexer.c BUDGET */
#define FLUSH_BYTES (128u << 10)
#define FLUSH_AGE_US 400000
#define WAL_BACKSTOP_PAGES 16384	/* recorder/daemon.c, recorder/indexer.c */

struct wsess {
	struct kt_session_info info;
	struct kt_chunk_builder cb;
	size_t off;		/* in the block */
	double due;		/* output bytes owed */
};

static double cpu_now(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
	       u.ru_stime.tv_usec / 1e6;
}

static double cpu_index, cpu_compact, cpu_ckpt, cpu_mark;

static int on_done(int64_t id, bool compaction, int ret, void *ctx)
{
	(void)ctx;
	double t = cpu_now();

	if (ret < 0)
		fprintf(stderr, "worker_bench: session %lld: %s: %s\n", (long long)id,
			compaction ? "compaction" : "index", strerror(-ret));
	*(compaction ? &cpu_compact : &cpu_index) += t - cpu_mark;
	cpu_mark = t;
	return 0;
}

static void worker_pass(struct kt_store *w)
{
	struct kt_maintain_ops ops = { .done = on_done };
	int more;

	do {
		cpu_mark = cpu_now();
		more = kt_store_maintain_round(w, BUDGET, &ops);
		cpu_mark = cpu_now();
		kt_store_wal_checkpoint(w);
		cpu_ckpt += cpu_now() - cpu_mark;
	} while (more > 0);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "worker_bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

int main(int argc, char **argv)
{
	struct kt_store *st = NULL, *w = NULL;
	struct wsess *ss;
	uint8_t *block, *raw;
	size_t block_len;
	unsigned long long total = 0;
	int n, kib, secs, frame, err;
	int64_t t0, t, end;
	struct stat sb;
	FILE *f;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: %s DB SESSIONS KIB_PER_S SECONDS FRAME_BYTES BLOCK [FAST_LEVEL]\n",
			argv[0]);
		return 2;
	}
	n = atoi(argv[2]);
	kib = atoi(argv[3]);
	secs = atoi(argv[4]);
	frame = atoi(argv[5]);
	if (n < 1 || kib < 1 || secs < 1 || frame < 1 || frame > 8192)
		die("bad arguments", EINVAL);
	f = fopen(argv[6], "rb");
	if (!f || fstat(fileno(f), &sb) || sb.st_size < 65536)
		die(argv[6], f ? EINVAL : errno);
	raw = malloc((size_t)sb.st_size);
	block = malloc(2 * (size_t)sb.st_size);
	if (!raw || !block || fread(raw, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size)
		die("read block", EIO);
	fclose(f);
	/* as the client's pty delivers it (onlcr): "\n" -> "\r\n" */
	block_len = 0;
	for (off_t i = 0; i < sb.st_size; i++) {
		if (raw[i] == '\n')
			block[block_len++] = '\r';
		block[block_len++] = raw[i];
	}
	free(raw);

	err = kt_store_open(argv[1], KT_STORE_CREATE, &st);
	if (err)
		die("open store", err);
	kt_store_set_zstd_level(st, 0);
	/* as recorder/daemon.c sets the recorder's handle next to a worker:
	 * the checkpoints are the worker's (counted here), not the writer's */
	err = kt_store_set_wal_autocheckpoint(st, WAL_BACKSTOP_PAGES);
	if (err)
		die("writer autocheckpoint", err);
	err = kt_store_open(argv[1], 0, &w);
	if (err)
		die("open worker store", err);
	kt_store_set_quiet(w, true);
	/* as recorder/indexer.c sets the worker's handle (WORKER_OLD=1: the
	 * worker before bench/results/31-worker.md, checkpoints inside its
	 * commits at SQLite's default 1000 pages) */
	if (!getenv("WORKER_OLD") && (err = kt_store_set_wal_autocheckpoint(w, WAL_BACKSTOP_PAGES)))
		die("worker autocheckpoint", err);
	if (argc == 8 && (err = kt_store_set_compaction_fast(w, atoi(argv[7]), KT_COMPACT_FAST_RATE)))
		die("fast level", err);

	ss = calloc((size_t)n, sizeof(*ss));
	if (!ss)
		die("calloc", ENOMEM);
	/* WORKER_T0 (µs): the same virtual clock for two runs whose stores are
	 * compared byte for byte (screen states hold line times) */
	t0 = getenv("WORKER_T0") ? strtoll(getenv("WORKER_T0"), NULL, 10) : kt_now_us();
	for (int i = 0; i < n; i++) {
		struct kt_session_info *s = &ss[i].info;

		snprintf(s->uuid, sizeof(s->uuid), "worker-bench-%d", i);
		snprintf(s->node, sizeof(s->node), "bench-node");
		snprintf(s->k8s_namespace, sizeof(s->k8s_namespace), "shop");
		snprintf(s->pod, sizeof(s->pod), "web-%d", i);
		snprintf(s->container, sizeof(s->container), "app");
		s->start_us = t0;
		s->has_tty = true;
		s->rows = 50;
		s->cols = 200;
		err = kt_store_session_create(st, s);
		if (err)
			die("session create", err);
		kt_chunk_builder_init(&ss[i].cb);
		ss[i].off = (block_len / (size_t)n) * (size_t)i;
	}

	end = t0 + (int64_t)secs * 1000000;
	for (t = t0 + TICK_US; t <= end; t += TICK_US) {
		kt_store_begin(st);
		for (int i = 0; i < n; i++) {
			struct wsess *s = &ss[i];

			s->due += kib * 1024.0 * TICK_US / 1e6;
			while (s->due >= frame) {
				size_t len = (size_t)frame;

				if (s->off + len > block_len)
					s->off = 0;
				err = kt_chunk_add(&s->cb, KT_FRAME_OUT, t, block + s->off, len);
				if (err)
					die("chunk add", err);
				s->off += len;
				s->due -= frame;
				total += len;
				if (s->cb.len >= FLUSH_BYTES) {
					err = kt_store_chunk_append(st, s->info.id, &s->cb);
					if (err)
						die("chunk append", err);
					kt_chunk_builder_reset(&s->cb);
				}
			}
			if (s->cb.nframes && t - s->cb.start_us >= FLUSH_AGE_US) {
				err = kt_store_chunk_append(st, s->info.id, &s->cb);
				if (err)
					die("chunk append", err);
				kt_chunk_builder_reset(&s->cb);
			}
		}
		err = kt_store_commit(st);
		if (err)
			die("commit", err);
		if ((t - t0) % STEP_US == 0)
			worker_pass(w);
	}
	kt_store_begin(st);
	for (int i = 0; i < n; i++) {
		struct wsess *s = &ss[i];

		if (s->cb.nframes && (err = kt_store_chunk_append(st, s->info.id, &s->cb)))
			die("chunk append", err);
		s->info.state = KT_SESSION_ENDED;
		s->info.end_us = t;
		kt_store_session_update(st, &s->info);
		kt_chunk_builder_free(&s->cb);
	}
	kt_store_commit(st);
	worker_pass(w);
	kt_store_close(w);
	kt_store_close(st);
	{
		double cpu = cpu_index + cpu_compact + cpu_ckpt, gib = total / (double)(1u << 30);
		sqlite3_stmt *q = NULL;
		sqlite3 *db = NULL;
		double chunks = -1;

		if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, "SELECT total(length(data)) FROM chunks", -1, &q,
				       NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
			chunks = sqlite3_column_double(q, 0);
		sqlite3_finalize(q);
		sqlite3_close(db);
		printf("bytes=%llu worker_cpu=%.3f worker_cpu_per_gib=%.2f index=%.2f compact=%.2f "
		       "checkpoint=%.2f chunks=%.4f\n", total, cpu, cpu / gib, cpu_index / gib,
		       cpu_compact / gib, cpu_ckpt / gib, chunks / (double)total);
	}
	free(ss);
	free(block);
	return 0;
}
