// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-recorder's daemon (recorder/daemon.h).  Loads (or adopts, from
 * bpffs) the BPF programs, writes the ring buffers into the store, and on
 * SIGTERM/SIGINT writes everything and exits 0, leaving the kernel side
 * recording for the next recorder (recorder/continuity.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib.h"
#include "ctr_seed.h"
#include "daemon.h"
#include "indexer.h"
#include "loader.h"
#include "log.h"
#include "sessions.h"
#include "rec_evidence.h"
#include "retention.h"
#include "rec_metrics.h"
#include "skips.h"
#include "store.h"

#define TICK_MS 100
#define WAL_BACKSTOP_PAGES 16384

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = sig;
}

static int seed_ctr_ns(uint32_t ino, const struct kt_ctr_ns *v, void *ld)
{
	int err = kt_loader_ctr_ns_seed(ld, ino, v);

	return err == -EEXIST ? 0 : err;
}

static int mkdir_parent(const char *path)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void write_stats(const char *path, struct kt_loader *ld, struct kt_recorder *rec,
			const struct kt_skips *sk)
{
	uint64_t k[KT_STAT_MAX] = {0};
	struct kt_recorder_counters c;
	FILE *f;

	kt_loader_stats(ld, k);
	kt_recorder_counters(rec, &c);
	pr_info("kernel: %" PRIu64 " sessions, %" PRIu64 " events and %" PRIu64
		" bytes lost, %" PRIu64 " session starts lost, %" PRIu64 " map-full; "
		"%" PRIu64 " runs skipped; "
		"recorder: %" PRIu64 " events, %" PRIu64 " bad, %" PRIu64 " bytes out, %" PRIu64 " in",
		k[KT_STAT_SESSIONS], k[KT_STAT_LOST_EVENTS], k[KT_STAT_LOST_BYTES],
		k[KT_STAT_LOST_SESSION_EV], k[KT_STAT_MAP_FULL], kt_skips_kernel_total(sk),
		c.events, c.bad_events, c.bytes_out, c.bytes_in);
	if (!path)
		return;
	f = fopen(path, "w");
	if (!f) {
		pr_warn("cannot write %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f,
		"{\"backend\":\"%s\",\"kernel\":{\"sessions\":%" PRIu64 ",\"lost_events\":%" PRIu64
		",\"lost_bytes\":%" PRIu64 ",\"lost_session_events\":%" PRIu64 ",\"map_full\":%" PRIu64
		",\"skipped_runs\":%" PRIu64 "},"
		"\"recorder\":{\"events\":%" PRIu64 ",\"bad_events\":%" PRIu64 ",\"sessions\":%" PRIu64
		",\"commands\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"bytes_in\":%" PRIu64
		",\"gaps\":%" PRIu64 ",\"lost_bytes\":%" PRIu64 ",\"lost_events\":%" PRIu64
		",\"skipped_runs_counted\":%" PRIu64 "}}\n",
		kt_loader_backend(ld), k[KT_STAT_SESSIONS], k[KT_STAT_LOST_EVENTS],
		k[KT_STAT_LOST_BYTES], k[KT_STAT_LOST_SESSION_EV], k[KT_STAT_MAP_FULL],
		kt_skips_kernel_total(sk), c.events, c.bad_events, c.sessions, c.commands,
		c.bytes_out, c.bytes_in, c.gaps, c.lost_bytes, c.lost_events, kt_skips_counted(sk));
	fclose(f);
}

int kt_rec_daemon_run(const struct kt_rec_opts *o)
{
	struct kt_loader_opts lo = o->lo;
	struct kt_recorder_opts ro = o->ro;
	struct kt_attrib_config ac = o->ac;
	const char *db = o->db, *stats_file = o->stats_file, *metrics_addr = o->metrics_addr;
	struct kt_rec_metrics *metrics = NULL;
	struct kt_store *st = NULL;
	struct kt_loader *ld = NULL;
	struct kt_recorder *rec = NULL;
	struct kt_kops kops;
	struct kt_indexer *ix = NULL;
	struct kt_skips *skips = NULL;
	bool index = o->index, worker = o->worker, unpin = o->unpin, print_pubkey = o->print_pubkey;
	int life_fd = o->life_fd;
	long worker_ppid = o->worker_ppid;
	const char *pin_dir = o->pin_dir;
	const char *redact_path = o->redact_path, *key_path = o->key_path;
	struct kt_redact *redact = NULL;
	struct kt_signer *signer = NULL;
	char key_buf[4096];
	long nice_val = o->nice_val;
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	ro.attrib = &ac;
	lo.pin_dir = pin_dir;
	lo.defer_consume = true;
	ro.keep_kernel_state = pin_dir != NULL;
	if (unpin) {
		if (!pin_dir) {
			pr_err("--unpin needs a --pin-dir");
			return 2;
		}
		err = kt_loader_unpin(pin_dir);
		if (err) {
			pr_err("cannot remove %s: %s", pin_dir, strerror(-err));
			return 1;
		}
		pr_info("removed the kernel state pinned in %s", pin_dir);
		return 0;
	}
	if (kt_rec_key_path(db, key_path, key_buf, sizeof(key_buf)))
		return 2;
	/* retention in the worker signs its prune records with the node key */
	kt_retention_set_key(key_buf);
	if (worker) {
		kt_log_init("kubetape-indexer", kt_log_get_level());
		return kt_indexer_worker(db, life_fd, worker_ppid);
	}
	if (print_pubkey) {
		if (mkdir_parent(key_buf) || kt_signer_open(key_buf, &signer))
			return 1;
		printf("%s\n", kt_signer_pubkey_text(signer));
		kt_signer_free(signer);
		return 0;
	}
	if (kt_redact_load(redact_path, &redact))
		return 2; /* said why */
	ro.redact = redact;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A ring buffer only holds a fraction of a second of a flood: the
	 * drain loop must not be starved by the very processes it records. */
	if (setpriority(PRIO_PROCESS, 0, (int)nice_val))
		pr_warn("cannot set priority %ld: %s", nice_val, strerror(errno));

	err = mkdir_parent(db);
	if (err) {
		pr_err("cannot create the directory of %s: %s", db, strerror(-err));
		return 1;
	}
	err = kt_store_open(db, KT_STORE_CREATE, &st);
	if (err) {
		kt_redact_free(redact);
		return 1; /* the store said why */
	}
	err = mkdir_parent(key_buf) ?: kt_signer_open(key_buf, &signer) ?: kt_signer_attach(signer, st);
	if (err)
		goto cleanup; /* said why */
	ro.signer = signer;
	/* With the worker, chunks are appended raw and compressed later off the
	 * capture path; without it, cheaply at zstd level 1 right away. */
	kt_store_set_zstd_level(st, index ? 0 : 1);
	/* Ring records are given back to the kernel once their commit
	 * returns: that commit must be on disk, not in the page cache, or a
	 * filesystem failure (read-only after an error, I/O errors) or a node
	 * crash before writeback loses records no ring holds any more
	 * (tests/e2e/store_ioerr_test.sh found it).  About one fsync per tick
	 * (100 ms) with data. */
	err = kt_store_set_durable(st);
	/* With the worker, it copies the WAL into the database after each of
	 * its rounds (recorder/indexer.c): a third of the capture path's CPU
	 * in a flood was SQLite's automatic checkpoint inside our commits,
	 * while ring space is held.  The automatic one stays as a backstop
	 * (64 MiB of WAL) for a worker that is down. */
	if (!err && index)
		err = kt_store_set_wal_autocheckpoint(st, WAL_BACKSTOP_PAGES);
	if (err)
		goto cleanup;

	/* The recorder is created before the ring buffer so the callback has a
	 * context; it only touches the loader once events arrive. */
	err = kt_recorder_new(st, &ro, &rec);
	if (err)
		goto cleanup;
	err = kt_loader_open(&lo, kt_recorder_event, rec, &ld);
	if (err)
		goto cleanup;
	kt_loader_kops(ld, &kops);
	kt_recorder_set_kops(rec, &kops);
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		kt_recorder_set_ring_size(rec, i, kt_loader_ring_size(ld, i));
	err = kt_skips_new(&skips);
	if (err)
		goto cleanup;
	/* sessions of a previous recorder: continued, or marked interrupted */
	kt_recorder_adopt(rec);
	int n = kt_ctr_scan(ac.proc_root, seed_ctr_ns, ld);
	if (n < 0)
		pr_warn("cannot scan %s (%s): execs into hostPID containers that started before now are not recorded",
			ac.proc_root, strerror(-n));
	else
		pr_info("%d container mount namespaces already on the node", n);
	if (!kt_loader_adopted(ld)) {
		/* no kernel state to adopt: sessions already running are found
		 * by the same rule and recorded from now on, marked late */
		n = kt_loader_find_running(ld);
		if (n < 0)
			pr_warn("cannot look for sessions already running (%s): only new entries "
				"into a container are recorded", strerror(-n));
		else
			pr_info("%d session(s) already running: recorded from now on, marked "
				"\"recording started late\"", n);
	}
	if (index && kt_indexer_start(db, &ix))
		pr_warn("screen indexing is off: seeking and screen search will lag until it runs");
	if (metrics_addr && kt_rec_metrics_start(metrics_addr, db, &metrics))
		goto cleanup; /* said why */
	pr_info("recording into %s (backend %s); ready", db, kt_loader_backend(ld));

	while (!exiting) {
		err = kt_recorder_poll(rec, TICK_MS);
		if (err < 0) {
			pr_err("ring buffer poll failed: %s", strerror(-err));
			goto cleanup;
		}
		kt_recorder_tick(rec);
		/* after the tick's commit: no store transaction is open */
		if (!kt_recorder_store_down(rec))
			kt_skips_check(skips, ld, st, kt_now_us(), false);
		kt_indexer_check(ix);
		kt_rec_metrics_tick(metrics, ld, rec);
	}
	pr_info("%s: flushing", exiting == SIGINT ? "SIGINT" : "SIGTERM");
	err = kt_recorder_shutdown(rec);
	if (!kt_recorder_store_down(rec))
		kt_skips_check(skips, ld, st, kt_now_us(), true);
	write_stats(stats_file, ld, rec, skips);
	/* indexing is resumable: finish what is quick, leave the rest */
	kt_indexer_stop(ix, 2000);
	ix = NULL;
cleanup:
	kt_rec_metrics_stop(metrics);
	kt_indexer_stop(ix, 0);
	kt_skips_free(skips);
	kt_recorder_free(rec);
	kt_loader_close(ld);
	kt_store_close(st);
	kt_signer_free(signer);
	kt_redact_free(redact);
	return err ? 1 : 0;
}
